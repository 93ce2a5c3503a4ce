"""Enum values as a person reads them: `pay` → 支付, `investigating` → 核查中.

The ledger stores and passes around its enums' values (`TransferKind.PAY` is `"pay"`); the web,
the command line and the refusals show the label of that value in the current language. This is
the one table of those labels: Chinese, marked with `N_` so that extraction finds them, their
English in `locale/en/LC_MESSAGES/messages.po`, and translated when `label()` is called (so the
language is the visitor's or the command's at that moment, not at import).

The table is keyed by the enum class's NAME (`"TransferKind"`) and the value's string, so that
this module, rank 0, imports no model. Value sets that are not enum classes have a name of their
own here (`Severity`, `Use`, `LineState`, …); tests/i18n/test_labels.py imports each enum and
value set and fails on a member without a label in either language.
"""
from __future__ import annotations

import enum

from ledger.i18n import N_, gettext

LABELS: dict[str, dict[str, str]] = {
    # --- ledger.models.ledger
    "RegionLevel": {"province": N_("省"), "city": N_("市"), "county": N_("县"),
                    "township": N_("乡镇"), "village": N_("村")},
    "SourceLevel": {"central": N_("中央"), "province": N_("省级"), "city": N_("市级"),
                    "county": N_("县级"), "integrated": N_("统筹整合")},
    "Role": {"clerk": N_("经办"), "approver": N_("审核员"), "auditor": N_("审计员"),
             "admin": N_("管理员")},
    "AccountKind": {"appropriation": N_("指标"), "unit": N_("单位"), "project": N_("项目"),
                    "payee": N_("收款人"), "integration_out": N_("统筹整合转出"),
                    "integration_in": N_("统筹整合转入"), "receivable": N_("应收款")},
    "TransferKind": {"appropriate": N_("资金指标"), "allocate": N_("下达拨付"),
                     "fund_project": N_("项目资金安排"), "pay": N_("支付"),
                     "reverse": N_("冲销"), "integrate": N_("统筹整合"),
                     "recovery_claim": N_("追回应收"), "recovery_collect": N_("追回收款"),
                     "reclaim": N_("收回统筹"), "bank_difference": N_("银行差异")},
    "Decision": {"approved": N_("已通过"), "rejected": N_("已退回")},
    "PayeeKind": {"household": N_("农户"), "contractor": N_("承建单位"), "business": N_("企业"),
                  "person": N_("个人"), "unit": N_("单位")},
    "ProjectStatus": {"proposed": N_("申报"), "in_library": N_("入库"), "approved": N_("批复"),
                      "implementing": N_("实施"), "accepted": N_("验收"), "closed": N_("结项"),
                      "filed": N_("备案"), "rejected": N_("不予立项"),
                      "adjusted": N_("项目调整")},
    "HouseholdStatus": {"registered": N_("建档立卡"), "exited": N_("已脱贫"),
                        "returned": N_("返贫"), "monitored": N_("监测对象"),
                        "removed": N_("清退"), "cancelled": N_("注销")},
    "CardKind": {"household": N_("户卡"), "personal": N_("个人卡"), "guardian": N_("监护人卡")},
    "RollEventKind": {"published": N_("公示"), "objection": N_("异议"),
                      "objection_dismissed": N_("异议不成立"),
                      "line_withdrawn": N_("撤销该户"), "approved": N_("审核通过"),
                      "sent": N_("已送银行"), "returned": N_("退票"),
                      "repaid": N_("已重新发放")},
    "MemberEventKind": {"died": N_("死亡"), "moved_out": N_("迁出"), "joined": N_("加入")},
    "HouseholdLinkKind": {"split": N_("分户"), "merge": N_("合户")},
    "LoanEventKind": {"repaid": N_("已还清"), "defaulted": N_("违约"), "misused": N_("挪用")},
    # --- ledger.models.alerts
    "AlertState": {"open": N_("待处理"), "investigating": N_("核查中"),
                   "confirmed": N_("已确认"), "dismissed": N_("已排除"),
                   "recovering": N_("追回中"), "recovered": N_("已追回")},
    "AlertEventKind": {"raised": N_("首次发现"), "observed": N_("再次发现"),
                       "transition": N_("状态变更"), "reopened": N_("重新打开")},
    # --- ledger.models.rolls
    "StandardTier": {"basic": N_("一般户"), "monitored": N_("监测户")},
    "StandardPer": {"household": N_("按户"), "person": N_("按人")},
    "BankDifference": {"short_credit": N_("少入账"), "other_account": N_("入其他账户"),
                       "other_name": N_("户名不符"), "other_household": N_("户编码不符"),
                       "other_amount": N_("金额不符"), "not_posted": N_("名册外支付"),
                       "returned_after_paid": N_("成功后退汇"),
                       "paid_after_return": N_("退票后又支付"),
                       "unfunded": N_("账户余额不足未入账")},
    # --- ledger.models.registers
    "ListKind": {"deaths": N_("死亡人口名单"), "payroll": N_("财政供养人员名单"),
                 "vehicles": N_("机动车登记"), "businesses": N_("市场主体登记"),
                 "officials": N_("干部及近亲属"), "blacklist": N_("违规违纪黑名单"),
                 "properties": N_("不动产登记")},
    "RegisterKind": {"approved_payees": N_("项目中标/合同单位"), "payee_accounts": N_("收款账户"),
                     "unit_receipts": N_("单位账户来款流水")},
    # --- ledger.models.oversight
    "ComplaintChannel": {"12317": N_("12317 热线"), "county_phone": N_("县级监督电话"),
                         "township_phone": N_("乡镇监督电话"),
                         "village_phone": N_("村级监督电话"), "letter": N_("来信"),
                         "visit": N_("来访"), "online": N_("网上投诉")},
    "ComplaintSubject": {"village": N_("村"), "project": N_("项目"),
                         "roll_line": N_("清册中的一户"), "household": N_("农户")},
    "ComplaintStep": {"assigned": N_("已交办"), "investigating": N_("调查中"),
                      "answered": N_("已答复"), "closed": N_("已办结")},
    "SampleStrata": {"village": N_("按村分层"), "village+risk": N_("按村分层并加抽风险户")},
    "VisitOutcome": {"confirmed": N_("核实无误"), "discrepancy": N_("发现不符")},
    # --- ledger.models.disclosure
    "NoticeKind": {"project": N_("项目公示"), "roll": N_("清册公示"),
                   "county_annual": N_("县级年度资金使用报告")},
    "ProjectNoticeKind": {"publicity": N_("公示（实施前）"), "announcement": N_("公告（完成后）")},
    # --- ledger.store.access
    "Action": {"read": N_("查看"), "record": N_("录入"), "approve": N_("审核"),
               "audit": N_("审计"), "administer": N_("管理")},

    # --- value sets that are not enum classes (where each comes from: tests/i18n/test_labels.py)
    # an alert rule's severity (ledger.alerts.catalogue.SEVERITY_ORDER)
    "Severity": {"critical": N_("严重"), "high": N_("高"), "medium": N_("中"), "low": N_("低")},
    # a lot's uses and the prohibited ones (ledger.core.classification USES, PROHIBITED_USES)
    "Use": {"infrastructure": N_("农村基础设施"), "industry": N_("产业发展"),
            "household_subsidy": N_("到户补助"), "employment": N_("就业帮扶与以工代赈"),
            "training": N_("技能培训"), "credit_subsidy": N_("小额信贷贴息"),
            "relocation": N_("易地搬迁后续扶持"), "education": N_("教育帮扶"),
            "housing": N_("危房改造"),
            "admin_expenses": N_("行政事业单位基本支出和人员经费"),
            "bonuses": N_("奖金、津贴和福利补助"), "office_buildings": N_("楼堂馆所"),
            "vehicles_telecom": N_("交通工具及通讯设备"), "enterprise_losses": N_("弥补企业亏损"),
            "debt_repayment": N_("偿还债务和弥补预算缺口"),
            "capital_construction": N_("大中型基本建设项目"),
            "urban_infrastructure": N_("城市基础设施建设"),
            "guarantee_deposits": N_("企业担保金"), "image_projects": N_("形象工程")},
    # function codes 21305xx (ledger.core.classification.FUNCTION_CODES)
    "FunctionCode": {"2130501": N_("行政运行"), "2130502": N_("一般行政管理事务"),
                     "2130503": N_("机关服务"), "2130504": N_("农村基础设施建设"),
                     "2130505": N_("生产发展"), "2130506": N_("社会发展"),
                     "2130507": N_("贷款奖补和贴息"),
                     "2130508": N_("“三西”农业建设专项补助"), "2130550": N_("事业运行"),
                     "2130599": N_("其他扶贫支出")},
    # a roll line's state (ledger.rolls.lifecycle.line_states)
    "LineState": {"open": N_("待发放"), "held": N_("有异议，暂缓"), "withdrawn": N_("已撤销")},
    # a complaint's state: received, then its steps (ledger.oversight.complaints.state_of)
    "ComplaintState": {"received": N_("已受理"), "assigned": N_("已交办"),
                       "investigating": N_("调查中"), "answered": N_("已答复"),
                       "closed": N_("已办结")},
    # why an alert was dismissed (ledger.alerts.service.REASON_CODES)
    "DismissalReason": {"data_error": N_("数据错误"), "legitimate_exception": N_("合规例外"),
                        "duplicate": N_("重复预警"),
                        "threshold_too_sensitive": N_("阈值过于敏感")},
    # an administrative request (ledger.org.admin_requests.KINDS)
    "AdminRequestKind": {"user.create": N_("新增用户"), "user.password_reset": N_("重设密码"),
                         "user.disable": N_("停用用户"), "user.enable": N_("启用用户")},
    # a personal signing key's request (ledger.org.personal_keys ENROL, REVOKE) and kind
    "KeyRequestAction": {"enrol": N_("登记密钥"), "revoke": N_("吊销密钥")},
    "KeyKind": {"ed25519": N_("密钥文件"), "webauthn": N_("通行密钥")},
    # an input a refusal names (its `field`, `fields`): the services' own words for them
    "Field": {"amount": N_("金额"), "effective date": N_("记账日期"),
              "voucher date": N_("凭证日期"), "value date": N_("起息日期"),
              "date received": N_("到账日期"), "received date": N_("到账日期"),
              "display start": N_("公示开始日期"), "display end": N_("公示结束日期"),
              "due date": N_("到期日"), "start date": N_("开始日期"), "end date": N_("结束日期"),
              "period start": N_("期间开始日期"), "period end": N_("期间结束日期"),
              "date joined": N_("加入日期"), "date of death": N_("死亡日期"),
              "card opening date": N_("开卡日期"), "card closing date": N_("销卡日期"),
              "enrolment date": N_("识别日期"), "registration date": N_("建档日期"),
              "split date": N_("分户日期"), "status date": N_("状态变更日期"),
              "proposal date": N_("申报日期"), "integration amount": N_("整合金额"),
              "recovered amount": N_("追回金额"), "recovery amount": N_("追回金额"),
              "principal": N_("本金"), "standard": N_("标准"), "reason": N_("原因"),
              "status": N_("状态"), "source": N_("来源"), "relation": N_("与户主关系"),
              "doc_number": N_("文号"), "username": N_("用户名"), "summary": N_("摘要"),
              "subsidy_period": N_("贴息期间"), "source_level": N_("资金级次"),
              "role": N_("角色"), "reply": N_("答复"), "project_period": N_("项目期限"),
              "password": N_("密码"), "contract_number": N_("合同编号"), "comment": N_("意见"),
              "code": N_("编码"), "credit_code": N_("统一社会信用代码"),
              "id_number": N_("身份证号"), "kind": N_("类型"), "lot": N_("批次"),
              "date": N_("日期"), "payee": N_("收款人"), "memo": N_("摘要"),
              "function_code": N_("功能分类"), "use": N_("用途"), "use_code": N_("用途"),
              "project": N_("项目"), "bank": N_("银行"), "principal_fen": N_("本金"),
              "annual_rate_bp": N_("年利率"), "start_date": N_("开始日期"),
              "term_months": N_("期限"), "household_code": N_("户编码")},
    # what is wrong with an ID number or a credit code (ledger.core.idcard, creditcode `problem`)
    "NumberProblem": {"length": N_("位数不对"), "characters": N_("含有不应有的字符"),
                      "birth_date": N_("出生日期不存在"), "check_character": N_("校验码不符"),
                      "department": N_("登记管理部门代码不对"),
                      "division": N_("行政区划码不对")},
    # what a refusal names (NotFound's `what`, already_exists, import_reused, maker_checker)
    "Thing": {"lot": N_("批次"), "project": N_("项目"), "payee": N_("收款人"),
              "region": N_("区域"), "village": N_("村"), "household": N_("农户"),
              "member": N_("成员"), "roll": N_("清册"), "roll_line": N_("清册行"),
              "roll_household": N_("清册中的农户"), "user": N_("用户"),
              "transfer": N_("转账"), "recovery": N_("追回案件"), "loan": N_("贷款"),
              "complaint": N_("投诉"), "receipt": N_("回执号"), "sample": N_("抽查样本"),
              "alert": N_("预警线索"), "card": N_("银行卡"), "project notice": N_("项目公示"),
              "database": N_("数据库"), "backup": N_("备份文件"),
              "administrative request": N_("管理申请")},
}

