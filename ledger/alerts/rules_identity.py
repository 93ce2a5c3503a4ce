"""Identity rules: the same person twice, people on external lists (payroll, vehicles,
businesses, officials), and contractors linked to officials. Exact matches join keyed
digests in SQL; fuzzy matches decrypt only what blocking leaves (ledger.alerts.matching)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from ledger.alerts.base import ScanContext, payments, stream, yuan
from ledger.alerts.entry import Setting, rule
from ledger.alerts.matching import (
    PROVINCES,
    NameMatch,
    compare_names,
    id_problems,
    id_variants,
    normalise_id,
)
from ledger.core.idcard import IdNumberError, birth_date, mask
from ledger.households.registry import ENROLMENT, birth_key, unsalted
from ledger.i18n import N_
from ledger.models import (
    Household,
    HouseholdEvent,
    HouseholdLink,
    HouseholdLinkKind,
    Member,
    MemberEvent,
    MemberEventKind,
    Payee,
    PayeeKind,
    Region,
)
from ledger.models.registers import PayeeAccount
from ledger.registers.external import ExternalList, ExternalRecord, ListKind
from ledger.screening.finding import Finding
from ledger.screening.finding import money as zh_yuan
from ledger.screening.finding import shown as zh
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
    name: NameMatch | None = None


def _list_meta(r) -> dict:
    return {"kind": r.kind.value, "list_id": r.list_id, "source": r.source,
            "snapshot_date": r.snapshot_date.isoformat(), "line": r.line_no}


def match_list(ctx: ScanContext, kind: ListKind) -> list[Match]:
    """Members matching records of `kind`: the exact ID digest; else, with the vault, an ID
    one typing error away (one digit wrong, two adjacent digits swapped, the check character
    wrong: `matching.id_variants`, digested and joined) with a matching name; else, for a
    record declared without an ID number (an official's relative by name and birth date), a
    member born that day (keyed digest) with a matching name."""
    s = ctx.session
    cols = (ExternalRecord, ExternalList.kind, ExternalList.source, ExternalList.snapshot_date)
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
    rest = [r for r in s.execute(select(*cols).join(
        ExternalList, ExternalList.id == ExternalRecord.list_id)
        .where(ExternalList.kind == kind).order_by(ExternalRecord.id)).all()
        if r.ExternalRecord.id not in matched]
    wanted = defaultdict(list)  # digest of a variant → (record, how it differs)
    for r in rest:
        if r.ExternalRecord.id_number is not None:
            listed = ctx.vault.decrypt(r.ExternalRecord.id_number)
            for variant, how in id_variants(listed).items():
                wanted[ctx.vault.digest(variant)].append((r, how))
    digests = list(wanted)
    for start in range(0, len(digests), 900):  # one query per 900 variants, not per record
        for member in s.execute(select(Member).where(
                Member.id_digest.in_(digests[start:start + 900]))).scalars():
            for r, how in wanted[member.id_digest]:
                name = compare_names(member.name, r.ExternalRecord.name)
                if name.score >= threshold:
                    matches.append(Match(_Rec(r), member, f"ID with {how} + matching name",
                                         name.score, name.how, name))
    undeclared = [r for r in rest if r.ExternalRecord.id_number is None
                  and r.ExternalRecord.birth_date is not None]
    if undeclared:
        born = members_by_birth(ctx)
        ids = defaultdict(list)
        for r in undeclared:
            for m in born.get(birth_day_key(ctx.vault, r.ExternalRecord.birth_date), []):
                name = compare_names(m.name, r.ExternalRecord.name)
                if name.score >= threshold:
                    ids[m.id].append((r, name))
        if ids:
            for member in s.execute(select(Member).where(Member.id.in_(list(ids)))).scalars():
                for r, name in ids[member.id]:
                    matches.append(Match(_Rec(r), member, "declared without an ID number: "
                                         "same birth date + matching name", name.score,
                                         name.how, name))
    return matches


def birth_day_key(vault, day) -> str:
    """The keyed digest of a birth date, as members carry it (registry.birth_key)."""
    return vault.digest("birth:" + day.isoformat())


def members_by_birth(ctx) -> dict:
    """Current members (not moved out) by the keyed digest of their birth date: one pass over
    the members, shared by BEN-02 and the declared-by-birth-date matching (ctx.cache)."""
    if "members_by_birth" not in ctx.cache:
        moved = select(MemberEvent.member_id).where(
            MemberEvent.kind == MemberEventKind.MOVED_OUT)
        people = select(Member.id, Member.household_code, Member.id_digest, Member.name,
                        Member.birth_digest, Member.id_number).where(Member.id.not_in(moved))
        vault = ctx.vault
        out = defaultdict(list)
        for m in stream(ctx.session, people):
            # The stored keyed digest of the birth date; a row from before it was stored
            # (null) is decrypted and digested the same way, so both kinds share blocks.
            out[unsalted(m.birth_digest) or birth_key(vault, vault.decrypt(m.id_number))] \
                .append(m)
        ctx.cache["members_by_birth"] = out
    return ctx.cache["members_by_birth"]


class _Rec:
    """An external record with its list's kind, source and snapshot date."""

    def __init__(self, row):
        rec = row.ExternalRecord
        self.__dict__.update({c: getattr(rec, c) for c in
                              ("id", "list_id", "line_no", "name", "region_code", "date_from",
                               "date_to", "category", "org", "org_code", "related_digest",
                               "degree", "id_digest", "birth_date", "status")})
        self.kind, self.source, self.snapshot_date = row.kind, row.source, row.snapshot_date


def _paid_by_household(ctx):
    """Standing payments by payee; read once per scan (BEN-02, BEN-04, BEN-05, FAV-01 share it)."""
    if "paid_by_household" not in ctx.cache:
        p = payments()
        out = defaultdict(list)
        for r in stream(ctx.session, select(p.c.payee, p.c.date, p.c.amount, p.c.id)):
            out[r.payee].append(r)
        ctx.cache["paid_by_household"] = out
    return ctx.cache["paid_by_household"]


def _villages(ctx) -> dict:
    if "villages" not in ctx.cache:
        ctx.cache["villages"] = dict(ctx.session.execute(
            select(Household.code, Household.village_code)).all())
    return ctx.cache["villages"]


def _match_evidence(m: Match) -> dict:
    fields = ["id_number"] if m.record.id_digest else ["birth_date"]
    match = {"method": m.method, "name_similarity_percent": m.score, "name_match": m.how,
             "listed_name": m.record.name, "registry_name": m.member.name,
             "fields": fields + (["name"] if m.how != "id" else [])}
    if m.name is not None and m.name.pairs:
        match["differing_characters"] = m.name.evidence()["differing_characters"]
    return {"list": _list_meta(m.record), "match": match}


@rule("BEN-02", N_("重复享受"), "Same person registered twice", severity="high", method="fuzzy",
      why=N_("一个人登记在两个户里，或以相似的姓名、相同的出生日期和村登记的分身，可以重复领取同一"
             "补助（虚报冒领）。"),
      basis=N_("审计分类“重复申报”；anchors §4.5 比对方法"),
      next_action=N_("对两户入户核查；更正登记并追回重复发放的资金。"),
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
    for born, people in members_by_birth(ctx).items():
        for m in people:
            blocks[(villages[m.household_code], born)].append(m)
    threshold = ctx.settings.name_similarity_percent
    for members in blocks.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if a.household_code == b.household_code or a.id_digest == b.id_digest:
                    continue
                name = compare_names(a.name, b.name)
                if name.score >= threshold:
                    findings.append(_ben02(sorted([a, b], key=lambda m: m.id), villages, paid,
                                           "same birth date and village + matching name",
                                           name.score, name.how, name))
    return findings


def _ben02(members, villages, paid, method, score, how, name=None) -> Finding:
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
         "match": {"method": method, "name_similarity_percent": score, "name_match": how,
                   **({"differing_characters": name.evidence()["differing_characters"]}
                      if name is not None and name.pairs else {})}},
        severity=None if method.startswith("exact") else "medium",
        observed_shown=zh(N_("同一人登记在多户：{who}"), who=[
            zh(N_("{name}（户 {household}）"), name=m.name, household=m.household_code)
            for m in members]),
        threshold_shown=zh(N_("一人一户（模糊匹配：同一出生日期和村，姓名相似度达到阈值）")))


