"""Printed public documents (reportlab): notice.py, roll.py, annual.py, card.py lay out the
content that ledger.disclosure.content computes; layout.py and fonts.py are shared; render.py is
the one entry point for public documents; cli.py is `fundtrail report` (docs/reports.md)."""
