"""Rules on payments to households: deaths, eligibility, shared cards, over-standard amounts,
and withholding on payment rolls."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import aliased

from ledger.alerts.base import ScanContext, payments, transfer_evidence, yuan
from ledger.alerts.entry import Setting, rule
from ledger.households.registry import card_key, unsalted
from ledger.models import (
    Approval,
    Decision,
    Household,
    HouseholdEvent,
    HouseholdStatus,
    Member,
    MemberEvent,
    MemberEventKind,
    PaymentRoll,
    RollEvent,
    RollEventKind,
    RollLine,
    Transfer,
)
from ledger.registers.external import ExternalList, ExternalRecord, ListKind
from ledger.screening.at_posting import check_transfer
from ledger.screening.finding import Finding

INELIGIBLE = (HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


BEN01_MONTH_OF_DEATH_ALLOWED = Setting("ben01_month_of_death_allowed", True,
                                       "a payment for the month of death is allowed")


@rule("BEN-01", "向已死亡人员发放", "Paid after the payee's death",
      severity="critical", method="deterministic",
      why="A household item was paid to a head of household recorded as deceased (冒领).",
      basis="Audit pattern 直达资金: deceased beneficiaries paid; china-fund-rules §D3",
      next_action="Stop further payments; field-verify (入户核查) and recover (追回) what was "
                  "paid.",
      settings=(BEN01_MONTH_OF_DEATH_ALLOWED,), at_posting=(check_transfer,))
def ben01_paid_after_death(ctx: ScanContext) -> list[Finding]:
    s = ctx.session
    p = payments()
    head = and_(Member.household_code == p.c.payee, Member.relation == "户主")
    registry = s.execute(
        select(p, Member.id.label("member_id"), Member.name.label("person"),
               Member.death_date.label("died"))
        .join(Member, head).where(Member.death_date.is_not(None),
                                  p.c.date > Member.death_date)).all()
    listed = _paid_after_listed_death(s, p)
    events = s.execute(  # deaths recorded after registration (ledger.households.changes)
        select(p, Member.id.label("member_id"), Member.name.label("person"),
               MemberEvent.effective_date.label("died"))
        .join(Member, head)
        .join(MemberEvent, and_(MemberEvent.member_id == Member.id,
                                MemberEvent.kind == MemberEventKind.DIED))
        .where(p.c.date > MemberEvent.effective_date)).all()
    allow_month = ctx.settings.ben01_month_of_death_allowed
    groups = defaultdict(list)
    for row in registry + events + listed:
        if allow_month and row.date < _next_month(row.died):
            continue  # the month of death may still be paid
        groups[row.payee].append(row)
    findings = []
    for household, rows in groups.items():
        seen, items = set(), []
        for r in rows:
            if r.id not in seen:
                seen.add(r.id)
                items.append(r)
        r = rows[0]
        source = {"registry": "household registry (members.death_date)"}
        if hasattr(r, "source"):
            source = {"list": {"kind": "deaths", "list_id": r.list_id, "source": r.source,
                               "snapshot_date": r.snapshot_date.isoformat(),
                               "line": r.line_no},
                      "match": {"fields": ["id_number"], "method": "exact ID (keyed digest)",
                                "listed_name": r.listed_name, "registry_name": r.person}}
        findings.append(Finding(
            "BEN-01", "household", household, r.payee_region,
            f"head of household {r.person} died {r.died}; paid {len(items)} time(s) after, "
            f"first on {min(i.date for i in items)}",
            "no household payment after the head's death"
            + (" (the month of death may be paid)" if allow_month else ""),
            sum(i.amount for i in items),
            {"transfers": [transfer_evidence(i) for i in items], "member_id": r.member_id,
             "death_date": r.died.isoformat(), **source}))
    return findings


def _paid_after_listed_death(s, p) -> list:
    """Payments after the date a deaths list gives for the household's head: the heads on the
    list first (by ID digest), then their households' payments. One join of payments × list
    records let a planner without statistics test every payment against every listed person
    (PostgreSQL, before ANALYZE: 6 s at 10,000 households)."""
    heads = defaultdict(list)
    for r in s.execute(
            select(Member.household_code, Member.id.label("member_id"),
                   Member.name.label("person"), ExternalRecord.date_from.label("died"),
                   ExternalList.source, ExternalList.snapshot_date,
                   ExternalList.id.label("list_id"), ExternalRecord.line_no,
                   ExternalRecord.name.label("listed_name"))
            .join(ExternalRecord, ExternalRecord.id_digest == Member.id_digest)
            .join(ExternalList, and_(ExternalList.id == ExternalRecord.list_id,
                                     ExternalList.kind == ListKind.DEATHS))
            .where(Member.relation == "户主")).all():
        heads[r.household_code].append(r)
    codes, out = sorted(heads), []
    for start in range(0, len(codes), 900):  # one query per 900 households, not per person
        for pay in s.execute(select(p).where(p.c.payee.in_(codes[start:start + 900]))).all():
            for h in heads[pay.payee]:
                if pay.date > h.died:
                    out.append(_Joined({**pay._asdict(), **{k: v for k, v in h._asdict().items()
                                                            if k != "household_code"}}))
    return out


class _Joined:
    """A payment row joined with a listed death in Python: the attributes a query row has."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