PAYROLL_EXEMPT_CATEGORIES = Setting(
    "payroll_exempt_categories", ("公益性岗位", "村级临时岗位"),
    "posts on the payroll lists that do not count: public-welfare and village temporary posts")


@rule("BEN-04", N_("财政供养人员享受补助"), "Payee on the public payroll",
      severity="high", method="fuzzy",
      why=N_("由财政供养的人员不属于贫困户成员（马山县审计）。"),
      basis=N_("审计署马山县案例：扶贫对象中有343名财政供养人员"),
      next_action=N_("核查其任职记录和该户的资格；不符合条件的予以追回。"),
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
             "transfer_ids": [p.id for p in during], **_match_evidence(m)},
            observed_shown=zh(N_("户 {household} 的 {name} 受雇于 {org}（{start}–{end}）；其间该户收款 {n} 次"),  # noqa: E501
                               name=m.member.name, household=m.member.household_code,
                               org=m.record.org, start=str(start),
                               end=str(end) if end else zh(N_("至今")), n=len(during)),
            threshold_shown=zh(N_("收款期间家庭成员不在财政供养人员名单上")))
    return list(findings.values())


AGRICULTURAL_VEHICLE_TYPES = Setting(
    "agricultural_vehicle_types", ("拖拉机", "农用车", "三轮汽车", "低速货车", "农用运输车"),
    "farm vehicles, which do not count as assets")