# A plain value with no kind given is looked up in these tables, in this order (the same
# word in two tables — `approved` is 批复 for a project, 已通过 for a transfer — needs `kind`).
_SEARCH_ORDER = ("TransferKind", "AlertState", "Severity", "Role", "Use", "ProjectStatus",
                 "HouseholdStatus", "AccountKind", "PayeeKind", "RegionLevel", "Decision")


def kind_of(value) -> str | None:
    """The table a value's labels are in: its enum class's name, or None for a plain value."""
    return type(value).__name__ if isinstance(value, enum.Enum) else None


def source(value, kind: str | None = None) -> str | None:
    """The Chinese label (untranslated), or None when there is none."""
    if isinstance(value, enum.Enum):
        kind = kind or type(value).__name__
        value = value.value
    text = str(value)
    if kind is not None:
        return LABELS.get(kind, {}).get(text)
    for name in _SEARCH_ORDER:
        if text in LABELS[name]:
            return LABELS[name][text]
    return None


def label(value, kind: str | None = None) -> str:
    """`value` (an enum member, or its value with `kind` the enum's class name) as the person
    reads it, in the current language. A value with no label is shown as it is (a new member
    shows its code rather than failing a page; the test keeps the table complete); None is —."""
    if value is None or value == "":
        return "—"
    text = source(value, kind)
    if text is None:
        return str(value.value if isinstance(value, enum.Enum) else value)
    return gettext(text)


def choices(kind: str) -> list[tuple[str, str]]:
    """(value, label) for every value of `kind`, in the table's order: a form's options."""
    return [(value, gettext(text)) for value, text in LABELS[kind].items()]
