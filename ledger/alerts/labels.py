"""What a person reads for an alert's codes: severities, states, events, methods, dismissal
reasons, the kinds of entity an alert names, and the keys of a finding's evidence.

Only marked here (`N_`): the web page and any other reader translate where they show them
(`label(...)`), so the evidence stored in the log keeps its stable English keys while a finance
officer reads 收款人, 日期, 金额 (issue 20: evidence was raw JSON with \\u escapes).
"""
from __future__ import annotations

from ledger.i18n import N_, gettext
from ledger.i18n.labels import LABELS

SEVERITIES = {"critical": N_("严重"), "high": N_("高"), "medium": N_("中"), "low": N_("低")}

STATES = {"open": N_("待核查"), "investigating": N_("核查中"), "confirmed": N_("已确认"),
          "dismissed": N_("已排除"), "recovering": N_("追回中"), "recovered": N_("已追回")}

EVENTS = {"raised": N_("发现"), "observed": N_("证据更新"), "transition": N_("处理"),
          "reopened": N_("重新打开")}

METHODS = {"deterministic": N_("确定性规则"), "fuzzy": N_("模糊匹配"),
           "statistical": N_("统计检验"), "recorded": N_("记录在案的事实")}

REASONS = {"data_error": N_("数据错误（在源头更正后重新扫描）"),
           "legitimate_exception": N_("合规例外（可暂不提示至某日）"),
           "duplicate": N_("与另一条预警重复"),
           "threshold_too_sensitive": N_("阈值过于敏感")}

# Alert.entity_kind: what the alert is about
ENTITIES = {"transfer": N_("转账"), "household": N_("农户"), "member": N_("家庭成员"),
            "members": N_("家庭成员"), "payee": N_("收款人"), "project": N_("项目"),
            "project_payee": N_("项目与收款人"), "payee_use": N_("收款人与用途"),
            "roll": N_("清册"), "roll_line": N_("清册行"), "lot_unit": N_("批次与单位"),
            "account": N_("账户"), "card": N_("银行卡"), "award": N_("合同授予"),
            "complaint": N_("投诉"), "household_year": N_("农户年度"),
            "unit_year": N_("单位年度"), "list_record": N_("名单记录")}

