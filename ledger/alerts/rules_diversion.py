"""Diversion rules that need the payee registers (ledger.registers.payees): a payee outside the
project's approved payees (DIV-02), a personal account that is not a beneficiary's (DIV-03),
and money flowing back to the payer (DIV-05). Each is one set-based query over the standing
payments joined to a register; Python only groups what the query returned."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, exists, or_, select

from ledger.alerts.base import ScanContext, payments, transfer_evidence, yuan
from ledger.alerts.entry import Setting, rule
from ledger.alerts.rules_identity import OFFICIAL_MAX_DEGREE, RELATION_DEGREE
from ledger.i18n import N_
from ledger.models import (
    Account,
    AccountKind,
    Household,
    HouseholdEvent,
    HouseholdStatus,
    Member,
    Payee,
    PayeeKind,
    Posting,
    Project,
    Transfer,
    TransferKind,
)
from ledger.registers.external import ExternalList, ExternalRecord, ListKind
from ledger.registers.payees import ApprovedPayee, PayeeAccount, PayeeRegister, UnitReceipt
from ledger.screening.finding import Finding
from ledger.screening.finding import code as zh_enum
from ledger.screening.finding import money as zh_yuan
from ledger.screening.finding import shown as zh
from ledger.store.access import ancestors


def _register_meta(reg: PayeeRegister, line_no: int) -> dict:
    return {"kind": reg.kind.value, "register_id": reg.id, "source": reg.source,
            "snapshot_date": reg.snapshot_date.isoformat(), "line": line_no}


# The payee kinds a project pays under a contract or award (DIV-02).
PARTIES = (PayeeKind.CONTRACTOR, PayeeKind.BUSINESS, PayeeKind.PERSON, PayeeKind.UNIT)

DIV02_REQUIRE_REGISTER = Setting(
    "div02_require_register", False, "false: judge only projects with an approved-payee "
    "register (a project without one is not covered until its contract list is imported); "
    "true: every project payment to a contractor must be on a register")


@rule("DIV-02", N_("向项目外单位支付"), "Payee not among the project's approved payees",
      severity="high", method="deterministic",
      why=N_("项目资金付给了项目从未授予工程的承包方（或在授予之前付款）：把项目资金引向他人企业的"
             "方式（挤占挪用）。"),
      basis=N_("项目库与招投标规定（中标／合同单位）；anchors §7 DIV-02；核准收款人取自登记册 appro"
               "ved_payees（注明来源和快照日期）"),
      next_action=N_("调取合同和中标通知书；在出示授予文件之前暂停向该收款人付款。"),
      settings=(DIV02_REQUIRE_REGISTER,))
def div02_payee_not_approved(ctx: ScanContext) -> list[Finding]:
    """A project paid a contract party (a business, person or government unit) that its
    approved-payee register does not name for the payment date (not awarded the work, or paid
    before the award). Households are left out: whether they may be paid is BEN-06's question;
    so are a person paid work-relief wages (use `employment`, or a member of a registered
    household) and a unit named the project's implementing unit."""
    s = ctx.session
    p = payments()
    listed = exists(select(ApprovedPayee.id).where(ApprovedPayee.project_code == p.c.src_holder))
    approved = exists(select(ApprovedPayee.id).where(
        ApprovedPayee.project_code == p.c.src_holder, ApprovedPayee.payee_name == Payee.name,
        ApprovedPayee.approved_on <= p.c.date,
        or_(ApprovedPayee.until.is_(None), ApprovedPayee.until >= p.c.date)))
    # Who may be a contract party (issue 17's kinds): a business, a person (个人承包) or a
    # government unit, and contractors registered before kinds carried an identity. A person
    # paid work-relief wages (以工代赈: use `employment`, or a member of a registered
    # household, whom the project pays for their labour) is a labourer, not a contract party;
    # a unit the project library names as its implementing unit (实施单位) carries the project
    # out itself (乡镇、村集体自建) and needs no award.
    implementing = exists(select(Project.code).where(
        Project.code == p.c.src_holder, Project.implementing_unit == Payee.name))
    labourer = or_(p.c.use_code == "employment", exists(
        select(Member.id).join(Household, Household.code == Member.household_code)
        .where(Member.id_digest == Payee.id_digest, Household.code.not_in(
            select(HouseholdEvent.household_code).where(HouseholdEvent.status.in_(
                [HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED]))))))
    conditions = [p.c.src_kind == AccountKind.PROJECT, Payee.kind.in_(PARTIES), ~approved,
                  ~and_(Payee.kind == PayeeKind.PERSON, labourer),
                  ~and_(Payee.kind == PayeeKind.UNIT, implementing)]
    if not ctx.settings.div02_require_register:
        conditions.append(listed)
    rows = s.execute(select(p, Payee.name.label("payee_name"))
                     .join(Payee, Payee.code == p.c.payee).where(*conditions)
                     .order_by(p.c.src_holder, p.c.payee, p.c.date, p.c.id)).all()
    groups = defaultdict(list)
    for row in rows:
        groups[(row.src_holder, row.payee)].append(row)
    if not groups:
        return []
    entries = defaultdict(list)  # what the register does say about these payees
    for entry, reg in s.execute(
            select(ApprovedPayee, PayeeRegister)
            .join(PayeeRegister, PayeeRegister.id == ApprovedPayee.register_id)
            .where(ApprovedPayee.project_code.in_({k[0] for k in groups}))).all():
        entries[entry.project_code].append((entry, reg))
    findings = []
    for (project, payee), items in groups.items():
        name = items[0].payee_name
        own = [(e, r) for e, r in entries[project] if e.payee_name == name]
        if own:
            why = "approved only " + ", ".join(
                f"{e.approved_on}–{e.until or ''}" for e, _ in own)
        elif entries[project]:
            why = "not among the " + str(len({e.payee_name for e, _ in entries[project]})) + \
                " approved payees"
        else:
            why = "the project has no approved-payee register"
        findings.append(Finding(
            "DIV-02", "project_payee", f"{project}:{payee}", items[0].county,
            f"project {project} paid {name} {len(items)} time(s), "
            f"{yuan(sum(i.amount for i in items))}: {why}",
            "every project payment to a contractor names an approved payee (award or contract "
            "dated on or before the payment)", sum(i.amount for i in items),
            {"transfers": [transfer_evidence(i) for i in items], "project": project,
             "payee_name": name,
             "approved_payees": [{"name": e.payee_name, "approved_on": e.approved_on.isoformat(),
                                  "until": e.until.isoformat() if e.until else None,
                                  "basis": e.basis, "register": _register_meta(r, e.line_no)}
                                 for e, r in entries[project]][:20]},
            observed_shown=zh(N_("项目 {project} 向 {name} 付款 {n} 次，共 {total}：{why}"),
                               project=project, name=name, n=len(items),
                               total=zh_yuan(sum(i.amount for i in items)), why=(
                                   zh(N_("只在 {periods} 期间核准"), periods=[
                                       f"{e.approved_on}–{e.until or ''}" for e, _ in own])
                                   if own else
                                   zh(N_("不在 {n} 个核准收款人之中"),
                                      n=len({e.payee_name for e, _ in entries[project]}))
                                   if entries[project] else
                                   zh(N_("该项目没有核准收款人登记")))),
            threshold_shown=zh(N_("项目付给承建单位的每笔款都对应一个核准收款人（付款日或之前的授予或合同）"))))
    return findings


