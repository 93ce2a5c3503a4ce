"""The rule catalogue: what each alert means to a finance officer (DOMAIN.md §4; research:
china-fund-rules.md §(a), misuse-detection-anchors.md §7 and §9)."""
from __future__ import annotations

from dataclasses import dataclass

DISCLAIMER = ("这是需要核实的风险提示，不是结论。 This is a risk signal to verify, not a finding "
              "of misuse.")


@dataclass(frozen=True)
class Rule:
    id: str
    title_zh: str
    title_en: str
    severity: str          # critical | high | medium | low
    method: str            # deterministic | fuzzy | statistical | recorded (a fact people
                           # recorded — a deadline passed, a finding — not a detection to score)
    why: str
    basis: str
    next_action: str


def _r(*args) -> Rule:
    return Rule(*args)


RULES = {r.id: r for r in [
    _r("FLW-01", "资金未及时下达", "Funds not passed down in time", "medium", "deterministic",
       "Money held at a level instead of reaching counties delays projects and invites "
       "diversion (滞留).", "预算法 art. 52(3)(4): province 30 days, lower levels 30/60 days",
       "Ask the unit for the pass-down document; check whether the lot is an exempt instalment."),
    _r("FLW-02", "资金闲置", "Idle earmarked balance", "high", "deterministic",
       "A balance with no outflow for a year is what audits report as idle (闲置); two years "
       "means it should be taken back for pooled use.",
       "CNAO audit categories 闲置1年以上/2年以上; 国发〔2015〕35号 on carry-over",
       "Ask why the money is idle; propose recovery to the pooled account if ≥ 2 years."),
    _r("DIV-01", "超范围/负面清单支出", "Spending on a prohibited use", "high", "deterministic",
       "Special funds may not pay wages, bonuses, buildings, vehicles, debts or image "
       "projects (负面清单); the wording or code of this payment points there.",
       "财农〔2017〕8号 negative list; DOMAIN.md §3 administrative codes 2130501–03, 2130550",
       "Request the invoice and contract; hold further payments to the payee until cleared."),
    _r("DIV-02", "向项目外单位支付", "Payee not among the project's approved payees", "high",
       "deterministic", "Project money went to a contractor the project never awarded the work "
       "to (or before the award): the way project funds are steered to other people's "
       "businesses (挤占挪用).",
       "Project library and tender rules (中标/合同单位); anchors §7 DIV-02; approved payees "
       "from the register `approved_payees` (source and snapshot named)",
       "Ask for the contract and award notice; hold further payments to the payee until the "
       "award is shown."),
    _r("DIV-03", "资金转入非受益人个人账户", "Payment into a personal account not a "
       "beneficiary's", "critical", "deterministic",
       "Fund money was paid into a private person's account whose holder is not a registered "
       "poor-household member: how funds are kept off the books or pocketed.",
       "CNAO 2017: 使用个人账户管理扶贫资金、虚列支出 (china-fund-rules §D11); payee accounts "
       "from the register `payee_accounts`",
       "Freeze further payments; obtain the bank statement of the account and identify its "
       "holder; recover (追回) if the money did not reach the work."),
    _r("DIV-05", "资金回流", "Money flowing back to the payer", "high", "deterministic",
       "Money paid out came back from the payee to the paying unit, a unit below it, or an "
       "official over it within days: a kickback, a fake expense or a cash pool (小金库).",
       "Anchors §7 DIV-05 (回流, 30 days); bank statements from the register `unit_receipts`; "
       "recoveries (追回) excepted",
       "Obtain both vouchers and the bank statement; ask the payee why it paid back; trace "
       "where the money went next."),
    _r("E1", "项目未批复即支付", "Paid before the project was approved", "high",
       "deterministic", "Money reached a project before it was approved in the project library "
       "(未入库即支付).", "Project-library rules (项目库管理); china-fund-rules §E1",
       "Check the library record and approval document; stop payments until approved."),
    _r("E2", "公示期未满即支付", "Paid before the notice period ended", "high", "deterministic",
       "A project must be on the village board for the full period before work and payment "
       "start, so villagers can object.", "指导意见 art. 4(2): notices at least 10 days",
       "Ask for the notice record and photos of the board; check for objections."),
    _r("BEN-01", "向已死亡人员发放", "Paid after the payee's death", "critical", "deterministic",
       "A household item was paid to a head of household recorded as deceased (冒领).",
       "Audit pattern 直达资金: deceased beneficiaries paid; china-fund-rules §D3",
       "Stop further payments; field-verify (入户核查) and recover (追回) what was paid."),
    _r("BEN-02", "重复享受", "Same person registered twice", "high", "fuzzy",
       "One person on two households, or a clone with a similar name, same birth date and "
       "village, can draw the same benefit twice (虚报冒领).",
       "Audit category 重复申报; anchors §4.5 comparator",
       "Field-verify both households; correct the registry and recover duplicates."),
    _r("BEN-03", "一卡多户", "One bank account for several households", "high",
       "deterministic", "Payments for different households landing on one card is how "
       "cadres hold cards and draw subsidies (一卡多人/代领).",
       "一卡通 rules (财办〔2020〕37号): one card per household head or person",
       "Identify the card holder with the bank; hand cards back to households."),
    _r("BEN-04", "财政供养人员享受补助", "Payee on the public payroll", "high", "fuzzy",
       "Someone paid from the public payroll is not a poor household member (马山县 audit).",
       "CNAO 马山县 case: 343 财政供养人员 among poverty targets", "Check the employment "
       "record and the household's eligibility; recover if ineligible."),
    _r("BEN-05", "有车有房有企业", "Household owns a car or a company", "medium", "fuzzy",
       "Owning a non-farm vehicle or running a company contradicts registration as poor.",
       "CNAO 2017: 高档轿车、商品房 not removed; 马山县: 2454 people owned cars",
       "Field-verify the assets; review the household's registration."),
    _r("BEN-06", "不符合条件对象", "Payee not registered and active", "high", "deterministic",
       "The household was not registered, or was removed (清退/注销), on the payment date.",
       "CNAO 2016: half of subsidised loans went to non-registered households",
       "Check the registry on that date; recover the payment if ineligible."),
    _r("D7", "超标准发放", "Paid above the standard", "high", "deterministic",
       "A per-person item paid for more people than the household has.",
       "Audit category 未按规定标准及金额发放", "Check the roll and the household's members."),
    _r("DUP-01", "重复支付", "Same payment twice", "high", "deterministic",
       "The same payee received the same amount for the same item twice within days.",
       "Audit analytics duplicate tests (same payee, amount, item)",
       "Compare the vouchers; reverse or recover the duplicate."),
    _r("DUP-02", "换单重复支付", "Same payment twice under another voucher", "medium",
       "deterministic", "The same payee received the same amount twice within days under "
       "another voucher and item text — the way a duplicate slips past DUP-01.",
       "Audit analytics same-same-different test (anchors §7 DUP-02, 14 days)",
       "Compare the two vouchers and invoices; reverse or recover the duplicate."),
    _r("WHD-01", "少发克扣", "Household received less than approved", "high",
       "deterministic", "What reached the household is less than the publicly approved roll "
       "amount (截留/克扣).", "Roll publicity (公示清册) vs paid list",
       "Ask the bank for the credit record; pay the shortfall or find who kept it."),
    _r("WHD-02", "批准未发放", "Sent to the bank but never paid", "high", "deterministic",
       "The roll was sent and the money held, but no bank result arrived in 60 days.",
       "Withholding pattern 截留 (anchors §7 WHD-02)", "Obtain the bank's result file."),
    _r("WHD-04", "退票未重发", "Bank return not re-paid", "medium", "deterministic",
       "A returned payment (退票) was neither re-paid to the household nor returned in 30 days.",
       "一卡通 practice: returns re-paid or returned within 30 days",
       "Fix the household's card and re-pay, or return the money to the lot."),
    _r("BEN-08", "突击分户", "Household split just before enrolment", "medium", "fuzzy",
       "A family split into a new household shortly before it was enrolled, and it is related "
       "to an official over the village: splitting multiplies per-household benefits.",
       "Audit findings on 突击分户 to obtain subsidies; DOMAIN.md §4 favouritism",
       "Check the split's reason and date against the household register (户籍) and the "
       "enrolment decision."),
    _r("G6", "投诉超期未办结", "Complaint past its deadline", "high", "recorded",
       "A complaint not closed in time, or a named complainant not answered, is how complaints "
       "get lost; the public's channel only works if it is answered.",
       "分级受理、分级负责、属地管理; 15 days to close (Inner Mongolia 2017), 20 days to answer "
       "a named complainant (Shanxi 2015); DOMAIN.md §5",
       "Ask the handling officer for the state of the investigation; escalate if needed."),
    _r("CMP-01", "投诉查实", "Complaint found substantiated", "high", "recorded",
       "The handling officer found the complaint true: the money or the beneficiary it names "
       "needs a misuse case and, where money went wrong, a recovery.",
       "Seeds: a substantiated complaint opens an investigation (DOMAIN.md §4, complaints)",
       "Open the case: check the payments named, confirm, and start recovery (追回) if due."),
    _r("CHK-01", "入户核查发现问题", "Field check found a discrepancy", "high", "recorded",
       "An inspector's visit to a household drawn at random found that what it received or "
       "its situation differs from the books.",
       "随机抽查 / 第三方评估 (DOMAIN.md §5); docs/oversight.md",
       "Compare the visit record with the household's payments; confirm or dismiss."),
    _r("SPL-01", "化整为零", "Payments split below the threshold", "high", "deterministic",
       "Several payments to one payee just under the approval limit, close together, add up "
       "to more than it.", "Procurement thresholds (限额标准); audit analytics split tests",
       "Review the contracts as one purchase; check the procurement procedure."),
    _r("STA-05", "倒签记账", "Backdated entry", "medium", "deterministic",
       "An entry dated well before entries already on the unit's books was slipped in later.",
       "Accounting rules on timely entry; anchors §7 STA-05", "Ask for the source voucher."),
    _r("BLK-01", "黑名单对象", "Payee on the violations blacklist", "high", "deterministic",
       "The payee is on the blacklist for earlier violations during its period.",
       "违规违纪黑名单 (imported list)", "Hold payments; check the contract award."),
    _r("FAV-01", "优亲厚友", "Beneficiary related to an official", "medium", "fuzzy",
       "A cadre's relative receiving benefits in the cadre's area needs review; eligible "
       "relatives are allowed but must be disclosed.", "CNAO 2017 优亲厚友 findings",
       "Review eligibility; record the disclosure or recover."),
    _r("FAV-02", "关联企业", "Contractor linked to an official", "high", "fuzzy",
       "The contractor's legal representative or shareholder is an official or relative.",
       "ARACHNE related persons; 八项规定 conflict-of-interest rules",
       "Review the award procedure and the official's recusal."),
    _r("STA-01", "本福特偏离", "Benford nonconformity", "low", "statistical",
       "First digits of a unit's payments deviate from Benford's law.",
       "Nigrini MAD cut-off 0.015 (first digit)", "Sample the unit's vouchers."),
    _r("STA-02", "整数金额偏多", "Excess of round amounts", "low", "statistical",
       "A unit pays round amounts far more often than its peers.",
       "Peer fence Q3 + 1.5·IQR", "Sample the unit's vouchers."),
    _r("STA-03", "非工作日记账", "Entries on a non-working day", "low", "statistical",
       "Payments dated on public holidays or weekends (mainland calendar with 调休).",
       "国务院办公厅 holiday notices (chinese_calendar)", "Check who entered them and why."),
]}

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