# Read by FAV-02 too.
BUSINESS_ROLES = Setting("business_roles", ("法定代表人", "股东", "高管"),
                         "roles in a company that count: legal representative, shareholder, "
                         "officer")


VEHICLE_GONE_STATUSES = Setting(
    "vehicle_gone_statuses", ("scrapped", "transferred", "deregistered", "stolen"),
    "vehicle statuses (车辆状态, as imported: docs/formats.md) of a vehicle the household no "
    "longer has: scrapped (报废), transferred (转出), deregistered (注销), stolen (被盗抢)")
URBAN_PROPERTY_TYPES = Setting(
    "urban_property_types", ("城镇住宅", "商品房", "商品住宅", "住宅", "公寓", "别墅", "商铺",
                             "商业", "商业用房", "办公"),
    "property types of the property register (房屋类型) that count: urban housing and commercial "
    "property (CNAO 2017: 商品房); a rural homestead (宅基地, 农村住房) does not")


@rule("BEN-05", N_("有车有房有企业"), "Household owns a car, urban housing or a company",
      severity="medium", method="fuzzy",
      why=N_("拥有非农用车辆、城镇住房或经营企业，与贫困户登记相矛盾。"),
      basis=N_("审计署2017：高档轿车、商品房未清退；马山县：2454人拥有汽车"),
      next_action=N_("入户核实这些资产；复核该户的登记。"),
      settings=(AGRICULTURAL_VEHICLE_TYPES, VEHICLE_GONE_STATUSES, URBAN_PROPERTY_TYPES,
                BUSINESS_ROLES, NAME_SIMILARITY_PERCENT))
def ben05_assets(ctx: ScanContext) -> list[Finding]:
    cfg = ctx.settings
    paid, villages = _paid_by_household(ctx), _villages(ctx)
    assets, shown = defaultdict(list), defaultdict(list)   # shown: as people read it
    for m in match_list(ctx, ListKind.VEHICLES):
        # a scrapped or transferred vehicle is no asset; a status not given counts
        if m.record.category not in cfg.agricultural_vehicle_types \
                and m.record.status not in cfg.vehicle_gone_statuses:
            status = f", {m.record.status}" if m.record.status else ""
            assets[m.member.id].append((m, f"vehicle {m.record.category}{status}"))
            shown[m.member.id].append(
                zh(N_("车辆 {category}（{status}）"), category=m.record.category,
                   status=m.record.status) if m.record.status else
                zh(N_("车辆 {category}"), category=m.record.category))
    for m in match_list(ctx, ListKind.PROPERTIES):
        owned = m.record.date_to is None or m.record.date_to > ctx.as_of
        if owned and m.record.category in cfg.urban_property_types:
            assets[m.member.id].append((m, f"property {m.record.category} at {m.record.org}"))
            shown[m.member.id].append(zh(N_("房产 {category}，位于 {org}"),
                                         category=m.record.category, org=m.record.org))
    for m in match_list(ctx, ListKind.BUSINESSES):
        active = m.record.date_to is None or m.record.date_to > ctx.as_of
        if active and m.record.category in cfg.business_roles:
            assets[m.member.id].append((m, f"{m.record.category} of {m.record.org}"))
            shown[m.member.id].append(zh(N_("{org} 的{category}"), category=m.record.category,
                                         org=m.record.org))
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
            severity="high" if len(items) > 1 else None,
            observed_shown=zh(N_("户 {household} 的 {name}：{assets}"), name=member.name,
                               household=member.household_code,
                               assets=shown[member_id]),
            threshold_shown=zh(N_("收款户没有非农用车辆或在营企业"))))
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


