"""Scoped reads for screens (the web app, reports): what an actor may see, and nothing more.

Every function that takes an actor checks `Action.READ` in the region it reads and limits
queries to the actor's region and below, so a county clerk cannot see another county's rows
whatever URL the screen offers. The public functions at the end take no actor: they return
only what the village board shows anyway (names as posted, amounts, masked card numbers).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Bundle, Session

from ledger.core.errors import NotFound
from ledger.funds.balances import descendants
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Decision,
    FundLot,
    Household,
    PaymentRoll,
    Posting,
    Project,
    ProjectEvent,
    ProjectStatus,
    Region,
    RegionLevel,
    RollEvent,
    RollEventKind,
    RollLine,
    Transfer,
    User,
)
from ledger.rolls.lifecycle import township_county, township_of_roll
from ledger.rolls.status import LineStatus, Status, line_statuses, reissued_from
from ledger.store.access import Action, require


def _scope(session: Session, actor: User, region_code: str | None = None):
    require(session, actor, Action.READ, region_code or actor.region_code)
    return descendants(session, actor.region_code)


# ----------------------------------------------------------------------------- transfers

def transfers(session: Session, actor: User, *, state: str | None = None,
              limit: int = 200) -> list[tuple[Transfer, Decision | None]]:
    """Transfers recorded in the actor's region and below, newest first, with their decision.
    state: None (all), "pending", "approved" or "rejected"."""
    scope = _scope(session, actor)
    stmt = (select(Transfer, Approval.decision)
            .outerjoin(Approval, Approval.transfer_id == Transfer.id)
            .where(Transfer.region_code.in_(scope)).order_by(Transfer.id.desc()).limit(limit))
    if state == "pending":
        stmt = stmt.where(Approval.id.is_(None))
    elif state in ("approved", "rejected"):
        stmt = stmt.where(Approval.decision == Decision(state))
    return [(t, d) for t, d in session.execute(stmt)]


def transfer(session: Session, actor: User, transfer_id: int) -> Transfer:
    row = session.get(Transfer, transfer_id)
    if row is None:
        raise NotFound(f"transfer #{transfer_id} does not exist", what="transfer",
                       key=transfer_id)
    require(session, actor, Action.READ, row.region_code)
    return row


@dataclass
class TransferNames:
    """What a person reads about transfers instead of codes: regions, users, payees, projects
    and lots by name, for a page of transfers (one statement per kind of name)."""
    regions: dict[str, str]
    users: dict[int, str]
    lots: dict[int, FundLot]
    holders: dict[tuple[str, str], str]           # (account kind, holder code) → name
    payees: dict[int, list[str]]                  # transfer id → who received its money
    approvals: dict[int, Approval]                # transfer id → its decision

    def holder(self, account) -> str:
        return self.holders.get((account.kind.value, account.holder_code), account.holder_code)

    def user(self, user_id: int | None) -> str:
        return self.users.get(user_id, "—") if user_id is not None else "—"


def transfer_names(session: Session, rows: list[Transfer]) -> TransferNames:
    """Names for `rows` (transfers the caller has already read in scope): the region each was
    recorded in, who recorded and who decided it, its lot (title and 文号), and the payees and
    projects its postings name."""
    from ledger.models import Payee
    ids = [t.id for t in rows]
    approvals = {a.transfer_id: a for a in session.execute(
        select(Approval).where(Approval.transfer_id.in_(ids))).scalars()} if ids else {}
    legs = session.execute(
        select(Posting.transfer_id, Account.kind, Account.holder_code, Account.region_code)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.transfer_id.in_(ids))).all() if ids else []
    by_kind: dict[AccountKind, set[str]] = {}
    for _tid, kind, holder, _region in legs:
        by_kind.setdefault(kind, set()).add(holder)
    region_codes = {t.region_code for t in rows} | by_kind.get(AccountKind.UNIT, set()) \
        | {region for *_, region in legs}
    regions = dict(session.execute(select(Region.code, Region.name)
                                   .where(Region.code.in_(region_codes))).all()) \
        if region_codes else {}
    holders: dict[tuple[str, str], str] = {}
    for code in by_kind.get(AccountKind.UNIT, ()):
        holders[(AccountKind.UNIT.value, code)] = regions.get(code, code)
    payee_codes = by_kind.get(AccountKind.PAYEE, set()) | by_kind.get(AccountKind.RECEIVABLE, set())
    if payee_codes:
        names = dict(session.execute(select(Payee.code, Payee.name)
                                     .where(Payee.code.in_(payee_codes))).all())
        for kind in (AccountKind.PAYEE, AccountKind.RECEIVABLE):
            for code in by_kind.get(kind, ()):
                if code in names:
                    holders[(kind.value, code)] = names[code]
    if by_kind.get(AccountKind.PROJECT):
        for code, name in session.execute(select(Project.code, Project.name).where(
                Project.code.in_(by_kind[AccountKind.PROJECT]))):
            holders[(AccountKind.PROJECT.value, code)] = name
    payees: dict[int, list[str]] = {}
    for tid, kind, holder, _region in legs:
        if kind is AccountKind.PAYEE:
            name = holders.get((kind.value, holder), holder)
            if name not in payees.setdefault(tid, []):
                payees[tid].append(name)
    user_ids = {t.recorded_by for t in rows} | {a.decided_by for a in approvals.values()}
    users = {uid: name or username for uid, username, name in session.execute(
        select(User.id, User.username, User.display_name).where(User.id.in_(user_ids)))} \
        if user_ids else {}
    lot_ids = {t.lot_id for t in rows}
    lots = {lot.id: lot for lot in session.execute(
        select(FundLot).where(FundLot.id.in_(lot_ids))).scalars()} if lot_ids else {}
    return TransferNames(regions, users, lots, holders, payees, approvals)


# ----------------------------------------------------------------------------- choices

def regions_below(session: Session, actor: User, levels=None) -> list[Region]:
    stmt = select(Region).where(Region.code.in_(_scope(session, actor))).order_by(Region.code)
    if levels:
        stmt = stmt.where(Region.level.in_(list(levels)))
    return list(session.execute(stmt).scalars())


def lots_held(session: Session, actor: User, holder_code: str,
              kind: AccountKind = AccountKind.UNIT) -> list[tuple[FundLot, int]]:
    """Lots in which `holder_code` (a unit's region or a project) has money available."""
    rows = session.execute(
        select(Account).where(Account.kind == kind, Account.holder_code == holder_code,
                              Account.region_code.in_(_scope(session, actor)))
        .order_by(Account.lot_id)).scalars().all()
    return [(a.lot, a.available) for a in rows if a.available > 0]


def projects(session: Session, actor: User) -> list[tuple[Project, ProjectStatus]]:
    scope = _scope(session, actor)
    stage = (select(ProjectEvent.status).where(ProjectEvent.project_code == Project.code,
                                               ProjectEvent.status != ProjectStatus.FILED)
             .order_by(ProjectEvent.id.desc()).limit(1).scalar_subquery())
    return [(p, s) for p, s in session.execute(
        select(Project, stage).where(Project.county_code.in_(scope)).order_by(Project.code))]


# ----------------------------------------------------------------------------- rolls

@dataclass
class RollView:
    roll: PaymentRoll
    lot: FundLot
    lines: list[tuple[RollLine, Household, str]]   # line, household, open/held/withdrawn
    events: list[RollEvent]
    # line id → what happened to its money (ledger.rolls.status): 待发放 … 补发
    statuses: dict[int, Status] = field(default_factory=dict)
    # household code → [(roll, line)] this roll pays again (a re-payment roll's lines)
    reissued: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def status(self, line) -> Status:
        return self.statuses.get(line.id, Status(LineStatus.PENDING))

    def reissue_of(self, line) -> tuple[str, int] | None:
        """(roll, line) a line of a re-payment roll pays again, if it is one."""
        found = self.reissued.get(line.household_code)
        return found[0] if found else None

    @property
    def line_count(self) -> int:
        return sum(1 for _, _, state in self.lines if state != "withdrawn")

    def count(self, kind: LineStatus | str) -> tuple[int, int]:
        """(lines, fen) of the lines in status `kind` (templates pass the value, 'paid')."""
        kind = LineStatus(kind)
        chosen = [line.amount_fen for line, _, _ in self.lines
                  if self.status(line).kind is kind]
        return len(chosen), sum(chosen)

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line, _, state in self.lines if state != "withdrawn")

    def has(self, kind: RollEventKind | str) -> bool:
        """Whether the roll has an event of `kind` (templates pass the value, 'approved')."""
        kind = RollEventKind(kind)
        return any(e.kind is kind for e in self.events)

    @property
    def published_on(self) -> dt.date | None:
        return next((e.effective_date for e in self.events
                     if e.kind is RollEventKind.PUBLISHED), None)


