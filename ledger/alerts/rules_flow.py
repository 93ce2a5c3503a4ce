"""Rules on the flow of money: late and idle funds, diversion, project process, duplicates,
splitting, backdating, blacklist. Each is one or two set-based queries."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, func, or_, select

from ledger.alerts.base import ScanContext, payments, stream, transfer_evidence, yuan
from ledger.alerts.entry import Setting, rule
from ledger.i18n import N_
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Decision,
    FundLot,
    Payee,
    PaymentDocument,
    PaymentRoll,
    Posting,
    Project,
    ProjectEvent,
    ProjectStatus,
    Region,
    RegionLevel,
    RollEvent,
    RollEventKind,
    RollLine,
    Transfer,
    TransferReceipt,
    User,
)
from ledger.models.disclosure import ProjectNotice, ProjectNoticeKind
from ledger.registers.external import ExternalList, ExternalRecord, ListKind
from ledger.registers.payees import ApprovedPayee
from ledger.rolls.lifecycle import publicity, recorded_on
from ledger.screening.at_posting import refuse_blacklisted
from ledger.screening.finding import Finding
from ledger.screening.finding import code as zh_enum
from ledger.screening.finding import money as zh_yuan
from ledger.screening.finding import shown as zh


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


@rule("FLW-01", N_("资金未及时下达"), "Funds not passed down in time",
      severity="medium", method="deterministic",
      why=N_("资金滞留在某一级而未下达到县，会拖延项目并为挪用留下空间（滞留）。"),
      basis=N_("预算法第五十二条第三、四款：省级30日内，下级30日／60日内"),
      next_action=N_("向该单位索取资金下达文件；核实该批次是否属于可分期下达的情形。"),
      settings=(FLW01_PROVINCE_DAYS, FLW01_LOWER_DAYS, FLW01_MIN_SHARE_PERCENT))
def flw01_late_pass_down(ctx: ScanContext) -> list[Finding]:
    """A province (city) unit that passed less than the share of a lot down within its days of
    receiving it. The clock starts on the day the unit received the money: the receipt it
    recorded (`transfer receive`, transfer_receipts) where there is one, else the posting date
    of the transfer that paid it in; what it passed down counts on the voucher's date (下达日期)
    where the voucher carries one, else on its posting date (a late voucher posted in a later
    open month was issued on its own date)."""
    s, cfg = ctx.session, ctx.settings
    units = select(Account.id, Account.lot_id, Account.holder_code, Region.level) \
        .join(Region, Region.code == Account.holder_code) \
        .where(Account.kind == AccountKind.UNIT,
               Region.level.in_([RegionLevel.PROVINCE, RegionLevel.CITY])).subquery()
    post = _standing_postings().subquery()
    rows = s.execute(
        select(units.c.id, units.c.lot_id, units.c.holder_code, units.c.level,
               post.c.transfer_id, post.c.amount_fen, post.c.effective_date,
               Transfer.voucher_date, TransferReceipt.received_date)
        .join(post, post.c.account_id == units.c.id)
        .join(Transfer, Transfer.id == post.c.transfer_id)
        .outerjoin(TransferReceipt, TransferReceipt.transfer_id == post.c.transfer_id)
        .order_by(units.c.id, post.c.transfer_id)).all()
    by_account = defaultdict(list)
    for acc, lot, holder, level, tid, amount, posted, voucher, received in rows:
        if amount > 0:
            day, source = (received, "receipt") if received is not None else (posted, "posted")
        else:
            day, source = (voucher, "voucher") if voucher is not None else (posted, "posted")
        by_account[(acc, lot, holder, level)].append((day, int(amount), source, tid))
    findings = []
    for (_acc, lot, holder, level), moves in by_account.items():
        received = [(d, src, tid) for d, a, src, tid in moves if a > 0]
        if not received:
            continue
        first, first_source, first_tid = min(received)
        days = cfg.flw01_province_days if level is RegionLevel.PROVINCE else cfg.flw01_lower_days
        deadline = first + dt.timedelta(days=days)
        if ctx.as_of <= deadline:
            continue
        inflow = sum(a for d, a, _, _ in moves if a > 0 and d <= deadline)
        passed = -sum(a for d, a, _, _ in moves if a < 0 and d <= deadline)
        if passed * 100 >= inflow * cfg.flw01_min_share_percent:
            continue
        later = sorted(d for d, a, _, _ in moves if a < 0 and d > deadline)
        observed = (f"received {yuan(inflow)} on {first}; passed down {yuan(passed)} "
                    f"({passed * 100 // max(inflow, 1)}%) within {days} days")
        if later:
            observed += f"; next pass-down on {later[0]} ({(later[0] - first).days} days)"
        findings.append(Finding(
            "FLW-01", "lot_unit", f"{lot}:{holder}", holder, observed,
            f"≥ {cfg.flw01_min_share_percent}% within {days} days of receipt "
            f"({level.value} level)", inflow - passed,
            {"lot_id": lot, "lot_doc_number": ctx.session.get(FundLot, lot).doc_number,
             "unit": holder, "received_on": first.isoformat(),
             "received_by": "the unit's recorded receipt (到账)" if first_source == "receipt"
             else "the posting date (no receipt recorded)", "received_transfer_id": first_tid,
             "deadline": deadline.isoformat(),
             "passed_down": [{"transfer_id": tid, "date": d.isoformat(), "amount_fen": -a,
                              "dated_by": src} for d, a, src, tid in sorted(moves) if a < 0]},
            observed_shown=zh(
                N_("{first} 收到 {inflow}，{days} 天内下达 {passed}（{share}%）")
                if not later else
                N_("{first} 收到 {inflow}，{days} 天内下达 {passed}（{share}%）；{next} 才再下达（{next_days} 天）"),  # noqa: E501
                first=str(first), inflow=zh_yuan(inflow), days=days, passed=zh_yuan(passed),
                share=passed * 100 // max(inflow, 1),
                **({"next": str(later[0]), "next_days": (later[0] - first).days} if later else {})),
            threshold_shown=zh(N_("收到后 {days} 天内下达不少于 {share}%（{level}级）"), days=days,
                               share=cfg.flw01_min_share_percent,
                               level=zh_enum("RegionLevel", level))))
    return findings


# CNAO reports idle funds ">1 year" and ">2 years" separately.
FLW02_HIGH_DAYS = Setting("flw02_high_days", 365, "idle more than a year: high (CNAO 闲置1年以上)")
FLW02_CRITICAL_DAYS = Setting("flw02_critical_days", 730,
                              "idle more than two years: critical (CNAO 闲置2年以上)")


@rule("FLW-02", N_("资金闲置"), "Idle earmarked balance", severity="high", method="deterministic",
      why=N_("一年没有支出的余额就是审计所说的闲置资金（闲置）；闲置两年应收回统筹使用。"),
      basis=N_("审计署审计分类“闲置1年以上／2年以上”；国发〔2015〕35号关于结转结余资金的规定"),
      next_action=N_("询问资金闲置的原因；闲置满2年的，提出收回统筹账户的建议。"),
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
            int(balance), evidence, severity="critical" if critical else "high",
            observed_shown=zh(
                N_("余额 {balance}，{idle} 天没有支出（自 {since}）") if not stranded else
                N_("余额 {balance}，{idle} 天没有支出（自 {since}）；其间被拒绝的支出：{refused}"),
                balance=zh_yuan(int(balance)), idle=idle, since=str(since),
                **({"refused": [f"{a['date']} {a['code']}" for a in stranded]}
                   if stranded else {})),
            threshold_shown=zh(N_("闲置 ≥ {high} 天为高，≥ {critical} 天为严重"),
                               high=cfg.flw02_high_days, critical=cfg.flw02_critical_days)))
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
     "担保金", "景观", "外墙粉饰", "牌楼", "接待", "宴请",
     # vehicles by what a voucher calls them (C3), allowances of staff and village cadres (C2)
     "汽车", "越野车", "轿车", "车辆购置", "购置车辆", "电话机", "误工补贴", "村干部",
     "干部补贴", "加班费"),
    "words of the negative list (财农〔2017〕8号; research/china-fund-rules.md §C, C2–C10)")
DIV01_ALLOWED_PHRASES = Setting(
    "div01_allowed_phrases",
    ("还款贴息", "贴息", "以工代赈", "务工人员工资", "务工工资", "劳务工资", "劳务报酬",
     "汽车驾驶", "汽车维修", "汽车运输", "培训误工补贴", "学员误工补贴"),
    "allowed uses whose wording holds a negative-list word: interest subsidies of poverty "
    "microcredit (小额信贷贴息, a named use of the fund), the labour pay of work-relief "
    "(以工代赈), skills training in driving and car repair (雨露计划 courses) with the trainees' "
    "lost-work allowance (误工补贴), and carriage by lorry in a project's costs are paid to "
    "households and suppliers, not staff, lenders or an office's car; a phrase is taken out of "
    "the text before the words are looked for")


@rule("DIV-01", N_("超范围/负面清单支出"), "Spending on a prohibited use",
      severity="high", method="deterministic",
      why=N_("专项资金不得用于工资、奖金、楼堂馆所、车辆、偿还债务或形象工程（负面清单）；这笔支付"
             "的摘要或科目指向这些用途。"),
      basis=N_("财农〔2017〕8号负面清单；DOMAIN.md 第3节行政科目 2130501–03、2130550"),
      next_action=N_("调取发票和合同；在查清之前暂停向该收款人继续付款。"),
      settings=(PROHIBITED_FUNCTION_CODES, PROHIBITED_ECONOMIC_CODES, PROHIBITED_KEYWORDS,
                DIV01_ALLOWED_PHRASES))
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
        memo, name = row.memo or "", row.payee_name
        for phrase in sorted(cfg.div01_allowed_phrases, key=len, reverse=True):
            memo, name = memo.replace(phrase, "·"), name.replace(phrase, "·")
        hits = [w for w in words + econ if w in memo] + [w for w in words if w in name]
        reasons = []
        if hits:
            reasons.append("words " + "、".join(sorted(set(hits))))
        if row.function_code in cfg.prohibited_function_codes:
            reasons.append(f"administrative function code {row.function_code}")
        if row.function_code not in lots[row.lot_id].function_codes:
            reasons.append(f"function code {row.function_code} outside the lot")
        if not reasons:   # its only words were inside an allowed phrase
            continue
        findings.append(Finding(
            "DIV-01", "transfer", str(row.id), row.county, "; ".join(reasons),
            "no negative-list words, codes outside 21305xx administrative codes, within the "
            "lot's function codes", row.amount,
            {"transfers": [transfer_evidence(row)], "payee_name": row.payee_name},
            observed_shown=zh(N_("不符合规定用途：{reasons}"), reasons=(
                ([zh(N_("负面清单词语 {words}"), words="、".join(sorted(set(hits))))]
                 if hits else [])
                + ([zh(N_("行政类功能科目 {code}"), code=row.function_code)]
                   if row.function_code in cfg.prohibited_function_codes else [])
                + ([zh(N_("功能科目 {code} 不在本批次范围内"), code=row.function_code)]
                   if row.function_code not in lots[row.lot_id].function_codes else []))),
            threshold_shown=zh(N_("不含负面清单词语，不用 21305xx 行政类功能科目，在本批次的功能科目之内"))))  # noqa: E501
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


@rule("E1", N_("项目未批复即支付"), "Paid before the project was approved",
      severity="high", method="deterministic",
      why=N_("项目尚未在项目库中批复，资金已经拨付（未入库即支付）。"),
      basis=N_("项目库管理规定；china-fund-rules §E1"),
      next_action=N_("核对项目库记录和批复文件；批复前停止付款。"),
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
                 "approved_on": when.isoformat() if when else None},
                observed_shown=zh(N_("首笔付款 {first}；批复日期 {approved}"),
                               first=str(early[0].date),
                               approved=when.isoformat() if when else zh(N_("未批复"))),
                threshold_shown=zh(N_("批复日期之前不得付款"))))
    return findings


E2_NOTICE_DAYS = Setting("e2_notice_days", 10,
                         "village project notice, at least 10 days (S6)")


@rule("E2", N_("公示期未满即支付"), "Paid before the notice period ended",
      severity="high", method="deterministic",
      why=N_("项目在开工和付款之前必须在村务公开栏公示满期，让村民可以提出异议。"),
      basis=N_("指导意见第四条第二款：公示不少于10天；公示日期取自项目公告记录（project_notices）"),
      next_action=N_("调取公示记录和公示栏照片；核查有无异议。"),
      settings=(E2_NOTICE_DAYS,))
def e2_before_notice_period(ctx: ScanContext) -> list[Finding]:
    """A project paid before a publicity notice (公示) of it had been displayed for the full
    window. Where the project's county keeps notice records (`project_notices`, imported or
    published), the window is the notice's own: from its first display day, and only a notice
    displayed for the whole window (its last day at least `e2_notice_days` - 1 days after its
    first) completes it; a project of such a county with no 公示 of its own, approved since the
    county's first recorded 公示, was never noticed, and every payment counts. A project
    approved before the county's notice book begins, or of a county with no 公示 recorded at
    all, is judged by the approximation that the notice went up on the approval day (found by
    the review: a book started in late 2024 turned every older project into an alert). The
    evidence says which."""
    approved = _approval_dates(ctx.session)
    days = ctx.settings.e2_notice_days
    by_project = _project_payments(ctx)
    notices, keeping = _publicity_notices(ctx.session, set(by_project))
    findings = []
    for project, rows in by_project.items():
        when = approved.get(project)
        county = rows[0].county
        own = notices.get(project, [])
        if own:
            full = [n for n in own if (n.display_to - n.display_from).days + 1 >= days]
            ends = min((n.display_from + dt.timedelta(days=days) for n in full), default=None)
            early = [r for r in rows if ends is None or r.date < ends]
            if not early:
                continue
            shown = [{"region": n.region_code, "from": n.display_from.isoformat(),
                      "to": n.display_to.isoformat(), "place": n.place, "issuer": n.issuer,
                      "doc_number": n.doc_number,
                      "days": (n.display_to - n.display_from).days + 1} for n in own]
            if ends is None:
                longest = max((n.display_to - n.display_from).days + 1 for n in own)
                observed = (f"paid on {early[0].date}; its notice was displayed {longest} "
                            f"days at most")
            else:
                first = min(n.display_from for n in full)
                observed = (f"paid on {early[0].date}, {_days_after(early[0].date, first)} "
                            f"the notice went up on {first}")
            findings.append(Finding(
                "E2", "project", project, county, observed,
                f"notice displayed ≥ {days} days before payment", sum(r.amount for r in early),
                {"transfers": [transfer_evidence(r) for r in early], "notices": shown,
                 "window_ends": ends.isoformat() if ends else None,
                 "basis": "project notices as recorded (display dates)"},
                observed_shown=zh(N_("{paid} 付款；公告最多只张贴了 {days} 天"),
                               paid=str(early[0].date), days=longest)
                if ends is None else _paid_after_notice(early[0].date, first),
                threshold_shown=zh(N_("付款前公告张贴满 {days} 天"), days=days)))
        elif county in keeping and when is not None and when >= keeping[county]:
            # approved since the county's notice book begins: its 公示 would be in it
            findings.append(Finding(
                "E2", "project", project, county,
                f"paid on {rows[0].date}; no publicity notice (公示) of the project is recorded, "
                "while the county records its notices", f"notice displayed ≥ {days} days "
                "before payment", sum(r.amount for r in rows),
                {"transfers": [transfer_evidence(r) for r in rows], "notices": [],
                 "approved_on": when.isoformat() if when else None,
                 "notice_book_from": keeping[county].isoformat(),
                 "basis": "never noticed: the county's notice records, kept since "
                          f"{keeping[county]}, hold none for it"},
                observed_shown=zh(N_("{paid} 付款；没有该项目公示的记录，而本县有公告记录"),
                               paid=str(rows[0].date)),
                threshold_shown=zh(N_("付款前公告张贴满 {days} 天"), days=days)))
        elif when is not None:  # not approved at all is E1's case
            ends = when + dt.timedelta(days=days)
            early = [r for r in rows if r.date < ends]
            if early:
                findings.append(Finding(
                    "E2", "project", project, county,
                    f"paid on {early[0].date}, {_days_after(early[0].date, when)} the notice "
                    f"went up on {when}", f"notice displayed ≥ {days} days before payment",
                    sum(r.amount for r in early),
                    {"transfers": [transfer_evidence(r) for r in early],
                     "notice_from": when.isoformat(), "notice_until": ends.isoformat(),
                     "basis": "approximation: notice start taken as the approval date (no "
                              "notice of the county recorded for the project's time)"},
                    observed_shown=_paid_after_notice(early[0].date, when),
                    threshold_shown=zh(N_("付款前公告张贴满 {days} 天"), days=days)))
    return findings


E3_WORKING_DAYS = Setting(
    "e3_roll_working_days", 7, "a roll's publicity window as the ledger keeps it: "
    "publicity.roll_working_days (7 working days by default), which a scan takes unless "
    "[alerts] sets this")


@rule("E3", N_("清册公示期未满即审核"),
      "Roll approved before its window, counted from the recording",
      severity="high", method="recorded",
      why=N_("清册的公示以较早的日期补记（补记公示），并在从补记之日起算的公示期届满前审核：填写的"
             "日期满足公示期，账本自己记录的日期不满足。县里补录往年清册时每本都会如此；经办人填写"
             "一个月前的日期来跳过公示栏，则只会有一次（第19号问题，攻击4）。"),
      basis=N_("清册在审核前公示不少于本县规定的工作日；记录日取自审计日志（ledger.core.clock），不"
               "能手工填写"),
      next_action=N_("调取所填日期期间村务公开栏的照片和会议记录；历史补录由补录人确认，跳过公示的"
                     "按问题处理。"),
      settings=(E3_WORKING_DAYS,),
      not_planted="a fact the ledger recorded (the days its log stamped), not a detection to "
                  "score: the demo records every roll step on its day, as a county using the "
                  "ledger does; tests/reliability/test_backdating.py checks it")
def e3_roll_approved_before_recorded_window(ctx: ScanContext) -> list[Finding]:
    """One finding per roll whose approval was recorded before the publicity window counted
    from the day its publication was recorded had passed (ledger.rolls.lifecycle.publicity:
    the same computation the roll's pages and notice show). Approvals typed after `as_of` are
    left out."""
    days = ctx.settings.e3_roll_working_days
    approved = select(RollEvent.roll_id).where(RollEvent.kind == RollEventKind.APPROVED,
                                               RollEvent.effective_date <= ctx.as_of)
    findings = []
    for roll in ctx.session.execute(select(PaymentRoll).where(PaymentRoll.id.in_(approved))
                                    .order_by(PaymentRoll.code)).scalars():
        shown = publicity(ctx.session, roll, days)
        if shown is None or not shown.approved_early:
            continue
        sent = ctx.session.execute(select(RollEvent).where(
            RollEvent.roll_id == roll.id, RollEvent.kind == RollEventKind.SENT)
            .order_by(RollEvent.id).limit(1)).scalar_one_or_none()
        amount = ctx.session.execute(select(func.coalesce(func.sum(RollLine.amount_fen), 0))
                                     .where(RollLine.roll_id == roll.id)).scalar_one()
        findings.append(Finding(
            "E3", "roll", roll.code, roll.county_code,
            f"publication dated {shown.posted}, recorded on {shown.recorded}; approval dated "
            f"{shown.approved}, recorded on {shown.approval_recorded}",
            f"approval recorded on or after {shown.earliest} ({days} working days from the "
            "recorded publication)", int(amount),
            {"published": shown.posted.isoformat(), "publication_recorded":
             shown.recorded.isoformat(), "approved": shown.approved.isoformat(),
             "approval_recorded": shown.approval_recorded.isoformat(),
             "first_approvable_by_recording": shown.earliest.isoformat(),
             "first_approvable_by_typed_date": shown.typed_earliest.isoformat(),
             "reason": shown.reason,
             "sent": sent.effective_date.isoformat() if sent else None,
             "sent_recorded": recorded_on(ctx.session, sent).isoformat() if sent else None},
            observed_shown=zh(N_("公示日期 {posted}，{recorded} 录入；审核日期 {approved}，{approval_recorded} 录入"),  # noqa: E501
                               posted=str(shown.posted), recorded=str(shown.recorded),
                               approved=str(shown.approved),
                               approval_recorded=str(shown.approval_recorded)),
            threshold_shown=zh(N_("审核录入不早于 {earliest}（公示录入后 {days} 个工作日）"),
                               earliest=str(shown.earliest), days=days)))
    return findings


def _publicity_notices(session, project_codes) -> tuple[dict, dict]:
    """({project: its publicity notices (公示)}, {county: the first day a 公示 of the county's
    is recorded as displayed}). Only 公示 count: a county recording only its 公告 (results)
    does not keep a book of publicity notices."""
    keeping = dict(session.execute(
        select(Project.county_code, func.min(ProjectNotice.display_from))
        .join(ProjectNotice, ProjectNotice.project_code == Project.code)
        .where(ProjectNotice.kind == ProjectNoticeKind.PUBLICITY)
        .group_by(Project.county_code)).all())
    notices = defaultdict(list)
    if keeping:
        for n in session.execute(select(ProjectNotice).where(
                ProjectNotice.kind == ProjectNoticeKind.PUBLICITY)
                .order_by(ProjectNotice.display_from, ProjectNotice.id)).scalars():
            if n.project_code in project_codes:
                notices[n.project_code].append(n)
    return notices, keeping


def _paid_after_notice(day, start) -> dict:
    """E2's "paid on …, N days after/before the notice went up on …" as people read it."""
    gap = (day - start).days
    if gap >= 0:
        return zh(N_("{paid} 付款，公告 {first} 张贴后 {gap} 天"), paid=str(day),
                  first=str(start), gap=gap)
    return zh(N_("{paid} 付款，比公告 {first} 张贴早 {gap} 天"), paid=str(day),
              first=str(start), gap=-gap)


def _days_after(day, start) -> str:
    gap = (day - start).days
    return f"{gap} days after" if gap >= 0 else f"{-gap} days before"


# DUP-01 and DUP-02 share their window and their exclusions.
DUPLICATE_WINDOW_DAYS = Setting(
    "duplicate_window_days", 14, "same payee and amount within 14 days (DOMAIN.md §4 DUP-01/02, "
    'audit-analytics "same-same-same" and "same-same-different", anchors §7). Kept at 14 for '
    "payments without an invoice number: equal amounts a month apart are what monthly fees and "
    "instalments look like, so a wider window without a document to tell them apart trades "
    "precision for the month-apart repeat; a repeat of one invoice (发票号) is paired at any "
    "distance instead")
DUP_RECURRING_MIN_COUNT = Setting(
    "dup_recurring_min_count", 3, "a recurring fee (rent, a post's monthly pay, a service "
    "charge): at least 3 payments of one amount to one payee at a monthly cadence are a "
    "schedule, not repeats (two alone cannot show a cadence)")
DUP_RECURRING_MIN_GAP_DAYS = Setting(
    "dup_recurring_min_gap_days", 20, "the monthly cadence: the median gap between the "
    "payments is at least 20 days (a month less an early payment); within a recurring fee "
    "with more payments than months, two payments of one calendar month are judged")
DUP_RECURRING_MAX_GAP_DAYS = Setting(
    "dup_recurring_max_gap_days", 40, "the monthly cadence: the median gap is at most 40 days "
    "(a month and a late payment)")


def _duplicate_pairs(ctx: ScanContext) -> tuple[dict, dict]:
    """DUP-01's and DUP-02's pairs, found in one ordered read of the standing payments.

    A pair is two payments to one payee of one amount, the earlier-entered one (lower id)
    first: citing the same invoice number (发票号), at any distance, for DUP-01; otherwise at
    most `duplicate_window_days` apart (either way), with the same item text (memo) and no two
    different invoice numbers for DUP-01, another item text or another invoice for DUP-02 (a
    payment without a memo pairs by its invoice only, as NULL in SQL). Each later payment is
    named once, with the earliest-entered payment it repeats; DUP-02 skips two lines of
    different payment rolls and a payment DUP-01 names. Within the window, two instalments of
    one contract (合同号) of the approved-payee register whose payments stay within its amount
    (and its number of instalments) are no pair, nor are two payments of a recurring fee
    (`_recurring`) in different calendar months.

    The payments come sorted by payee, amount and date, so each payment's candidates are the
    neighbours within the window in its (payee, amount) run: n log n for the sort plus the
    window's size per payment, not the self-join's n² pairs.
    Returns ({later id: (earlier row, later row)} for DUP-01, the same for DUP-02)."""
    cfg = ctx.settings
    window = cfg.duplicate_window_days
    low, high = cfg.dup_recurring_min_gap_days, cfg.dup_recurring_max_gap_days
    cache_key = ("duplicate_pairs", window, cfg.dup_recurring_min_count, low, high)
    cached = ctx.cache.get(cache_key)
    if cached is not None:
        return cached
    p = payments()
    rows = stream(ctx.session,
        select(p.c.id, p.c.date, p.c.amount, p.c.lot_id, p.c.county, p.c.memo, p.c.key,
               p.c.payee, PaymentDocument.invoice_number.label("invoice"),
               PaymentDocument.contract_number.label("contract"))
        .outerjoin(PaymentDocument, PaymentDocument.transfer_id == p.c.id)
        .order_by(p.c.payee, p.c.amount, p.c.date, p.c.id)).all()
    covered = _contract_instalments(ctx.session, rows)

    def excused(a, b) -> bool:
        return a.contract is not None and a.contract == b.contract \
            and (b.payee, b.contract) in covered

    found = duplicate_pairs(rows, window, excused=excused,
                            recurring=lambda run: _recurring(run, cfg.dup_recurring_min_count,
                                                             low, high))
    ctx.cache[cache_key] = found
    return found


def _contract_instalments(session, rows) -> set[tuple[str, str]]:
    """(payee, contract number) of the contracts whose standing payments stay within them: the
    approved-payee register names the payee (by exact name) under that 合同号 with an amount
    (合同金额), the payments citing it add up to at most that amount, and there are no more of
    them than its instalments (付款期数) where it gives them."""
    cited = defaultdict(lambda: [0, 0])
    for row in rows:
        if row.contract is not None:
            cited[(row.payee, row.contract)][0] += row.amount
            cited[(row.payee, row.contract)][1] += 1
    if not cited:
        return set()
    names = dict(session.execute(select(Payee.code, Payee.name).where(
        Payee.code.in_({payee for payee, _ in cited}))).all())
    contracts = defaultdict(list)
    for entry in session.execute(select(ApprovedPayee).where(
            ApprovedPayee.contract_number.in_({c for _, c in cited}),
            ApprovedPayee.contract_amount_fen.is_not(None))).scalars():
        contracts[(entry.payee_name, entry.contract_number)].append(entry)
    covered = set()
    for (payee, contract), (total, count) in cited.items():
        for entry in contracts.get((names.get(payee), contract), ()):
            if total <= entry.contract_amount_fen and (entry.instalments is None
                                                       or count <= entry.instalments):
                covered.add((payee, contract))
    return covered


def _recurring(run, min_count: int, low: int, high: int) -> bool:
    """A recurring fee: at least `min_count` payments of one amount to one payee, the median
    gap between them within [low, high] days. Within it, a payment more than the months allow
    is still judged (`_fee_pairs`): a fee paid twice in a month is a repeat."""
    if len(run) < min_count:
        return False
    days = sorted(r.date for r in run)
    gaps = sorted((b - a).days for a, b in zip(days, days[1:]))
    middle = len(gaps) // 2
    median = gaps[middle] if len(gaps) % 2 else (gaps[middle - 1] + gaps[middle]) / 2
    return low <= median <= high


def duplicate_pairs(rows, window_days: int, *, excused=None, recurring=None) -> tuple[dict, dict]:
    """The pairs of `_duplicate_pairs` among `rows` (id, date, amount, memo, key, payee, and
    where known invoice and contract) sorted by payee, amount and date. `excused(a, b)`: a
    pair within the window that is none (a contract's instalments); `recurring(run)`: a
    (payee, amount) run that is a recurring fee, whose pairs within the window count only
    inside one calendar month. A repeated invoice is never excused."""
    exact, other = {}, {}
    span = dt.timedelta(days=window_days)
    start = 0
    for end in range(len(rows) + 1):
        if end < len(rows) and (rows[end].payee, rows[end].amount) \
                == (rows[start].payee, rows[start].amount):
            continue
        run = rows[start:end]  # one payee, one amount
        _invoice_pairs(run, exact)
        rule_out = excused
        if recurring is not None and run and recurring(run):
            rule_out = _fee_pairs(run, excused)
        _pairs_in_run(run, span, exact, other, rule_out)
        start = end
    return exact, {b: pair for b, pair in other.items() if b not in exact}


def _fee_pairs(run, excused):
    """Which pairs of a recurring fee are no repeat. A monthly fee is paid once a month: while
    the run holds no more payments than the calendar months it spans (plus one), none is (a
    late August fee and September's may fall in one month, days apart); a run with more has
    an extra payment, and two payments of one calendar month are judged."""
    days = [r.date for r in run]
    first, last = min(days), max(days)
    months = (last.year - first.year) * 12 + last.month - first.month

    def rule_out(a, b):
        if excused is not None and excused(a, b):
            return True
        return len(run) <= months + 1 or (a.date.year, a.date.month) != (b.date.year,
                                                                         b.date.month)
    return rule_out


def _invoice_pairs(run, exact):
    """Within one (payee, amount) run: each payment citing an invoice number an earlier-entered
    payment already cited, at any distance, with the lowest-id such payment."""
    first = {}
    for row in sorted(run, key=lambda r: r.id):
        invoice = getattr(row, "invoice", None)
        if invoice is None:
            continue
        if invoice in first:
            exact[row.id] = (first[invoice], row)
        else:
            first[invoice] = row


def _pairs_in_run(run, span, exact, other, excused=None):
    """Pairs within one (payee, amount) run sorted by date: for each payment, the lowest-id
    earlier-entered payment within the window with the same memo and no two different invoice
    numbers (exact) and with another memo or another invoice, not two roll lines (other)."""
    lo = hi = 0
    for b in run:
        while run[lo].date < b.date - span:
            lo += 1
        while hi < len(run) and run[hi].date <= b.date + span:
            hi += 1
        if b.memo is None or b.id in exact:
            continue
        same = diff = None
        b_invoice = getattr(b, "invoice", None)
        for a in run[lo:hi]:
            if a.id >= b.id or a.memo is None:
                continue
            if excused is not None and excused(a, b):
                continue
            a_invoice = getattr(a, "invoice", None)
            two_invoices = a_invoice is not None and b_invoice is not None \
                and a_invoice != b_invoice
            if a.memo == b.memo and not two_invoices and not _same_roll(a.key, b.key):
                if same is None or a.id < same.id:
                    same = a
            elif not (a.key.startswith("roll:") and b.key.startswith("roll:")):
                if diff is None or a.id < diff.id:
                    diff = a
        if same is not None:
            exact[b.id] = (same, b)
        if diff is not None:
            other[b.id] = (diff, b)


def _same_roll(a_key: str, b_key: str) -> bool:
    """Two lines of one payment roll (keys `roll:CODE:LINE`). A roll holds a household once per
    item, and twice only for a per-person item's two members (two students of one household on
    雨露计划): the roll itself was published and approved line by line, and D7 judges whether its
    persons are real. The same item on two rolls is still a duplicate."""
    return a_key.startswith("roll:") and b_key.startswith("roll:") \
        and a_key.rsplit(":", 1)[0] == b_key.rsplit(":", 1)[0]


def _documents(row) -> dict:
    return {k: v for k, v in (("invoice", getattr(row, "invoice", None)),
                              ("contract", getattr(row, "contract", None))) if v is not None}


DUP_SETTINGS = (DUPLICATE_WINDOW_DAYS, DUP_RECURRING_MIN_COUNT, DUP_RECURRING_MIN_GAP_DAYS,
                DUP_RECURRING_MAX_GAP_DAYS)


@rule("DUP-01", N_("重复支付"), "Same payment twice", severity="high", method="deterministic",
      why=N_("同一收款人以同一张发票，或在几天之内就同一事项，两次收到相同金额。"),
      basis=N_("审计分析中的重复支付检查（同一收款人、金额、发票或事项）；DOMAIN.md 第4节 DUP-01（"
               "无发票号时不超过14天）"),
      next_action=N_("比对两张凭证；冲销或追回重复的一笔。"),
      settings=DUP_SETTINGS)
def dup01_duplicate_payment(ctx: ScanContext) -> list[Finding]:
    window = ctx.settings.duplicate_window_days
    exact, _ = _duplicate_pairs(ctx)
    findings = []
    for b_id in sorted(exact):
        a, b = exact[b_id]
        gap = abs((b.date - a.date).days)
        invoice = getattr(b, "invoice", None)
        by_invoice = invoice is not None and invoice == getattr(a, "invoice", None)
        what = f"invoice {invoice}" if by_invoice else "the same item"
        findings.append(Finding(
            "DUP-01", "transfer", str(b.id), a.county,
            f"transfer #{b.id} ({b.key}) repeats #{a.id} ({a.key}) {gap} days later, "
            f"{what}",
            "same payee, amount and invoice number at any distance" if by_invoice else
            f"same payee, amount and item within {window} days (no recurring fee, no "
            "instalment of a contract within its amount)", a.amount,
            {"transfers": [transfer_evidence(a), transfer_evidence(b)],
             "duplicate_transfer_id": b.id,
             "paired_by": "invoice" if by_invoice else "item within the window",
             "documents": [_documents(a), _documents(b)]},
            observed_shown=zh(
                N_("转账 #{b} （{b_key}）在 #{a} （{a_key}）之后 {gap} 天重复，发票号 {invoice}")
                if by_invoice else
                N_("转账 #{b} （{b_key}）在 #{a} （{a_key}）之后 {gap} 天重复，同一事项"),
                b=b.id, b_key=b.key, a=a.id, a_key=a.key, gap=gap,
                **({"invoice": invoice} if by_invoice else {})),
            threshold_shown=zh(N_("同一收款人、金额和发票号，不论相隔多久")) if by_invoice else
            zh(N_("同一收款人、金额和事项 {window} 天内（不含定期费用和合同内的分期付款）"),
               window=window)))
    return findings


@rule("DUP-02", N_("换单重复支付"), "Same payment twice under another voucher",
      severity="medium", method="deterministic",
      why=N_("同一收款人在几天之内以另一张凭证、另一事项摘要两次收到相同金额——重复支付绕过 DUP-01 "
             "的方式。"),
      basis=N_("审计分析中的“同收款人同金额不同凭证”检查（anchors §7 DUP-02，14天）"),
      next_action=N_("比对两张凭证和发票；冲销或追回重复的一笔。"),
      settings=DUP_SETTINGS)
def dup02_duplicate_other_voucher(ctx: ScanContext) -> list[Finding]:
    """DUP-02: the same payment again under another voucher and item text (or another invoice)
    — the way a duplicate gets past DUP-01. A payment DUP-01 already names is not named again,
    so the two rules never count one duplicate twice. Two lines of different payment rolls are
    left out: each item was published and approved on its own roll, and per-household items
    often share a standard (¥1,000 for two items is not a duplicate). So are the instalments
    of a documented contract within its amount and the payments of a recurring fee."""
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
            f"same payee and amount under another voucher within {window} days (no recurring "
            "fee, no instalment of a contract within its amount)",
            a.amount, {"transfers": [transfer_evidence(a), transfer_evidence(b)],
                       "duplicate_transfer_id": b.id,
                       "items": [a.memo or "", b.memo or ""],
                       "documents": [_documents(a), _documents(b)]},
            observed_shown=zh(
                N_("转账 #{b} （{b_key}，{b_memo}）与 #{a} （{a_key}，{a_memo}）付给同一收款人同样金额，相隔 {gap} 天"),  # noqa: E501
                b=b.id, b_key=b.key, b_memo=b.memo or "", a=a.id, a_key=a.key,
                a_memo=a.memo or "", gap=gap),
            threshold_shown=zh(N_("另换凭证、同一收款人同样金额 {window} 天内（不含定期费用和合同内的分期付款）"),  # noqa: E501
                               window=window)))
    return findings