@rule("BEN-06", "不符合条件对象", "Payee not registered and active",
      severity="high", method="deterministic",
      why="The household was not registered, or was removed (清退/注销), on the payment date.",
      basis="CNAO 2016: half of subsidised loans went to non-registered households",
      next_action="Check the registry on that date; recover the payment if ineligible.",
      settings=())
def ben06_not_registered(ctx: ScanContext) -> list[Finding]:
    s = ctx.session
    p = payments()
    status = (select(HouseholdEvent.status)
              .where(HouseholdEvent.household_code == p.c.payee,
                     HouseholdEvent.effective_date <= p.c.date)
              .order_by(HouseholdEvent.effective_date.desc(), HouseholdEvent.id.desc())
              .limit(1).correlate(p).scalar_subquery())
    rows = s.execute(
        select(p, status.label("status")).join(Household, Household.code == p.c.payee)
        .where(or_(status.is_(None), status.in_([st.value for st in INELIGIBLE])))).all()
    groups = defaultdict(list)
    for row in rows:
        groups[row.payee].append(row)
    findings = []
    for household, items in groups.items():
        states = sorted({str(i.status.value if hasattr(i.status, "value") else i.status)
                         if i.status else "not yet registered" for i in items})
        findings.append(Finding(
            "BEN-06", "household", household, items[0].payee_region,
            f"paid {len(items)} time(s) while {', '.join(states)}",
            "registered, exited, returned or monitored on the payment date",
            sum(i.amount for i in items), {"transfers": [transfer_evidence(i) for i in items]}))
    return findings


BEN03_MIN_HOUSEHOLDS = Setting("ben03_min_households", 2, "one card per household head or "
                               "person (一卡通, 财办〔2020〕37号): a card paid for two is shared")


@rule("BEN-03", "一卡多户", "One bank account for several households",
      severity="high", method="deterministic",
      why="Payments for different households landing on one card is how cadres hold cards and "
          "draw subsidies (一卡多人/代领).",
      basis="一卡通 rules (财办〔2020〕37号): one card per household head or person",
      next_action="Identify the card holder with the bank; hand cards back to households.",
      settings=(BEN03_MIN_HOUSEHOLDS,))