def rolls(session: Session, actor: User) -> list[PaymentRoll]:
    """The rolls an actor may read: of the counties in their scope, and for a township's
    clerk (乡镇经办) the county rolls of its own villages, which it prepares and publishes."""
    found = list(session.execute(select(PaymentRoll).where(
        PaymentRoll.county_code.in_(_scope(session, actor)))).scalars())
    county = township_county(session, actor)
    if county is not None:
        found += [r for r in session.execute(select(PaymentRoll).where(
            PaymentRoll.county_code == county.code)).scalars()
            if township_of_roll(session, actor, r)]
    return sorted(found, key=lambda r: r.id, reverse=True)


def roll(session: Session, actor: User | None, code: str) -> RollView:
    from ledger.rolls.lifecycle import get_roll, line_states
    row = get_roll(session, code)
    if actor is not None:
        require(session, actor, Action.READ, row.county_code)
    states = line_states(session, row)
    lines = session.execute(select(RollLine, Household).join(
        Household, Household.code == RollLine.household_code)
        .where(RollLine.roll_id == row.id).order_by(RollLine.line_no)).all()
    events = list(session.execute(select(RollEvent).where(RollEvent.roll_id == row.id)
                                  .order_by(RollEvent.id)).scalars())
    return RollView(row, session.get(FundLot, row.lot_id),
                    [(line, hh, states[line.id]) for line, hh in lines], events,
                    line_statuses(session, row, events), reissued_from(session, row))


