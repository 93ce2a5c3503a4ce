"""Rules fed by the oversight channels (DOMAIN.md §5): complaints and field checks.

G6: a complaint past its deadline (to close, or to answer a named complainant). CMP-01: a
complaint the handling officer closed as substantiated — the seeds' rule is that it opens a
misuse case. CHK-01: a field check (入户核查) found that what the household says differs from
the books. The facts come from ledger.oversight.complaints and ledger.oversight.sampling, which already run one
set-based query each; the complainant's identity never reaches an alert.
"""
from __future__ import annotations

from ledger.screening.finding import Finding
from ledger.alerts.base import ScanContext
from ledger.oversight.complaints import overdue_complaints, substantiated_complaints
from ledger.oversight.sampling import discrepancies


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


def cmp01_substantiated_complaint(ctx: ScanContext) -> list[Finding]:
    return [Finding(
        "CMP-01", "complaint", str(row["id"]), row["subject_region"],
        f"complaint #{row['id']} about {row['subject_kind']} {row['subject_code']} closed as "
        f"substantiated on {row['closed_on']}", "a substantiated complaint opens a case", 0,
        {"complaint_id": row["id"], "subject": f"{row['subject_kind']}:{row['subject_code']}",
         "closed_on": row["closed_on"], "log_index": row["log_index"]})
        for row in substantiated_complaints(ctx.session)]


def chk01_field_check_discrepancy(ctx: ScanContext) -> list[Finding]:
    return [Finding(
        "CHK-01", "household", f"{row['sample']}:{row['household']}", row["county"],
        f"field check of {row['household']} on {row['visited_on']} found a discrepancy",
        "what the household confirms matches the books", 0,
        {"sample": row["sample"], "household": row["household"], "details": row["details"],
         "visited_on": row["visited_on"], "log_index": row["log_index"]})
        for row in discrepancies(ctx.session)]