# The keys of findings' evidence (ledger/alerts/rules_*.py, ledger/screening/at_posting.py).
# A key with no label here is shown as it is: a new rule's evidence still reads, in English.
EVIDENCE = {
    "transfers": N_("转账"), "transfer_id": N_("转账编号"), "transfer_ids": N_("转账编号"),
    "date": N_("日期"), "amount_fen": N_("金额"), "amount": N_("金额"), "key": N_("凭证号"),
    "memo": N_("摘要"), "payee": N_("收款人"), "payee_name": N_("收款人名称"),
    "payee_kind": N_("收款人类别"), "lot_id": N_("资金批次"), "lot_doc_number": N_("批次文号"),
    "project": N_("项目"), "approved_payees": N_("核准收款人"), "name": N_("名称"),
    "approved_on": N_("批准日期"), "until": N_("有效至"), "basis": N_("依据"),
    "register": N_("登记册"), "register_id": N_("登记册编号"), "account": N_("账户"),
    "last4": N_("卡号末四位"), "bank": N_("开户行"), "holder_name": N_("户名"),
    "holder": N_("持有人"), "source": N_("来源"), "use": N_("用途"),
    "function_code": N_("功能科目"), "industry_code": N_("行业代码"),
    "industry_section": N_("行业门类"), "fitting": N_("相符的行业"), "list": N_("名单"),
    "kind": N_("类别"), "list_id": N_("名单编号"), "snapshot_date": N_("快照日期"),
    "line": N_("行号"), "match": N_("匹配"), "fields": N_("匹配字段"), "method": N_("方法"),
    "name_similarity_percent": N_("姓名相似度（%）"), "name_match": N_("姓名匹配方式"),
    "differing_characters": N_("不同的字"), "listed_name": N_("名单上的姓名"),
    "registry_name": N_("登记的姓名"), "receipts": N_("回款"), "payer": N_("付款人"),
    "receiver": N_("收款方"), "to": N_("回流至"), "voucher": N_("凭证"), "unit": N_("单位"),
    "received_on": N_("到账日期"), "received_by": N_("到账依据"),
    "received_transfer_id": N_("到账转账"), "deadline": N_("期限"),
    "passed_down": N_("下达"), "dated_by": N_("日期依据"), "notices": N_("公告"),
    "window_ends": N_("公示期届满"), "notice_book_from": N_("公告记录起始"),
    "notice_from": N_("公示开始"), "notice_until": N_("公示结束"),
    "published": N_("公示日期"), "publication_recorded": N_("公示记录日"),
    "approved": N_("审核日期"), "approval_recorded": N_("审核记录日"),
    "first_approvable_by_recording": N_("按记录日最早可审核"),
    "first_approvable_by_typed_date": N_("按填写日期最早可审核"), "reason": N_("原因"),
    "sent": N_("送银行日期"), "duplicate_transfer_id": N_("重复的转账"),
    "paired_by": N_("配对依据"), "documents": N_("单据"), "invoice": N_("发票"),
    "contract": N_("合同"), "items": N_("事项"), "voucher_date": N_("凭证日期"),
    "posting_date": N_("记账日期"), "awarded_on": N_("授予日期"),
    "contract_number": N_("合同编号"), "contract_amount_fen": N_("合同金额"),
    "implementing_unit": N_("实施单位"), "period": N_("期间"), "member_id": N_("成员编号"),
    "member": N_("成员"), "death_date": N_("死亡日期"), "death_source": N_("死亡信息来源"),
    "registry": N_("登记来源"), "household": N_("农户"), "id_number": N_("身份证号"),
    "lines": N_("清册行"), "roll": N_("清册"), "status": N_("状态"),
    "status_since": N_("状态起始"), "status_doc_number": N_("状态文号"), "year": N_("年度"),
    "size_on_1_january": N_("1月1日人数"), "size": N_("人数"), "on": N_("日期"),
    "changes": N_("变动"), "relation": N_("关系"), "joined": N_("加入"), "left": N_("离开"),
    "households": N_("农户"), "code": N_("编码"), "village": N_("村"),
    "paid_fen": N_("已付金额"), "cards": N_("银行卡"), "card_last4": N_("卡号末四位"),
    "guardian_cards": N_("监护人卡"), "ward_household": N_("被监护农户"),
    "approved_fen": N_("核准金额"), "persons": N_("人数"), "living_members": N_("在世成员数"),
    "standard": N_("标准"), "received_fen": N_("实收金额"), "returned_on": N_("退票日期"),
    "repayment_roll": N_("重发清册"), "file": N_("文件"), "file_line": N_("文件行号"),
    "value_date": N_("入账日期"), "differences": N_("差异"), "sent_fen": N_("发送金额"),
    "credited_fen": N_("入账金额"), "account_last4": N_("卡号末四位"),
    "difference_transfer_id": N_("差额转账"), "members": N_("成员"), "id": N_("编号"),
    "employer": N_("工作单位"), "assets": N_("资产"), "what": N_("内容"),
    "official": N_("干部"), "post": N_("职务"), "jurisdiction": N_("管辖区域"),
    "company": N_("企业"), "person": N_("人员"), "role": N_("身份"),
    "split_from": N_("分出自"), "split_on": N_("分户日期"), "enrolled_on": N_("纳入日期"),
    "fav01_member": N_("FAV-01 成员"), "record": N_("记录"), "problems": N_("问题"),
    "complaint_id": N_("投诉编号"), "due": N_("期限日"), "days_overdue": N_("超期天数"),
    "county": N_("县"), "subject": N_("对象"), "closed_on": N_("办结日期"),
    "log_index": N_("日志序号"), "sample": N_("抽样"), "details": N_("详情"),
    "visited_on": N_("走访日期"), "sample_vouchers": N_("抽查凭证"), "lead": N_("线索"),
    "rank": N_("排名"), "test": N_("检验"), "reference": N_("参照"),
    "statistic": N_("统计量"), "p_value": N_("p 值"), "q_value": N_("q 值"),
    "sample_size": N_("样本量"), "effect": N_("效应量"), "effect_floor": N_("效应下限"),
    "observed": N_("观察值"), "expected": N_("预期值"), "share": N_("比例"),
    "count": N_("笔数"), "digit": N_("首位数字"), "balance_fen": N_("余额"),
    "last_outflow": N_("最近一次支出"), "idle_days": N_("闲置天数"), "level": N_("级次"),
    "region": N_("区域"), "account_kind": N_("账户类别"), "inflow_fen": N_("流入金额"),
    "passed_fen": N_("已下达金额"), "account_id": N_("账户编号"),
    "last_movement": N_("最近一次变动"), "from": N_("起始"), "place": N_("地点"),
    "issuer": N_("发布单位"), "doc_number": N_("文号"), "days": N_("天数"), "type": N_("类型"),
    "table": N_("记录表"), "check_character": N_("校验码"), "birth_date": N_("出生日期"),
}


def label(table: dict[str, str], code) -> str:
    """The translated label of `code` (an enum's value or the enum) in `table`, else the code."""
    code = getattr(code, "value", code)
    text = table.get(code)
    return gettext(text) if text else str(code)