def roll_summaries(session: Session, rolls: list[PaymentRoll]) -> dict[int, dict]:
    """roll id → {"lines", "total_fen", "step", "paid", "returned", "reissued"} for the roll
    list: its lines and amount (withdrawn lines left out), how far it went (the latest of
    published, approved, sent) and how many lines were paid, returned, and re-issued."""
    if not rolls:
        return {}
    from ledger.rolls.lifecycle import fold_line_events
    ids = [r.id for r in rolls]
    events_of: dict[int, list] = {i: [] for i in ids}
    for e in session.execute(select(RollEvent).where(RollEvent.roll_id.in_(ids))
                             .order_by(RollEvent.id)).scalars():
        events_of[e.roll_id].append(e)
    lines_of: dict[int, list] = {i: [] for i in ids}
    for line_id, roll_id, fen in session.execute(
            select(RollLine.id, RollLine.roll_id, RollLine.amount_fen)
            .where(RollLine.roll_id.in_(ids))):
        lines_of[roll_id].append((line_id, fen))
    result = {}
    for r in rolls:
        events = events_of[r.id]
        states = fold_line_events({i: "open" for i, _ in lines_of[r.id]}, events)
        kept = [(i, fen) for i, fen in lines_of[r.id] if states[i] != "withdrawn"]
        kinds = {e.kind for e in events}
        step = next((k.value for k in (RollEventKind.SENT, RollEventKind.APPROVED,
                                       RollEventKind.PUBLISHED) if k in kinds), "drafted")
        summary = {"lines": len(kept), "total_fen": sum(fen for _, fen in kept), "step": step,
                   "paid": 0, "returned": 0, "reissued": 0}
        if RollEventKind.SENT in kinds:
            statuses = line_statuses(session, r, events)
            summary["paid"] = sum(1 for s in statuses.values() if s.kind is LineStatus.PAID)
            summary["returned"] = sum(1 for s in statuses.values()
                                      if s.kind is LineStatus.RETURNED)
            summary["reissued"] = sum(1 for s in statuses.values()
                                      if s.kind is LineStatus.REISSUED)
        result[r.id] = summary
    return result


# ----------------------------------------------------------------------------- idle money

AGE_BUCKETS = ((90, "0–90"), (180, "91–180"), (365, "181–365"), (None, ">365"))


