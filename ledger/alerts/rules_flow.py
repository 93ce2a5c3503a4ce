"""Rules on the flow of money: late and idle funds, diversion, project process, duplicates,
splitting, backdating, blacklist. Each is one or two set-based queries."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, case, func, or_, select

from ledger.alerts.base import ScanContext, payments, transfer_evidence, yuan
from ledger.alerts.entry import Setting, rule
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Decision,
    FundLot,
    Payee,
    Posting,
    ProjectEvent,
    ProjectStatus,
    Region,
    RegionLevel,
    Transfer,
)
from ledger.registers.external import ExternalList, ExternalRecord, ListKind
from ledger.screening.at_posting import refuse_blacklisted
from ledger.screening.finding import Finding


def _standing_postings():
    """Postings of transfers that were not rejected, with their date."""
    rejected = select(Approval.transfer_id).where(Approval.decision == Decision.REJECTED)
    return (select(Posting.account_id, Posting.amount_fen, Transfer.effective_date,
                   Transfer.kind, Transfer.id.label("transfer_id"))
            .join(Transfer, Transfer.id == Posting.transfer_id)
            .where(Transfer.id.not_in(rejected)))


FLW01_PROVINCE_DAYS = Setting("flw01_province_days", 30, "Budget Law art. 52(3): a province "
                              "passes central transfers down within 30 days")
FLW01_LOWER_DAYS = Setting("flw01_lower_days", 60, "Budget Law art. 52(4): lower levels pass "
                           "special transfers down within 60 days")
FLW01_MIN_SHARE_PERCENT = Setting("flw01_min_share_percent", 95,
                                  "share that counts as passed down (CNAO practice)")


@rule("FLW-01", "资金未及时下达", "Funds not passed down in time",
      severity="medium", method="deterministic",
      why="Money held at a level instead of reaching counties delays projects and invites "
          "diversion (滞留).",
      basis="预算法 art. 52(3)(4): province 30 days, lower levels 30/60 days",
      next_action="Ask the unit for the pass-down document; check whether the lot is an exempt "
                  "instalment.",
      settings=(FLW01_PROVINCE_DAYS, FLW01_LOWER_DAYS, FLW01_MIN_SHARE_PERCENT))
def flw01_late_pass_down(ctx: ScanContext) -> list[Finding]:
    s, cfg = ctx.session, ctx.settings
    units = select(Account.id, Account.lot_id, Account.holder_code, Region.level) \
        .join(Region, Region.code == Account.holder_code) \
        .where(Account.kind == AccountKind.UNIT,
               Region.level.in_([RegionLevel.PROVINCE, RegionLevel.CITY])).subquery()
    post = _standing_postings().subquery()
    inflow = func.sum(case((post.c.amount_fen > 0, post.c.amount_fen), else_=0))
    outflow = func.sum(case((post.c.amount_fen < 0, post.c.amount_fen), else_=0))
    rows = s.execute(
        select(units.c.id, units.c.lot_id, units.c.holder_code, units.c.level,
               post.c.effective_date, inflow, outflow)
        .join(post, post.c.account_id == units.c.id)
        .group_by(units.c.id, units.c.lot_id, units.c.holder_code, units.c.level,
                  post.c.effective_date)).all()
    by_account = defaultdict(list)
    for acc, lot, holder, level, day, money_in, money_out in rows:
        for amount in (int(money_in), int(money_out)):
            if amount:
                by_account[(acc, lot, holder, level)].append((day, amount))
    findings = []
    for (_acc, lot, holder, level), moves in by_account.items():
        received = [d for d, a in moves if a > 0]
        if not received:
            continue
        first = min(received)
        days = cfg.flw01_province_days if level is RegionLevel.PROVINCE else cfg.flw01_lower_days
        deadline = first + dt.timedelta(days=days)
        if ctx.as_of <= deadline:
            continue
        inflow = sum(a for d, a in moves if a > 0 and d <= deadline)
        passed = -sum(a for d, a in moves if a < 0 and d <= deadline)
        if passed * 100 >= inflow * cfg.flw01_min_share_percent:
            continue
        later = sorted(d for d, a in moves if a < 0 and d > deadline)
        observed = (f"received {yuan(inflow)} on {first}; passed down {yuan(passed)} "
                    f"({passed * 100 // max(inflow, 1)}%) within {days} days")
        if later:
            observed += f"; next pass-down on {later[0]} ({(later[0] - first).days} days)"
        findings.append(Finding(
            "FLW-01", "lot_unit", f"{lot}:{holder}", holder, observed,
            f"≥ {cfg.flw01_min_share_percent}% within {days} days of receipt "
            f"({level.value} level)", inflow - passed,
            {"lot_id": lot, "unit": holder, "received_on": first.isoformat(),
             "deadline": deadline.isoformat()}))
    return findings


# CNAO reports idle funds ">1 year" and ">2 years" separately.
FLW02_HIGH_DAYS = Setting("flw02_high_days", 365, "idle more than a year: high (CNAO 闲置1年以上)")
FLW02_CRITICAL_DAYS = Setting("flw02_critical_days", 730,
                              "idle more than two years: critical (CNAO 闲置2年以上)")


@rule("FLW-02", "资金闲置", "Idle earmarked balance", severity="high", method="deterministic",
      why="A balance with no outflow for a year is what audits report as idle (闲置); two years "
          "means it should be taken back for pooled use.",
      basis="CNAO audit categories 闲置1年以上/2年以上; 国发〔2015〕35号 on carry-over",
      next_action="Ask why the money is idle; propose recovery to the pooled account if ≥ 2 "
                  "years.",
      settings=(FLW02_HIGH_DAYS, FLW02_CRITICAL_DAYS))
def flw02_idle_balance(ctx: ScanContext) -> list[Finding]:
    s, cfg = ctx.session, ctx.settings
    post = _standing_postings().subquery()
    last_out = select(post.c.account_id, func.max(post.c.effective_date).label("last_out")) \
        .where(post.c.amount_fen < 0).group_by(post.c.account_id).subquery()
    first_in = select(post.c.account_id, func.min(post.c.effective_date).label("first_in")) \
        .where(post.c.amount_fen > 0).group_by(post.c.account_id).subquery()
    rows = s.execute(
        select(Account.id, Account.lot_id, Account.kind, Account.holder_code,
               Account.region_code, Account.debits_posted - Account.credits_posted,
               last_out.c.last_out, first_in.c.first_in)
        .outerjoin(last_out, last_out.c.account_id == Account.id)
        .join(first_in, first_in.c.account_id == Account.id)
        .where(Account.kind.in_([AccountKind.UNIT, AccountKind.PROJECT]),
               Account.debits_posted - Account.credits_posted > 0)).all()
    # Money can sit idle because the ledger refused its spending (a payment to a blacklisted
    # payee, outside the lot's purpose, beyond the balance…): the finding names those refused
    # attempts, dated after the last movement, so the auditor sees why (issue 18). Imported
    # here: only this rule reads them.
    from ledger.funds.refusals_log import refused_spending
    refused = refused_spending(s)
    findings = []
    for acc, lot, kind, holder, region, balance, out, inn in rows:
        since = max(d for d in (out, inn) if d is not None)
        idle = (ctx.as_of - since).days
        if idle < cfg.flw02_high_days:
            continue
        critical = idle >= cfg.flw02_critical_days
        stranded = [a for a in refused.get((lot, kind.value, holder), ())
                    if since.isoformat() <= a["date"] <= ctx.as_of.isoformat()]
        observed = f"balance {yuan(int(balance))} with no outflow for {idle} days (since {since})"
        if stranded:
            observed += "; spending from it refused: " + ", ".join(
                f"{a['date']} {a['code']}"
                + (f" {yuan(a['amount_fen'])}" if a["amount_fen"] is not None else "")
                for a in stranded)
        evidence = {"account_id": acc, "lot_id": lot, "holder": holder,
                    "last_movement": since.isoformat()}
        if stranded:
            evidence["refused_attempts"] = stranded
        findings.append(Finding(
            "FLW-02", "account", f"{lot}:{kind.value}:{holder}", region, observed,
            f"≥ {cfg.flw02_high_days} days high, ≥ {cfg.flw02_critical_days} days critical",
            int(balance), evidence, severity="critical" if critical else "high"))
    return findings


PROHIBITED_FUNCTION_CODES = Setting(
    "prohibited_function_codes", ("2130501", "2130502", "2130503", "2130550"),
    "administrative function codes (DOMAIN.md §3)")
PROHIBITED_ECONOMIC_CODES = Setting(
    "prohibited_economic_codes", ("301", "302", "501", "502"),
    "economic classes 301/302 and 501/502: wages, goods and services of government bodies")
PROHIBITED_KEYWORDS = Setting(
    "prohibited_keywords",
    ("工资", "奖金", "津贴", "福利", "慰问金", "办公楼", "会堂", "宾馆", "培训中心", "办公用房",
     "公务用车", "购车", "手机", "通讯设备", "偿还", "还款", "垫资", "平衡预算", "弥补亏损",
     "担保金", "景观", "外墙粉饰", "牌楼", "接待", "宴请"),
    "words of the negative list (财农〔2017〕8号)")


@rule("DIV-01", "超范围/负面清单支出", "Spending on a prohibited use",
      severity="high", method="deterministic",
      why="Special funds may not pay wages, bonuses, buildings, vehicles, debts or image "
          "projects (负面清单); the wording or code of this payment points there.",
      basis="财农〔2017〕8号 negative list; DOMAIN.md §3 administrative codes 2130501–03, 2130550",
      next_action="Request the invoice and contract; hold further payments to the payee until "
                  "cleared.",
      settings=(PROHIBITED_FUNCTION_CODES, PROHIBITED_ECONOMIC_CODES, PROHIBITED_KEYWORDS))
def div01_prohibited_use(ctx: ScanContext) -> list[Finding]:
    s, cfg = ctx.session, ctx.settings
    p = payments()
    words = list(cfg.prohibited_keywords)
    econ = [f"{prefix}{code}" for code in cfg.prohibited_economic_codes
            for prefix in ("经济分类", "经济科目")]
    text_hit = or_(*[p.c.memo.contains(w) for w in words + econ],
                   *[Payee.name.contains(w) for w in words])
    lots = {lot.id: lot for lot in s.execute(select(FundLot)).scalars()}
    rows = s.execute(select(p, Payee.name.label("payee_name"))
                     .join(Payee, Payee.code == p.c.payee)
                     .where(or_(text_hit,
                                p.c.function_code.in_(cfg.prohibited_function_codes)))).all()
    outside = []
    for lot in lots.values():
        outside += s.execute(select(p, Payee.name.label("payee_name"))
                             .join(Payee, Payee.code == p.c.payee)
                             .where(p.c.lot_id == lot.id,
                                    p.c.function_code.not_in(lot.function_codes))).all()
    findings, seen = [], set()
    for row in rows + outside:
        if row.id in seen:
            continue
        seen.add(row.id)
        hits = [w for w in words + econ if w in (row.memo or "")] + \
               [w for w in words if w in row.payee_name]
        reasons = []
        if hits:
            reasons.append("words " + "、".join(sorted(set(hits))))
        if row.function_code in cfg.prohibited_function_codes:
            reasons.append(f"administrative function code {row.function_code}")
        if row.function_code not in lots[row.lot_id].function_codes:
            reasons.append(f"function code {row.function_code} outside the lot")
        findings.append(Finding(
            "DIV-01", "transfer", str(row.id), row.county, "; ".join(reasons),
            "no negative-list words, codes outside 21305xx administrative codes, within the "
            "lot's function codes", row.amount,
            {"transfers": [transfer_evidence(row)], "payee_name": row.payee_name}))
    return findings


def _approval_dates(s) -> dict[str, dt.date]:
    return dict(s.execute(select(ProjectEvent.project_code, func.min(ProjectEvent.effective_date))
                          .where(ProjectEvent.status == ProjectStatus.APPROVED)
                          .group_by(ProjectEvent.project_code)).all())


def _project_payments(ctx):
    p = payments()
    rows = ctx.session.execute(select(p).where(p.c.src_kind == AccountKind.PROJECT)
                               .order_by(p.c.date, p.c.id)).all()
    by_project = defaultdict(list)
    for row in rows:
        by_project[row.src_holder].append(row)
    return by_project


@rule("E1", "项目未批复即支付", "Paid before the project was approved",
      severity="high", method="deterministic",
      why="Money reached a project before it was approved in the project library (未入库即支付).",
      basis="Project-library rules (项目库管理); china-fund-rules §E1",
      next_action="Check the library record and approval document; stop payments until approved.",
      settings=())
def e1_before_approval(ctx: ScanContext) -> list[Finding]:
    approved = _approval_dates(ctx.session)
    findings = []
    for project, rows in _project_payments(ctx).items():
        when = approved.get(project)
        early = [r for r in rows if when is None or r.date < when]
        if early:
            findings.append(Finding(
                "E1", "project", project, early[0].county,
                f"first payment {early[0].date}; approved "
                f"{when.isoformat() if when else 'never'}",
                "no payment before the approval (批复) date", sum(r.amount for r in early),
                {"transfers": [transfer_evidence(r) for r in early],
                 "approved_on": when.isoformat() if when else None}))
    return findings


E2_NOTICE_DAYS = Setting("e2_notice_days", 10,
                         "village project notice, at least 10 days (S6)")


@rule("E2", "公示期未满即支付", "Paid before the notice period ended",
      severity="high", method="deterministic",
      why="A project must be on the village board for the full period before work and payment "
          "start, so villagers can object.",
      basis="指导意见 art. 4(2): notices at least 10 days",
      next_action="Ask for the notice record and photos of the board; check for objections.",
      settings=(E2_NOTICE_DAYS,))
def e2_before_notice_period(ctx: ScanContext) -> list[Finding]:
    approved = _approval_dates(ctx.session)
    days = ctx.settings.e2_notice_days
    findings = []
    for project, rows in _project_payments(ctx).items():
        when = approved.get(project)
        if when is None:
            continue  # E1's case
        ends = when + dt.timedelta(days=days)
        early = [r for r in rows if r.date < ends]
        if early:
            findings.append(Finding(
                "E2", "project", project, early[0].county,
                f"paid on {early[0].date}, {_days_after(early[0].date, when)} the notice went "
                f"up on {when}", f"notice displayed ≥ {days} days before payment",
                sum(r.amount for r in early),
                {"transfers": [transfer_evidence(r) for r in early],
                 "notice_from": when.isoformat(), "notice_until": ends.isoformat(),
                 "note": "notice start taken as the approval date until notices are recorded"}))
    return findings


def _days_after(day, start) -> str:
    gap = (day - start).days
    return f"{gap} days after" if gap >= 0 else f"{-gap} days before"


# DUP-01 and DUP-02 share their window.
DUPLICATE_WINDOW_DAYS = Setting(
    "duplicate_window_days", 14, 'same payee and amount within 14 days (audit-analytics '
    '"same-same-same" and "same-same-different", anchors §7 DUP-01/02)')


def _duplicate_pairs(ctx: ScanContext) -> tuple[dict, dict]:
    """DUP-01's and DUP-02's pairs, found in one ordered read of the standing payments.

    A pair is two payments to one payee of one amount at most `duplicate_window_days` apart
    (either way), the earlier-entered one (lower id) first: with the same item text (memo) for
    DUP-01, another item text for DUP-02 (a payment without a memo pairs with neither, as in
    SQL). Each later payment is named once, with the earliest-entered payment it repeats;
    DUP-02 skips two lines of different payment rolls and a payment DUP-01 names.

    The payments come sorted by payee, amount and date, so each payment's candidates are the
    neighbours within the window in its (payee, amount) run: n log n for the sort plus the
    window's size per payment, not the self-join's n² pairs.
    Returns ({later id: (earlier row, later row)} for DUP-01, the same for DUP-02)."""
    window = ctx.settings.duplicate_window_days
    cached = ctx.cache.get(("duplicate_pairs", window))
    if cached is not None:
        return cached
    p = payments()
    rows = ctx.session.execute(
        select(p.c.id, p.c.date, p.c.amount, p.c.lot_id, p.c.county, p.c.memo, p.c.key,
               p.c.payee)
        .order_by(p.c.payee, p.c.amount, p.c.date, p.c.id)).all()
    found = duplicate_pairs(rows, window)
    ctx.cache[("duplicate_pairs", window)] = found
    return found


def duplicate_pairs(rows, window_days: int) -> tuple[dict, dict]:
    """The pairs of `_duplicate_pairs` among `rows` (id, date, amount, memo, key, payee)
    sorted by payee, amount and date."""
    exact, other = {}, {}
    span = dt.timedelta(days=window_days)
    start = 0
    for end in range(len(rows) + 1):
        if end < len(rows) and (rows[end].payee, rows[end].amount) \
                == (rows[start].payee, rows[start].amount):
            continue
        _pairs_in_run(rows[start:end], span, exact, other)  # one payee, one amount
        start = end
    return exact, {b: pair for b, pair in other.items() if b not in exact}


def _pairs_in_run(run, span, exact, other):
    """Pairs within one (payee, amount) run sorted by date: for each payment, the lowest-id
    earlier-entered payment within the window with the same memo (exact) and with another
    memo, not two roll lines (other)."""
    lo = hi = 0
    for b in run:
        while run[lo].date < b.date - span:
            lo += 1
        while hi < len(run) and run[hi].date <= b.date + span:
            hi += 1
        if b.memo is None:
            continue
        same = diff = None
        for a in run[lo:hi]:
            if a.id >= b.id or a.memo is None:
                continue
            if a.memo == b.memo:
                if same is None or a.id < same.id:
                    same = a
            elif not (a.key.startswith("roll:") and b.key.startswith("roll:")):
                if diff is None or a.id < diff.id:
                    diff = a
        if same is not None:
            exact[b.id] = (same, b)
        if diff is not None:
            other[b.id] = (diff, b)


@rule("DUP-01", "重复支付", "Same payment twice", severity="high", method="deterministic",
      why="The same payee received the same amount for the same item twice within days.",
      basis="Audit analytics duplicate tests (same payee, amount, item)",
      next_action="Compare the vouchers; reverse or recover the duplicate.",
      settings=(DUPLICATE_WINDOW_DAYS,))
def dup01_duplicate_payment(ctx: ScanContext) -> list[Finding]:
    window = ctx.settings.duplicate_window_days
    exact, _ = _duplicate_pairs(ctx)
    findings = []
    for b_id in sorted(exact):
        a, b = exact[b_id]
        gap = abs((b.date - a.date).days)
        findings.append(Finding(
            "DUP-01", "transfer", str(b.id), a.county,
            f"transfer #{b.id} ({b.key}) repeats #{a.id} ({a.key}) {gap} days later",
            f"same payee, amount and item within {window} days", a.amount,
            {"transfers": [transfer_evidence(a)], "duplicate_transfer_id": b.id}))
    return findings


@rule("DUP-02", "换单重复支付", "Same payment twice under another voucher",
      severity="medium", method="deterministic",
      why="The same payee received the same amount twice within days under another voucher and "
          "item text — the way a duplicate slips past DUP-01.",
      basis="Audit analytics same-same-different test (anchors §7 DUP-02, 14 days)",
      next_action="Compare the two vouchers and invoices; reverse or recover the duplicate.",
      settings=(DUPLICATE_WINDOW_DAYS,))
def dup02_duplicate_other_voucher(ctx: ScanContext) -> list[Finding]:
    """DUP-02: the same payment again under another voucher and item text — the way a
    duplicate gets past DUP-01. A payment DUP-01 already names is not named again, so the two
    rules never count one duplicate twice. Two lines of different payment rolls are left
    out: each item was published and approved on its own roll, and per-household items often
    share a standard (¥1,000 for two items is not a duplicate)."""
    window = ctx.settings.duplicate_window_days
    _, other = _duplicate_pairs(ctx)
    findings = []
    for b_id in sorted(other):
        a, b = other[b_id]
        gap = abs((b.date - a.date).days)
        findings.append(Finding(
            "DUP-02", "transfer", str(b.id), a.county,
            f"transfer #{b.id} ({b.key}, {b.memo!r}) pays the same payee the same "
            f"amount as #{a.id} ({a.key}, {a.memo!r}) {gap} days apart",
            f"same payee and amount under another voucher within {window} days",
            a.amount, {"transfers": [transfer_evidence(a)], "duplicate_transfer_id": b.id,
                       "items": [a.memo or "", b.memo or ""]}))
    return findings


SPLIT_THRESHOLD_FEN = Setting("split_threshold_fen", 500_000_00, "T, the approval/tender "
                              "limit of the paying unit (set the local 限额标准)")
SPLIT_BAND_PERMILLE = Setting("split_band_permille", 900, "each item in [0.9T, T)")
SPLIT_MIN_COUNT = Setting("split_min_count", 3,
                          "payments that make a split (audit analytics split tests)")
SPLIT_WINDOW_DAYS = Setting("split_window_days", 30,
                            "days a split's payments fall within (audit analytics split tests)")


@rule("SPL-01", "化整为零", "Payments split below the threshold",
      severity="high", method="deterministic",
      why="Several payments to one payee just under the approval limit, close together, add up "
          "to more than it.",
      basis="Procurement thresholds (限额标准); audit analytics split tests",
      next_action="Review the contracts as one purchase; check the procurement procedure.",
      settings=(SPLIT_THRESHOLD_FEN, SPLIT_BAND_PERMILLE, SPLIT_MIN_COUNT, SPLIT_WINDOW_DAYS))
def spl01_split_payments(ctx: ScanContext) -> list[Finding]:
    cfg = ctx.settings
    limit = cfg.split_threshold_fen
    low = limit * cfg.split_band_permille // 1000
    p = payments()
    rows = ctx.session.execute(select(p).where(p.c.amount >= low, p.c.amount < limit)
                               .order_by(p.c.county, p.c.payee, p.c.date)).all()
    groups = defaultdict(list)
    for row in rows:
        groups[(row.county, row.payee)].append(row)
    findings = []
    for (county, payee), items in groups.items():
        best = _densest_window(items, cfg.split_window_days)
        if len(best) >= cfg.split_min_count and sum(r.amount for r in best) >= limit:
            findings.append(Finding(
                "SPL-01", "payee", f"{county}:{payee}", county,
                f"{len(best)} payments of {yuan(low)}–{yuan(limit)} in "
                f"{(best[-1].date - best[0].date).days} days, together "
                f"{yuan(sum(r.amount for r in best))}",
                f"< {cfg.split_min_count} items in [{yuan(low)}, {yuan(limit)}) within "
                f"{cfg.split_window_days} days summing to ≥ {yuan(limit)}",
                sum(r.amount for r in best), {"transfers": [transfer_evidence(r) for r in best]}))
    return findings


def _densest_window(items, days):
    best, start = [], 0
    for end in range(len(items)):
        while (items[end].date - items[start].date).days > days:
            start += 1
        if end - start + 1 > len(best):
            best = items[start:end + 1]
    return best


STA05_BACKDATE_DAYS = Setting("sta05_backdate_days", 30,
                              "dated this much before the unit's latest entry")


@rule("STA-05", "倒签记账", "Backdated entry", severity="medium", method="deterministic",
      why="An entry dated well before entries already on the unit's books was slipped in later.",
      basis="Accounting rules on timely entry; anchors §7 STA-05",
      next_action="Ask for the source voucher.",
      settings=(STA05_BACKDATE_DAYS,))
def sta05_backdated(ctx: ScanContext) -> list[Finding]:
    prev = func.max(Transfer.effective_date).over(
        partition_by=Transfer.region_code, order_by=Transfer.id, rows=(None, -1))
    ordered = select(Transfer.id, Transfer.region_code, Transfer.effective_date,
                     Transfer.idempotency_key, Transfer.amount_fen, Transfer.kind,
                     prev.label("prev_max")).subquery()
    rows = ctx.session.execute(select(ordered).where(
        ordered.c.prev_max > ordered.c.effective_date)).all()
    limit = ctx.settings.sta05_backdate_days
    findings = []
    for row in rows:
        prev_max = row.prev_max if isinstance(row.prev_max, dt.date) \
            else dt.date.fromisoformat(str(row.prev_max))
        gap = (prev_max - row.effective_date).days
        if gap > limit:
            findings.append(Finding(
                "STA-05", "transfer", str(row.id), row.region_code,
                f"dated {row.effective_date}, {gap} days before {prev_max}, the latest date "
                "already on the unit's books when it was entered",
                f"≤ {limit} days earlier than entries already recorded", row.amount_fen,
                {"transfer_id": row.id, "key": row.idempotency_key, "kind": row.kind.value}))
    return findings


@rule("BLK-01", "黑名单对象", "Payee on the violations blacklist",
      severity="high", method="deterministic",
      why="The payee is on the blacklist for earlier violations during its period.",
      basis="违规违纪黑名单 (imported list)",
      next_action="Hold payments; check the contract award.",
      settings=(), at_posting=(refuse_blacklisted,))
def blk01_blacklisted_payee(ctx: ScanContext) -> list[Finding]:
    s = ctx.session
    p = payments()
    rows = s.execute(
        select(p, ExternalRecord.org.label("reason"), ExternalRecord.date_from,
               ExternalRecord.date_to, ExternalList.source, ExternalList.snapshot_date,
               ExternalList.id.label("list_id"), ExternalRecord.line_no, Payee.name)
        .join(Payee, Payee.code == p.c.payee)
        .join(ExternalRecord, ExternalRecord.name == Payee.name)
        .join(ExternalList, and_(ExternalList.id == ExternalRecord.list_id,
                                 ExternalList.kind == ListKind.BLACKLIST))
        .where(p.c.date >= ExternalRecord.date_from,
               or_(ExternalRecord.date_to.is_(None), p.c.date <= ExternalRecord.date_to))).all()
    groups = defaultdict(list)
    for row in rows:
        groups[row.payee].append(row)
    findings = []
    for payee, items in groups.items():
        r = items[0]
        findings.append(Finding(
            "BLK-01", "payee", payee, r.county,
            f"{r.name} paid {len(items)} time(s) while blacklisted ({r.reason})",
            "no payment during a blacklist period", sum(i.amount for i in items),
            {"transfers": [transfer_evidence(i) for i in items],
             "list": {"kind": "blacklist", "list_id": r.list_id, "source": r.source,
                      "snapshot_date": r.snapshot_date.isoformat(), "line": r.line_no,
                      "period": f"{r.date_from}–{r.date_to or ''}"},
             "match": {"fields": ["name"], "method": "exact name"}}))
    return findings