@rule("FAV-01", N_("优亲厚友"),
      "Beneficiary related to an official", severity="medium", method="fuzzy",
      why=N_("干部的亲属在该干部的辖区内享受补助，需要复核；符合条件的亲属可以享受，但必须公开说明"
             "。"),
      basis=N_("审计署2017年优亲厚友问题"),
      next_action=N_("复核资格；登记公开说明情况或予以追回。"),
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
             "relation": m.record.category, **_match_evidence(m)},
            observed_shown=zh(N_("{name}（{relation}），{official}（{org}）对 {region} 有管辖权；户 {household} 收到 {total}"),  # noqa: E501
                               name=m.member.name,
                               relation=zh(N_("本人")) if m.record.category == "本人"
                               else m.record.category,
                               official=official.name, org=official.org,
                               region=official.region_code, household=m.member.household_code,
                               total=zh_yuan(sum(p.amount for p in got))),
            threshold_shown=zh(N_("对本村有管辖权的干部的 {degree} 度以内亲属要复核（符合条件的亲属可以享受，但须公开）"),  # noqa: E501
                               degree=ctx.settings.official_max_degree))
    return list(findings.values())


def _declared_person(ctx, rec, related: dict):
    """The officials-list person a business record names when the ID digests differ: the
    record's ID one typing error away from a declared ID with a matching name, or a relative
    declared without an ID number born on the day the record's ID says, with a matching name.
    (None, '') without the vault or a match."""
    if ctx.vault is None or rec.id_number is None:
        return None, ""
    threshold = ctx.settings.name_similarity_percent
    listed = ctx.vault.decrypt(rec.id_number)
    for variant, how in id_variants(listed).items():
        person = related.get(ctx.vault.digest(variant))
        if person is not None and compare_names(rec.name, person.name).score >= threshold:
            return person, f"ID with {how} + matching name"
    try:
        born = birth_date(normalise_id(listed))
    except IdNumberError:
        return None, ""
    for person in related.values():
        if person.id_digest is None and person.birth_date == born \
                and compare_names(rec.name, person.name).score >= threshold:
            return person, "declared without an ID number: same birth date + matching name"
    return None, ""


@rule("FAV-02", N_("关联企业"), "Contractor linked to an official", severity="high", method="fuzzy",
      why=N_("承包方的法定代表人或股东是干部或其亲属。"),
      basis=N_("ARACHNE 关联人员检查；八项规定关于利益冲突的规定"),
      next_action=N_("复核授予程序和该干部的回避情况。"),
      settings=(OFFICIAL_MAX_DEGREE, BUSINESS_ROLES, NAME_SIMILARITY_PERCENT))
def fav02_contractor_of_official(ctx: ScanContext) -> list[Finding]:
    s, cfg = ctx.session, ctx.settings
    officials = _officials(ctx)
    related = {}
    for r in s.execute(select(ExternalRecord).join(ExternalList).where(
            ExternalList.kind == ListKind.OFFICIALS)).scalars():
        if r.category == "本人" or (r.degree or RELATION_DEGREE.get(r.category, 3)) \
                <= cfg.official_max_degree:
            # a relative declared without an ID number is keyed by its record (matched by
            # name and birth date in _declared_person)
            related[r.id_digest or f"record:{r.id}"] = r
    p = payments()
    paid = dict(s.execute(select(p.c.payee, func.sum(p.c.amount)).group_by(p.c.payee)).all())
    rows = s.execute(select(Payee, ExternalRecord, ExternalList)
                     .join(ExternalRecord, ExternalRecord.org == Payee.name)
                     .join(ExternalList, and_(ExternalList.id == ExternalRecord.list_id,
                                              ExternalList.kind == ListKind.BUSINESSES))
                     # a company is a `business` when the county's payees file registered
                     # it (issue 17), a `contractor` when it was registered before kinds
                     .where(Payee.kind.in_([PayeeKind.CONTRACTOR, PayeeKind.BUSINESS]))).all()
    findings = {}
    for payee, rec, lst in rows:
        if rec.category not in cfg.business_roles or payee.code in findings \
                or not paid.get(payee.code):
            continue
        person, how = related.get(rec.id_digest), "exact ID (keyed digest)"
        if person is None:
            person, how = _declared_person(ctx, rec, related)
        if person is None:
            continue
        official = officials.get(person.id_digest if person.category == "本人"
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
             "match": {"fields": ["company name", "id_number" if person.id_digest
                                  else "birth_date", *([] if how.startswith("exact") else
                                                       ["name"])],
                       "method": f"exact company name, {how}"}},
            observed_shown=zh(N_("{company} 的{role} {name} 是干部本人") if person.category == "本人"  # noqa: E501
                               else N_("{company} 的{role} {name} 是 {official} 的{relation}"),
                               role=rec.category, name=rec.name, company=payee.name,
                               **({} if person.category == "本人" else {
                                   "relation": person.category,
                                   "official": official.name if official else zh(N_("一名干部"))})),
            threshold_shown=zh(N_("承建单位的法定代表人或股东不是干部或其近亲属")))
    return list(findings.values())