def idle_money(session: Session, actor: User, today: dt.date) -> list[dict]:
    """Money still held by units and projects, bucketed by days since it last moved."""
    scope = _scope(session, actor)
    approved = and_(Approval.transfer_id == Posting.transfer_id,
                    Approval.decision == Decision.APPROVED)
    rows = session.execute(
        select(Account.id, Account.kind, Account.holder_code, Account.lot_id,
               func.sum(Posting.amount_fen), func.max(Transfer.effective_date))
        .join(Posting, Posting.account_id == Account.id).join(Approval, approved)
        .join(Transfer, Transfer.id == Posting.transfer_id)
        .where(Account.kind.in_([AccountKind.UNIT, AccountKind.PROJECT]),
               Account.region_code.in_(scope))
        .group_by(Account.id, Account.kind, Account.holder_code, Account.lot_id)).all()
    result = []
    for _id, kind, holder, lot_id, held, last in rows:
        if not held or held <= 0:
            continue
        age = (today - last).days
        bucket = next(label for limit, label in AGE_BUCKETS if limit is None or age <= limit)
        result.append({"kind": kind.value, "holder": holder, "lot_id": lot_id,
                       "held_fen": int(held), "days": age, "bucket": bucket})
    return sorted(result, key=lambda r: -r["days"])


# ----------------------------------------------------------------------------- public

def village(session: Session, code: str) -> Region:
    region = session.get(Region, code)
    if region is None or region.level is not RegionLevel.VILLAGE:
        raise NotFound(f"village {code} does not exist", what="village", key=code)
    return region


def villages(session: Session) -> list[tuple[Region, Region]]:
    """Every village with its county, for the public index."""
    town = Region.__table__.alias("town")
    county = Region.__table__.alias("county")
    rows = session.execute(
        select(Region, county.c.name).join(town, town.c.code == Region.parent_code)
        .join(county, county.c.code == town.c.parent_code)
        .where(Region.level == RegionLevel.VILLAGE).order_by(Region.code)).all()
    return [(r, name) for r, name in rows]


def public_region(session: Session, code: str, level: RegionLevel) -> Region:
    """A county or township for the public index pages (not found when of another level)."""
    region = session.get(Region, code)
    if region is None or region.level is not level:
        raise NotFound(f"{level.value} {code} does not exist", what=level.value, key=code)
    return region


def counties(session: Session) -> list[tuple[Region, str | None]]:
    """Every county with the name of the region above it (its city), for the public index."""
    above = Region.__table__.alias("above")
    return [(r, name) for r, name in session.execute(
        select(Region, above.c.name).outerjoin(above, above.c.code == Region.parent_code)
        .where(Region.level == RegionLevel.COUNTY).order_by(Region.code))]


def townships_with_villages(session: Session,
                            county_code: str) -> list[tuple[Region, list[Region]]]:
    """A county's townships, each with its villages, in code order (one statement each)."""
    towns = list(session.execute(select(Region).where(
        Region.parent_code == county_code, Region.level == RegionLevel.TOWNSHIP)
        .order_by(Region.code)).scalars())
    villages_of: dict[str, list[Region]] = {t.code: [] for t in towns}
    if towns:
        for v in session.execute(select(Region).where(
                Region.parent_code.in_(list(villages_of)), Region.level == RegionLevel.VILLAGE)
                .order_by(Region.code)).scalars():
            villages_of[v.parent_code].append(v)
    return [(t, villages_of[t.code]) for t in towns]


def village_path(session: Session, code: str) -> tuple[Region, Region | None, Region | None]:
    """(village, its township, its county) for the village page's navigation."""
    village_row = village(session, code)
    town = session.get(Region, village_row.parent_code) if village_row.parent_code else None
    county = session.get(Region, town.parent_code) if town and town.parent_code else None
    return village_row, town, county


# What the board prints of a line and of its household: village_rolls reads these columns
# as plain rows. As ORM objects, a village's ≈ 140 lines took 2.9 ms to load, as rows 1.2 ms
# (docs/performance.md, figure 6) — the page is drawn again each time the log grows.
_BOARD_LINE = Bundle("line", RollLine.id, RollLine.roll_id, RollLine.line_no,
                     RollLine.quantity, RollLine.amount_fen, RollLine.item,
                     RollLine.quantity_centi, RollLine.household_code)