def _latest_accounts(s) -> dict[str, list]:
    """Per payee name, its accounts in the latest register snapshot that names it: a payee that
    moved to a corporate account is judged by where it is paid now (a snapshot is dated)."""
    rows = s.execute(select(PayeeAccount, PayeeRegister)
                     .join(PayeeRegister, PayeeRegister.id == PayeeAccount.register_id)
                     .order_by(PayeeRegister.snapshot_date, PayeeRegister.id)).all()
    latest: dict[str, list] = {}
    for acc, reg in rows:
        current = latest.get(acc.payee_name)
        if current and current[0][1].id != reg.id:
            if current[0][1].snapshot_date <= reg.snapshot_date:
                current = None
        latest[acc.payee_name] = (current or []) + [(acc, reg)]
    return latest


OPERATOR_ROLES = Setting(
    "div03_operator_roles", ("法定代表人", "经营者", "负责人"),
    "the business registry's roles of who runs an individual business (个体工商户): its "
    "operator (经营者) may be paid to their own account")


@rule("DIV-03", N_("资金转入非受益人个人账户"),
      "Payment into a personal account not a beneficiary's",
      severity="critical", method="deterministic",
      why=N_("资金付入了一个私人账户，其户主不是登记的贫困户成员：账外存放或侵占资金的方式。"),
      basis=N_("审计署2017：使用个人账户管理扶贫资金、虚列支出（china-fund-rules §D11）；收款账户取"
               "自登记册 payee_accounts"),
      next_action=N_("冻结后续付款；调取该账户的银行流水并查明户主；资金未用于项目的予以追回（追回"
                     "）。"),
      settings=(OPERATOR_ROLES,))
