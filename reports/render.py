"""One entry point for every public document: find the published notice, prove it, lay it out."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ledger.core.config import DEFAULT_PUBLIC_URL
from ledger.disclosure.notices import printable
from ledger.models.disclosure import NoticeKind


def render_public(session: Session, kind: NoticeKind, subject: dict, policy, paper: str = "a4",
                  font_file: str = "", vault=None,
                  checkpoint_size: int | None = None,
                  public_url: str = DEFAULT_PUBLIC_URL) -> tuple[bytes, dict]:
    """(PDF bytes, facts about it) for the newest published notice on `subject`.

    The QR links to the verify page at `public_url` ([web] public_url).
    Raises LedgerError saying what to run when the notice is not published yet or no
    checkpoint meeting the policy covers it.
    """
    doc = printable(session, kind, subject, policy, vault, checkpoint_size, public_url)
    if kind is NoticeKind.PROJECT:
        from reports.notice import project_notice_pdf
        pdf = project_notice_pdf(doc, paper, font_file)
    elif kind is NoticeKind.ROLL:
        from reports.roll import roll_pdf
        pdf = roll_pdf(doc, paper, font_file)
    else:
        from reports.alerts_source import load_alerts, load_complaint_stats
        from reports.annual import county_annual_pdf
        county, year = subject["county"], int(subject["year"])
        alerts = load_alerts(session, county, year)
        stats = load_complaint_stats(session, county, year, doc.notice.display_from)
        pdf = county_annual_pdf(doc, alerts, paper, font_file, stats)
    info = {"notice_id": doc.notice.id, "log_index": doc.notice.log_index,
            "rows_digest": doc.notice.rows_digest, "checkpoint_size": doc.size,
            "fingerprint": doc.fingerprint, "qr_chars": len(doc.qr_text)}
    return pdf, info
