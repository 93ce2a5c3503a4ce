"""Fiscal periods (会计期间, by month). Once closed, no entry may be dated inside one."""
from __future__ import annotations

import re

from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError
from ledger.models import PeriodClosure, User
from ledger.store.access import Action, require, root_code

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def close_period(session: Session, actor: User, period: str) -> PeriodClosure:
    """Close a month for the whole ledger; only an administrator of the root region may."""
    if not _PERIOD.match(period or ""):
        raise LedgerError(f"period {period!r} must be written YYYY-MM, e.g. 2024-03",
                          code="period_format", value=repr(period))
    require(session, actor, Action.ADMINISTER, root_code(session))
    if session.get(PeriodClosure, period) is not None:
        raise LedgerError(f"period {period} is already closed", code="period_already_closed",
                          period=period)
    closure = PeriodClosure(period=period, closed_by=actor.id)
    with record_change(session, actor.username, "period.close") as change:
        closure.closed_at = change.time
        change.add(closure)
    return closure