def div03_personal_account(ctx: ScanContext) -> list[Finding]:
    """A payee other than a household paid into a personal account (个人账户) that is not its
    own and not a registered beneficiary's (使用个人账户管理扶贫资金). By kind (issue 17):
    a business or contractor — unless the holder is a member of a registered household (a
    labourer of a poor household paid to their own card, 以工代赈), or the business is an
    individual business (个体工商户, credit code 92…) and the holder its operator on the
    business registry (an individual business is its owner's and may be paid to the owner's
    account); a person — unless the account is their own (the holder's ID digest is the
    payee's) or a beneficiary's; a government unit (机关, 事业单位, 村集体) — always: public
    money of a unit belongs in its own corporate account, whoever holds the private one.
    Households are paid to their own card (一卡通) and are BEN-03's. A household removed (清退)
    or cancelled (注销) does not make its members beneficiaries."""
    s = ctx.session
    p = payments()
    ineligible = select(HouseholdEvent.household_code).where(
        HouseholdEvent.status.in_([HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED]))
    beneficiary = exists(select(Member.id).join(Household,
                                                Household.code == Member.household_code)
                         .where(Member.id_digest == PayeeAccount.holder_digest,
                                Household.code.not_in(ineligible)))
    operator = exists(select(ExternalRecord.id).join(
        ExternalList, and_(ExternalList.id == ExternalRecord.list_id,
                           ExternalList.kind == ListKind.BUSINESSES))
        .where(ExternalRecord.id_digest == PayeeAccount.holder_digest,
               ExternalRecord.category.in_(list(ctx.settings.div03_operator_roles)),
               or_(ExternalRecord.org_code == Payee.credit_code,
                   ExternalRecord.org == Payee.name)))
    kinds = [PayeeKind.CONTRACTOR, PayeeKind.BUSINESS, PayeeKind.PERSON, PayeeKind.UNIT]
    rows = s.execute(
        select(p, Payee.name.label("payee_name"), Payee.kind.label("payee_kind"),
               PayeeAccount.id.label("account_id"))
        .join(Payee, Payee.code == p.c.payee)
        .join(PayeeAccount, PayeeAccount.payee_name == Payee.name)
        .where(Payee.kind.in_(kinds), PayeeAccount.personal.is_(True),
               ~and_(Payee.kind != PayeeKind.UNIT, beneficiary),
               ~and_(Payee.kind == PayeeKind.PERSON,
                     PayeeAccount.holder_digest == Payee.id_digest),
               ~and_(Payee.kind == PayeeKind.BUSINESS, Payee.credit_code.like("92%"),
                     operator))
        .order_by(p.c.payee, p.c.date, p.c.id)).all()
    latest = _latest_accounts(s) if rows else {}
    groups = defaultdict(dict)
    for row in rows:
        current = {a.id: (a, r) for a, r in latest.get(row.payee_name, [])}
        if row.account_id in current:
            groups[row.payee][row.id] = (row, current[row.account_id])
    findings = []
    for payee, by_transfer in groups.items():
        items = [row for row, _ in by_transfer.values()]
        acc, reg = next(iter(by_transfer.values()))[1]
        findings.append(Finding(
            "DIV-03", "payee", payee, items[0].county,
            f"{items[0].payee_name} ({items[0].payee_kind.value}) paid "
            f"{yuan(sum(i.amount for i in items))} into the personal account "
            f"****{acc.account_last4} of {acc.holder_name}, "
            + ("a government unit's money in a private account"
               if items[0].payee_kind is PayeeKind.UNIT else
               "who is no registered beneficiary and not the payee itself"),
            "no fund money into a personal account other than the payee's own or a registered "
            "beneficiary's", sum(i.amount for i in items),
            {"transfers": [transfer_evidence(i) for i in items],
             "payee_kind": items[0].payee_kind.value,
             "account": {"last4": acc.account_last4, "bank": acc.bank,
                         "holder": acc.holder_name, "type": "personal"},
             "register": _register_meta(reg, acc.line_no),
             "match": {"fields": ["holder_id_number"], "method": "keyed digest: not a member "
                       "of a registered household"}},
            observed_shown=zh(
                N_("{name}（{kind}）的 {total} 付入 {holder} 的个人账户 ****{last4}：政府单位的钱进了私人账户")  # noqa: E501
                if items[0].payee_kind is PayeeKind.UNIT else
                N_("{name}（{kind}）的 {total} 付入 {holder} 的个人账户 ****{last4}：此人不是登记的受益人，也不是收款人本人"),  # noqa: E501
                name=items[0].payee_name, kind=zh_enum("PayeeKind", items[0].payee_kind),
                total=zh_yuan(sum(i.amount for i in items)), last4=acc.account_last4,
                holder=acc.holder_name),
            threshold_shown=zh(N_("资金不进入收款人本人或登记受益人以外的个人账户"))))
    return findings