# Fixed values the rules write into evidence (list kinds, enum values, how a match was made),
# by the key they stand under. The stored evidence keeps them as written; a value not here is
# shown as it is.
_LIST_KINDS = {"deaths": N_("死亡人口名单"), "payroll": N_("财政供养人员名单"),
               "vehicles": N_("机动车登记"), "businesses": N_("市场主体登记"),
               "officials": N_("干部及亲属名单"), "blacklist": N_("违规违纪黑名单"),
               "properties": N_("不动产登记"), "approved_payees": N_("核准收款人登记册"),
               "payee_accounts": N_("收款账户登记册"), "unit_receipts": N_("单位收款流水"),
               "pay": N_("支付"), "allocate": N_("下达"), "fund_project": N_("拨付项目"),
               "appropriate": N_("指标下达")}
_METHODS = {"exact": N_("完全一致"), "exact name": N_("名称完全一致"),
            "exact ID (keyed digest)": N_("身份证号完全一致（加密摘要比对）"),
            "exact company name, exact ID (keyed digest)":
                N_("企业名称完全一致，身份证号完全一致（加密摘要比对）"),
            "ID with one digit wrong + matching name": N_("身份证号错一位，姓名相符"),
            "ID with two adjacent digits swapped + matching name":
                N_("身份证号相邻两位颠倒，姓名相符"),
            "declared without an ID number: same birth date + matching name":
                N_("未申报身份证号：出生日期相同，姓名相符"),
            "same birth date and village + matching name": N_("同村、出生日期相同，姓名相符"),
            "keyed digest: not a member of a registered household":
                N_("加密摘要比对：不是登记农户的成员")}
VALUES = {
    "kind": _LIST_KINDS,
    # an account's kind in an alert's entity (web/evidence.py): the ledger's one table
    "account_kind": LABELS["AccountKind"],
    "method": _METHODS,
    "dated_by": {"posted": N_("记账日期"), "posting date": N_("记账日期"),
                 "voucher date": N_("凭证日期")},
    "fields": {"birth_date": N_("出生日期"), "company name": N_("企业名称"),
               "holder_id_number": N_("户主身份证号"), "id_number": N_("身份证号"),
               "implementing_unit": N_("实施单位"), "name": N_("姓名")},
    "name_match": {"confusable sound": N_("读音易混"), "look-alike characters": N_("字形相近"),
                   "same characters": N_("用字相同"), "same pinyin": N_("拼音相同"),
                   "id": N_("按身份证号")},
    "paired_by": {"invoice": N_("同一发票号"), "item within the window": N_("期限内同一事项")},
    "payee_kind": {"household": N_("农户"), "contractor": N_("承包方"), "business": N_("企业"),
                   "person": N_("个人"), "unit": N_("单位")},
    "received_by": {"the posting date (no receipt recorded)": N_("记账日期（没有到账记录）"),
                    "the unit's recorded receipt (到账)": N_("单位记录的到账")},
    "registry": {"household registry (members.death_date)": N_("户籍登记（成员死亡日期）"),
                 "member_history / household died (member_events)": N_("成员变动记录（死亡）")},
    "status": {"not yet registered": N_("尚未登记"), "registered": N_("建档立卡"),
               "exited": N_("已脱贫"), "returned": N_("返贫"), "monitored": N_("监测对象"),
               "removed": N_("已清退"), "cancelled": N_("已注销")},
    "type": {"personal": N_("个人账户"), "unit": N_("单位账户")},
    "use": {"infrastructure": N_("农村基础设施"), "industry": N_("产业发展"),
            "household_subsidy": N_("到户补助"), "employment": N_("就业帮扶与以工代赈"),
            "training": N_("技能培训"), "credit_subsidy": N_("小额信贷贴息"),
            "relocation": N_("易地搬迁后续扶持"), "education": N_("教育帮扶"),
            "housing": N_("危房改造")},
    "table": {"external_records": N_("外部名单记录")},
}


def value_label(key: str, value: str) -> str:
    """An evidence value in the reader's language where it is one of the fixed values above."""
    text = VALUES.get(key, {}).get(value)
    return gettext(text) if text else value


def render_shown(shown: dict | None, fallback: str) -> str:
    """A finding's observed or threshold as people read it, in the current language: its
    catalogue template (Chinese msgid) filled with its parameters — money as 元, enum values
    by their labels, lists joined — or `fallback` (the English the rule computed, which the
    content hash covers) when the alert was scanned before findings carried one (issue 20)."""
    if not shown or not shown.get("template"):
        return fallback
    from ledger.i18n import current_locale, yuan
    from ledger.i18n.labels import label
    comma = "、" if current_locale().startswith("zh") else ", "

    def one(value):
        if isinstance(value, list):
            return comma.join(one(v) for v in value)
        if isinstance(value, dict) and "template" in value:   # a part with its own template
            return render_shown(value, "")
        if isinstance(value, dict) and "fen" in value:
            return yuan(value["fen"])
        if isinstance(value, dict) and "label" in value:
            return label(value["value"], value["label"])
        return "" if value is None else str(value)
    params = {key: one(value) for key, value in (shown.get("params") or {}).items()}
    try:
        return gettext(shown["template"], **params)
    except (KeyError, IndexError, ValueError):   # a template its params do not fill
        return fallback