SPLIT_THRESHOLD_FEN = Setting("split_threshold_fen", 500_000_00, "T, the approval/tender "
                              "limit of the paying unit (set the local 限额标准)")
SPLIT_BAND_PERMILLE = Setting("split_band_permille", 900, "each item in [0.9T, T)")
SPLIT_MIN_COUNT = Setting("split_min_count", 3,
                          "payments that make a split (audit analytics split tests)")
SPLIT_WINDOW_DAYS = Setting("split_window_days", 30,
                            "days a split's payments fall within (audit analytics split tests)")


@rule("SPL-01", N_("化整为零"), "Payments split below the threshold",
      severity="high", method="deterministic",
      why=N_("对同一收款人的多笔付款都略低于审批限额，时间相近，合计超过限额。"),
      basis=N_("采购限额标准（限额标准）；审计分析中的拆分检查"),
      next_action=N_("把这些合同作为一次采购审查；核实采购程序。"),
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
                sum(r.amount for r in best), {"transfers": [transfer_evidence(r) for r in best]},
                observed_shown=zh(
                    N_("{days} 天内 {n} 笔 {low}–{limit} 的付款，合计 {total}"), n=len(best),
                    low=zh_yuan(low), limit=zh_yuan(limit),
                    days=(best[-1].date - best[0].date).days,
                    total=zh_yuan(sum(r.amount for r in best))),
                threshold_shown=zh(N_("{window} 天内少于 {n} 笔 [{low}, {limit}) 的付款合计达到 {limit}"),  # noqa: E501
                                   n=cfg.split_min_count, low=zh_yuan(low), limit=zh_yuan(limit),
                                   window=cfg.split_window_days)))
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


