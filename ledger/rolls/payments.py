"""Paying a roll a roll at a time: its lines sent to the bank (the bank's result file is
settled by `ledger.rolls.settlement`, with the bulk helpers here).

A county pays tens of thousands of households in one roll. Through `flows.pay` and
`posting.approve`, line by line, each line cost about 25 statements (idempotency look-up, scope
and region checks, account look-ups and locks, ORM flushes) and 4 ms of CPU, so a 100,000-line
roll took minutes to send. Here what is the same for every line — the actor's scope, the lot's
purpose lock, the paying county, the open period, the county's account and its balance — is
checked once; what differs per line (the payee, its account, the payment's approval) is read with
one query per roll, joined through `roll_lines` (no lists of tens of thousands of keys sent from
Python); rows go in with one DBAPI `executemany` per table and chunk (`db.insert_tuples`: as
tuples, with ids assigned as autoincrement would assign them); and each account's balance moves
once per chunk (a payee account opened by the roll is inserted with its pending debit).

Per line, what is left is Python building the rows and the entry, and SQLite storing them. So
the per-line work is kept to the minimum: the request text and the row images are made from
per-roll templates (only the fields that differ are filled in), the images are built with their
keys already in canonical CBOR order so that the entry is written by cbor2's plain encoder (the
same bytes as the canonical one, a third of the cost), and settle reads only the columns it
checks.

What the ledger and the log hold is the same as line by line: each line is one transfer with two
postings, recorded in an audit entry of its own ("transfer.record", with the payee account it
opened, if any), and each bank result is one approval in an entry of its own
("transfer.approved"), the very rows `flows.pay` and `posting.approve` write. An inclusion proof
for one household's payment, and `fundtrail verify`, cannot tell the difference; the tests
compare the two paths row for row.

Lines that need more than the common path go through the one-line services, after the batch, in
the same transaction: a payment to a household whose head is recorded as dead (it raises BEN-01 in
the payment's own entry, `ledger.screening.at_posting`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from json.encoder import encode_basestring
from typing import NamedTuple

from sqlalchemy import String, cast, literal, select
from sqlalchemy.orm import Session

from ledger.audit.entries import image_template
from ledger.audit.log import PendingEntry, append_entries, lock_head, record_change
from ledger.core import clock
from ledger.core.classification import check_spending
from ledger.core.errors import LedgerError, NotFound, Overdraft
from ledger.funds import flows
from ledger.funds.accounts import find_account, lock_accounts
from ledger.funds.lots import get_lot
from ledger.funds.posting import (
    MAX_AMOUNT_FEN,
    canonical_request,
    check_amount,
    check_period_open,
    iso_day,
)
from ledger.funds.projects import PAYABLE, require_stage
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Payee,
    PaymentRoll,
    Posting,
    RegionLevel,
    RollEvent,
    RollEventKind,
    RollLine,
    Transfer,
    TransferKind,
    User,
)
from ledger.org.regions import get_region
from ledger.screening.at_posting import households_with_dead_head
from ledger.store.access import Action, ancestors, require
from ledger.store.bulk import collector_paused
from ledger.store.db import insert_tuples, marker, new_ids

# Lines per batch of statements: large enough that per-statement costs vanish, small enough
# that a 100,000-line roll never holds more than a few MB of rows and entries at once, and
# that an IN list (`rolls.create_roll` checks its households with one per chunk) stays far
# below SQLite's limit on bound parameters.
CHUNK = 2000

ACCOUNTS = Account.__table__
TRANSFERS = Transfer.__table__
POSTINGS = Posting.__table__
APPROVALS = Approval.__table__


class SentPayment(NamedTuple):
    """A roll line's payment as recorded (the fields callers use of a `Transfer`)."""
    id: int
    idempotency_key: str
    amount_fen: int
    lot_id: int


def line_key(roll: PaymentRoll, line_no: int) -> str:
    """The idempotency key of a roll line's payment (`flows.pay` reserves the prefix)."""
    return f"roll:{roll.code}:{line_no}"


def keyed_transfers(roll: PaymentRoll):
    """roll_lines joined to the transfer recorded under each line's key, for one roll: the
    key is computed in SQL, so each line finds its payment through the unique index on the
    key, with no list of keys sent from Python."""
    key = literal(f"roll:{roll.code}:") + cast(RollLine.line_no, String)
    return (select(RollLine.line_no).select_from(RollLine.__table__)
            .join(TRANSFERS, TRANSFERS.c.idempotency_key == key)
            .where(RollLine.roll_id == roll.id))