# GB/T 4754-2017 sections (a letter) and divisions (letter and two digits) that fit each use
# of fund money (ledger.core.classification.USES). A code fits a use when it starts with one
# of the use's prefixes; a use left out is not judged.
DIV04_INDUSTRY_FIT = Setting(
    "div04_industry_fit",
    ("infrastructure=E B10 C29 C30 C31 C32 C33 C34 C38 D44 D46 F516 F517 F518 F528 G54 L71 M74 "
     "N76 N77 N78",
     "housing=E C29 C30 C31 C32 C33 C34 C38 F516 F517 F518 F528 G54 L71 M74",
     "relocation=E C29 C30 C31 C32 C33 C34 C38 F516 F517 F518 F528 G54 L71 M74 N O P Q",
     "industry=A B C E F G L71 M73 M74 M75",
     "employment=E A05 L72 M N O",
     "training=P83 L72 M",
     "education=P F514 F524 C23",
     "credit_subsidy=J66 J67 J68 J69"),
    "GB/T 4754-2017 sections per use: roads, water and housing are built (E 建筑业) with "
    "building materials (B10 sand and stone, C30 cement, C31–C33 steel and metal goods, and "
    "their trade: F516 building-materials wholesale, F517 machinery and hardware wholesale, "
    "F528 hardware and decoration-materials retail — not a supermarket, F521), carriage "
    "(G54), plastic pipes (C29), pumps and machinery (C34), solar panels, street lamps and "
    "cables (C38), trade agents (F518), equipment leasing (L71), survey, design and "
    "supervision (M74), water and public facilities (N76–N78) and power and water supply "
    "(D44, D46); "
    "industry projects pay farming (A), processing (C), trade and logistics (F, G) and "
    "technical services (M73–M75); catering and lodging (H), finance (J), real estate (K) and "
    "entertainment (R) fit no building or industry use (the anchors' 'vendor unrelated to the "
    "project' test); schools buy from culture and sports goods trade (F514, F524)")


