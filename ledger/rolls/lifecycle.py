"""Household payment rolls (公示清册): publish, hold on objection, approve, send, reconcile.

1. A clerk creates a roll: one item (e.g. 产业奖补) at a standard per unit, one line per
   household (standard × quantity), from one lot's money at one county. Households that were
   removed (清退) or cancelled (注销) cannot be on a roll. A clerk of the county (or above)
   may put any household of the county on it; a clerk of one of its townships (乡镇经办)
   prepares a roll of the county whose every line is a household of the township's villages
   (`township_preparing`).
2. It is published (公示) on the village board, by the county or by the township whose
   villages hold every line of it. An objection holds its line until the county
   dismisses it (the line may be paid) or upholds it (the line is withdrawn for good).
3. After the publicity window (working days from configuration) an approver who did not create
   it approves it (invariant 9 and maker–checker).
4. Sending records one pending payment per line that is neither held nor withdrawn, under the
   key `roll:<code>:<line>`, and produces the bank file.
5. The bank's result file posts each paid line (approval, with the bank's voucher) and rejects
   each failed one (退票), which releases its money back to the county's share of the lot; it can
   be re-paid by a new roll made from the returned lines (`repay_roll`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.entries import decode_entry, image_template, table_record
from ledger.audit.log import lock_head, record_change
from ledger.core import clock
from ledger.core.classification import check_spending
from ledger.core.errors import IdempotencyConflict, LedgerError, MakerChecker, NotFound
from ledger.core.idcard import matching_form
from ledger.core.quantity import amount_fen as quantity_amount
from ledger.core.workdays import add_working_days
from ledger.funds.lots import get_lot
from ledger.funds.posting import check_amount, check_date
from ledger.funds.projects import get_project
from ledger.funds.refusals_log import attempting
from ledger.households.cards import cards_for_lines
from ledger.models import (
    Account,
    AccountKind,
    AuditEntry,
    FundLot,
    Household,
    HouseholdEvent,
    HouseholdStatus,
    Member,
    PaymentRoll,
    Region,
    RegionLevel,
    RollEvent,
    RollEventKind,
    RollLine,
    User,
)
from ledger.models.rolls import StandardPer, StandardTier
from ledger.org.regions import get_region
from ledger.rolls import payments as roll_payments
from ledger.rolls.payments import add_event, failed_lines, get_roll, transfer_of  # noqa: F401
from ledger.rolls.settlement import apply_bank_result  # noqa: F401
from ledger.rolls.standards import standards_in_force
from ledger.screening.at_posting import refuse_blacklisted
from ledger.store.access import ROLE_ACTIONS, Action, ancestors, in_scope, require
from ledger.store.bulk import collector_paused
from ledger.store.db import bind_value, insert_tuples, marker, new_ids

INELIGIBLE = frozenset({HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED})
# The others, as the database stores them (text), for the checks of a roll's lines.
_PAYABLE_STATUS = frozenset(s.value for s in HouseholdStatus if s not in INELIGIBLE)


@dataclass(frozen=True)
class LineSpec:
    """One line as a lines file or a caller gives it (docs/formats.md, "Payment rolls").

    `quantity` is in hundredths (2.5 亩 is 250). Without item, tier, year, member and amount,
    and with a whole quantity, it is a line of the first form: the roll's item at the roll's
    standard, exactly as a (household, whole quantity) pair."""
    household: str
    quantity: int = 100
    item: str | None = None
    tier: StandardTier | str | None = None
    year: int | None = None
    member_id: int | None = None
    member_id_number: str | None = None
    amount_fen: int | None = None

    @property
    def first_form(self) -> bool:
        return (self.item is None and self.tier is None and self.year is None
                and self.member_id is None and self.member_id_number is None
                and self.amount_fen is None and self.quantity % 100 == 0)


@dataclass
class _Line:
    """A line resolved against the roll and the standards table, as it is stored."""
    household: str
    quantity: int | None          # whole units (first form)
    amount: int
    item: str | None = None
    tier: str | None = None
    year: int | None = None
    member_id: int | None = None
    centi: int | None = None
    standard_id: int | None = None
    standard_fen: int | None = None
    computed: int | None = None
    per: StandardPer | None = None   # of the standard applied (not stored on the line)
    card_id: int | None = None       # the register card paid (None: the card of registration)

    def key(self) -> list:
        if self.centi is None:
            return [self.household, self.quantity]
        return [self.household, self.item, self.tier, self.year, self.member_id, self.centi,
                self.standard_id, self.amount]


def create_roll(session: Session, actor: User, *, code: str, lot_id: int, county_code: str,
                item: str | None, function_code: str, use_code: str, standard_fen: int | None,
                lines: list, as_of: dt.date, vault=None,
                project_code: str | None = None) -> PaymentRoll:
    """Create a roll (idempotent by code: the same roll again returns it).

    `lines` are (household code, whole quantity) pairs or `LineSpec`s. A line of the first
    form is the roll's `item` at `standard_fen` × quantity. Any other line is priced from the
    standards table (county, item, tier, year; tier 一般户 and the year of `as_of` when not
    given), its amount standard × quantity rounded half-up unless the line gives the amount
    as the county kept it (then recorded as given, with the standard and the computed amount
    beside it). `vault` is needed only when lines name members by ID number. `project_code`
    names the county's household-programme project the roll pays from (its share of the lot,
    put there by `fund-project`), instead of the county's own share."""
    first_form = standard_fen is not None and bool(item) and all(
        isinstance(x, tuple) or x.first_form for x in lines)
    if first_form:
        pairs = [x if isinstance(x, tuple) else (x.household, x.quantity // 100) for x in lines]
    # Under the log lock, as posting.replay: two identical concurrent calls then both return
    # the one roll instead of the second failing on the unique code.
    lock_head(session)
    if first_form:
        digest = _content_digest(lot_id, county_code, item, function_code, use_code,
                                 standard_fen, pairs, project_code)
        existing = _existing(session, code)
        if existing is not None:
            # Scope before the answer: another county learns nothing of this roll.
            require(session, actor, Action.RECORD,
                    township_preparing(session, actor, existing.county_code)
                    or existing.county_code)
            return _same_or_conflict(session, existing, digest)
    if standard_fen is not None:
        check_amount(standard_fen, "standard")
    lot = get_lot(session, lot_id)
    check_spending(lot, function_code, use_code)
    region = get_region(session, county_code)
    if region.level is not RegionLevel.COUNTY:
        raise LedgerError(f"rolls are paid by a county; {county_code} is not one",
                          code="not_a_county", region=county_code, level=region.level)
    # A township's clerk prepares the county's roll of its own villages: scope is the
    # township, and every line is checked against it below (roll_line_outside_township).
    township = township_preparing(session, actor, county_code)
    require(session, actor, Action.RECORD, township or county_code)
    if not lines:
        raise LedgerError("a roll needs at least one household line", code="roll_empty")
    if project_code is not None:
        _check_project(session, project_code, county_code, function_code)
    with collector_paused():  # tens of thousands of lines (ledger.store.bulk)
        if first_form:
            _same_standard(1, pairs[0][0], standards_in_force(session, county_code), item,
                           StandardTier.BASIC, as_of.year, standard_fen)
            _check_lines(session, pairs, county_code, as_of, township=township)
            # the roll's own item is paid per household: to the household card open on as_of
            cards = cards_for_lines(session, [(h, None, False) for h, _ in pairs], as_of)
            return _insert_roll(session, actor, code, lot_id, county_code, item, function_code,
                                use_code, standard_fen, pairs, [c.card_id for c in cards],
                                project_code=project_code, as_of=as_of)
        resolved = _resolve(session, lines, county_code, item, standard_fen, as_of, vault)
        roll_item = item or _roll_item(resolved)
        digest = _content_digest(lot_id, county_code, roll_item, function_code, use_code,
                                 standard_fen or 0, [x.key() for x in resolved], project_code)
        existing = _existing(session, code)
        if existing is not None:
            return _same_or_conflict(session, existing, digest)
        _check_lines(session, [(x.household, x.quantity) for x in resolved], county_code,
                     as_of, duplicates=False, township=township)
        for x, paid in zip(resolved, cards_for_lines(session, [
                (x.household, x.member_id, x.per is StandardPer.PERSON
                 or (x.per is None and x.member_id is not None)) for x in resolved], as_of)):
            x.card_id = paid.card_id
        return _insert_resolved(session, actor, code, lot_id, county_code, roll_item,
                                function_code, use_code, standard_fen or 0, resolved,
                                project_code=project_code, as_of=as_of)


def township_preparing(session: Session, actor: User | None, county_code: str) -> str | None:
    """The township whose villages' lines `actor` prepares for a roll of `county_code`: the
    actor's own region when it is a township of that county (乡镇经办). None when the actor's
    scope covers the county (the county's rules apply as they are) or the actor works anywhere
    else (then the county's scope check refuses them). The role is checked by `require`."""
    if actor is None or in_scope(session, actor, county_code):
        return None
    region = session.get(Region, actor.region_code)
    if region is None or region.level is not RegionLevel.TOWNSHIP:
        return None
    return actor.region_code if county_code in ancestors(session, actor.region_code) else None


def township_of_roll(session: Session, actor: User | None, roll: PaymentRoll) -> str | None:
    """The actor's township when the actor works for a township of the roll's county and every
    line of the roll is a household of its villages (the roll it may prepare and publish, and
    read whole); None otherwise."""
    township = township_preparing(session, actor, roll.county_code)
    if township is None:
        return None
    villages = session.execute(
        select(Household.village_code).distinct()
        .join(RollLine, RollLine.household_code == Household.code)
        .where(RollLine.roll_id == roll.id)).scalars().all()
    return township if all(township in ancestors(session, v) for v in villages) else None


def township_county(session: Session, actor: User) -> Region | None:
    """The county a township clerk prepares rolls for (its township's county), or None when the
    actor does not work for a township."""
    region = session.get(Region, actor.region_code)
    if region is None or region.level is not RegionLevel.TOWNSHIP:
        return None
    for code in ancestors(session, region.code)[1:]:
        above = session.get(Region, code)
        if above is not None and above.level is RegionLevel.COUNTY:
            return above
    return None


def county_lots(session: Session, actor: User, county_code: str) -> list[tuple[FundLot, int]]:
    """(lot, fen available) of the county's own share of each lot: what a roll of
    `county_code` may pay from, for a clerk who may prepare it (the county's or a township's)."""
    require(session, actor, Action.RECORD,
            township_preparing(session, actor, county_code) or county_code)
    rows = session.execute(select(Account).where(
        Account.kind == AccountKind.UNIT, Account.holder_code == county_code)
        .order_by(Account.lot_id)).scalars().all()
    return [(a.lot, a.available) for a in rows if a.available > 0]


def _existing(session, code) -> PaymentRoll | None:
    return session.execute(select(PaymentRoll).where(PaymentRoll.code == code)) \
        .scalar_one_or_none()


def _same_or_conflict(session, existing, digest) -> PaymentRoll:
    if _digest_of(session, existing) != digest:
        raise IdempotencyConflict(f"payment roll {existing.code!r} exists (log entry "
                                  f"{existing.log_index}) with other content",
                                  code="roll_code_reused", roll=existing.code,
                                  log_index=existing.log_index)
    return existing


def _roll_item(resolved) -> str:
    """A roll of several items is titled by them, in order of first appearance."""
    items = list(dict.fromkeys(x.item for x in resolved))
    title = "、".join(items)
    return title if len(title) <= 100 else f"{items[0][:90]}等{len(items)}项"


def _resolve(session, specs, county_code, item, standard_fen, as_of, vault) -> list[_Line]:
    """Price each line (see `create_roll`); the first line that cannot be is refused."""
    in_force = standards_in_force(session, county_code)
    members = _members_named(session, specs, vault)
    out, seen = [], {}
    for number, spec in enumerate(specs, start=1):
        if isinstance(spec, tuple):
            household, quantity = spec
            _whole_quantity(number, household, quantity)
            spec = LineSpec(household, quantity * 100)
        where = f"line {number} ({spec.household})"
        if isinstance(spec.quantity, bool) or not isinstance(spec.quantity, int) \
                or spec.quantity < 1:
            raise LedgerError(f"{where}: quantity must be a positive number of hundredths, "
                              f"got {spec.quantity!r}", code="roll_line_quantity", line=number,
                              household=spec.household, value=repr(spec.quantity))
        if spec.first_form and standard_fen is not None and item:
            _same_standard(number, spec.household, in_force, item, StandardTier.BASIC,
                           as_of.year, standard_fen)
            line = _Line(spec.household, spec.quantity // 100,
                         standard_fen * (spec.quantity // 100))
            key = (spec.household, item, None)
        else:
            line = _price(number, spec, in_force, members, county_code, item, standard_fen,
                          as_of)
            # per-household items once per household and item; per-person ones per member
            key = (spec.household, line.item,
                   None if line.per is StandardPer.HOUSEHOLD else line.member_id)
        if key in seen:
            raise LedgerError(f"{where}: the household is on the roll twice for this item "
                              f"(line {seen[key]})", code="roll_line_duplicate", line=number,
                              household=spec.household)
        seen[key] = number
        out.append(line)
    return out


def _same_standard(number, household, in_force, item, tier, year, roll_standard) -> None:
    """A roll's own --standard must agree with the standards table where the table has the
    item: otherwise one roll would pay a whole-unit line at --standard and a decimal line of
    the same item at the table's standard, and nobody would see that it pays two rates."""
    row = in_force.get((item, tier, year))
    if row is not None and row.standard_fen != roll_standard:
        raise LedgerError(f"line {number} ({household}): --standard gives {roll_standard} fen "
                          f"for {item}, but the county's standard for {tier.value}, {year} is "
                          f"{row.standard_fen} fen", code="roll_standard_differs", line=number,
                          household=household, item=item, tier=tier.value, year=year,
                          standard_fen=row.standard_fen, roll_standard_fen=roll_standard)


def _price(number, spec, in_force, members, county_code, roll_item, roll_standard,
           as_of) -> _Line:
    where = f"line {number} ({spec.household})"
    item = spec.item or roll_item
    if not item:
        raise LedgerError(f"{where}: the line names no item and the roll has none",
                          code="roll_line_no_item", line=number, household=spec.household)
    tier = StandardTier(spec.tier) if spec.tier is not None else StandardTier.BASIC
    year = spec.year if spec.year is not None else as_of.year
    member_id = None
    if spec.member_id is not None or spec.member_id_number is not None:
        member_id = members.get((spec.household, spec.member_id, spec.member_id_number))
        if member_id is None:
            raise LedgerError(f"{where}: the member named is not a member of the household",
                              code="roll_line_member_unknown", line=number,
                              household=spec.household)
    row = in_force.get((item, tier, year))
    standard_id = standard = None
    if row is not None:
        if item == roll_item and roll_standard:
            _same_standard(number, spec.household, in_force, item, tier, year, roll_standard)
        standard_id, standard = row.id, row.standard_fen
        if row.per is StandardPer.PERSON and member_id is None:
            raise LedgerError(f"{where}: {item} is paid per person; the line must name the "
                              "member", code="roll_line_member_needed", line=number,
                              household=spec.household, item=item)
    elif item == roll_item and roll_standard:
        standard = roll_standard     # the roll's own standard, given with --standard
    elif spec.amount_fen is None:
        raise LedgerError(f"{where}: no standard for {item} ({tier.value}, {year}) in county "
                          f"{county_code}, and the line gives no amount",
                          code="roll_line_no_standard", line=number, household=spec.household,
                          item=item, tier=tier.value, year=year, county=county_code)
    computed = quantity_amount(standard, spec.quantity) if standard is not None else None
    amount = spec.amount_fen if spec.amount_fen is not None else computed
    check_amount(amount, f"line {number} amount")
    return _Line(spec.household, None, amount, item, tier.value, year, member_id,
                 spec.quantity, standard_id, standard, computed,
                 row.per if row is not None else None)


def _members_named(session, specs, vault) -> dict:
    """(household, member id, ID number) → member id, for the members the lines name."""
    ids = {s.member_id for s in specs if isinstance(s, LineSpec) and s.member_id is not None}
    numbers = {s.member_id_number for s in specs
               if isinstance(s, LineSpec) and s.member_id_number is not None}
    out = {}
    if ids:
        for start in range(0, len(ids), roll_payments.CHUNK):
            chunk = sorted(ids)[start:start + roll_payments.CHUNK]
            for member_id, household in session.execute(
                    select(Member.id, Member.household_code).where(Member.id.in_(chunk))):
                out[(household, member_id, None)] = member_id
    if numbers:
        if vault is None:
            raise LedgerError("lines that name members by ID number need the personal-data keys "
                              "(FUNDTRAIL_PII_KEYS)", code="import_needs_pii_keys",
                              kind="roll_lines")
        digests = {}
        for number in numbers:
            try:
                digests[vault.digest(matching_form(number))] = number
            except ValueError:
                continue   # not an ID number: matches nobody
        keys = sorted(digests)
        for start in range(0, len(keys), roll_payments.CHUNK):
            chunk = keys[start:start + roll_payments.CHUNK]
            for member_id, household, digest in session.execute(
                    select(Member.id, Member.household_code, Member.id_digest)
                    .where(Member.id_digest.in_(chunk))):
                out[(household, None, digests[digest])] = member_id
    return out


def _whole_quantity(number, household_code, quantity) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise LedgerError(f"line {number} ({household_code}): quantity must be a whole number "
                          f"≥ 1, got {quantity!r}", code="roll_line_quantity", line=number,
                          household=household_code, value=repr(quantity))


def _roll_row(actor, code, lot_id, county_code, item, function_code, use_code, standard_fen,
              project_code) -> PaymentRoll:
    """The roll's own row, as both forms of roll write it."""
    return PaymentRoll(code=code, lot_id=lot_id, county_code=county_code, item=item,
                       function_code=function_code, use_code=use_code,
                       standard_fen=standard_fen, created_by=actor.id,
                       project_code=project_code)


def _insert_roll(session, actor, code, lot_id, county_code, item, function_code, use_code,
                 standard_fen, lines, card_ids=None, project_code=None,
                 as_of=None) -> PaymentRoll:
    roll = _roll_row(actor, code, lot_id, county_code, item, function_code, use_code,
                     standard_fen, project_code)
    with record_change(session, actor.username, "roll.create",
                       **_dated(as_of)) as change:
        change.add(roll)
        session.flush()
        # Lines in with one DBAPI executemany, their images from a template in canonical key
        # order: a county's roll has tens of thousands (see ledger.rolls.payments).
        table = RollLine.__table__
        # A line paying a register card holds card_id in its row and image; the others are
        # written exactly as before the register (a late column: left out of the image).
        carded = any(card_ids or ())
        template = image_template(table, {"roll_id": roll.id, "log_index": change.index,
                                          **({"card_id": None} if carded else {})})
        rows = []
        roll_id, index, log_id = roll.id, change.index, change.log_id
        for line_id, (number, (household_code, quantity)) in zip(
                new_ids(session, table, len(lines)), enumerate(lines, start=1)):
            if change.full:  # a long roll is logged in parts (ledger.audit.log.Change)
                change.next_part()
                index = template["log_index"] = change.index
            if len(rows) == roll_payments.CHUNK:
                # Rows carry their part's index, so they go in a chunk of several parts at a
                # time (a part holds some 400 lines; a statement per part cost more).
                _insert_lines(session, table, carded, rows)
                rows = []
            amount = standard_fen * quantity
            row = (line_id, roll_id, number, household_code, quantity, amount, index, log_id)
            image = template.copy()
            image["id"] = line_id
            image["line_no"] = number
            image["household_code"] = household_code
            image["quantity"] = quantity
            image["amount_fen"] = amount
            if carded:
                card_id = card_ids[number - 1]
                row += (card_id,)
                if card_id is None:
                    del image["card_id"]
                else:
                    image["card_id"] = card_id
            rows.append(row)
            change.add_written((table.name, [line_id], 1, None, image))
        _insert_lines(session, table, carded, rows)
    return roll


def _insert_lines(session, table, carded, rows) -> None:
    insert_tuples(session, table, _LINE_COLUMNS + ["card_id"] if carded else _LINE_COLUMNS,
                  rows)


def _dated(as_of) -> dict:
    """The roll's own date, in its entry (`roll_date`): a publication is never dated before."""
    return {"roll_date": as_of.isoformat()} if as_of is not None else {}


_LINE_COLUMNS = ["id", "roll_id", "line_no", "household_code", "quantity", "amount_fen",
                 "log_index", "log_id"]
_ALL_LINE_COLUMNS = _LINE_COLUMNS + ["item", "tier", "year", "member_id", "quantity_centi",
                                     "standard_id", "standard_fen", "computed_fen", "card_id"]


def _insert_resolved(session, actor, code, lot_id, county_code, item, function_code, use_code,
                     standard_fen, lines: list[_Line], project_code=None,
                     as_of=None) -> PaymentRoll:
    """As `_insert_roll`, for a roll with lines of the second form: every column written, each
    image made by `table_record` (a null later column left out, as verification does)."""
    roll = _roll_row(actor, code, lot_id, county_code, item, function_code, use_code,
                     standard_fen, project_code)
    with record_change(session, actor.username, "roll.create", **_dated(as_of)) as change:
        change.add(roll)
        session.flush()
        table = RollLine.__table__
        rows = []
        for line_id, (number, x) in zip(new_ids(session, table, len(lines)),
                                        enumerate(lines, start=1)):
            if change.full:  # a long roll is logged in parts (ledger.audit.log.Change)
                change.next_part()
            if len(rows) == roll_payments.CHUNK:   # several parts a statement, as above
                insert_tuples(session, table, _ALL_LINE_COLUMNS, rows)
                rows = []
            row = (line_id, roll.id, number, x.household, x.quantity, x.amount, change.index,
                   change.log_id, x.item, x.tier, x.year, x.member_id, x.centi, x.standard_id,
                   x.standard_fen, x.computed, x.card_id)
            rows.append(row)
            change.add_written(table_record(table, dict(zip(_ALL_LINE_COLUMNS, row))))
        insert_tuples(session, table, _ALL_LINE_COLUMNS, rows)
    return roll


def _check_lines(session, lines, county_code, as_of, duplicates=True,
                 township: str | None = None) -> None:
    """Each line names a household of this county (of `township`'s villages, when a township
    prepares the roll), once (unless `duplicates` is False: lines of the second form were
    checked per item and member), with a card, eligible on `as_of`, and a whole quantity; every
    household line that does not is named at once (`_refuse_lines`). Read a chunk at a time."""
    seen, problems = set(), []
    for number, (household_code, quantity) in enumerate(lines, start=1):
        if not duplicates:
            break
        if household_code in seen:
            raise LedgerError(f"line {number} ({household_code}): the household is on the "
                              "roll twice",
                              code="roll_line_duplicate", line=number,
                              household=household_code)
        seen.add(household_code)
        _whole_quantity(number, household_code, quantity)
    line_of: dict[str, int] = {}
    for number, (code, _) in enumerate(lines, start=1):
        line_of.setdefault(code, number)   # a refusal names the household's first line
    codes_in_order = list(line_of)
    # Plain SQL with the driver's markers: SQLAlchemy's expansion of a 2,000-item IN list costs
    # more CPU than the query (a third of creating a roll, measured at 10,000 lines).
    session.flush()  # what the session holds is in the database for these reads
    connection, mark = session.connection(), marker(session)
    day = bind_value(session, HouseholdEvent.__table__.c.effective_date, as_of)
    # The regions above each village, looked up once per village, not once per line.
    chains: dict[str, list[str]] = {}

    def chain_of(village: str) -> list[str]:
        if village not in chains:
            chains[village] = ancestors(session, village)
        return chains[village]
    for start in range(0, len(codes_in_order), roll_payments.CHUNK):
        codes = tuple(codes_in_order[start:start + roll_payments.CHUNK])
        in_codes = f"({', '.join([mark] * len(codes))})"
        households = {code: (village, has_card) for code, village, has_card in
                      connection.exec_driver_sql(
                          # a card of registration, or any of the card register (which
                          # card is open on the day is chosen after: cards_for_lines)
                          "SELECT code, village_code, bank_card IS NOT NULL OR EXISTS (SELECT "
                          "1 FROM cards WHERE cards.household_code = households.code) FROM "
                          f"households WHERE code IN {in_codes}", codes).all()}
        statuses = {}
        for code, status in connection.exec_driver_sql(
                "SELECT household_code, status FROM household_events "
                f"WHERE household_code IN {in_codes} AND effective_date <= {mark} "
                "ORDER BY household_code, effective_date, id", (*codes, day)).all():
            statuses[code] = status   # the last one on or before as_of stands
        for code in codes:
            try:
                _check_household(chain_of, line_of[code], code, households.get(code),
                                 statuses.get(code), county_code, township, as_of)
            except LedgerError as problem:
                problems.append(problem)
    _refuse_lines(problems)


def _refuse_lines(problems: list[LedgerError]) -> None:
    """Nothing, one line's own refusal, or every refused line at once (`roll_lines_refused`):
    a county's clerk fixes the file once rather than once a line."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise LedgerError(f"{len(problems)} lines cannot be paid; nothing was created:\n"
                          f"{shown}{more}", code="roll_lines_refused", count=len(problems),
                          lines=[{"line": p.params.get("line"), "code": p.code,
                                  "params": p.params} for p in problems])


def _check_household(chain_of, number, code, household, status, county_code, township,
                     as_of) -> None:
    """One household line: it exists, lives in the roll's county (township), has a card to pay
    to and is eligible on `as_of` (`status`: its last status event on or before it).
    `chain_of(village)`: the village and the regions above it (`access.ancestors`)."""
    if household is not None and status in _PAYABLE_STATUS:   # nearly every line
        village, has_card = household
        if has_card and (county_code if township is None else township) in chain_of(village):
            return
    where = f"line {number} ({code})"
    if household is None:
        raise LedgerError(f"{where}: household {code!r} does not exist",
                          code="roll_line_unknown_household", line=number,
                          household=code)
    village, has_card = household
    if township is not None:
        if township not in chain_of(village):
            raise LedgerError(f"{where}: the household lives outside township "
                              f"{township}, which prepares this roll",
                              code="roll_line_outside_township", line=number,
                              household=code, township=township)
    elif county_code not in chain_of(village):
        raise LedgerError(f"{where}: the household lives outside county {county_code}",
                          code="roll_line_outside_county", line=number, household=code,
                          county=county_code)
    if not has_card:
        raise LedgerError(f"{where}: the household has no bank card (惠民惠农一卡通) "
                          "to pay to", code="roll_line_no_card", line=number,
                          household=code)
    status = HouseholdStatus(status) if status is not None else None  # stored text
    if status is None or status in INELIGIBLE:
        state = status.value if status else "not yet registered"
        raise LedgerError(f"{where}: the household is {state} on {as_of} and cannot "
                          "be paid", code="roll_line_ineligible", line=number,
                          household=code, status=status, date=as_of)


def _content_digest(lot_id, county, item, fc, use, standard, lines, project=None) -> str:
    content = [lot_id, county, item, fc, use, standard, [list(x) for x in lines]]
    if project is not None:   # rolls from the county's share keep the digest they had
        content.append(project)
    text = json.dumps(content, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_project(session, project_code, county_code, function_code) -> None:
    """A roll pays from a project of its own county, under the project's function code (the
    project's stage is checked when the roll is sent, as for any payment from it)."""
    project = get_project(session, project_code)
    if project.county_code != county_code:
        raise LedgerError(f"project {project_code} belongs to county {project.county_code}, "
                          f"not {county_code}", code="roll_project_other_county",
                          project=project_code, project_county=project.county_code,
                          county=county_code)
    if project.function_code != function_code:
        raise LedgerError(f"project {project_code} is for function code "
                          f"{project.function_code}; it cannot pay under {function_code}",
                          code="project_function_mismatch", project=project_code,
                          project_function_code=project.function_code,
                          function_code=function_code)


def _digest_of(session, roll: PaymentRoll) -> str:
    lines = [(line.household_code, line.quantity) if line.quantity_centi is None else
             [line.household_code, line.item, line.tier, line.year, line.member_id,
              line.quantity_centi, line.standard_id, line.amount_fen]
             for line in _lines(session, roll)]
    return _content_digest(roll.lot_id, roll.county_code, roll.item, roll.function_code,
                           roll.use_code, roll.standard_fen, lines, roll.project_code)


def _lines(session, roll) -> list[RollLine]:
    return list(session.execute(select(RollLine).where(RollLine.roll_id == roll.id)
                                .order_by(RollLine.line_no)).scalars())


def _events(session, roll) -> list[RollEvent]:
    return list(session.execute(select(RollEvent).where(RollEvent.roll_id == roll.id)
                                .order_by(RollEvent.id)).scalars())


def published_on(session, roll) -> dt.date | None:
    """The date typed for the roll's publication (the day it went up on the board)."""
    event = publication(session, roll)
    return event.effective_date if event is not None else None


def publication(session, roll) -> RollEvent | None:
    return next((e for e in _events(session, roll) if e.kind is RollEventKind.PUBLISHED), None)


def recorded_on(session, row) -> dt.date:
    """The server's day on which `row` was recorded: the time of the audit entry that wrote it
    (ledger.core.clock), never a date anybody typed."""
    entry = _entry_of(session, row)
    return clock.day_of(_EPOCH + dt.timedelta(microseconds=entry["time_us"]))


def roll_date(session, roll) -> dt.date:
    """The roll's own date (the `as_of` it was drawn up on, kept in its `roll.create` entry),
    or, for a roll created before that was kept, the day it was recorded. No publication is
    dated before it."""
    entry = _entry_of(session, roll)
    kept = (entry["details"] or {}).get("roll_date")
    if kept is not None:
        return dt.date.fromisoformat(kept)
    return clock.day_of(_EPOCH + dt.timedelta(microseconds=entry["time_us"]))


def _entry_of(session, row) -> dict:
    data = session.execute(select(AuditEntry.entry).where(
        AuditEntry.log_id == row.log_id, AuditEntry.idx == row.log_index)).scalar_one()
    return decode_entry(data)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


# The comment of a publication recorded without a date before its recording (and of every
# publication recorded before 补记 was marked); a backdated one without a reason is
# BACKDATED_NO_REASON, so that notices printed before are recomputed unchanged
# (ledger.disclosure.content marks only what is recorded as backdated).
PUBLISHED_COMMENT = "公示"
BACKDATED_NO_REASON = "补记公示"


@dataclass(frozen=True)
class Publicity:
    """A roll's 公示 as the ledger knows it: the day typed for it (`posted`, the board's date),
    the day the server recorded it (`recorded`), the reason given when the first is earlier
    (补记公示), the first day it may be approved by the typed dates (`typed_earliest`) and
    counted from the recording (`earliest`); and its approval, typed and recorded, if any."""
    posted: dt.date
    recorded: dt.date
    reason: str | None
    earliest: dt.date
    typed_earliest: dt.date
    marked: bool = False          # recorded as backdated (its comment says so)
    approved: dt.date | None = None
    approval_recorded: dt.date | None = None

    @property
    def backdated(self) -> bool:
        return self.posted < self.recorded

    @property
    def approved_early(self) -> bool:
        """Approved before the window counted from the recording had passed (公示期未满即审核):
        the typed dates allowed it, the server's days did not."""
        return self.approval_recorded is not None and self.approval_recorded < self.earliest


def publicity(session, roll, working_days: int, before: int | None = None) -> Publicity | None:
    """The roll's publication, or None before it is published (`before`: as the log stood
    before that entry index). A backdated publication (dated before the day it was recorded)
    keeps its typed date on the roll and its notices, marked; its window counted from the
    recording is shown beside the typed one, and an approval recorded before it ended is
    marked and alerted (E3), never refused: a county's history loads as it was kept."""
    events = [e for e in _events(session, roll) if before is None or e.log_index < before]
    event = next((e for e in events if e.kind is RollEventKind.PUBLISHED), None)
    if event is None:
        return None
    recorded = recorded_on(session, event)
    backdated = event.effective_date < recorded
    marked = event.comment != PUBLISHED_COMMENT
    reason = event.comment if backdated and event.comment not in (
        PUBLISHED_COMMENT, BACKDATED_NO_REASON) else None
    approval = next((e for e in events if e.kind is RollEventKind.APPROVED), None)
    return Publicity(event.effective_date, recorded, reason,
                     publicity_ends(max(event.effective_date, recorded), working_days),
                     publicity_ends(event.effective_date, working_days), marked,
                     approval.effective_date if approval is not None else None,
                     recorded_on(session, approval) if approval is not None else None)


def publish(session: Session, actor: User, code: str, day: dt.date,
            reason: str | None = None) -> RollEvent:
    """Record that the roll went up on the village board on `day`.

    `day` is the board's date and may be earlier than today (the clerk records a posting made
    before, or a county loads its past rolls), but never before the roll's own date, nor in the
    future. A date before today is recorded as 补记公示, with `reason` when given (why it is
    recorded late), and marked wherever the roll's publication is shown; its window counted
    from the recording is shown too, and an approval before that end raises alert E3."""
    lock_head(session)  # the checks below read events a concurrent call may add
    roll = get_roll(session, code)
    # 公示 is done in the villages: the township whose villages hold every line publishes too.
    require(session, actor, Action.RECORD,
            township_of_roll(session, actor, roll) or roll.county_code)
    _not_future(day, "publication date")
    if published_on(session, roll) is not None:
        raise LedgerError(f"roll {code} was already published on {published_on(session, roll)}",
                          code="roll_already_published", roll=code,
                          published=published_on(session, roll))
    created = roll_date(session, roll)
    if day < created:
        raise LedgerError(f"公示日期 {day} 早于清册 {code} 的日期 {created} / roll {code} is "
                          f"dated {created}; it cannot have been published on {day}",
                          code="roll_published_before_created", roll=code, published=day,
                          created=created)
    reason = (reason or "").strip()
    if day >= clock.today():
        comment = PUBLISHED_COMMENT
    else:
        comment = reason if reason not in ("", PUBLISHED_COMMENT) else BACKDATED_NO_REASON
    return add_event(session, actor, roll, RollEventKind.PUBLISHED, day, comment)


def publicity_ends(published: dt.date, working_days: int) -> dt.date:
    """The first day the roll may be approved: after `working_days` full working days on the
    board, counted on the mainland calendar with its public holidays and make-up workdays
    (`ledger.core.workdays`)."""
    return add_working_days(published, working_days) + dt.timedelta(days=1)


def _line(session, roll, household_code: str | None, line_no: int | None = None) -> RollLine:
    """The line of `household_code` (when it has one on the roll), or line `line_no`."""
    if line_no is not None:
        line = session.execute(select(RollLine).where(RollLine.roll_id == roll.id,
                                                      RollLine.line_no == line_no)) \
            .scalar_one_or_none()
        if line is None or (household_code is not None
                            and line.household_code != household_code):
            raise NotFound(f"roll {roll.code} has no line {line_no}"
                           + (f" of household {household_code}" if household_code else ""),
                           what="roll_line", key=f"{roll.code}:{line_no}")
        return line
    lines = list(session.execute(select(RollLine).where(
        RollLine.roll_id == roll.id, RollLine.household_code == household_code)
        .order_by(RollLine.line_no)).scalars())
    if not lines:
        raise NotFound(f"household {household_code} is not on roll {roll.code}",
                       what="roll_household", key=f"{roll.code}:{household_code}")
    if len(lines) > 1:
        raise LedgerError(f"household {household_code} has {len(lines)} lines on roll "
                          f"{roll.code} (lines {', '.join(str(x.line_no) for x in lines)}); "
                          "name the line", code="roll_household_several_lines",
                          roll=roll.code, household=household_code,
                          lines=[x.line_no for x in lines])
    return lines[0]


def line_states(session, roll) -> dict[int, str]:
    """line id → open | held | withdrawn, from the events in order."""
    states = {line_id: "open" for line_id in session.execute(
        select(RollLine.id).where(RollLine.roll_id == roll.id)).scalars()}
    return fold_line_events(states, _events(session, roll))


def fold_line_events(states: dict[int, str], events) -> dict[int, str]:
    """Move each line of `states` (line id → state) through the roll's events, in order; events
    of lines not in `states` are passed over (a reader that holds one village's lines)."""
    for e in events:
        if e.line_id not in states:
            continue
        if e.kind is RollEventKind.OBJECTION:
            states[e.line_id] = "held"
        elif e.kind is RollEventKind.OBJECTION_DISMISSED:
            states[e.line_id] = "open"
        elif e.kind is RollEventKind.LINE_WITHDRAWN:
            states[e.line_id] = "withdrawn"
    return states


def object_to(session: Session, actor: User, code: str, household_code: str | None,
              day: dt.date, comment: str, *, line_no: int | None = None) -> RollEvent:
    """Record an objection to a line (from the board, a phone call, a letter): it is held."""
    lock_head(session)  # the checks below read events a concurrent call may add
    roll = get_roll(session, code)
    require(session, actor, Action.RECORD, roll.county_code)
    line = _line(session, roll, household_code, line_no)
    if line_states(session, roll)[line.id] != "open":
        raise LedgerError(f"line {line.line_no} of roll {code} is already held or withdrawn",
                          code="roll_line_not_open", roll=code, line=line.line_no)
    if transfer_of(session, roll, line) is not None:
        raise LedgerError(f"line {line.line_no} of roll {code} is already with the bank; an "
                          "objection now is a complaint, and money paid wrongly is recovered "
                          "(追回)", code="roll_line_sent", roll=code, line=line.line_no)
    return add_event(session, actor, roll, RollEventKind.OBJECTION, day, comment, line)


def resolve(session: Session, actor: User, code: str, household_code: str | None,
            upheld: bool, day: dt.date, comment: str, *,
            line_no: int | None = None) -> RollEvent:
    """The county decides an objection: upheld withdraws the line, dismissed releases it."""
    lock_head(session)  # the checks below read events a concurrent call may add
    roll = get_roll(session, code)
    require(session, actor, Action.APPROVE, roll.county_code)
    line = _line(session, roll, household_code, line_no)
    if line_states(session, roll)[line.id] != "held":
        raise LedgerError(f"line {line.line_no} of roll {code} has no open objection",
                          code="roll_line_no_objection", roll=code, line=line.line_no)
    kind = RollEventKind.LINE_WITHDRAWN if upheld else RollEventKind.OBJECTION_DISMISSED
    return add_event(session, actor, roll, kind, day, comment, line)


def withdraw_line(session: Session, actor: User, code: str, line_no: int, day: dt.date,
                  reason: str) -> RollEvent:
    """A clerk withdraws a line before the roll is approved (撤销: entered twice, the household
    moved away, the wrong item): a `line_withdrawn` event with the reason, in the audit log.
    The line is never sent to the bank and prints as withdrawn; an objection is not needed.

    Once the roll is approved, the approver approved its lines: only an approver withdraws one
    then, so a clerk alone cannot take a household off what was approved. A line held by an
    open objection is not withdrawn: the objection is resolved (upheld, it is withdrawn)."""
    lock_head(session)  # the checks below read events a concurrent call may add
    roll = get_roll(session, code)
    require(session, actor, Action.READ, roll.county_code)  # scope first: reveal nothing
    line = _line(session, roll, None, line_no)
    if transfer_of(session, roll, line) is not None:
        raise LedgerError(f"line {line.line_no} of roll {code} is already with the bank; an "
                          "objection now is a complaint, and money paid wrongly is recovered "
                          "(追回)", code="roll_line_sent", roll=code, line=line.line_no)
    approved = any(e.kind is RollEventKind.APPROVED for e in _events(session, roll))
    if approved and Action.APPROVE not in ROLE_ACTIONS[actor.role]:
        raise LedgerError(f"line {line_no} of roll {code}: the roll is approved; only an "
                          "approver withdraws a line now",
                          code="roll_line_withdraw_after_approval", roll=code, line=line_no)
    require(session, actor, Action.APPROVE if approved else Action.RECORD, roll.county_code)
    if not reason or not reason.strip():
        raise LedgerError("a withdrawal needs its reason", code="roll_withdraw_reason",
                          roll=code, line=line_no)
    _not_future(day, "withdrawal date")
    if line_states(session, roll)[line.id] != "open":
        raise LedgerError(f"line {line.line_no} of roll {code} is already held or withdrawn",
                          code="roll_line_not_open", roll=code, line=line.line_no)
    return add_event(session, actor, roll, RollEventKind.LINE_WITHDRAWN, day,
                     reason.strip(), line)


def approve_roll(session: Session, actor: User, code: str, day: dt.date,
                 working_days: int) -> RollEvent:
    lock_head(session)  # the checks below read events a concurrent call may add
    roll = get_roll(session, code)
    require(session, actor, Action.APPROVE, roll.county_code)
    if actor.id == roll.created_by:
        raise MakerChecker(f"{actor.username} created roll {code} and cannot approve it",
                           user=actor.username, what="roll", key=code)
    _not_future(day, "approval date")
    shown = publicity(session, roll, working_days)
    if shown is None:
        raise LedgerError(f"roll {code} has not been published; it must be on the board first",
                          code="roll_not_published", roll=code)
    # The typed dates must keep the window: a typed approval date inside it is contradictory.
    # The window counted from the recording is not enforced here (a county loads its past
    # rolls through these commands): an approval recorded before it ended is recorded, marked
    # on the roll and its notices (Publicity.approved_early) and raises alert E3.
    if day < shown.typed_earliest:
        raise LedgerError(f"roll {code} was published on {shown.posted}; it must stay on the "
                          f"board for {working_days} working days and can be approved from "
                          f"{shown.typed_earliest}", code="roll_publicity_running", roll=code,
                          published=shown.posted, working_days=working_days,
                          earliest=shown.typed_earliest)
    if any(e.kind is RollEventKind.APPROVED for e in _events(session, roll)):
        raise LedgerError(f"roll {code} is already approved", code="roll_already_approved",
                          roll=code)
    # An approval recorded before the window counted from the recording passed says so in its
    # own comment: the printed notice reads it from there (its rows recompute unchanged
    # whatever the county's window is later set to), the pages and alert E3 from the days.
    comment = "审核通过"
    if clock.today() < shown.earliest:
        comment = (f"{EARLY_APPROVAL}：公示录入于 {shown.recorded}，审核录入于 {clock.today()}"
                   f"（自录入之日起算 {shown.earliest} 方满）")
    return add_event(session, actor, roll, RollEventKind.APPROVED, day, comment)


EARLY_APPROVAL = "公示期未满即审核"


def send(session: Session, actor: User, code: str, day: dt.date) -> list[tuple]:
    """Record a pending payment for every open line not yet sent; return (line, payment), the
    payment a `Transfer` or a `roll_payments.SentPayment` (id, key, amount, lot).

    The lines are paid together (`ledger.rolls.payments`): a county's roll of tens of thousands
    of households is one set of statements, not tens of thousands of one-line services."""
    with collector_paused():  # tens of thousands of lines (ledger.store.bulk)
        return _send(session, actor, code, day)


def _send(session, actor, code, day) -> list[tuple]:
    lock_head(session)  # the checks below read events a concurrent call may add
    roll = get_roll(session, code)
    require(session, actor, Action.RECORD, roll.county_code)
    approved = [e.effective_date for e in _events(session, roll)
                if e.kind is RollEventKind.APPROVED]
    if not approved:
        raise LedgerError(f"roll {code} is not approved", code="roll_not_approved", roll=code)
    _not_future(day, "send date")
    if day < approved[0]:
        raise LedgerError(f"roll {code} was approved on {approved[0]}; it cannot be sent "
                          f"on {day}, before that", code="roll_sent_before_approval", roll=code,
                          approved=approved[0], date=day)
    states = line_states(session, roll)
    # Plain rows, not ORM objects: a county's roll has tens of thousands of lines, and only
    # their fields are needed (id, line_no, household_code, quantity, amount_fen).
    open_lines = [line for line in session.execute(
        select(RollLine.__table__).where(RollLine.roll_id == roll.id)
        .order_by(RollLine.line_no)) if states[line.id] == "open"]
    with_bank = roll_payments.recorded_payments(session, roll)
    todo = [line for line in open_lines   # held, withdrawn, or already with the bank: skipped
            if line.line_no not in with_bank]
    kind, holder = roll_payments.roll_source(roll)
    # A roll refused whole (a blacklisted household, its source overdrawn, its lot's purpose,
    # a closed month) is recorded for auditors (ledger.funds.refusals_log); a line refused on
    # the one-line path names its payee and key instead.
    with attempting(actor, "roll_send", region_code=roll.county_code, lot_id=roll.lot_id,
                    source_kind=kind.value, source_holder=holder, roll_code=roll.code,
                    amount_fen=sum(line.amount_fen for line in todo), day=day):
        # A roll goes to the bank whole or not at all: a blacklisted household refuses it
        # here, before any line is recorded (where the deployment refuses such payments).
        refuse_blacklisted(session, [line.household_code for line in todo], day)
        sent = roll_payments.send_lines(session, actor, roll, todo, day)
    if sent:  # a re-run after everything went (e.g. after a crash past the commit) records nothing
        # the record's own words are the board's language (Chinese), as a bank's reasons are
        add_event(session, actor, roll, RollEventKind.SENT, day, f"{len(sent)} 行送银行")
    return sent


def _not_future(day, what: str) -> None:
    check_date(day, what)
    if day > clock.today():   # the server's day (ledger.core.clock), as the log records it
        raise LedgerError(f"{what} {day} is in the future", code="date_in_future",
                          field=what, date=day)


def repay_roll(session: Session, actor: User, code: str, new_code: str,
               as_of: dt.date, line_numbers: list[int] | None = None) -> PaymentRoll:
    """A new roll for the lines of `code` the bank returned (退票 re-paid, e.g. after the
    household's card was corrected): same lot, item and standard, same quantities. It goes
    through publicity and approval again like any roll, since it is a new payment. Each line
    can be repaid once: the original roll records which roll took it over. `line_numbers`
    takes some of the returned lines only, so that each can be re-paid on its own date."""
    roll = get_roll(session, code)
    require(session, actor, Action.RECORD, roll.county_code)
    existing = session.execute(select(PaymentRoll).where(PaymentRoll.code == new_code)) \
        .scalar_one_or_none()
    if existing is not None and any(e.kind is RollEventKind.REPAID and e.comment == new_code
                                    for e in _events(session, roll)):
        return existing  # the same repayment again
    lines = failed_lines(session, roll)
    if line_numbers:
        returned = {line.line_no: line for line in lines}
        for number in line_numbers:
            if number not in returned:
                raise LedgerError(f"roll {code} line {number} is not a line the bank returned "
                                  "that is still to be repaid", code="roll_line_not_returned",
                                  roll=code, line=number)
        lines = [returned[number] for number in sorted(set(line_numbers))]
    if not lines:
        raise LedgerError(f"roll {code} has no lines returned by the bank that are not "
                          "already repaid", code="roll_nothing_returned", roll=code)
    new = create_roll(session, actor, code=new_code, lot_id=roll.lot_id,
                      county_code=roll.county_code, item=roll.item,
                      function_code=roll.function_code, use_code=roll.use_code,
                      standard_fen=roll.standard_fen or None,
                      lines=[_again(line) for line in lines], as_of=as_of,
                      project_code=roll.project_code)
    for line in lines:
        add_event(session, actor, roll, RollEventKind.REPAID, as_of, new_code, line)
    return new


def _again(line: RollLine):
    """A returned line as a line of a new roll: the same item, quantity and amount."""
    if line.quantity_centi is None:
        return (line.household_code, line.quantity)
    return LineSpec(line.household_code, line.quantity_centi, line.item, line.tier, line.year,
                    line.member_id, None, line.amount_fen)


def roll_lines(session: Session, roll: PaymentRoll) -> list[RollLine]:
    """A roll's lines in order (public name for reports and the web)."""
    return _lines(session, roll)