# What callers use of a recorded payment: not its request text nor its clock, which would
# only cost reading and converting them for every line.
_PAYMENT_COLUMNS = [TRANSFERS.c[name] for name in (
    "id", "idempotency_key", "amount_fen", "lot_id", "region_code", "recorded_by",
    "effective_date")]


def recorded_payments(session: Session, roll: PaymentRoll) -> dict[int, Transfer]:
    """line number → the transfer recorded under that line's key, for the lines that have one
    (Core rows with the transfer's id, idempotency_key, amount_fen, lot_id, region_code,
    recorded_by and effective_date)."""
    return {row.line_no: row for row in session.execute(
        keyed_transfers(roll).add_columns(*_PAYMENT_COLUMNS))}


# --------------------------------------------------------------------------- sending


def send_lines(session: Session, actor: User, roll: PaymentRoll, lines: list[RollLine],
               day: dt.date) -> list[tuple[RollLine, SentPayment | Transfer]]:
    """Record a pending payment for each of `lines` (open lines of `roll`, an approved roll,
    not yet sent), in line order. Refuses all of them if any one is refused."""
    with collector_paused():
        return _send_lines(session, actor, roll, lines, day)


def roll_source(roll: PaymentRoll) -> tuple[AccountKind, str]:
    """The account a roll pays from: its household-programme project's share of the lot, or
    the county's own share."""
    if roll.project_code is not None:
        return AccountKind.PROJECT, roll.project_code
    return AccountKind.UNIT, roll.county_code


def _send_lines(session, actor, roll, lines, day):
    county = roll.county_code
    lot = get_lot(session, roll.lot_id)
    check_spending(lot, roll.function_code, roll.use_code)
    region = get_region(session, county)
    if region.level is not RegionLevel.COUNTY:
        raise LedgerError(f"direct payments come from a county; {county} is not one",
                          code="not_a_county", region=county, level=region.level)
    if roll.project_code is not None:   # what flows.pay checks of a project it pays from
        require_stage(session, roll.project_code, PAYABLE, "pay out")
    require(session, actor, Action.RECORD, county)
    check_period_open(session, day, county)
    for line in lines:
        fen = line.amount_fen
        if fen.__class__ is not int or not 0 < fen <= MAX_AMOUNT_FEN:   # what it refuses
            check_amount(fen, f"line {line.line_no} amount")
    head = lock_head(session)
    # What the lines need from other tables, read once for the whole roll by joining through
    # roll_lines (lines of the roll that are not sent now are read too, and not used).
    households = select(RollLine.household_code).where(RollLine.roll_id == roll.id)
    dead = households_with_dead_head(session, households)
    payees = dict(session.execute(
        select(Payee.code, Payee.region_code).where(Payee.code.in_(households))).all())
    accounts = dict(session.execute(
        select(ACCOUNTS.c.holder_code, ACCOUNTS.c.id).where(
            ACCOUNTS.c.lot_id == lot.id, ACCOUNTS.c.kind == AccountKind.PAYEE,
            ACCOUNTS.c.holder_code.in_(households))).all())
    sent: list[tuple[RollLine, SentPayment | Transfer]] = []
    now = clock.now()
    batch = _SendBatch(session, actor, roll, lot, day, now, payees, accounts)
    # In line order, so that ids and log indexes come out as line by line would give them.
    for together, run in runs(lines, lambda line: line.household_code not in dead) if dead \
            else [(True, lines)]:
        if together:
            sent += _send_run(session, head, batch, run)
            continue
        for line in run:
            sent.append((line, flows.pay(
                session, actor, lot_id=roll.lot_id, payee_code=line.household_code,
                amount_fen=line.amount_fen, function_code=roll.function_code,
                use_code=roll.use_code, project_code=roll.project_code,
                county_code=None if roll.project_code else county, effective_date=day,
                key=line_key(roll, line.line_no), memo=pay_memo(roll), _roll_line=True)))
    return sent


def runs(items, together):
    """Consecutive items split into runs by `together(item)`: [(True, [...]), (False, [...])]."""
    runs = []
    for item in items:
        flag = bool(together(item))
        if runs and runs[-1][0] == flag:
            runs[-1][1].append(item)
        else:
            runs.append((flag, [item]))
    return runs