def _fit_table(cfg) -> dict[str, tuple[str, ...]]:
    table = {}
    for line in cfg.div04_industry_fit:
        use, _, prefixes = line.partition("=")
        table[use.strip()] = tuple(p.strip().upper() for p in prefixes.split() if p.strip())
    return table


def _industries(s) -> dict[str, tuple]:
    """Industry code (GB/T 4754) of each company on the business registry, by credit code and
    by exact name: (code, list row, line) of the latest snapshot that gives one."""
    rows = s.execute(
        select(ExternalRecord.org, ExternalRecord.org_code, ExternalRecord.industry_code,
               ExternalRecord.line_no, ExternalList.source, ExternalList.snapshot_date,
               ExternalList.id.label("list_id"))
        .join(ExternalList, ExternalList.id == ExternalRecord.list_id)
        .where(ExternalList.kind == ListKind.BUSINESSES,
               ExternalRecord.industry_code.is_not(None))
        .order_by(ExternalList.snapshot_date, ExternalList.id, ExternalRecord.line_no)).all()
    out = {}
    for row in rows:  # later snapshots overwrite earlier ones
        if row.org_code:
            out["code:" + row.org_code.upper()] = row
        out["name:" + row.org] = row
    return out


@rule("DIV-04", N_("收款单位行业与项目不符"), "Vendor's industry does not fit the project",
      severity="medium", method="deterministic",
      why=N_("项目资金付给了一家登记行业与资金用途毫不相干的企业（修路的钱付给饭店）：把支出包装成"
             "项目成本的方式（虚列项目支出、挤占挪用）。"),
      basis=N_("GB/T 4754-2017 市场主体登记的行业代码与付款用途对照；anchors §7（供应商与项目无关）"
               "；对照表 div04_industry_fit"),
      next_action=N_("调取合同、发票和交货记录；核实该供应商实际提供了什么。"),
      settings=(DIV04_INDUSTRY_FIT,))
def div04_industry_misfit(ctx: ScanContext) -> list[Finding]:
    """A business payee (by its credit code, else its exact name, on the business registry)
    whose industry code fits none of the sections and divisions the fit table gives the
    payment's use. Households, persons and government units carry no industry code and are
    not judged, nor is a business the registry gives no code, nor a use the table leaves
    out. One alert per paying project (or county) × payee × use."""
    s = ctx.session
    table = _fit_table(ctx.settings)
    p = payments()
    rows = s.execute(select(p, Payee.name.label("payee_name"),
                            Payee.credit_code.label("credit_code"),
                            Payee.kind.label("payee_kind"))
                     .join(Payee, Payee.code == p.c.payee)
                     .where(Payee.kind.in_([PayeeKind.BUSINESS, PayeeKind.CONTRACTOR]),
                            p.c.use_code.in_(list(table)))
                     .order_by(p.c.src_holder, p.c.payee, p.c.date, p.c.id)).all()
    industries = _industries(s) if rows else {}
    groups = defaultdict(list)
    for row in rows:
        found = (industries.get("code:" + row.credit_code.upper()) if row.credit_code
                 else None) or industries.get("name:" + row.payee_name)
        if found is None:
            continue
        code = found.industry_code.upper()
        if any(code.startswith(prefix) for prefix in table[row.use_code]):
            continue
        groups[(row.src_holder, row.payee, row.use_code)].append((row, found))
    findings = []
    for (source, payee, use), items in groups.items():
        row, found = items[0]
        payments_ = [r for r, _ in items]
        findings.append(Finding(
            "DIV-04", "payee_use", f"{source}:{payee}:{use}", row.county,
            f"{row.payee_name} (industry {found.industry_code}) paid "
            f"{yuan(sum(r.amount for r in payments_))} for {use} from {source}",
            f"a vendor of {use} is in {' '.join(table[use])} (GB/T 4754)",
            sum(r.amount for r in payments_),
            {"transfers": [transfer_evidence(r) for r in payments_], "payee_name": row.payee_name,
             "source": source, "use": use, "function_code": row.function_code,
             "industry_code": found.industry_code, "industry_section": found.industry_code[:1],
             "fitting": list(table[use]),
             "list": {"kind": "businesses", "list_id": found.list_id, "source": found.source,
                      "snapshot_date": found.snapshot_date.isoformat(), "line": found.line_no},
             "match": {"fields": ["credit_code" if row.credit_code and industries.get(
                 "code:" + row.credit_code.upper()) is found else "name"],
                       "method": "exact"}},
            observed_shown=zh(N_("{name}（行业 {industry}）从 {source} 收到 {total}，用于 {use}"),
                               name=row.payee_name, industry=found.industry_code,
                               total=zh_yuan(sum(r.amount for r in payments_)),
                               use=zh_enum("Use", use), source=source),
            threshold_shown=zh(N_("{use} 的供应商属于 {sections}（GB/T 4754）"),
                               use=zh_enum("Use", use),
                               sections=" ".join(table[use]))))
    return findings