@rule("STA-05", N_("倒签记账"), "Backdated entry", severity="medium", method="deterministic",
      why=N_("一笔日期远早于该单位账上已有记录的分录，是事后补记进去的。"),
      basis=N_("会计核算及时入账的规定；anchors §7 STA-05"),
      next_action=N_("调取原始凭证。"),
      settings=(STA05_BACKDATE_DAYS,))
def sta05_backdated(ctx: ScanContext) -> list[Finding]:
    """An entry dated well before the latest date already on its unit's books when it was
    entered (transfer id order). An entry's date is its voucher's (凭证日期) where the records
    carry one, else its posting date: a voucher from a closed month is posted in the open
    period and keeps its own date (issue 17), and that date is what the unit's books show it
    for."""
    day = func.coalesce(Transfer.voucher_date, Transfer.effective_date)
    prev = func.max(day).over(
        partition_by=Transfer.region_code, order_by=Transfer.id, rows=(None, -1))
    ordered = select(Transfer.id, Transfer.region_code, day.label("day"),
                     Transfer.effective_date, Transfer.voucher_date,
                     Transfer.idempotency_key, Transfer.amount_fen, Transfer.kind,
                     prev.label("prev_max")).subquery()
    rows = ctx.session.execute(select(ordered).where(
        ordered.c.prev_max > ordered.c.day)).all()
    limit = ctx.settings.sta05_backdate_days
    findings = []
    for row in rows:
        prev_max, entry_day = _as_date(row.prev_max), _as_date(row.day)
        gap = (prev_max - entry_day).days
        if gap > limit:
            by_voucher = row.voucher_date is not None
            findings.append(Finding(
                "STA-05", "transfer", str(row.id), row.region_code,
                f"dated {entry_day} (its {'voucher' if by_voucher else 'posting'} date), "
                f"{gap} days before {prev_max}, the latest date already on the unit's books "
                "when it was entered",
                f"≤ {limit} days earlier than entries already recorded", row.amount_fen,
                {"transfer_id": row.id, "key": row.idempotency_key, "kind": row.kind.value,
                 "voucher_date": row.voucher_date.isoformat() if by_voucher else None,
                 "posting_date": _as_date(row.effective_date).isoformat(),
                 "dated_by": "voucher date" if by_voucher else "posting date"},
                observed_shown=zh(
                    N_("凭证日期 {day}，比录入时该单位账上已有的最晚日期 {latest} 早 {gap} 天")
                    if by_voucher else
                    N_("记账日期 {day}，比录入时该单位账上已有的最晚日期 {latest} 早 {gap} 天"),
                    day=str(entry_day), latest=str(prev_max), gap=gap),
                threshold_shown=zh(N_("比已录入的分录早不超过 {limit} 天"), limit=limit)))
    return findings