def ben03_shared_card(ctx: ScanContext) -> list[Finding]:
    if ctx.vault is None:
        return []
    s = ctx.session
    p = payments()
    paid = select(p.c.payee, func.sum(p.c.amount).label("total"), func.count().label("n")) \
        .group_by(p.c.payee).subquery()
    # The stored keyed digest of each card; rows from before it was stored are decrypted and
    # digested the same way (households.card_key). Only paid households with a card count.
    rows = s.execute(select(Household.code, Household.village_code, Household.bank_card,
                            Household.bank_card_last4, Household.card_digest, paid.c.total)
                     .join(paid, paid.c.payee == Household.code)
                     .where(Household.bank_card.is_not(None))).all()
    by_card = defaultdict(list)
    vault = ctx.vault
    for row in rows:
        by_card[unsalted(row.card_digest) or card_key(vault, vault.decrypt(row.bank_card))] \
            .append(row)
    findings = []
    for digest, items in by_card.items():
        if len(items) < ctx.settings.ben03_min_households:
            continue
        items.sort(key=lambda r: r.code)
        findings.append(Finding(
            "BEN-03", "card", digest[:16], items[0].village_code,
            f"card ****{items[0].bank_card_last4} receives for {len(items)} households: "
            + ", ".join(i.code for i in items),
            f"< {ctx.settings.ben03_min_households} households per card",
            sum(int(i.total) for i in items[1:]),
            {"households": [{"code": i.code, "village": i.village_code,
                             "paid_fen": int(i.total)} for i in items],
             "card_last4": items[0].bank_card_last4}))
    return findings


def _roll_transfer_join(alias=Transfer):
    key = literal("roll:") + PaymentRoll.code + literal(":") + \
        func.cast(RollLine.line_no, Transfer.idempotency_key.type)
    return alias.idempotency_key == key


PER_PERSON_ITEMS = Setting("per_person_items", ("教育补助", "雨露计划", "健康扶贫补助"),
                           "items whose roll quantity counts persons")


@rule("D7", "超标准发放", "Paid above the standard", severity="high", method="deterministic",
      why="A per-person item paid for more people than the household has.",
      basis="Audit category 未按规定标准及金额发放",
      next_action="Check the roll and the household's members.",
      settings=(PER_PERSON_ITEMS,))
def d7_over_standard(ctx: ScanContext) -> list[Finding]:
    s = ctx.session
    published = select(RollEvent.roll_id, func.min(RollEvent.effective_date).label("day")) \
        .where(RollEvent.kind == RollEventKind.PUBLISHED).group_by(RollEvent.roll_id).subquery()
    alive = (select(func.count(Member.id)).where(
        Member.household_code == RollLine.household_code,
        or_(Member.death_date.is_(None), Member.death_date >= published.c.day))
        .correlate(RollLine, published).scalar_subquery())
    rows = s.execute(
        select(PaymentRoll.code, PaymentRoll.item, PaymentRoll.standard_fen,
               PaymentRoll.county_code, RollLine.line_no, RollLine.household_code,
               RollLine.quantity, RollLine.amount_fen, alive.label("persons"))
        .join(RollLine, RollLine.roll_id == PaymentRoll.id)
        .join(published, published.c.roll_id == PaymentRoll.id)
        .where(PaymentRoll.item.in_(ctx.settings.per_person_items),
               RollLine.quantity > alive)).all()
    return [Finding(
        "D7", "roll_line", f"{r.code}:{r.line_no}", r.county_code,
        f"{r.item}: {r.quantity} persons × {yuan(r.standard_fen)} for household "
        f"{r.household_code}, which has {r.persons} living members",
        "quantity ≤ living members for a per-person item",
        (r.quantity - r.persons) * r.standard_fen,
        {"roll": r.code, "line": r.line_no, "household": r.household_code,
         "approved_fen": r.amount_fen}) for r in rows]


def _roll_lines_with_transfer(s, decision_filter):
    approval = aliased(Approval)
    return s.execute(
        select(PaymentRoll.code, PaymentRoll.lot_id, PaymentRoll.county_code, PaymentRoll.item,
               RollLine.line_no, RollLine.household_code, RollLine.amount_fen,
               Transfer.id.label("transfer_id"), Transfer.effective_date.label("sent"),
               approval.decision)
        .join(RollLine, RollLine.roll_id == PaymentRoll.id)
        .join(Transfer, _roll_transfer_join())
        .outerjoin(approval, approval.transfer_id == Transfer.id)
        .where(decision_filter(approval))).all()


# A shortfall above max(¥1, 0.5%) once 30 days have passed after sending.
WHD01_TOLERANCE_FEN = Setting("whd01_tolerance_fen", 100, "a shortfall up to ¥1 is tolerated")
WHD01_TOLERANCE_PERMILLE = Setting("whd01_tolerance_permille", 5,
                                   "a shortfall up to 0.5% is tolerated")