def _send_run(session, head, batch, lines):
    roll, lot = batch.roll, batch.lot
    county = roll.county_code
    total = sum(line.amount_fen for line in lines)
    kind, holder = roll_source(roll)
    source = find_account(session, lot.id, kind, holder)
    if source is not None:
        source = lock_accounts(session, [source.id])[source.id]
    available = source.available if source is not None else 0
    if available < total:
        whose = f"project {holder}" if kind is AccountKind.PROJECT else f"county {county}"
        raise Overdraft(
            f"{whose} has {available} fen of lot {lot.label} available; roll "
            f"{roll.code} needs {total} fen for lines {lines[0].line_no}–{lines[-1].line_no}",
            account_kind=kind, holder=holder, lot=lot.id, available_fen=available,
            requested_fen=total)
    # Ids for the whole run at once, in line order (three statements, not three a chunk: on
    # PostgreSQL each draws from a sequence, a round trip that costs more than its rows).
    # Payee accounts opened by the run go in with their pending debit already: the row ends as
    # the one-line path leaves it, without a second statement per account. A household with
    # several lines (several members or items) opens its account once, at its first line; the
    # amounts of its other lines move the balance (send_chunk).
    accounts, opening, first_of = batch.accounts, [], set()
    for k, line in enumerate(lines):
        if line.household_code not in accounts and line.household_code not in first_of:
            first_of.add(line.household_code)
            opening.append(k)
    opens: list[int | None] = [None] * len(lines)   # the account each line opens, if any
    for k, account_id in zip(opening, new_ids(session, ACCOUNTS, len(opening))):
        opens[k] = account_id
    transfer_ids = new_ids(session, TRANSFERS, len(lines))
    posting_ids = new_ids(session, POSTINGS, 2 * len(lines))
    sent = []
    for start in range(0, len(lines), CHUNK):
        end = start + CHUNK
        sent += batch.send_chunk(head, source.id, lines[start:end], opens[start:end],
                                 transfer_ids[start:end], posting_ids[2 * start:2 * end])
    source.credits_pending += total  # the ORM object holds the lock
    session.flush()  # before a one-line payment re-reads the account
    return sent


def pay_memo(roll: PaymentRoll) -> str:
    return f"{roll.item} {roll.code}"


_ACCOUNT_COLUMNS = ["id", "lot_id", "kind", "holder_code", "region_code", "debits_posted",
                    "credits_posted", "debits_pending", "credits_pending", "log_index",
                    "log_id"]
_TRANSFER_COLUMNS = ["id", "idempotency_key", "content_hash", "request", "kind", "lot_id",
                     "amount_fen", "effective_date", "function_code", "use_code", "memo",
                     "region_code", "recorded_by", "recorded_at", "reverses_id", "log_index",
                     "log_id"]
_POSTING_COLUMNS = ["id", "transfer_id", "account_id", "lot_id", "amount_fen", "log_index",
                    "log_id"]