def _as_date(value) -> dt.date:
    # SQLite hands an expression over dates (coalesce, max) back as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@rule("BLK-01", N_("黑名单对象"), "Payee on the violations blacklist",
      severity="high", method="deterministic",
      why=N_("收款人在违规违纪黑名单期限内：收到付款、中标合同，或被列为当时批复项目的实施单位。"),
      basis=N_("违规违纪黑名单（导入的名单）；DOMAIN.md 第4节 BLK-01：付款、合同或项目批复"),
      next_action=N_("暂停付款；核查合同授予和项目批复。"),
      settings=(), at_posting=(refuse_blacklisted,))
def blk01_blacklisted_payee(ctx: ScanContext) -> list[Finding]:
    """A payee paid during its blacklist period (one alert per payee); a contract awarded to a
    listed name during its period (the approved-payee register's award date, one alert per
    project and name); a project approved while its implementing unit (实施单位, the project
    library) was listed (one alert per project). Names match exactly, as payments do."""
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
            {"transfers": [transfer_evidence(i) for i in items], "list": _listing(r),
             "match": {"fields": ["name"], "method": "exact name"}},
            observed_shown=zh(N_("{name} 在黑名单期内收款 {n} 次（{reason}）"),
                               name=r.name, n=len(items), reason=r.reason),
            threshold_shown=zh(N_("黑名单期内不得付款"))))
    return findings + _blacklisted_awards(ctx) + _blacklisted_approvals(ctx)