_BOARD_HOUSEHOLD = Bundle("household", Household.head_name, Household.bank_card_last4)
# comment: a re-payment's event names the roll that pays the line again
_BOARD_EVENT = (RollEvent.roll_id, RollEvent.kind, RollEvent.line_id, RollEvent.effective_date,
                RollEvent.comment)


def village_rolls(session: Session, code: str) -> list[tuple[RollView, list]]:
    """Published rolls with the lines of this village's households, as on the board.

    Reads only this village's lines (roll_lines joined to households on village_code), never
    the rest of a county's roll: each view's `lines` are this village's lines in every state,
    and the list beside it the ones the board shows (not withdrawn). A line's state comes from
    the roll's events in order, as `ledger.rolls.lifecycle.line_states` computes it for the
    whole roll.

    Read-only rows, not ORM objects: a line and its household carry the columns the board
    prints (`_BOARD_LINE`, `_BOARD_HOUSEHOLD`), an event its roll, kind, line and date; the
    roll and its lot are the ORM rows.
    """
    from ledger.rolls.lifecycle import fold_line_events
    rows = session.execute(
        select(_BOARD_LINE, _BOARD_HOUSEHOLD)
        .join(Household, Household.code == RollLine.household_code)
        .where(Household.village_code == code)
        .order_by(RollLine.roll_id, RollLine.line_no)).all()
    lines_of: dict[int, list] = {}
    for line, hh in rows:
        lines_of.setdefault(line.roll_id, []).append((line, hh))
    if not lines_of:
        return []
    events_of: dict[int, list] = {roll_id: [] for roll_id in lines_of}
    for event in session.execute(select(*_BOARD_EVENT)
                                 .where(RollEvent.roll_id.in_(list(lines_of)))
                                 .order_by(RollEvent.id)):
        events_of[event.roll_id].append(event)
    result = []
    for roll_row in session.execute(select(PaymentRoll).where(PaymentRoll.id.in_(list(lines_of)))
                                    .order_by(PaymentRoll.id.desc())).scalars():
        events = events_of[roll_row.id]
        if not any(e.kind is RollEventKind.PUBLISHED for e in events):
            continue
        states = fold_line_events({line.id: "open" for line, _ in lines_of[roll_row.id]}, events)
        mine = [(line.id, line.line_no) for line, _ in lines_of[roll_row.id]]
        view = RollView(roll_row, session.get(FundLot, roll_row.lot_id),
                        [(line, hh, states[line.id]) for line, hh in lines_of[roll_row.id]],
                        events, line_statuses(session, roll_row, events, mine),
                        reissued_from(session, roll_row))
        result.append((view, [(line, hh, state) for line, hh, state in view.lines
                              if state != "withdrawn"]))
    return result


def village_projects(session: Session, code: str) -> list[tuple[Project, ProjectStatus]]:
    """The county's approved projects (project notices name the county's library)."""
    county = session.execute(
        select(Region.parent_code).where(Region.code == village(session, code).parent_code)
    ).scalar_one()
    stage = (select(ProjectEvent.status).where(ProjectEvent.project_code == Project.code,
                                               ProjectEvent.status != ProjectStatus.FILED)
             .order_by(ProjectEvent.id.desc()).limit(1).scalar_subquery())
    shown = {ProjectStatus.APPROVED, ProjectStatus.IMPLEMENTING, ProjectStatus.ADJUSTED,
             ProjectStatus.ACCEPTED, ProjectStatus.CLOSED}
    return [(p, s) for p, s in session.execute(
        select(Project, stage).where(Project.county_code == county).order_by(Project.code))
        if s in shown]


def masked_card(last4: str | None) -> str:
    """A card number as the board shows it: only the last four digits."""
    return f"****{last4}" if last4 else "—"


def require_whole_log(session: Session, actor: User, action: Action = Action.AUDIT) -> None:
    """The audit log covers the whole ledger, so its pages (verification, the bundle, proofs
    of any entry) are for auditors whose scope is the root region."""
    roots = session.execute(select(Region.code).where(Region.parent_code.is_(None))).scalars()
    for code in roots:
        require(session, actor, action, code)
