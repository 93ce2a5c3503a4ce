"""The mainland working-day calendar (工作日): weekends, public holidays and make-up workdays.

Publicity windows are counted in working days ("公示7个工作日"), and alert STA-03 asks whether an
entry was made on a day off. The State Council publishes each year's holidays and the
weekend days worked in exchange (调休) only in the December before, so no formula gives them:
we use the `chinesecalendar` package, which carries the published tables (2004 onward, updated
each year). For a year it does not yet know we fall back to Monday–Friday and say so through
`known_year`, so callers can tell a user the count may be off by the year's holidays.
"""
from __future__ import annotations

import datetime as dt

import chinese_calendar


def known_year(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
        return True
    except NotImplementedError:
        return False


def is_working_day(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The `count`-th working day after `start` (not counting `start` itself)."""
    day, counted = start, 0
    while counted < count:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