WHD01_GRACE_DAYS = Setting("whd01_grace_days", 30, "judged 30 days after the roll was sent")


@rule("WHD-01", "少发克扣", "Household received less than approved",
      severity="high", method="deterministic",
      why="What reached the household is less than the publicly approved roll amount (截留/克扣).",
      basis="Roll publicity (公示清册) vs paid list",
      next_action="Ask the bank for the credit record; pay the shortfall or find who kept it.",
      settings=(WHD01_TOLERANCE_FEN, WHD01_TOLERANCE_PERMILLE, WHD01_GRACE_DAYS))
def whd01_short_paid(ctx: ScanContext) -> list[Finding]:
    s, cfg = ctx.session, ctx.settings
    lines = _roll_lines_with_transfer(s, lambda a: a.decision == Decision.APPROVED)
    p = payments()
    # What reached a line's household for its roll: payments to it from the roll's lot whose
    # memo names the roll. Joined through the roll's own lines (payee = a household on the
    # roll), so each payment is tested against its household's rolls, not every roll of the lot.
    received = dict(((r.payee, r.code), int(r.total)) for r in s.execute(
        select(p.c.payee, PaymentRoll.code, func.sum(p.c.amount).label("total"))
        .join(RollLine, RollLine.household_code == p.c.payee)
        .join(PaymentRoll, and_(PaymentRoll.id == RollLine.roll_id,
                                PaymentRoll.lot_id == p.c.lot_id,
                                p.c.memo.contains(PaymentRoll.code)))
        .group_by(p.c.payee, PaymentRoll.code)).all())
    findings = []
    for line in lines:
        if ctx.as_of <= line.sent + dt.timedelta(days=cfg.whd01_grace_days):
            continue
        got = received.get((line.household_code, line.code), 0)
        tolerance = max(cfg.whd01_tolerance_fen,
                        line.amount_fen * cfg.whd01_tolerance_permille // 1000)
        if line.amount_fen - got > tolerance:
            findings.append(Finding(
                "WHD-01", "roll_line", f"{line.code}:{line.line_no}", line.county_code,
                f"approved {yuan(line.amount_fen)}, received {yuan(got)}, shortfall "
                f"{yuan(line.amount_fen - got)}",
                f"shortfall ≤ max({yuan(cfg.whd01_tolerance_fen)}, "
                f"{cfg.whd01_tolerance_permille}‰) {cfg.whd01_grace_days} days after sending",
                line.amount_fen - got,
                {"roll": line.code, "line": line.line_no, "household": line.household_code,
                 "transfer_id": line.transfer_id}))
    return findings


WHD02_DAYS = Setting("whd02_days", 60, "sent to the bank, no result after 60 days")


@rule("WHD-02", "批准未发放", "Sent to the bank but never paid",
      severity="high", method="deterministic",
      why="The roll was sent and the money held, but no bank result arrived in 60 days.",
      basis="Withholding pattern 截留 (anchors §7 WHD-02)",
      next_action="Obtain the bank's result file.",
      settings=(WHD02_DAYS,))
def whd02_never_paid(ctx: ScanContext) -> list[Finding]:
    days = ctx.settings.whd02_days
    lines = _roll_lines_with_transfer(ctx.session, lambda a: a.decision.is_(None))
    return [Finding(
        "WHD-02", "roll_line", f"{line.code}:{line.line_no}", line.county_code,
        f"sent on {line.sent}; no bank result after {(ctx.as_of - line.sent).days} days",
        f"a bank result within {days} days", line.amount_fen,
        {"roll": line.code, "line": line.line_no, "household": line.household_code,
         "transfer_id": line.transfer_id})
        for line in lines if (ctx.as_of - line.sent).days > days]


WHD04_DAYS = Setting("whd04_days", 30, "a bank return (退票) re-paid within 30 days")


@rule("WHD-04", "退票未重发", "Bank return not re-paid", severity="medium", method="deterministic",
      why="A returned payment (退票) was neither re-paid to the household nor returned in 30 days.",
      basis="一卡通 practice: returns re-paid or returned within 30 days",
      next_action="Fix the household's card and re-pay, or return the money to the lot.",
      settings=(WHD04_DAYS,))
def whd04_return_not_repaid(ctx: ScanContext) -> list[Finding]:
    s, days = ctx.session, ctx.settings.whd04_days
    lines = _roll_lines_with_transfer(s, lambda a: a.decision == Decision.REJECTED)
    p = payments()
    repaid = defaultdict(list)  # a re-payment of the item: a repay roll or a direct payment
    returned = {line.household_code for line in lines}
    for r in s.execute(select(p.c.payee, p.c.lot_id, p.c.memo, p.c.date)
                       .where(p.c.payee.in_(list(returned)))).all():
        repaid[(r.payee, r.lot_id)].append((r.date, r.memo or ""))
    findings = []
    for line in lines:
        until = line.sent + dt.timedelta(days=days)
        if ctx.as_of <= until:
            continue
        if any(line.sent <= d <= until and line.item in memo
               for d, memo in repaid[(line.household_code, line.lot_id)]):
            continue
        findings.append(Finding(
            "WHD-04", "roll_line", f"{line.code}:{line.line_no}", line.county_code,
            f"returned by the bank (sent {line.sent}); not re-paid by {until}",
            f"re-paid or returned within {days} days", line.amount_fen,
            {"roll": line.code, "line": line.line_no, "household": line.household_code,
             "transfer_id": line.transfer_id}))
    return findings


# How a bank line differs from its posted roll line in a way that is WHD-05's: the money went
# to another account, name or household, in another amount, or for a line never posted. A short
# credit is WHD-01's (what reached the household); a return or a payment after a return is the
# bank changing its answer, not a difference from the roll.
WHD05_DIFFERENCES = ("other_account", "other_name", "other_household", "other_amount",
                     "not_posted")


@rule("WHD-05", "回盘与公示清册不符", "Bank file differs from the posted roll",
      severity="high", method="deterministic",
      why="The bank paid another account, name, household or amount than the roll publicly "
          "posted for the line, or paid a line the roll never posted (冒名顶替, 截留).",
      basis="Roll publicity (公示清册) vs the bank's result file (回盘)",
      next_action="Ask the bank for the credit record of the line; recover money paid to "
                  "someone else and correct the card or the roll.",
      settings=(),
      not_planted="the demo province's bank answers every line as it was sent; the rule is "
                  "tested on real result files (tests/ledger/alerts/test_whd05.py)")
def whd05_bank_differs_from_roll(ctx: ScanContext) -> list[Finding]:
    from ledger.models.rolls import BankResult
    findings, seen = [], set()
    rows = ctx.session.execute(
        select(BankResult, PaymentRoll.code, PaymentRoll.county_code)
        .join(PaymentRoll, PaymentRoll.id == BankResult.roll_id)
        .where(BankResult.differences != "").order_by(BankResult.id)).all()
    for bank, code, county in rows:
        kinds = [d for d in bank.differences.split(",") if d in WHD05_DIFFERENCES]
        if not kinds or (kinds == ["not_posted"] and not bank.paid):
            continue
        day = bank.value_date or bank.recorded_at.date()
        key = f"{code}:{bank.line_no}"
        if day > ctx.as_of or key in seen:
            continue
        seen.add(key)
        findings.append(Finding(
            "WHD-05", "roll_line", key, county,
            f"the bank's file {bank.file_name or '(no name)'} line {bank.file_line}: "
            f"{', '.join(kinds)}; sent {yuan(bank.sent_fen)}, credited "
            f"{yuan(bank.credited_fen)}",
            "the bank pays the account, name and amount the roll posted, and no other line",
            bank.difference_fen or bank.sent_fen,
            {"roll": code, "line": bank.line_no, "household": bank.household_code,
             "file": bank.file_name, "file_line": bank.file_line,
             "value_date": day.isoformat(), "differences": kinds,
             "sent_fen": bank.sent_fen, "credited_fen": bank.credited_fen,
             "account_last4": bank.account_last4, "voucher": bank.voucher,
             "difference_transfer_id": bank.difference_transfer_id}))
    return findings
