"""Identity rules: the same person twice, people on external lists (payroll, vehicles,
businesses, officials), and contractors linked to officials. Exact matches join keyed
digests in SQL; fuzzy matches decrypt only what blocking leaves (ledger.alerts.matching)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from ledger.alerts.base import ScanContext, payments, yuan
from ledger.alerts.entry import Setting, rule
from ledger.alerts.matching import name_similarity, transpositions
from ledger.households.registry import birth_key, unsalted
from ledger.models import Household, Member, MemberEvent, MemberEventKind, Payee, PayeeKind
from ledger.registers.external import ExternalList, ExternalRecord, ListKind
from ledger.screening.finding import Finding
from ledger.store.access import ancestors

RELATION_DEGREE = {"本人": 0, "配偶": 1, "父亲": 1, "母亲": 1, "父母": 1, "子": 1, "女": 1,
                   "子女": 1, "儿子": 1, "女儿": 1, "兄弟": 2, "姐妹": 2, "兄": 2, "弟": 2,
                   "姐": 2, "妹": 2, "祖父母": 2, "外祖父母": 2, "孙子": 2, "孙女": 2,
                   "外孙子女": 2}

# Read by several rules (the degree by DIV-05 in rules_diversion too): declared once, given
# to each.
NAME_SIMILARITY_PERCENT = Setting("name_similarity_percent", 90,
                                  "fuzzy identity: names this similar match (anchors §4.5)")
OFFICIAL_MAX_DEGREE = Setting("official_max_degree", 2,
                              "relatives of an official up to this degree count (FAV-01)")


@dataclass
class Match:
    record: object
    member: object
    method: str
    score: int
    how: str


def _list_meta(r) -> dict:
    return {"kind": r.kind.value, "list_id": r.list_id, "source": r.source,
            "snapshot_date": r.snapshot_date.isoformat(), "line": r.line_no}


def match_list(ctx: ScanContext, kind: ListKind) -> list[Match]:
    """Members matching records of `kind`: exact digest, else one adjacent transposition of
    the listed ID with a similar name (needs the vault)."""
    s = ctx.session
    cols = (ExternalRecord, ExternalList.kind, ExternalList.source, ExternalList.snapshot_date)
    base = select(*cols).join(ExternalList, ExternalList.id == ExternalRecord.list_id) \
        .where(ExternalList.kind == kind, ExternalRecord.id_digest.is_not(None)) \
        .order_by(ExternalRecord.id)
    exact = s.execute(select(*cols, Member)
                      .join(ExternalList, ExternalList.id == ExternalRecord.list_id)
                      .join(Member, Member.id_digest == ExternalRecord.id_digest)
                      .where(ExternalList.kind == kind)).all()
    matches = [Match(_Rec(r), r.Member, "exact ID (keyed digest)", 100, "id")
               for r in exact]
    if ctx.vault is None:
        return matches
    matched = {m.record.id for m in matches}
    threshold = ctx.settings.name_similarity_percent
    wanted = {}  # digest of a one-swap variant → the records it came from
    for r in s.execute(base).all():
        if r.ExternalRecord.id not in matched:
            for v in transpositions(ctx.vault.decrypt(r.ExternalRecord.id_number)):
                wanted.setdefault(ctx.vault.digest(v), []).append(r)
    digests = list(wanted)
    for start in range(0, len(digests), 900):  # one query per 900 variants, not per record
        for member in s.execute(select(Member).where(
                Member.id_digest.in_(digests[start:start + 900]))).scalars():
            for r in wanted[member.id_digest]:
                score, how = name_similarity(member.name, r.ExternalRecord.name)
                if score >= threshold:
                    matches.append(Match(_Rec(r), member, "ID with two adjacent digits "
                                         "swapped + similar name", score, how))
    return matches


class _Rec:
    """An external record with its list's kind, source and snapshot date."""

    def __init__(self, row):
        rec = row.ExternalRecord
        self.__dict__.update({c: getattr(rec, c) for c in
                              ("id", "list_id", "line_no", "name", "region_code", "date_from",
                               "date_to", "category", "org", "org_code", "related_digest",
                               "degree", "id_digest")})
        self.kind, self.source, self.snapshot_date = row.kind, row.source, row.snapshot_date