def _listing(r) -> dict:
    return {"kind": "blacklist", "list_id": r.list_id, "source": r.source,
            "snapshot_date": r.snapshot_date.isoformat(), "line": r.line_no,
            "reason": r.reason, "period": f"{r.date_from}–{r.date_to or ''}"}


def _blacklist_columns():
    return (ExternalRecord.org.label("reason"), ExternalRecord.date_from,
            ExternalRecord.date_to, ExternalList.source, ExternalList.snapshot_date,
            ExternalList.id.label("list_id"), ExternalRecord.line_no)


def _listed_on(day_column):
    """The blacklist lines in force on `day_column` (a date column of the joined row)."""
    return and_(ExternalList.id == ExternalRecord.list_id,
                ExternalList.kind == ListKind.BLACKLIST,
                ExternalRecord.date_from <= day_column,
                or_(ExternalRecord.date_to.is_(None), ExternalRecord.date_to >= day_column))


def _paid_from(ctx, project_codes) -> dict:
    """(project, payee name) → the standing payments from those projects, with the payee's
    name: the money an award or an approval put at risk."""
    if not project_codes:
        return {}
    p = payments()
    out = defaultdict(list)
    for row in ctx.session.execute(
            select(p, Payee.name.label("payee_name")).join(Payee, Payee.code == p.c.payee)
            .where(p.c.src_kind == AccountKind.PROJECT, p.c.src_holder.in_(project_codes))
            .order_by(p.c.date, p.c.id)).all():
        out[(row.src_holder, row.payee_name)].append(row)
        out[(row.src_holder, None)].append(row)
    return out