@rule("BEN-08", N_("突击分户"), "Household split just before enrolment",
      severity="medium", method="fuzzy",
      why=N_("一个家庭在登记前不久分出新户，且与对该村有管辖权的干部有关联：分户使按户发放的补助成"
             "倍增加。"),
      basis=N_("审计发现的突击分户骗取补贴问题；DOMAIN.md 第4节优亲厚友"),
      next_action=N_("对照户籍（户籍）和纳入决定，核实分户的原因和日期。"),
      settings=(OFFICIAL_MAX_DEGREE, NAME_SIMILARITY_PERCENT))
def ben08_split_before_enrolment(ctx: ScanContext) -> list[Finding]:
    """BEN-08: a household formed by a split (分户) within a year before it was enrolled, whose
    members include an official's relative with authority over the village — the pattern of
    splitting a family to multiply per-household benefits. Reuses FAV-01's matching."""
    related = {}
    for f in fav01_relative_of_official(ctx):
        related.setdefault(f.evidence["household"], f)
    if not related:
        return []
    # The enrolment (纳入) is its own status event, dated when the household was enrolled: a
    # split may be enrolled that day, later (`household split --enrolled-on`, `household
    # enrol`) or never; the households and household_status imports write it from the
    # registry's 识别日期. Never the split's date itself.
    enrolled = dict(ctx.session.execute(
        select(HouseholdEvent.household_code, func.min(HouseholdEvent.effective_date))
        .where(HouseholdEvent.household_code.in_(list(related)),
               HouseholdEvent.reason == ENROLMENT)
        .group_by(HouseholdEvent.household_code)).all())
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
             "split_on": link.effective_date.isoformat(),
             "enrolled_on": enrolled[code].isoformat(), "official": fav.evidence["official"],
             "relation": fav.evidence["relation"], "fav01_member": fav.entity_key},
            observed_shown=zh(N_("{day} 从 {source} 分户，{gap} 天后纳入；{official} 的{relation}"),
                               source=link.from_household_code, day=str(link.effective_date),
                               gap=gap, relation=fav.evidence["relation"],
                               official=fav.evidence["official"]),
            threshold_shown=zh(N_("纳入前 12 个月内分户且与干部有关联的，要复核"))))
    return findings


@rule("LED-02", N_("身份证号错误"), "Impossible ID number in the ledger",
      severity="medium", method="deterministic",
      why=N_("身份证号的校验码错误、出生日期不可能或地区码不是任何省份，说明号码输错或是编造的：无"
             "法与死亡、财政供养、车辆或干部名单比对，使其他身份检查失效；编造号码正是登记虚假受益"
             "人（虚报冒领）的方式。"),
      basis=N_("GB 11643-1999（校验码 ISO 7064 MOD 11-2，出生日期）；GB/T 2260 省级代码"),
      next_action=N_("对照身份证或户籍（户籍）核对号码并更正记录。"),
      settings=())