def _officials_over(s, cfg) -> dict[str, tuple]:
    """ID digest → (name, relation, the official's jurisdiction) for officials and their
    relatives within the configured degree (FAV-01's list)."""
    rows = s.execute(select(ExternalRecord).join(ExternalList).where(
        ExternalList.kind == ListKind.OFFICIALS)).scalars().all()
    chiefs = {r.id_digest: r for r in rows if r.category == "本人"}
    out = {}
    for r in rows:
        if r.category == "本人":
            out[r.id_digest] = (r.name, "the official", r.region_code)
            continue
        degree = r.degree if r.degree is not None else RELATION_DEGREE.get(r.category, 3)
        chief = chiefs.get(r.related_digest)
        if chief is not None and degree <= cfg.official_max_degree:
            out.setdefault(r.id_digest, (r.name, f"{r.category} of {chief.name}",
                                         chief.region_code))
    return out


DIV05_WINDOW_DAYS = Setting(
    "div05_window_days", 30, "money from a payee back to the paying county, a unit below it, "
    "or an official over it (or a close relative) within 30 days of the payment")
DIV05_RETURN_WORDS = Setting(
    "div05_return_words", ("追回", "归位"),
    "words of the bank's memo (摘要) that mark a legitimate return: a recovery")


@rule("DIV-05", N_("资金回流"), "Money flowing back to the payer",
      severity="high", method="deterministic",
      why=N_("付出的资金在几天之内从收款人回到付款单位、其下级单位或对其有管辖权的干部：回扣、虚假"
             "支出或小金库（小金库）。"),
      basis=N_("anchors §7 DIV-05（回流，30天）；银行流水取自登记册 unit_receipts；追回款（追回）除"
               "外"),
      next_action=N_("调取两边的凭证和银行流水；询问收款人为何回款；追查资金的下一步去向。"),
      settings=(DIV05_WINDOW_DAYS, DIV05_RETURN_WORDS, OFFICIAL_MAX_DEGREE))