class _SendBatch:
    """What is the same for every line of a roll being sent, worked out once: the request
    text around the two fields that differ, the row images with every constant column filled
    in (in canonical key order, see `entries.image_template`), and the regions checked."""

    def __init__(self, session, actor, roll, lot, day, now, payees, accounts):
        self.session, self.actor, self.roll, self.lot = session, actor, roll, lot
        self.day, self.now = day, now
        self.payees, self.accounts = payees, accounts
        self.inside: set[str] = set()   # payee regions found to lie inside the county
        self.memo = pay_memo(roll)
        self.request = _request_maker({
            "kind": "pay", "lot": lot.id, "payee": None, "amount_fen": None,
            "function_code": roll.function_code, "use": roll.use_code,
            "project": roll.project_code,
            "county": None if roll.project_code else roll.county_code,
            "date": iso_day(day), "memo": self.memo})
        self.transfer = {  # the columns of a transfer that are the same on every line
            "kind": TransferKind.PAY, "lot_id": lot.id, "effective_date": day,
            "function_code": roll.function_code, "use_code": roll.use_code,
            "memo": self.memo, "region_code": roll.county_code, "recorded_by": actor.id,
            "recorded_at": now, "reverses_id": None}
        self.transfer_image = image_template(TRANSFERS, self.transfer)
        self.account_image = image_template(ACCOUNTS, {"lot_id": lot.id,
                                                       "kind": AccountKind.PAYEE})

    def _check_payee(self, line) -> str:
        region = self.payees.get(line.household_code)
        if region is None:
            raise NotFound(f"line {line.line_no}: payee {line.household_code!r} does not exist",
                           what="payee", key=line.household_code)
        if region not in self.inside:
            if self.roll.county_code not in ancestors(self.session, region):
                raise LedgerError(f"line {line.line_no}: payee {line.household_code} lives "
                                  f"outside county {self.roll.county_code}, which is paying",
                                  code="payee_outside_county", payee=line.household_code,
                                  county=self.roll.county_code)
            self.inside.add(region)
        return region

    def send_chunk(self, head, source_id, lines, opens, transfer_ids, posting_ids):
        """Record `lines`: `opens` the payee account each opens (or None), `transfer_ids` and
        `posting_ids` (two a line) the ids of their rows, all in line order."""
        session, lot, roll = self.session, self.lot, self.roll
        payees, inside = self.payees, self.inside
        regions = []
        for line in lines:
            region = payees.get(line.household_code)
            if region is None or region not in inside:
                region = self._check_payee(line)   # refuses, or finds the region inside
            regions.append(region)
        base, log_id = head.size, head.log_id
        accounts = self.accounts
        opened = {}
        account_rows = []
        for k, account_id in enumerate(opens):
            if account_id is not None:
                line = lines[k]
                accounts[line.household_code] = opened[k] = account_id
                account_rows.append((account_id, lot.id, AccountKind.PAYEE,
                                     line.household_code, regions[k], 0, 0, line.amount_fen, 0,
                                     base + k, log_id))
        insert_tuples(session, ACCOUNTS, _ACCOUNT_COLUMNS, account_rows)

        posting_ids = iter(posting_ids)
        # The transfer columns that are the same on every line, in _TRANSFER_COLUMNS order:
        # those between request and amount_fen, and those between amount_fen and log_index.
        t = self.transfer
        before_amount = (t["kind"], t["lot_id"])
        after_amount = tuple(t[c] for c in _TRANSFER_COLUMNS[7:-2])
        lot_id, request_of, actor, now = lot.id, self.request, self.actor.username, self.now
        prefix = line_key(roll, "")
        transfer_image, account_image = self.transfer_image, self.account_image
        sha256 = hashlib.sha256
        transfer_rows, posting_rows, entries, sent = [], [], [], []
        # Per line only what differs is computed (a roll has 100,000 lines): locals, no calls
        # but the request's text and its hash.
        # (zip takes the posting ids two at a time, in order: the debit's, then the credit's)
        for k, (line, tid, out_id, in_id) in enumerate(zip(
                lines, transfer_ids, posting_ids, posting_ids)):
            index = base + k
            code, fen = line.household_code, line.amount_fen
            key = f"{prefix}{line.line_no}"
            request = request_of(code, fen)
            digest = sha256(request.encode()).hexdigest()
            transfer_rows.append((tid, key, digest, request, *before_amount, fen,
                                  *after_amount, index, log_id))
            payee_account = accounts[code]
            posting_rows.append((out_id, tid, source_id, lot_id, -fen, index, log_id))
            posting_rows.append((in_id, tid, payee_account, lot_id, fen, index, log_id))

            # Images: copies of the templates with the differing columns set in place.
            image = transfer_image.copy()
            image["id"] = tid
            image["idempotency_key"] = key
            image["content_hash"] = digest
            image["request"] = request
            image["amount_fen"] = fen
            image["log_index"] = index
            records = [("transfers", [tid], 1, None, image),
                       ("postings", [out_id], 1, None,
                        _posting_image(out_id, lot_id, index, source_id, -fen, tid)),
                       ("postings", [in_id], 1, None,
                        _posting_image(in_id, lot_id, index, payee_account, fen, tid))]
            if k in opened:   # the account first, as the one-line path writes it
                image = account_image.copy()
                image["id"] = payee_account
                image["holder_code"] = code
                image["region_code"] = regions[k]
                image["log_index"] = index
                records.insert(0, ("accounts", [payee_account], 1, None, image))
            entries.append(PendingEntry(actor, "transfer.record", now, records, {}, True))
            sent.append((line, SentPayment(tid, key, fen, lot_id)))
        insert_tuples(session, TRANSFERS, _TRANSFER_COLUMNS, transfer_rows)
        insert_tuples(session, POSTINGS, _POSTING_COLUMNS, posting_rows)
        append_entries(session, head, entries)
        moves: dict[int, int] = {}
        for k, line in enumerate(lines):
            if k not in opened:
                account = accounts[line.household_code]
                moves[account] = moves.get(account, 0) + line.amount_fen
        move_balances(session, {account: (0, 0, amount, 0) for account, amount in moves.items()})
        return sent