def _paid_by_household(ctx):
    """Standing payments by payee; read once per scan (BEN-02, BEN-04, BEN-05, FAV-01 share it)."""
    if "paid_by_household" not in ctx.cache:
        p = payments()
        out = defaultdict(list)
        for r in ctx.session.execute(select(p.c.payee, p.c.date, p.c.amount, p.c.id)).all():
            out[r.payee].append(r)
        ctx.cache["paid_by_household"] = out
    return ctx.cache["paid_by_household"]


def _villages(ctx) -> dict:
    if "villages" not in ctx.cache:
        ctx.cache["villages"] = dict(ctx.session.execute(
            select(Household.code, Household.village_code)).all())
    return ctx.cache["villages"]


def _match_evidence(m: Match) -> dict:
    return {"list": _list_meta(m.record),
            "match": {"method": m.method, "name_similarity_percent": m.score,
                      "name_match": m.how, "listed_name": m.record.name,
                      "registry_name": m.member.name,
                      "fields": ["id_number"] + (["name"] if m.how != "id" else [])}}


@rule("BEN-02", "重复享受", "Same person registered twice", severity="high", method="fuzzy",
      why="One person on two households, or a clone with a similar name, same birth date and "
          "village, can draw the same benefit twice (虚报冒领).",
      basis="Audit category 重复申报; anchors §4.5 comparator",
      next_action="Field-verify both households; correct the registry and recover duplicates.",
      settings=(NAME_SIMILARITY_PERCENT,))
def ben02_same_person_twice(ctx: ScanContext) -> list[Finding]:
    s = ctx.session
    villages = _villages(ctx)
    paid = _paid_by_household(ctx)
    # A member who moved out (迁出) keeps the old row; the move is an event, not a duplicate.
    moved = select(MemberEvent.member_id).where(MemberEvent.kind == MemberEventKind.MOVED_OUT)
    current = select(Member).where(Member.id.not_in(moved))
    here = current.subquery()
    dup = select(here.c.id_digest).group_by(here.c.id_digest) \
        .having(func.count(func.distinct(here.c.household_code)) > 1).subquery()
    groups = defaultdict(list)
    for m in s.execute(current.join(dup, dup.c.id_digest == Member.id_digest)).scalars():
        groups[m.id_digest].append(m)
    findings = [_ben02(sorted(ms, key=lambda m: m.id), villages, paid, "exact ID (keyed digest)",
                       100, "id") for ms in groups.values()]
    if ctx.vault is None:
        return findings
    blocks = defaultdict(list)  # columns, not ORM objects: one row per member of the province
    people = select(Member.id, Member.household_code, Member.id_digest, Member.name,
                    Member.birth_digest, Member.id_number).where(Member.id.not_in(moved))
    vault = ctx.vault
    for m in s.execute(people):
        # The stored keyed digest of the birth date; a row from before it was stored (null)
        # is decrypted and digested the same way, so both kinds share blocks.
        born = unsalted(m.birth_digest) or birth_key(vault, vault.decrypt(m.id_number))
        blocks[(villages[m.household_code], born)].append(m)
    threshold = ctx.settings.name_similarity_percent
    for members in blocks.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if a.household_code == b.household_code or a.id_digest == b.id_digest:
                    continue
                score, how = name_similarity(a.name, b.name)
                if score >= threshold:
                    findings.append(_ben02(sorted([a, b], key=lambda m: m.id), villages, paid,
                                           "same birth date and village + similar name",
                                           score, how))
    return findings


def _ben02(members, villages, paid, method, score, how) -> Finding:
    later = members[1:]
    at_risk = sum(p.amount for m in later for p in paid[m.household_code])
    return Finding(
        "BEN-02", "members", "-".join(str(m.id) for m in members),
        villages[members[0].household_code],
        " / ".join(f"{m.name} in {m.household_code}" for m in members),
        "one person, one household (fuzzy: same birth date and village with name similarity "
        "≥ threshold)", at_risk,
        {"members": [{"id": m.id, "name": m.name, "household": m.household_code}
                     for m in members],
         "match": {"method": method, "name_similarity_percent": score, "name_match": how}},
        severity=None if method.startswith("exact") else "medium")


