"""Chinese by default, English on request: a small message catalogue.

Decision: the interface has a few hundred short strings and two languages, so a dictionary
keyed by the Chinese text does what Flask-Babel would, without a compile step (.po → .mo) in
the build. `_("余额")` returns the Chinese text, or its English when the visitor chose English
(cookie `lang`, set by /lang/en). Missing English falls back to Chinese, never to an error.
"""
from __future__ import annotations

from flask import g, request

LANGUAGES = ("zh", "en")

EN = {
    "按标准": "By the standard", "与标准不符": "differs from the standard",
    "导入报告": "Import report",
    "外部名单须写明来源，如“县民政局”":
        "A list from another office needs its source, e.g. the county civil affairs bureau",
    "外部名单须写明名单日期": "A list from another office needs the date it was drawn",
    "资金追踪": "fundtrail", "登录": "Sign in", "退出": "Sign out", "用户名": "Username",
    "密码": "Password", "用户名或密码错误": "Wrong username or password",
    "首页": "Home", "余额": "Balances", "转账": "Transfers", "待审核": "Pending approval",
    "资金流向": "Fund flow", "闲置资金": "Idle money", "预警": "Alerts", "审计": "Audit",
    "用户": "Users", "清册": "Payment rolls", "导入": "Import", "录入": "Record",
    "下达资金": "Allocate", "项目资金": "Fund a project", "支付": "Pay",
    "公开信息": "Public information", "村务公开": "Village notices", "核验": "Verify",
    "公钥": "Public keys", "策略": "Policy", "最新检查点": "Latest checkpoint",
    "批次": "Lot", "级次": "Level", "单位": "Unit", "金额": "Amount", "金额（元）": "Amount (yuan)",
    "日期": "Date", "状态": "State", "操作": "Action", "审核通过": "Approve", "退回": "Reject",
    "意见": "Comment", "冲销": "Reverse", "原因": "Reason", "提交": "Submit",
    "已通过": "approved", "已退回": "rejected", "待审": "pending", "编号": "No.",
    "类型": "Kind", "摘要": "Memo", "凭证号": "Voucher no.", "凭证": "voucher",
    "凭证日期": "Voucher date", "起息日期": "Value date", "录入时间": "Entered",
    "到账日期": "Received", "区域": "Region",
    "下级单位": "Receiving unit", "拨出单位": "Paying unit", "项目": "Project",
    "收款人编码": "Payee code", "功能分类": "Function code", "用途": "Use",
    "资金来源": "Paid from", "县级统筹": "County's own share", "新建清册": "New roll",
    "清册编号": "Roll code", "发放项目": "Item", "标准（元）": "Standard (yuan)",
    "县": "County", "户清单（CSV 或 Excel）": "Household list (CSV or Excel)", "预览": "Preview",
    "确认导入": "Import now", "确认创建": "Create roll", "错误": "Errors", "行": "Line",
    "列": "Column", "问题": "Problem", "公示": "Publish", "公示日期": "Publication date",
    "审核": "Approve", "发送银行": "Send to bank", "户编码": "Household", "户主": "Head",
    "数量": "Quantity", "银行卡": "Bank card", "已公示": "published", "未公示": "not published",
    "补记公示": "Backdated publication", "录入于": "recorded on", "理由": "reason",
    "补记理由": "Reason (for a date before today)", "可审核日期": "Approvable from",
    "自录入之日起算": "counted from the recording", "方满公示期": "the window ends",
    "未说明理由": "no reason given", "公示期未满即审核": "Approved before the window ended",
    "公示录入于": "publication recorded on", "审核录入于": "approval recorded on",
    "审核记录": "Approval",
    "合计": "Total", "验证审计日志": "Verify the audit log", "下载审计包": "Download bundle",
    "日志条目数": "Entries in the log", "根哈希": "Root hash", "共同签名": "Cosignatures",
    "完整": "Intact", "发现问题": "Findings", "无权限": "Not allowed",
    "未找到": "Not found", "请求有误": "Bad request", "粘贴证明": "Paste a proof",
    "核验结果": "Verification result", "记录在日志中": "The record is in the log",
    "签名": "Signatures", "达到法定签名数": "Quorum met", "未达到法定签名数": "Quorum NOT met",
    "证明无效": "The proof is not valid", "管理": "Administration", "新用户": "New user",
    "姓名": "Name", "角色": "Role", "设置密码": "Set password", "新密码": "New password",
    "经办": "clerk", "审核员": "approver", "审计员": "auditor", "管理员": "administrator",
    "预警模块尚未安装": "The alerts module is not installed yet",
    "文件类型": "File kind", "文件": "File", "将导入": "Will import", "条": "rows",
    "新增": "new", "已存在且一致": "already present and unchanged",
    "已导入": "Imported", "没有记录": "Nothing here", "语言": "Language",
    "村": "Village", "项目公告": "Project notices", "发放清册": "Payment rolls",
    "阶段": "Stage",
    "被拒绝的操作": "Refused attempts", "起始日期": "Since",
    "拒绝原因": "Why refused", "付出账户": "Paid from", "去向": "To", "不变量": "invariant",
    "账务系统按防范规则拒绝的支付、下达与审核：谁、何时、做什么、为何被拒。被拒的操作不留任何转账，只留此记录。":
        "Payments, allocations and approvals the ledger refused as controls against misuse: "
        "who, when, what, and why. A refused attempt leaves no transfer, only this record.",
    "身份证号与银行卡号已按公示要求遮蔽": "ID and card numbers are masked as on the board",
    "持有": "Held", "天": "days", "账龄": "Age", "收到": "Received", "拨出": "Passed on",
    "选择批次": "Choose a lot", "查看": "View", "明细": "Details", "事件": "Events",
    "下载银行文件": "Download bank file", "审计员签名": "Cosigned by",
    "日志签名": "Signed by the log", "条目内容": "What the entry records",
    "写入人": "Recorded by", "时间": "Time", "校验码": "Check",
    "核验通知二维码": "Check a notice's QR code",
    "把通知上二维码下方的文字或证明文件的内容粘贴在这里":
        "Paste the text under the notice's QR code, or the proof file",
    "此证明与公布的公钥一致": "This proof matches the published keys",
    "已保存": "Saved", "操作成功": "Done", "冲销原因": "Reason for the reversal",
    "退回原因（必填）": "Reason for rejecting (required)", "户": "households",
    "所属县": "County", "全部村": "All villages", "在范围内的用户": "Users in scope",
    "最近转账": "Recent transfers", "待我审核": "Waiting for approval",
    "日志 {size} 条，数据行 {rows} 行，检查点 {cps} 个":
        "{size} entries, {rows} rows, {cps} checkpoints",
    "核验此清册": "Verify this roll",
    "下载证明文件（可离线核验）": "Download the proof file (checks offline)",
    "尚未签入检查点": "not yet in a signed checkpoint",
    "规则": "Rule", "严重程度": "Severity", "对象": "Entity", "涉及金额": "Amount at risk",
    "发现": "Observed", "阈值": "Threshold", "为什么": "Why", "依据": "Basis", "方法": "Method",
    "下一步": "Next action", "证据": "Evidence", "运行全部规则": "Run all rules",
    "暂不提示至": "Suppress until", "追回转账编号": "Recovery transfer no.", "说明": "Note",
    "已支付": "paid", "退票": "returned", "银行回盘文件": "Bank result file",
    "登记异议": "Record objection", "处理异议": "Decide objection", "处理结果": "Decision",
    "异议成立，撤销该户": "upheld: withdraw the line",
    "投诉举报": "Complaints", "已收到": "Received", "您的回执号": "Your receipt",
    "请记下回执号，凭它查询办理进度。": "Keep the receipt to look up the progress.",
    "查询办理进度": "Look up a complaint", "投诉对象": "About", "反映的问题": "What is wrong",
    "姓名（可不填）": "Name (optional)", "电话（可不填）": "Phone (optional)",
    "可以不留姓名。留下姓名和电话的，办理单位须在20天内答复。":
        "You may stay anonymous. If you leave a name and phone, you get an answer within 20 days.",
    "回执号": "Receipt", "已超期": "overdue", "收到日期": "Received on", "办理单位": "Handled by",
    "办结期限": "Close by", "答复期限": "Answer by", "答复": "Answer",
    "办结": "Closed", "查询": "Look up",
    "村（村代码）": "village (code)", "项目（项目编号）": "project (code)",
    "清册中的一户（清册编号:行号）": "a roll line (ROLL:LINE)",
    "农户（户编码）": "household (code)",
    "已重新发放": "repaid on a new roll",
    "申报": "proposed", "入库": "in library", "批复": "approved", "实施": "implementing",
    "验收": "accepted", "结项": "closed", "备案": "filed", "待发放": "to be paid",
    "不予立项": "rejected", "项目调整": "adjusted",
    "有异议，暂缓": "held (objection)", "已撤销": "withdrawn", "异议": "objection",
    "异议不成立": "objection dismissed", "撤销该户": "line withdrawn", "已送银行": "sent to bank",
    # imports: the kinds' labels come from ledger.imports.kinds.KINDS
    "来源": "Source", "名单日期": "Snapshot date", "重新上传": "Upload again",
    "外部名单和收款人名册须填写来源和名单日期：":
        "Lists and registers from other offices need their source and snapshot date: ",
    "行政区划": "Administrative regions", "资金文件（指标）": "Appropriations",
    "资金下达拨付": "Allocations", "项目资金安排": "Project funding",
    "资金支付（项目支出、直接支付）": "Payments (projects and one-off)",
    "项目库": "Project library", "建档立卡户": "Registered households",
    "家庭成员": "Household members", "死亡人口名单": "Death registry",
    "财政供养人员名单": "Public payroll", "机动车登记": "Vehicle registrations",
    "市场主体登记": "Business registrations", "干部及近亲属": "Officials and close relatives",
    "违规违纪黑名单": "Blacklist", "项目中标/合同单位": "Approved contractors",
    "收款账户": "Payee accounts", "单位账户来款流水": "Unit account receipts",
    # the policy file (web.proofcheck.PolicyUnreadable)
    "策略文件无法使用": "The policy file cannot be used",
    "策略文件无法使用，签名和法定签名数都无法核对":
        "The policy file cannot be used: no signature or quorum can be checked",
    "没有策略文件，签名和法定签名数不会核对":
        "No policy file: signatures and the quorum are not checked",
    "未能验证": "Not verified", "暂时无法核验": "Verification is unavailable",
    "服务器公布的公钥和策略文件无法读取": "The server's published keys and policy cannot be read",
    # sessions and four-eyes administration
    "登录会话": "Sessions", "开始时间": "Started", "地址": "Address", "浏览器": "Browser",
    "当前会话": "this session", "退出其他会话": "Sign out elsewhere",
    "已退出其他会话": "Signed out elsewhere", "已结束": "Ended",
    "每个会话最长8小时；退出、改密码或停用账号都会结束会话。":
        "A session lasts at most 8 hours; signing out, a new password or disabling the account "
        "ends it.",
    "待批准的管理申请": "Requests waiting for a second administrator",
    "新用户、重设密码、停用或启用账号须由另一位管理员批准后才生效；申请人不能批准自己的申请。":
        "A new user, a password reset and disabling or enabling an account take effect only "
        "when another administrator approves; nobody approves their own request.",
    "申请": "Request", "内容": "Content", "申请人": "Requested by", "申请时间": "Requested",
    "含新密码": "with a new password", "批准": "Approve", "拒绝": "Refuse",
    "待另一位管理员": "waiting for another administrator", "申请重设密码": "Request a reset",
    "已停用": "disabled", "申请启用": "Request enabling", "申请停用": "Request disabling",
    "申请新用户": "Request a new user", "已提交，待另一位管理员批准":
        "Filed; waiting for another administrator to approve", "已批准": "Approved",
    "已拒绝": "Refused",
}


def current_language() -> str:
    lang = getattr(g, "lang", None)
    if lang is None:
        lang = request.cookies.get("lang", "zh")
        g.lang = lang if lang in LANGUAGES else "zh"
    return g.lang


def gettext(text: str, **values) -> str:
    out = EN.get(text, text) if current_language() == "en" else text
    return out.format(**values) if values else out