def div05_money_back(ctx: ScanContext) -> list[Finding]:
    """Money from a payee back into the paying county (or a unit below it), or into the
    account of an official over it or a close relative, within the window after a payment
    (回流). A recovery (追回) is a legitimate return: left out when the bank's memo says so or
    a recovery collection from that payee of that amount is recorded that day."""
    s, cfg = ctx.session, ctx.settings
    p = payments()
    rows = s.execute(
        select(p, Payee.name.label("payee_name"), UnitReceipt, PayeeRegister)
        .join(Payee, Payee.code == p.c.payee)
        .join(UnitReceipt, and_(UnitReceipt.payer_name == Payee.name,
                                UnitReceipt.received_on >= p.c.date))
        .join(PayeeRegister, PayeeRegister.id == UnitReceipt.register_id)
        .order_by(UnitReceipt.id, p.c.date.desc(), p.c.id.desc())).all()
    if not rows:
        return []
    officials = _officials_over(s, cfg)
    # Recovered money leaves the payee's receivable account (ledger.funds.recoveries.collect).
    collected = {(payee, int(amount), day) for payee, amount, day in s.execute(
        select(Account.holder_code, Transfer.amount_fen, Transfer.effective_date)
        .join(Posting, Posting.transfer_id == Transfer.id)
        .join(Account, and_(Account.id == Posting.account_id,
                            Account.kind == AccountKind.RECEIVABLE))
        .where(Transfer.kind == TransferKind.RECOVERY_COLLECT, Posting.amount_fen < 0)).all()}
    window = dt.timedelta(days=cfg.div05_window_days)
    by_payment, seen, related_shown = defaultdict(list), set(), {}
    for row in rows:
        receipt = row.UnitReceipt
        if receipt.id in seen or receipt.received_on > row.date + window:
            continue
        if any(w in (receipt.memo or "") for w in cfg.div05_return_words) or \
                (row.payee, receipt.amount_fen, receipt.received_on) in collected:
            continue
        found = _related(s, receipt, row.county, officials)
        if found is None:
            continue
        related, related_shown[receipt.id] = found
        seen.add(receipt.id)  # a receipt answers the latest payment before it, once
        by_payment[row.id].append((row, receipt, related, row.PayeeRegister))
    findings = []
    for payment_id, items in by_payment.items():
        pay = items[0][0]
        back = sum(r.amount_fen for _, r, _, _ in items)
        first = min(r.received_on for _, r, _, _ in items)
        findings.append(Finding(
            "DIV-05", "transfer", str(payment_id), pay.county,
            f"{pay.payee_name} was paid {yuan(pay.amount)} on {pay.date}; {yuan(back)} came "
            f"back from it within {(first - pay.date).days} days to "
            + "; ".join(sorted({rel for _, _, rel, _ in items})),
            f"no money from a payee back to the paying unit or a related account within "
            f"{cfg.div05_window_days} days (recoveries excepted)", min(back, pay.amount),
            {"transfers": [transfer_evidence(pay)],
             "receipts": [{"date": r.received_on.isoformat(), "amount_fen": r.amount_fen,
                           "payer": r.payer_name, "receiver": r.receiver_name, "to": rel,
                           "memo": r.memo, "voucher": r.voucher,
                           "register": _register_meta(reg, r.line_no)}
                          for _, r, rel, reg in items]},
            observed_shown=zh(N_("{name} 于 {day} 收到 {paid}；{days} 天内有 {back} 回流至 {to}"),
                               name=pay.payee_name, paid=zh_yuan(pay.amount), day=str(pay.date),
                               back=zh_yuan(back), days=(first - pay.date).days,
                               to=[shown for _, shown in sorted(
                                   {rel: related_shown[r.id] for _, r, rel, _ in items}.items())]),
            threshold_shown=zh(N_("{days} 天内没有钱从收款人回流到付款单位或关联账户（追回除外）"),
                               days=cfg.div05_window_days)))
    return findings


def _related(s, receipt, county, officials) -> tuple[str, dict] | None:
    """Who the receiver is to the paying county — in the finding's English, and as people read
    it (issue 20) — or None when unrelated."""
    if receipt.receiver_region and county in ancestors(s, receipt.receiver_region):
        return (f"unit {receipt.receiver_region} ({receipt.receiver_name})",
                zh(N_("单位 {unit}（{name}）"), unit=receipt.receiver_region,
                   name=receipt.receiver_name))
    person = officials.get(receipt.receiver_digest) if receipt.receiver_digest else None
    if person is not None and person[2] and (
            person[2] in ancestors(s, county) or county in ancestors(s, person[2])):
        return (f"{person[0]}, {person[1]} (jurisdiction {person[2]})",
                zh(N_("{name}，{post}（管辖 {region}）"), name=person[0], post=person[1],
                   region=person[2]))
    return None