PAYROLL_EXEMPT_CATEGORIES = Setting(
    "payroll_exempt_categories", ("公益性岗位", "村级临时岗位"),
    "posts on the payroll lists that do not count: public-welfare and village temporary posts")


@rule("BEN-04", "财政供养人员享受补助", "Payee on the public payroll",
      severity="high", method="fuzzy",
      why="Someone paid from the public payroll is not a poor household member (马山县 audit).",
      basis="CNAO 马山县 case: 343 财政供养人员 among poverty targets",
      next_action="Check the employment record and the household's eligibility; recover if "
                  "ineligible.",
      settings=(PAYROLL_EXEMPT_CATEGORIES, NAME_SIMILARITY_PERCENT))
def ben04_public_payroll(ctx: ScanContext) -> list[Finding]:
    paid, villages = _paid_by_household(ctx), _villages(ctx)
    exempt = set(ctx.settings.payroll_exempt_categories)
    findings = {}
    for m in match_list(ctx, ListKind.PAYROLL):
        if m.record.category in exempt:
            continue
        start, end = m.record.date_from, m.record.date_to
        during = [p for p in paid[m.member.household_code]
                  if (start is None or p.date >= start) and (end is None or p.date <= end)]
        if not during or m.member.id in findings:
            continue
        findings[m.member.id] = Finding(
            "BEN-04", "member", str(m.member.id), villages[m.member.household_code],
            f"{m.member.name} of household {m.member.household_code} is employed by "
            f"{m.record.org} ({start}–{end or 'now'}); household paid {len(during)} time(s) "
            "meanwhile", "no household member on the public payroll while paid",
            sum(p.amount for p in during),
            {"household": m.member.household_code, "employer": m.record.org,
             "transfer_ids": [p.id for p in during], **_match_evidence(m)})
    return list(findings.values())


AGRICULTURAL_VEHICLE_TYPES = Setting(
    "agricultural_vehicle_types", ("拖拉机", "农用车", "三轮汽车", "低速货车", "农用运输车"),
    "farm vehicles, which do not count as assets")
# Read by FAV-02 too.
BUSINESS_ROLES = Setting("business_roles", ("法定代表人", "股东", "高管"),
                         "roles in a company that count: legal representative, shareholder, "
                         "officer")


@rule("BEN-05", "有车有房有企业", "Household owns a car or a company",
      severity="medium", method="fuzzy",
      why="Owning a non-farm vehicle or running a company contradicts registration as poor.",
      basis="CNAO 2017: 高档轿车、商品房 not removed; 马山县: 2454 people owned cars",
      next_action="Field-verify the assets; review the household's registration.",
      settings=(AGRICULTURAL_VEHICLE_TYPES, BUSINESS_ROLES, NAME_SIMILARITY_PERCENT))
def ben05_assets(ctx: ScanContext) -> list[Finding]:
    cfg = ctx.settings
    paid, villages = _paid_by_household(ctx), _villages(ctx)
    assets = defaultdict(list)
    for m in match_list(ctx, ListKind.VEHICLES):
        if m.record.category not in cfg.agricultural_vehicle_types:
            assets[m.member.id].append((m, f"vehicle {m.record.category}"))
    for m in match_list(ctx, ListKind.BUSINESSES):
        active = m.record.date_to is None or m.record.date_to > ctx.as_of
        if active and m.record.category in cfg.business_roles:
            assets[m.member.id].append((m, f"{m.record.category} of {m.record.org}"))
    findings = []
    for member_id, items in assets.items():
        member = items[0][0].member
        got = paid[member.household_code]
        if not got:
            continue
        findings.append(Finding(
            "BEN-05", "member", str(member_id), villages[member.household_code],
            f"{member.name} of household {member.household_code}: "
            + "; ".join(what for _, what in items),
            "no non-farm vehicle or active company in a paid household",
            sum(p.amount for p in got),
            {"household": member.household_code, "assets": [
                {"what": what, **_match_evidence(m)} for m, what in items]},
            severity="high" if len(items) > 1 else None))
    return findings


