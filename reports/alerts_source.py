"""Alerts for the county annual report, taken from ledger.alerts if it is there.

Alerts are another module's business (ledger/alerts/). The report asks it through one plain
function and needs nothing else from it, so either side can change freely:

    ledger.alerts.service.alerts_for_report(session, county_code: str, year: int) -> list[dict]

Each dict may hold: rule_id, title, status (open | investigating | confirmed | …),
amount_fen (int), subject (text naming the payee, project or account), opened (date or text).
Only open, investigating and confirmed alerts are listed. If ledger.alerts cannot be imported
or lacks the function, the report prints "暂无预警数据" (no alert data) instead.
"""
from __future__ import annotations

import importlib

LISTED = {"open": "待核查", "investigating": "核查中", "confirmed": "已确认"}


def load_complaint_stats(session, county_code: str, year: int, as_of) -> dict | None:
    """Complaint numbers of the year as of the publication date (so a reprint gives the same
    figures), from ledger.oversight.complaints if it is there. Like alerts, they are outside the
    rows digest: complaints are worked on after the notice is recorded."""
    try:
        from ledger.oversight.complaints import complaint_stats
    except ImportError:
        return None
    return complaint_stats(session, county_code, year, as_of=as_of)


def load_alerts(session, county_code: str, year: int) -> list[dict] | None:
    """The alerts to list, or None when there is no alert module to ask."""
    try:
        module = importlib.import_module("ledger.alerts.service")
    except ImportError:
        return None
    supplier = getattr(module, "alerts_for_report", None)
    if not callable(supplier):
        return None
    rows = [dict(r) for r in supplier(session, county_code, year)]
    return [r for r in rows if str(r.get("status", "open")) in LISTED]