def _posting_image(id, lot_id, log_index, account_id, amount_fen, transfer_id) -> dict:
    """A posting's image, written out with its keys in canonical order (checked below)."""
    return {"id": id, "lot_id": lot_id, "log_index": log_index, "account_id": account_id,
            "amount_fen": amount_fen, "transfer_id": transfer_id}


assert list(_posting_image(*[0] * 6)) == list(image_template(POSTINGS, {}))


def _request_maker(fields: dict):
    """A function (payee, amount_fen) → `canonical_request(fields | those two)`, with the JSON
    of the constant fields written once: for a roll, the request differs only in them."""
    payee, amount = "\x00payee\x00", "\x00amount\x00"
    template = canonical_request(fields | {"payee": payee, "amount_fen": amount})
    quoted_payee, quoted_amount = encode_basestring(payee), encode_basestring(amount)
    if template.count(quoted_payee) != 1 or template.count(quoted_amount) != 1 \
            or template.index(quoted_amount) > template.index(quoted_payee):
        return lambda code, fen: canonical_request(fields | {"payee": code, "amount_fen": fen})
    head, rest = template.split(quoted_amount)
    middle, tail = rest.split(quoted_payee)
    # The keys are sorted: "amount_fen" comes before "payee". An int is written as repr,
    # text as json.dumps(..., ensure_ascii=False) writes it.
    return lambda code, fen: f"{head}{fen!r}{middle}{encode_basestring(code)}{tail}"


_MOVE = ("UPDATE accounts SET debits_posted = debits_posted + {m}, "
         "credits_posted = credits_posted + {m}, debits_pending = debits_pending + {m}, "
         "credits_pending = credits_pending + {m} WHERE id = {m}")


def move_balances(session, deltas: dict[int, tuple[int, int, int, int]]) -> None:
    """Add (debits posted, credits posted, debits pending, credits pending) to each account.

    Relative updates in the database with the driver's executemany (the rows are not read
    into the session), so any of these accounts the session holds is expired and re-read
    when next used."""
    if not deltas:
        return
    session.connection().exec_driver_sql(
        _MOVE.format(m=marker(session)), [(*d, i) for i, d in deltas.items()])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Account) and obj.id in deltas:
            session.expire(obj)


def get_roll(session: Session, code: str) -> PaymentRoll:
    roll = session.execute(select(PaymentRoll).where(PaymentRoll.code == code)) \
        .scalar_one_or_none()
    if roll is None:
        raise NotFound(f"payment roll {code!r} does not exist", what="roll", key=code)
    return roll


def add_event(session, actor, roll, kind, day, comment="", line=None) -> RollEvent:
    """A roll event (published, objected, returned, …), in the audit log."""
    event = RollEvent(roll_id=roll.id, kind=kind, line_id=line.id if line else None,
                      effective_date=day, actor_id=actor.id, comment=comment)
    with record_change(session, actor.username, f"roll.{kind.value}") as change:
        change.add(event)
    return event


def transfer_of(session, roll, line) -> Transfer | None:
    return session.execute(select(Transfer).where(
        Transfer.idempotency_key == f"roll:{roll.code}:{line.line_no}")).scalar_one_or_none()


def failed_lines(session: Session, roll: PaymentRoll) -> list[RollLine]:
    """Lines the bank returned (退票) that have not been put on a new roll yet, nor paid by
    the bank after all.

    Only a bank return counts (a `returned` event written with the bank's result), not an
    approver's ordinary rejection, which may mean the payment was found to be false. Events
    are read in order: a line returned, paid by the bank, and returned again (退汇) is
    returned."""
    waiting: set[int] = set()
    for event in session.execute(select(RollEvent).where(RollEvent.roll_id == roll.id)
                                 .order_by(RollEvent.id)).scalars():
        if event.kind is RollEventKind.RETURNED:
            waiting.add(event.line_id)
        elif event.kind is RollEventKind.REPAID:
            waiting.discard(event.line_id)
    return list(session.execute(select(RollLine).where(
        RollLine.roll_id == roll.id, RollLine.id.in_(waiting or {-1}))
        .order_by(RollLine.line_no)).scalars()) if waiting else []