def _blacklisted_awards(ctx) -> list[Finding]:
    """A contract awarded (approved-payee register: award or contract date) to a name while it
    was on the blacklist. A later snapshot repeating the award is the same award."""
    from ledger.registers.payees import PayeeRegister
    rows = ctx.session.execute(
        select(ApprovedPayee, PayeeRegister.source.label("register_source"),
               PayeeRegister.snapshot_date.label("register_snapshot"),
               User.region_code.label("importer_region"), *_blacklist_columns())
        .join(PayeeRegister, PayeeRegister.id == ApprovedPayee.register_id)
        .join(User, User.id == PayeeRegister.imported_by)
        .join(ExternalRecord, ExternalRecord.name == ApprovedPayee.payee_name)
        .join(ExternalList, _listed_on(ApprovedPayee.approved_on))
        .order_by(ApprovedPayee.project_code, ApprovedPayee.payee_name,
                  PayeeRegister.snapshot_date, ApprovedPayee.id)).all()
    awards = {}
    for row in rows:
        awards.setdefault((row.ApprovedPayee.project_code, row.ApprovedPayee.payee_name), row)
    paid = _paid_from(ctx, {project for project, _ in awards})
    regions = dict(ctx.session.execute(select(Project.code, Project.county_code).where(
        Project.code.in_({project for project, _ in awards}))).all()) if awards else {}
    findings = []
    for (project, name), row in awards.items():
        award = row.ApprovedPayee
        items = paid.get((project, name), [])
        at_risk = award.contract_amount_fen or sum(i.amount for i in items)
        findings.append(Finding(
            "BLK-01", "award", f"{project}:{name}",
            regions.get(project) or row.importer_region,
            f"{name} awarded project {project} on {award.approved_on} while blacklisted "
            f"({row.reason})", "no contract awarded during a blacklist period", at_risk,
            {"project": project, "payee_name": name, "awarded_on": award.approved_on.isoformat(),
             "contract_number": award.contract_number, "basis": award.basis,
             "contract_amount_fen": award.contract_amount_fen,
             "register": {"kind": "approved_payees", "source": row.register_source,
                          "snapshot_date": row.register_snapshot.isoformat(),
                          "line": award.line_no},
             "transfers": [transfer_evidence(i) for i in items], "list": _listing(row),
             "match": {"fields": ["name"], "method": "exact name"}},
            observed_shown=zh(N_("{name} 在黑名单期内于 {day} 获得项目 {project}（{reason}）"),
                               name=name, day=str(award.approved_on), project=project,
                               reason=row.reason),
            threshold_shown=zh(N_("黑名单期内不得授予合同"))))
    return findings