def _officials(ctx) -> dict:
    """Officials by digest (jurisdiction, term)."""
    s = ctx.session
    officials = {}
    for r in s.execute(select(ExternalRecord, ExternalList.kind, ExternalList.source,
                              ExternalList.snapshot_date)
                       .join(ExternalList, ExternalList.id == ExternalRecord.list_id)
                       .where(ExternalList.kind == ListKind.OFFICIALS,
                              ExternalRecord.category == "本人")).all():
        officials[r.ExternalRecord.id_digest] = _Rec(r)
    return officials


def _degree(rec) -> int:
    if rec.degree is not None:
        return rec.degree
    return RELATION_DEGREE.get(rec.category, 3)


def _official_of(rec, officials):
    return officials.get(rec.id_digest if rec.category == "本人" else rec.related_digest)


@rule("FAV-01", "优亲厚友", "Beneficiary related to an official", severity="medium", method="fuzzy",
      why="A cadre's relative receiving benefits in the cadre's area needs review; eligible "
          "relatives are allowed but must be disclosed.",
      basis="CNAO 2017 优亲厚友 findings",
      next_action="Review eligibility; record the disclosure or recover.",
      settings=(OFFICIAL_MAX_DEGREE, NAME_SIMILARITY_PERCENT))
def fav01_relative_of_official(ctx: ScanContext) -> list[Finding]:
    if "fav01" not in ctx.cache:  # BEN-08 reuses FAV-01's findings in the same scan
        ctx.cache["fav01"] = _fav01(ctx)
    return list(ctx.cache["fav01"])


def _fav01(ctx: ScanContext) -> list[Finding]:
    # Members matched to officials or their relatives (the degree is checked below).
    officials, matches = _officials(ctx), match_list(ctx, ListKind.OFFICIALS)
    paid, villages = _paid_by_household(ctx), _villages(ctx)
    findings = {}
    for m in matches:
        official = _official_of(m.record, officials)
        if official is None or _degree(m.record) > ctx.settings.official_max_degree:
            continue
        village = villages[m.member.household_code]
        if official.region_code not in ancestors(ctx.session, village):
            continue
        got = paid[m.member.household_code]
        if not got or m.member.id in findings:
            continue
        relation = "the official" if m.record.category == "本人" else m.record.category
        findings[m.member.id] = Finding(
            "FAV-01", "member", str(m.member.id), village,
            f"{m.member.name} ({relation}) of {official.name}, {official.org} with authority "
            f"over {official.region_code}; household {m.member.household_code} paid "
            f"{yuan(sum(p.amount for p in got))}",
            f"relatives of degree ≤ {ctx.settings.official_max_degree} of officials with "
            "authority over the village are reviewed (eligible relatives are allowed but "
            "disclosed)", sum(p.amount for p in got),
            {"household": m.member.household_code, "official": official.name,
             "post": official.org, "jurisdiction": official.region_code,
             "relation": m.record.category, **_match_evidence(m)})
    return list(findings.values())


@rule("FAV-02", "关联企业", "Contractor linked to an official", severity="high", method="fuzzy",
      why="The contractor's legal representative or shareholder is an official or relative.",
      basis="ARACHNE related persons; 八项规定 conflict-of-interest rules",
      next_action="Review the award procedure and the official's recusal.",
      settings=(OFFICIAL_MAX_DEGREE, BUSINESS_ROLES))
