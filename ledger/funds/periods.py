"""Fiscal periods (会计期间, by month). Once closed, no entry may be dated inside one.

A month is closed for the whole ledger (by an administrator of the root region) or by one
county for its own books (by an administrator of that county or of a region above it): a
county finance bureau closes its month when its own books are done, whatever the others do.
A county's closure refuses entries of the county and of every region inside it; a ledger-wide
closure refuses every entry (`ledger.funds.posting.check_period_open`). Nothing reopens a
month: a voucher that arrives late is posted in an open month and keeps its own date.
"""
from __future__ import annotations

import re

from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError
from ledger.models import CountyPeriodClosure, PeriodClosure, RegionLevel, User
from ledger.org.regions import get_region
from ledger.store.access import Action, require, root_code

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def close_period(session: Session, actor: User, period: str,
                 county_code: str | None = None) -> PeriodClosure | CountyPeriodClosure:
    """Close a month for the whole ledger, or (`county_code`) for one county's books."""
    if not _PERIOD.match(period or ""):
        raise LedgerError(f"period {period!r} must be written YYYY-MM, e.g. 2024-03",
                          code="period_format", value=repr(period))
    if county_code is not None:
        return _close_for_county(session, actor, period, county_code)
    require(session, actor, Action.ADMINISTER, root_code(session))
    if session.get(PeriodClosure, period) is not None:
        raise LedgerError(f"period {period} is already closed", code="period_already_closed",
                          period=period)
    closure = PeriodClosure(period=period, closed_by=actor.id)
    with record_change(session, actor.username, "period.close") as change:
        closure.closed_at = change.time
        change.add(closure)
    return closure


def _close_for_county(session: Session, actor: User, period: str,
                      county_code: str) -> CountyPeriodClosure:
    county = get_region(session, county_code)
    if county.level is not RegionLevel.COUNTY:
        raise LedgerError(f"a month is closed for a county or the whole ledger; "
                          f"{county_code} is not a county", code="not_a_county",
                          region=county_code, level=county.level)
    require(session, actor, Action.ADMINISTER, county_code)
    # Closed for everyone already: a second, narrower closure would say nothing new.
    if session.get(PeriodClosure, period) is not None:
        raise LedgerError(f"period {period} is already closed", code="period_already_closed",
                          period=period)
    if session.get(CountyPeriodClosure, (period, county_code)) is not None:
        raise LedgerError(f"period {period} is already closed for county {county_code}",
                          code="period_already_closed", period=period, county=county_code)
    closure = CountyPeriodClosure(period=period, county_code=county_code, closed_by=actor.id)
    with record_change(session, actor.username, "period.close", county=county_code) as change:
        closure.closed_at = change.time
        change.add(closure)
    return closure
