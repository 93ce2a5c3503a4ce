"""What a finance bureau works from (the staff home): spending progress against the year's
deadline, idle money, what waits for the actor's approval, rolls on the board.

Every function takes an actor and reads only their region and below, through the scoped reads
it is built on (`ledger.funds.balances.account_balances`, `ledger.funds.yearend.carried`,
`ledger.reading.scoped`), which check `Action.READ` themselves; `waiting_for` also asks whether
the actor's role approves at all (`Action.APPROVE`), so a clerk's home lists nothing to approve.

Spending progress (支出进度) of a lot in a scope is what reached payees (the payee accounts in
scope) against what the scope was given (what its units and projects still hold plus what they
paid out). Both are sums of the ledger's own balances, so the home agrees with the balances
page to the fen. The deadline is the year end of the lot's year (`yearend.year_end`: 31
December, the day carry-over is judged), and 时序进度 (how much of the year has passed) is
shown beside it, as finance bureaus compare the two.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.funds.balances import account_balances
from ledger.funds.yearend import carried, year_end
from ledger.models import (
    AccountKind,
    FundLot,
    PaymentRoll,
    Region,
    RegionLevel,
    RollEvent,
    RollEventKind,
    Transfer,
    User,
)
from ledger.reading import scoped
from ledger.rolls.lifecycle import publicity
from ledger.store.access import ROLE_ACTIONS, Action

HELD = (AccountKind.UNIT.value, AccountKind.PROJECT.value)
SPENT = AccountKind.PAYEE.value


@dataclass
class Progress:
    """One row of the progress table: a lot, a county (or a region's own level), or the total."""
    key: str
    label: str             # the lot's title, the county's name (or the region's, own_level)
    deadline: dt.date
    today: dt.date
    detail: str = ""       # a lot's document number and year
    own_level: bool = False  # a province or city's own units, not a county (本级)
    held_fen: int = 0      # still with units and projects in scope
    spent_fen: int = 0     # reached payees

    @property
    def allocated_fen(self) -> int:
        return self.held_fen + self.spent_fen

    @property
    def percent(self) -> float:
        """Spent as a share of allocated, in per cent with one decimal (0 when nothing came)."""
        if self.allocated_fen <= 0:
            return 0.0
        return round(100 * self.spent_fen / self.allocated_fen, 1)

    @property
    def days_left(self) -> int:
        """Days from today to the deadline (negative once it has passed)."""
        return (self.deadline - self.today).days


@dataclass
class Overview:
    year: int
    years: list[int]
    today: dt.date
    deadline: dt.date
    lots: list[Progress]
    counties: list[Progress]
    total: Progress

    @property
    def days_left(self) -> int:
        return (self.deadline - self.today).days

    @property
    def time_percent(self) -> float:
        """时序进度: the share of the year that has passed by today, in per cent."""
        start = dt.date(self.year, 1, 1)
        if self.today < start:
            return 0.0
        if self.today >= self.deadline:
            return 100.0
        return round(100 * ((self.today - start).days + 1) /
                     ((self.deadline - start).days + 1), 1)


def _region_tree(session: Session, actor: User) -> dict[str, Region]:
    return {r.code: r for r in scoped.regions_below(session, actor)}


def county_of(regions: dict[str, Region], code: str) -> str:
    """The county a region lies in (itself when a county); a region above county level, or
    one whose county is outside the scope, stands for itself."""
    seen = code
    while code in regions:
        if regions[code].level is RegionLevel.COUNTY:
            return code
        code = regions[code].parent_code
    return seen


def _name(regions: dict[str, Region], code: str) -> str:
    return regions[code].name if code in regions else code


def _own_level(regions: dict[str, Region], code: str) -> bool:
    return code in regions and regions[code].level in (RegionLevel.PROVINCE, RegionLevel.CITY)


def spending_progress(session: Session, actor: User, today: dt.date,
                      year: int | None = None) -> Overview:
    """Spending progress of the actor's scope for the lots of `year` (default: this year when
    the scope has lots of it, else its newest year), per lot and per county."""
    rows = [r for r in account_balances(session, actor)
            if r.kind in HELD or r.kind == SPENT]
    lots = {lot.id: lot for lot in session.execute(
        select(FundLot).where(FundLot.id.in_({r.lot_id for r in rows}))).scalars()}
    years = sorted({lot.year for lot in lots.values()})
    if year is None:
        year = today.year if today.year in years or not years else years[-1]
    deadline = year_end(year)
    regions = _region_tree(session, actor)
    by_lot: dict[int, Progress] = {}
    by_county: dict[str, Progress] = {}
    total = Progress("total", "", deadline, today)
    for r in rows:
        lot = lots[r.lot_id]
        if lot.year != year:
            continue
        county = county_of(regions, r.region)
        for row in (by_lot.setdefault(lot.id, Progress(str(lot.id), lot.title, deadline, today,
                                                       f"{lot.doc_number} · {lot.year}")),
                    by_county.setdefault(county, Progress(
                        county, _name(regions, county), deadline, today,
                        own_level=_own_level(regions, county))),
                    total):
            if r.kind == SPENT:
                row.spent_fen += r.balance
            else:
                row.held_fen += r.balance
    return Overview(year, years, today, deadline,
                    [by_lot[k] for k in sorted(by_lot)],
                    [by_county[k] for k in sorted(by_county)], total)


# ----------------------------------------------------------------------------- idle money

@dataclass
class IdleRow:
    key: str
    label: str
    balance_fen: int = 0
    idle_1y_fen: int = 0     # arrived more than a year ago and unspent (includes idle_2y_fen)
    idle_2y_fen: int = 0     # … more than two years ago: to be taken back for pooled use
    own_level: bool = False


@dataclass
class Idle:
    as_of: dt.date
    counties: list[IdleRow]
    accounts: list[IdleRow] = field(default_factory=list)   # the idle ones, oldest money first
    total: IdleRow | None = None


def idle_summary(session: Session, actor: User, today: dt.date, limit: int = 10) -> Idle:
    """Money a year and two years idle in scope (first in, first out, as the year-end
    statement ages it), per county, with the accounts holding most of it."""
    regions = _region_tree(session, actor)
    total = IdleRow("total", "")
    counties: dict[str, IdleRow] = {}
    accounts = []
    for c in carried(session, actor, today):
        county = county_of(regions, c.region)
        for row in (counties.setdefault(county, IdleRow(county, _name(regions, county),
                                                        own_level=_own_level(regions, county))),
                    total):
            row.balance_fen += c.balance_fen
            row.idle_1y_fen += c.idle_1y_fen
            row.idle_2y_fen += c.idle_2y_fen
        if c.idle_1y_fen > 0:
            name = _name(regions, c.holder) if c.kind == "unit" else c.holder
            accounts.append(IdleRow(f"{c.kind}:{c.holder}:{c.lot_id}", f"{name} · {c.lot}",
                                    balance_fen=c.balance_fen, idle_1y_fen=c.idle_1y_fen,
                                    idle_2y_fen=c.idle_2y_fen))
    accounts.sort(key=lambda r: (-r.idle_2y_fen, -r.idle_1y_fen, r.key))
    return Idle(today, [counties[k] for k in sorted(counties)], accounts[:limit], total)


# ----------------------------------------------------------------------------- rolls, approvals

@dataclass
class OnBoard:
    """A roll published and not yet approved, and the first day it may be approved."""
    roll: PaymentRoll
    county: str
    posted: dt.date
    earliest: dt.date
    today: dt.date

    @property
    def days_to_go(self) -> int:
        return max(0, (self.earliest - self.today).days)

    @property
    def ready(self) -> bool:
        return self.today >= self.earliest


def rolls_on_board(session: Session, actor: User, working_days: int,
                   today: dt.date) -> list[OnBoard]:
    """Rolls in scope on the village boards (公示中): published, not approved. `earliest` is
    the first day the ledger lets them be approved without the E3 mark: the window counted
    from the day the publication was recorded (ledger.rolls.lifecycle.publicity)."""
    regions = _region_tree(session, actor)
    rolls = scoped.rolls(session, actor)
    # one query for which rolls are published and not approved; only those are read further
    kinds: dict[int, set] = defaultdict(set)
    for roll_id, kind in session.execute(
            select(RollEvent.roll_id, RollEvent.kind).where(
                RollEvent.roll_id.in_([r.id for r in rolls]),
                RollEvent.kind.in_([RollEventKind.PUBLISHED, RollEventKind.APPROVED]))):
        kinds[roll_id].add(kind)
    found = []
    for roll in rolls:
        if kinds[roll.id] != {RollEventKind.PUBLISHED}:
            continue
        shown = publicity(session, roll, working_days)
        if shown is None or shown.approved is not None:
            continue
        found.append(OnBoard(roll, _name(regions, roll.county_code), shown.posted,
                             shown.earliest, today))
    return sorted(found, key=lambda b: (b.earliest, b.roll.code))


@dataclass
class Waiting:
    transfers: list[Transfer]
    rolls: list[OnBoard]


def waiting_for(session: Session, actor: User, working_days: int,
                today: dt.date) -> Waiting | None:
    """What waits for this actor's approval: pending transfers in scope and published rolls
    not yet approved, except what they recorded or created themselves (four eyes: they may not
    approve it). None when the actor's role does not approve (a clerk, an auditor)."""
    if Action.APPROVE not in ROLE_ACTIONS.get(actor.role, frozenset()):
        return None
    pending = [t for t, _ in scoped.transfers(session, actor, state="pending")
               if t.recorded_by != actor.id]
    rolls = [b for b in rolls_on_board(session, actor, working_days, today)
             if b.roll.created_by != actor.id]
    return Waiting(pending, rolls)