def fav02_contractor_of_official(ctx: ScanContext) -> list[Finding]:
    s, cfg = ctx.session, ctx.settings
    officials = _officials(ctx)
    related = {}
    for r in s.execute(select(ExternalRecord).join(ExternalList).where(
            ExternalList.kind == ListKind.OFFICIALS)).scalars():
        if r.category == "本人" or (r.degree or RELATION_DEGREE.get(r.category, 3)) \
                <= cfg.official_max_degree:
            related[r.id_digest] = r
    p = payments()
    paid = dict(s.execute(select(p.c.payee, func.sum(p.c.amount)).group_by(p.c.payee)).all())
    rows = s.execute(select(Payee, ExternalRecord, ExternalList)
                     .join(ExternalRecord, ExternalRecord.org == Payee.name)
                     .join(ExternalList, and_(ExternalList.id == ExternalRecord.list_id,
                                              ExternalList.kind == ListKind.BUSINESSES))
                     .where(Payee.kind == PayeeKind.CONTRACTOR)).all()
    findings = {}
    for payee, rec, lst in rows:
        person = related.get(rec.id_digest)
        if person is None or rec.category not in cfg.business_roles \
                or payee.code in findings or not paid.get(payee.code):
            continue
        official = officials.get(rec.id_digest if person.category == "本人"
                                 else person.related_digest)
        findings[payee.code] = Finding(
            "FAV-02", "payee", payee.code, payee.region_code,
            f"{rec.category} {rec.name} of {payee.name} is "
            + ("an official" if person.category == "本人" else
               f"{person.category} of {official.name if official else 'an official'}"),
            "no contractor whose legal representative or shareholder is an official or a "
            "close relative", int(paid[payee.code]),
            {"company": payee.name, "person": rec.name, "role": rec.category,
             "list": {"kind": "businesses", "list_id": lst.id, "source": lst.source,
                      "snapshot_date": lst.snapshot_date.isoformat(), "line": rec.line_no},
             "match": {"fields": ["company name", "id_number"],
                       "method": "exact company name, exact ID (keyed digest)"}})
    return list(findings.values())


@rule("BEN-08", "突击分户", "Household split just before enrolment",
      severity="medium", method="fuzzy",
      why="A family split into a new household shortly before it was enrolled, and it is related "
          "to an official over the village: splitting multiplies per-household benefits.",
      basis="Audit findings on 突击分户 to obtain subsidies; DOMAIN.md §4 favouritism",
      next_action="Check the split's reason and date against the household register (户籍) and the "
                  "enrolment decision.",
      settings=(OFFICIAL_MAX_DEGREE, NAME_SIMILARITY_PERCENT))
def ben08_split_before_enrolment(ctx: ScanContext) -> list[Finding]:
    """BEN-08: a household formed by a split (分户) within a year before it was enrolled, whose
    members include an official's relative with authority over the village — the pattern of
    splitting a family to multiply per-household benefits. Reuses FAV-01's matching."""
    from sqlalchemy import select

    from ledger.models import HouseholdEvent, HouseholdLink, HouseholdLinkKind
    related = {}
    for f in fav01_relative_of_official(ctx):
        related.setdefault(f.evidence["household"], f)
    if not related:
        return []
    enrolled = dict(ctx.session.execute(
        select(HouseholdEvent.household_code, HouseholdEvent.effective_date)
        .where(HouseholdEvent.household_code.in_(list(related)),
               HouseholdEvent.reason == "registration")).all())
    findings = []
    for link in ctx.session.execute(select(HouseholdLink).where(
            HouseholdLink.kind == HouseholdLinkKind.SPLIT,
            HouseholdLink.to_household_code.in_(list(related)))).scalars():
        code = link.to_household_code
        gap = (enrolled[code] - link.effective_date).days if code in enrolled else None
        if gap is None or not 0 <= gap <= 365:
            continue
        fav = related[code]
        findings.append(Finding(
            "BEN-08", "household", code, fav.region_code,
            f"split from {link.from_household_code} on {link.effective_date}, enrolled "
            f"{gap} days later; {fav.evidence['relation']} of {fav.evidence['official']}",
            "a split within 12 months before enrolment, linked to an official, is reviewed",
            fav.amount_at_risk_fen,
            {"household": code, "split_from": link.from_household_code,
             "split_on": link.effective_date.isoformat(), "official": fav.evidence["official"],
             "relation": fav.evidence["relation"], "fav01_member": fav.entity_key}))
    return findings
