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
from ledger.oversight.complaints import overdue_complaints, substantiated_complaints
from ledger.oversight.sampling import discrepancies
from ledger.screening.finding import Finding

RECORDED_NOT_PLANTED = (
    "a fact people recorded (a deadline passed, an officer's finding), not a detection to score "
    "against planted cases; tests/ledger/alerts/test_rules_oversight.py checks it")


@rule("G6", "投诉超期未办结", "Complaint past its deadline", severity="high", method="recorded",
      why="A complaint not closed in time, or a named complainant not answered, is how "
          "complaints get lost; the public's channel only works if it is answered.",
      basis="分级受理、分级负责、属地管理; 15 days to close (Inner Mongolia 2017), 20 days to "
            "answer a named complainant (Shanxi 2015); DOMAIN.md §5",
      next_action="Ask the handling officer for the state of the investigation; escalate if "
                  "needed.",
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
             "days_overdue": row["days_overdue"], "county": row["county"]}))
    return findings


@rule("CMP-01", "投诉查实", "Complaint found substantiated", severity="high", method="recorded",
      why="The handling officer found the complaint true: the money or the beneficiary it names "
          "needs a misuse case and, where money went wrong, a recovery.",
      basis="Seeds: a substantiated complaint opens an investigation (DOMAIN.md §4, complaints)",
      next_action="Open the case: check the payments named, confirm, and start recovery (追回) if "
                  "due.",
      settings=(), not_planted=RECORDED_NOT_PLANTED)
def cmp01_substantiated_complaint(ctx: ScanContext) -> list[Finding]:
    return [Finding(
        "CMP-01", "complaint", str(row["id"]), row["subject_region"],
        f"complaint #{row['id']} about {row['subject_kind']} {row['subject_code']} closed as "
        f"substantiated on {row['closed_on']}", "a substantiated complaint opens a case", 0,
        {"complaint_id": row["id"], "subject": f"{row['subject_kind']}:{row['subject_code']}",
         "closed_on": row["closed_on"], "log_index": row["log_index"]})
        for row in substantiated_complaints(ctx.session)]


@rule("CHK-01", "入户核查发现问题", "Field check found a discrepancy",
      severity="high", method="recorded",
      why="An inspector's visit to a household drawn at random found that what it received or "
          "its situation differs from the books.",
      basis="随机抽查 / 第三方评估 (DOMAIN.md §5); docs/oversight.md",
      next_action="Compare the visit record with the household's payments; confirm or dismiss.",
      settings=(), not_planted=RECORDED_NOT_PLANTED)
def chk01_field_check_discrepancy(ctx: ScanContext) -> list[Finding]:
    return [Finding(
        "CHK-01", "household", f"{row['sample']}:{row['household']}", row["county"],
        f"field check of {row['household']} on {row['visited_on']} found a discrepancy",
        "what the household confirms matches the books", 0,
        {"sample": row["sample"], "household": row["household"], "details": row["details"],
         "visited_on": row["visited_on"], "log_index": row["log_index"]})
        for row in discrepancies(ctx.session)]
