"""The server's clock: when the ledger records something, as opposed to the dates people type.

The audit log stamps every entry with `now()` (ledger.audit.log), and the rules that must not
be typed away compare against the same clock: a roll's publicity window (公示) counts from the
day its publication was recorded (ledger.rolls.lifecycle), whatever date was typed for it.

A synthetic world (the demo, tests, the scenario loader) lives through a year in seconds: it
records each step `at` the day the step happens, so that its log reads as if the clerks had
recorded everything on the day. Nothing in a deployment's settings or environment reaches it;
it is a context manager for code that builds such a world in its own process.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Iterator

_simulated: list[dt.datetime] = []   # innermost `at` last


def now() -> dt.datetime:
    """The current time, UTC."""
    if _simulated:
        return _simulated[-1]
    return dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    """The server's date (its local calendar day), as `day_of` gives it for `now()`."""
    return day_of(now())


def day_of(moment: dt.datetime) -> dt.date:
    """The server's local calendar day of a recorded time (a naive time is UTC: SQLite
    hands stored times back without their zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone().date()


@contextmanager
def at(day: dt.date | dt.datetime) -> Iterator[dt.datetime]:
    """Run a synthetic world's step on `day` (noon, server time): everything recorded inside
    is stamped then. Never used by a command a person runs against real books."""
    if not isinstance(day, dt.datetime):
        day = dt.datetime.combine(day, dt.time(12, 0)).astimezone()
    moment = day.astimezone(dt.timezone.utc)
    _simulated.append(moment)
    try:
        yield moment
    finally:
        _simulated.pop()
