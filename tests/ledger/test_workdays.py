"""Publicity windows count mainland working days: holidays off, make-up workdays on."""
from __future__ import annotations

import datetime as dt

from ledger.core import workdays
from ledger.rolls.lifecycle import publicity_ends


def test_national_day_week_is_not_counted_and_a_make_up_saturday_is():
    # 2024: 1–7 October off; Sunday 29 September and Saturday 12 October were workdays.
    assert not workdays.is_working_day(dt.date(2024, 10, 2))
    assert workdays.is_working_day(dt.date(2024, 10, 12))
    assert workdays.is_working_day(dt.date(2024, 9, 29))
    # Posted Monday 30 September: working days 8, 9, 10, 11, 12 (Sat), 14, 15 October.
    assert publicity_ends(dt.date(2024, 9, 30), 7) == dt.date(2024, 10, 16)


def test_an_ordinary_week_counts_monday_to_friday():
    assert publicity_ends(dt.date(2024, 3, 18), 7) == dt.date(2024, 3, 28)


def test_a_year_without_published_holidays_falls_back_to_weekdays():
    year = 2100
    assert not workdays.known_year(year)
    assert workdays.known_year(2024)
    monday = dt.date(year, 3, 1) + dt.timedelta(days=(0 - dt.date(year, 3, 1).weekday()) % 7)
    assert workdays.add_working_days(monday, 5) == monday + dt.timedelta(days=7)