def led02_impossible_id_numbers(ctx: ScanContext) -> list[Finding]:
    """Every stored ID number of a person: members, payees that are persons, holders of
    personal payee accounts, and the officials and relatives declared on the officials list.
    The numbers are stored encrypted, so this decrypts each once per scan (≈ 8 µs a number:
    docs/alerts.md, LED-02)."""
    if ctx.vault is None:
        return []
    s, vault, as_of = ctx.session, ctx.vault, ctx.as_of
    villages, paid = _villages(ctx), _paid_by_household(ctx)
    root = s.execute(select(Region.code).where(Region.parent_code.is_(None))
                     .order_by(Region.code).limit(1)).scalar_one_or_none() or ""
    findings = []

    def found(kind, key, region, who, where, number, amount, problems):
        findings.append(Finding(
            "LED-02", kind, key, region,
            f"{who}: ID number {mask(normalise_id(number))} — "
            + "; ".join(f"{k}: {v}" for k, v in problems.items()),
            "an ID number with a right check character, a real birth date and province "
            "(GB 11643-1999)", amount,
            {"record": where, "id_number": mask(normalise_id(number)),
             "problems": problems},
            observed_shown=zh(N_("{who}：身份证号 {number} — {problems}"), who=who,
                               number=mask(normalise_id(number)),
                               problems=[f"{k}: {v}" for k, v in problems.items()]),
            threshold_shown=zh(N_("身份证号的校验码正确、出生日期真实、省份代码存在（GB 11643-1999）"))))  # noqa: E501

    # The ledger's own provinces count as real: a deployment (or a test province) may use a
    # code GB/T 2260 does not list, and its people's numbers start with it.
    provinces = PROVINCES | {code[:2] for code in s.execute(select(Region.code)).scalars()}
    # A member who moved (迁出, 分户) has a row in each household; the current one is judged.
    moved = select(MemberEvent.member_id).where(MemberEvent.kind == MemberEventKind.MOVED_OUT)
    for m in stream(s, select(Member.id, Member.name, Member.household_code,
                              Member.id_number).where(Member.id.not_in(moved))
                    .order_by(Member.id)):
        problems = id_problems(vault.decrypt(m.id_number), as_of, provinces)
        if problems:
            found("member", str(m.id), villages[m.household_code], m.name,
                  {"table": "members", "member": m.id, "household": m.household_code},
                  vault.decrypt(m.id_number), sum(p.amount for p in paid[m.household_code]),
                  problems)
    for p in s.execute(select(Payee.code, Payee.name, Payee.region_code, Payee.id_number)
                       .where(Payee.kind == PayeeKind.PERSON, Payee.id_number.is_not(None))
                       .order_by(Payee.code)):
        number = vault.decrypt(p.id_number)
        problems = id_problems(number, as_of, provinces)
        if problems:
            found("payee", p.code, p.region_code, p.name,
                  {"table": "payees", "payee": p.code}, number,
                  sum(x.amount for x in paid[p.code]), problems)
    regions = dict(s.execute(select(Payee.name, Payee.region_code)).all())
    for a in s.execute(select(PayeeAccount).where(PayeeAccount.holder_id_number.is_not(None))
                       .order_by(PayeeAccount.id)).scalars():
        number = vault.decrypt(a.holder_id_number)
        problems = id_problems(number, as_of, provinces)
        if problems:
            found("payee_account", str(a.id), regions.get(a.payee_name, root), a.holder_name,
                  {"table": "payee_accounts", "register": a.register_id, "line": a.line_no,
                   "payee": a.payee_name}, number, 0, problems)
    officials = {}
    rows = s.execute(select(ExternalRecord, ExternalList.kind, ExternalList.source,
                            ExternalList.snapshot_date)
                     .join(ExternalList, ExternalList.id == ExternalRecord.list_id)
                     .where(ExternalList.kind == ListKind.OFFICIALS)
                     .order_by(ExternalRecord.id)).all()
    for r in rows:
        if r.ExternalRecord.category == "本人":
            officials[r.ExternalRecord.id_digest] = r.ExternalRecord.region_code
    for r in rows:
        rec = r.ExternalRecord
        if rec.id_number is None:
            continue
        number = vault.decrypt(rec.id_number)
        problems = id_problems(number, as_of, provinces)
        if problems:
            region = rec.region_code or officials.get(rec.related_digest) or root
            found("list_record", str(rec.id), region, f"{rec.name} ({rec.category})",
                  {"table": "external_records", **_list_meta(_Rec(r))}, number, 0, problems)
    return findings