def _blacklisted_approvals(ctx) -> list[Finding]:
    """A project approved (批复) while the unit named to carry it out (实施单位) was listed."""
    approved = select(ProjectEvent.project_code, func.min(ProjectEvent.effective_date)
                      .label("approved_on")).where(
        ProjectEvent.status == ProjectStatus.APPROVED).group_by(
        ProjectEvent.project_code).subquery()
    rows = ctx.session.execute(
        select(Project.code, Project.county_code, Project.implementing_unit,
               approved.c.approved_on, *_blacklist_columns())
        .join(approved, approved.c.project_code == Project.code)
        .join(ExternalRecord, ExternalRecord.name == Project.implementing_unit)
        .join(ExternalList, _listed_on(approved.c.approved_on))
        .order_by(Project.code, ExternalRecord.id)).all()
    first = {}
    for row in rows:
        first.setdefault(row.code, row)
    paid = _paid_from(ctx, set(first))
    findings = []
    for code, row in first.items():
        items = paid.get((code, None), [])
        findings.append(Finding(
            "BLK-01", "project", code, row.county_code,
            f"project {code} approved on {row.approved_on} with implementing unit "
            f"{row.implementing_unit}, blacklisted then ({row.reason})",
            "no project approved with a blacklisted implementing unit",
            sum(i.amount for i in items),
            {"project": code, "implementing_unit": row.implementing_unit,
             "approved_on": str(row.approved_on),
             "transfers": [transfer_evidence(i) for i in items], "list": _listing(row),
             "match": {"fields": ["implementing_unit"], "method": "exact name"}},
            observed_shown=zh(N_("项目 {project} 于 {day} 批复，实施单位 {unit} 当时在黑名单上（{reason}）"),  # noqa: E501
                               project=code, day=str(row.approved_on),
                               unit=row.implementing_unit, reason=row.reason),
            threshold_shown=zh(N_("不得批复实施单位在黑名单上的项目"))))
    return findings
