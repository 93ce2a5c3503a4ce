"""Rules fed by the oversight channels (DOMAIN.md §5): complaints and field checks.

G6: a complaint past its deadline (to close, or to answer a named complainant). CMP-01: a
complaint the handling officer closed as substantiated — the seeds' rule is that it opens a
misuse case. CHK-01: a field check (入户核查) found that what the household says differs from
the books. The facts come from ledger.oversight.complaints and ledger.oversight.sampling,
which already run one set-based query each; the complainant's identity never reaches an alert.
"""
from __future__ import annotations

from ledger.alerts.base import ScanContext
from ledger.alerts.entry import rule
from ledger.i18n import N_
from ledger.oversight.complaints import overdue_complaints, substantiated_complaints
from ledger.oversight.sampling import discrepancies
from ledger.screening.finding import Finding
from ledger.screening.finding import code as zh_enum
from ledger.screening.finding import shown as zh

RECORDED_NOT_PLANTED = (
    "a fact people recorded (a deadline passed, an officer's finding), not a detection to score "
    "against planted cases; tests/ledger/alerts/test_rules_oversight.py checks it")


@rule("G6", N_("投诉超期未办结"), "Complaint past its deadline", severity="high", method="recorded",
      why=N_("投诉未按期办结，或实名投诉人未得到答复，投诉就会石沉大海；群众监督渠道只有得到答复才"
             "起作用。"),
      basis=N_("分级受理、分级负责、属地管理；15天内办结（内蒙古2017），20天内答复实名投诉人（山西2"
               "015）；DOMAIN.md 第5节"),
      next_action=N_("向承办人了解调查进展；必要时上报。"),
      settings=(), not_planted=RECORDED_NOT_PLANTED)
def g6_overdue_complaint(ctx: ScanContext) -> list[Finding]:
    findings = []
    for row in overdue_complaints(ctx.session, ctx.as_of):
        what = "closed" if row["deadline_kind"] == "close" else "answered"
        findings.append(Finding(
            "G6", "complaint", f"{row['id']}:{row['deadline_kind']}", row["region"],
            f"complaint #{row['id']} not {what} {row['days_overdue']} days after {row['due']}",
            f"{what} by its deadline ({row['due']})", 0,
            {"complaint_id": row["id"], "deadline": row["deadline_kind"], "due": row["due"],
             "days_overdue": row["days_overdue"], "county": row["county"]},
            observed_shown=zh(N_("投诉 #{id} 在 {due} 到期后 {days} 天仍未办结")
                               if row["deadline_kind"] == "close" else
                               N_("投诉 #{id} 在 {due} 到期后 {days} 天仍未答复"),
                               id=row["id"], days=row["days_overdue"], due=str(row["due"])),
            threshold_shown=zh(N_("在期限（{due}）前办结") if row["deadline_kind"] == "close"
                               else N_("在期限（{due}）前答复"), due=str(row["due"]))))
    return findings


@rule("CMP-01", N_("投诉查实"), "Complaint found substantiated", severity="high", method="recorded",
      why=N_("承办人查实了投诉：所涉资金或受益人需要立案查处，资金有问题的还要追回。"),
      basis=N_("线索来源：查实的投诉启动调查（DOMAIN.md 第4节，投诉）"),
      next_action=N_("立案：核查所涉付款，确认后依规启动追回（追回）。"),
      settings=(), not_planted=RECORDED_NOT_PLANTED)
def cmp01_substantiated_complaint(ctx: ScanContext) -> list[Finding]:
    return [Finding(
        "CMP-01", "complaint", str(row["id"]), row["subject_region"],
        f"complaint #{row['id']} about {row['subject_kind']} {row['subject_code']} closed as "
        f"substantiated on {row['closed_on']}", "a substantiated complaint opens a case", 0,
        {"complaint_id": row["id"], "subject": f"{row['subject_kind']}:{row['subject_code']}",
         "closed_on": row["closed_on"], "log_index": row["log_index"]},
        observed_shown=zh(N_("关于{kind} {subject} 的投诉 #{id} 于 {day} 查实办结"),
                           id=row["id"], kind=zh_enum("ComplaintSubject", row["subject_kind"]),
                           subject=row["subject_code"], day=str(row["closed_on"])),
        threshold_shown=zh(N_("查实的投诉要立案")))
        for row in substantiated_complaints(ctx.session)]


@rule("CHK-01", N_("入户核查发现问题"), "Field check found a discrepancy",
      severity="high", method="recorded",
      why=N_("检查人员对随机抽取农户的走访发现，该户所得或其情况与账面不符。"),
      basis=N_("随机抽查／第三方评估（DOMAIN.md 第5节）；docs/oversight.md"),
      next_action=N_("把走访记录与该户的付款对照；确认或驳回。"),
      settings=(), not_planted=RECORDED_NOT_PLANTED)
def chk01_field_check_discrepancy(ctx: ScanContext) -> list[Finding]:
    return [Finding(
        "CHK-01", "household", f"{row['sample']}:{row['household']}", row["county"],
        f"field check of {row['household']} on {row['visited_on']} found a discrepancy",
        "what the household confirms matches the books", 0,
        {"sample": row["sample"], "household": row["household"], "details": row["details"],
         "visited_on": row["visited_on"], "log_index": row["log_index"]},
        observed_shown=zh(N_("{day} 入户核查 {household} 发现不符"),
                           household=row["household"], day=str(row["visited_on"])),
        threshold_shown=zh(N_("农户确认的情况与账面相符")))
        for row in discrepancies(ctx.session)]
