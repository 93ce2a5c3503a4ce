"""Paying a roll a roll at a time: its lines sent to the bank, the bank's results settled.

A county pays tens of thousands of households in one roll. Through `flows.pay` and
`posting.approve`, line by line, each line cost about 25 statements (idempotency look-up, scope
and region checks, account look-ups and locks, ORM flushes) and 4 ms of CPU, so a 100,000-line
roll took minutes to send. Here what is the same for every line — the actor's scope, the lot's
purpose lock, the paying county, the open period, the county's account and its balance — is
checked once; what differs per line (the payee, its account, the payment's approval) is read with
one query per chunk of lines; rows go in with Core `executemany`; and each account's balance
moves once per chunk.

What the ledger and the log hold is the same as line by line: each line is one transfer with two
postings, recorded in an audit entry of its own ("transfer.record", with the payee account it
opened, if any), and each bank result is one approval in an entry of its own
("transfer.approved"), the very rows `flows.pay` and `posting.approve` write. An inclusion proof
for one household's payment, and `fundtrail verify`, cannot tell the difference; the tests
compare the two paths row for row.

Lines that need more than the common path go through the one-line services, after the batch, in
the same transaction: a payment to a household whose head is recorded as dead (it raises BEN-01 in
the payment's own entry, `ledger.alerts.at_posting`) and a failed bank result (it also writes the
roll's `returned` event).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ledger import flows
from ledger.access import Action, ancestors, require
from ledger.accounts import find_account, lock_accounts
from ledger.alerts.at_posting import households_with_dead_head
from ledger.audit.entries import table_record
from ledger.audit.log import PendingEntry, append_entries, lock_head
from ledger.classification import check_spending
from ledger.db import insert_with_ids
from ledger.errors import LedgerError, MakerChecker, NotFound, Overdraft
from ledger.lots import get_lot
from ledger.models import (
    Account, AccountKind, Approval, Decision, PaymentRoll, Payee, Posting, RegionLevel, RollLine,
    Transfer, TransferKind, User,
)
from ledger.posting import canonical_request, check_amount, check_period_open, iso_day
from ledger.regions import get_region

# Lines per batch of statements: large enough that per-statement costs vanish, small enough
# that a 100,000-line roll never holds more than a few MB of rows and entries at once, and
# that an IN list stays far below SQLite's limit on bound parameters.
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


class BankResult(NamedTuple):
    """One line of the bank's result file."""
    line_no: int
    amount_fen: int
    paid: bool
    reason: str = ""
    voucher: str = ""
    household_code: str | None = None


def line_key(roll: PaymentRoll, line_no: int) -> str:
    """The idempotency key of a roll line's payment (`flows.pay` reserves the prefix)."""
    return f"roll:{roll.code}:{line_no}"


def recorded_payments(session: Session, keys: list[str]) -> dict[str, Transfer]:
    """The transfers recorded under `keys` (exact look-ups on the unique key, chunked)."""
    found = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        for row in session.execute(select(TRANSFERS).where(TRANSFERS.c.idempotency_key.in_(chunk))):
            found[row.idempotency_key] = row
    return found


# --------------------------------------------------------------------------- sending


def send_lines(session: Session, actor: User, roll: PaymentRoll, lines: list[RollLine],
               day: dt.date) -> list[tuple[RollLine, SentPayment | Transfer]]:
    """Record a pending payment for each of `lines` (open lines of an approved roll, not yet
    sent), in line order. Refuses all of them if any one is refused."""
    county = roll.county_code
    lot = get_lot(session, roll.lot_id)
    check_spending(lot, roll.function_code, roll.use_code)
    if get_region(session, county).level is not RegionLevel.COUNTY:
        raise LedgerError(f"direct payments come from a county; {county} is not one")
    require(session, actor, Action.RECORD, county)
    check_period_open(session, day)
    for line in lines:
        check_amount(line.amount_fen, f"line {line.line_no} amount")
    head = lock_head(session)
    dead = set()
    for start in range(0, len(lines), CHUNK):
        dead |= households_with_dead_head(
            session, [line.household_code for line in lines[start:start + CHUNK]])
    sent: list[tuple[RollLine, SentPayment | Transfer]] = []
    now = dt.datetime.now(dt.timezone.utc)
    # In line order, so that ids and log indexes come out as line by line would give them.
    for together, run in _runs(lines, lambda line: line.household_code not in dead):
        if together:
            sent += _send_run(session, actor, head, roll, lot, run, day, now)
            continue
        for line in run:
            sent.append((line, flows.pay(
                session, actor, lot_id=roll.lot_id, payee_code=line.household_code,
                amount_fen=line.amount_fen, function_code=roll.function_code,
                use_code=roll.use_code, county_code=county, effective_date=day,
                key=line_key(roll, line.line_no), memo=pay_memo(roll), _roll_line=True)))
    return sent


def _runs(items, together):
    """Consecutive items split into runs by `together(item)`: [(True, [...]), (False, [...])]."""
    runs = []
    for item in items:
        flag = bool(together(item))
        if runs and runs[-1][0] == flag:
            runs[-1][1].append(item)
        else:
            runs.append((flag, [item]))
    return runs


def _send_run(session, actor, head, roll, lot, lines, day, now):
    county = roll.county_code
    total = sum(line.amount_fen for line in lines)
    source = find_account(session, lot.id, AccountKind.UNIT, county)
    if source is not None:
        source = lock_accounts(session, [source.id])[source.id]
    available = source.available if source is not None else 0
    if available < total:
        raise Overdraft(
            f"county {county} has {available} fen of lot {lot.label} available; roll "
            f"{roll.code} needs {total} fen for lines {lines[0].line_no}–{lines[-1].line_no}")
    sent = []
    for start in range(0, len(lines), CHUNK):
        sent += _send_chunk(session, actor, head, roll, lot, source.id,
                            lines[start:start + CHUNK], day, now)
    source.credits_pending += total  # the ORM object holds the lock
    session.flush()  # before a one-line payment re-reads the account
    return sent


def pay_memo(roll: PaymentRoll) -> str:
    return f"{roll.item} {roll.code}"


def _send_chunk(session, actor, head, roll, lot, source_id, lines, day, now):
    county = roll.county_code
    codes = [line.household_code for line in lines]
    payees = dict(session.execute(
        select(Payee.code, Payee.region_code).where(Payee.code.in_(codes))).all())
    for line in lines:
        region = payees.get(line.household_code)
        if region is None:
            raise NotFound(f"line {line.line_no}: payee {line.household_code!r} does not exist")
        if county not in ancestors(session, region):
            raise LedgerError(f"line {line.line_no}: payee {line.household_code} lives outside "
                              f"county {county}, which is paying")
    accounts = dict(session.execute(
        select(ACCOUNTS.c.holder_code, ACCOUNTS.c.id).where(
            ACCOUNTS.c.lot_id == lot.id, ACCOUNTS.c.kind == AccountKind.PAYEE,
            ACCOUNTS.c.holder_code.in_(codes))).all())
    base = head.size
    opened = {}
    for k, line in enumerate(lines):
        if line.household_code not in accounts:
            opened[line.household_code] = {
                "lot_id": lot.id, "kind": AccountKind.PAYEE, "holder_code": line.household_code,
                "region_code": payees[line.household_code], "debits_posted": 0,
                "credits_posted": 0, "debits_pending": 0, "credits_pending": 0,
                "log_index": base + k}
    if opened:
        rows = list(opened.values())
        for row, new_id in zip(rows, insert_with_ids(session, ACCOUNTS, rows)):
            row["id"] = new_id
            accounts[row["holder_code"]] = new_id
    memo = pay_memo(roll)
    transfers = []
    for k, line in enumerate(lines):
        request = canonical_request({
            "kind": "pay", "lot": lot.id, "payee": line.household_code,
            "amount_fen": line.amount_fen, "function_code": roll.function_code,
            "use": roll.use_code, "project": None, "county": county, "date": iso_day(day),
            "memo": memo})
        transfers.append({
            "idempotency_key": line_key(roll, line.line_no),
            "content_hash": hashlib.sha256(request.encode()).hexdigest(), "request": request,
            "kind": TransferKind.PAY, "lot_id": lot.id, "amount_fen": line.amount_fen,
            "effective_date": day, "function_code": roll.function_code,
            "use_code": roll.use_code, "memo": memo, "region_code": county,
            "recorded_by": actor.id, "recorded_at": now, "reverses_id": None,
            "log_index": base + k})
    for row, new_id in zip(transfers, insert_with_ids(session, TRANSFERS, transfers)):
        row["id"] = new_id
    postings = []
    for row, line in zip(transfers, lines):
        postings.append({"transfer_id": row["id"], "account_id": source_id, "lot_id": lot.id,
                         "amount_fen": -line.amount_fen, "log_index": row["log_index"]})
        postings.append({"transfer_id": row["id"], "account_id": accounts[line.household_code],
                         "lot_id": lot.id, "amount_fen": line.amount_fen,
                         "log_index": row["log_index"]})
    for row, new_id in zip(postings, insert_with_ids(session, POSTINGS, postings)):
        row["id"] = new_id
    entries = []
    for k, (line, transfer) in enumerate(zip(lines, transfers)):
        rows = []
        if line.household_code in opened:
            rows.append(table_record(ACCOUNTS, opened[line.household_code]))
        rows.append(table_record(TRANSFERS, transfer))
        rows.append(table_record(POSTINGS, postings[2 * k]))
        rows.append(table_record(POSTINGS, postings[2 * k + 1]))
        entries.append(PendingEntry(actor.username, "transfer.record", now, rows))
    append_entries(session, head, entries)
    _move_balances(session, {accounts[line.household_code]: (0, 0, line.amount_fen, 0)
                             for line in lines})
    return [(line, SentPayment(t["id"], t["idempotency_key"], t["amount_fen"], lot.id))
            for line, t in zip(lines, transfers)]


_MOVE = (update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("b_id"))
         .values(debits_posted=ACCOUNTS.c.debits_posted + bindparam("b_dpost"),
                 credits_posted=ACCOUNTS.c.credits_posted + bindparam("b_cpost"),
                 debits_pending=ACCOUNTS.c.debits_pending + bindparam("b_dpend"),
                 credits_pending=ACCOUNTS.c.credits_pending + bindparam("b_cpend")))


def _move_balances(session, deltas: dict[int, tuple[int, int, int, int]]) -> None:
    """Add (debits posted, credits posted, debits pending, credits pending) to each account.

    Relative updates in the database (the rows are not read into the session), so any of these
    accounts the session holds is expired and re-read when next used."""
    if not deltas:
        return
    session.execute(_MOVE, [{"b_id": i, "b_dpost": d[0], "b_cpost": d[1], "b_dpend": d[2],
                             "b_cpend": d[3]} for i, d in deltas.items()])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Account) and obj.id in deltas:
            session.expire(obj)


# --------------------------------------------------------------------------- settling


def settle(session: Session, actor: User, roll: PaymentRoll,
           results: list[BankResult]) -> tuple[list[str], list[tuple[int, str]]]:
    """Apply the bank's results to a roll's payments: paid lines are posted (approved with the
    bank's voucher), failed ones rejected (退票), which releases their money to the county.

    Returns the outcome of each result ('posted', 'returned' or 'unchanged': the same result
    again) and the problems as (position in `results`, message). Everything is checked before
    anything is written: with any problem, nothing is.
    """
    require(session, actor, Action.APPROVE, roll.county_code)
    head = lock_head(session)
    lines = {row.line_no: row for row in session.execute(
        select(RollLine.__table__).where(RollLine.roll_id == roll.id))}
    wanted_lines = sorted({r.line_no for r in results if r.line_no in lines})
    payments = recorded_payments(session, [line_key(roll, n) for n in wanted_lines])
    ids = [t.id for t in payments.values()]
    legs, decided = defaultdict(list), {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for tid, account_id, kind, holder, amount in session.execute(
                select(Posting.transfer_id, Posting.account_id, Account.kind,
                       Account.holder_code, Posting.amount_fen)
                .join(Account, Account.id == Posting.account_id)
                .where(Posting.transfer_id.in_(chunk))):
            legs[tid].append((account_id, kind, holder, amount))
        decided.update(session.execute(select(Approval.transfer_id, Approval.decision)
                                       .where(Approval.transfer_id.in_(chunk))).all())
    outcomes, problems, to_apply = [], [], []
    open_days: dict[dt.date, str | None] = {}
    for position, result in enumerate(results):
        try:
            outcome, payment = _check_result(session, actor, roll, lines, payments, legs,
                                             decided, open_days, result)
        except LedgerError as exc:
            problems.append((position, str(exc)))
            outcomes.append("")
            continue
        outcomes.append(outcome)
        if outcome != "unchanged":
            decided[payment.id] = Decision.APPROVED if result.paid else Decision.REJECTED
            to_apply.append((outcome, result, payment))
    if problems:
        return outcomes, problems
    now = dt.datetime.now(dt.timezone.utc)
    from ledger.rolls import apply_bank_result  # the one-line path writes the roll event too
    # In file order, so that log indexes come out as result by result would give them.
    for together, run in _runs(to_apply, lambda item: item[0] == "posted"):
        if together:
            for start in range(0, len(run), CHUNK):
                _post_chunk(session, actor, head, run[start:start + CHUNK], legs, now)
            session.flush()
            continue
        for _, result, _payment in run:
            apply_bank_result(session, actor, roll.code, result.line_no, result.amount_fen,
                              False, result.reason, result.voucher, result.household_code)
    return outcomes, []


def _check_result(session, actor, roll, lines, payments, legs, decided, open_days, result):
    """The checks of `rolls.apply_bank_result`, on data read for the whole file."""
    n = result.line_no
    line = lines.get(n)
    if line is None:
        raise LedgerError(f"roll {roll.code} has no line {n}")
    if result.household_code is not None and result.household_code != line.household_code:
        raise LedgerError(f"line {n} is household {line.household_code} on the roll, "
                          f"but the bank reports {result.household_code}")
    if result.amount_fen != line.amount_fen:
        raise LedgerError(f"line {n}: the bank reports {result.amount_fen} fen but the roll "
                          f"approved {line.amount_fen} fen (bank file differs from the roll)")
    payment = payments.get(line_key(roll, n))
    if payment is None:
        raise LedgerError(f"line {n} was never sent to the bank")
    if not any(kind is AccountKind.PAYEE and holder == line.household_code
               and amount == line.amount_fen for _, kind, holder, amount in legs[payment.id]) \
            or payment.lot_id != roll.lot_id:
        raise LedgerError(f"line {n}: the payment recorded under its key does not pay "
                          f"{line.amount_fen} fen to {line.household_code} from this roll's lot")
    wanted = Decision.APPROVED if result.paid else Decision.REJECTED
    earlier = decided.get(payment.id)
    if earlier is wanted:
        return "unchanged", payment
    if earlier is not None:
        raise LedgerError(f"line {n} was already recorded as {earlier.value}, the bank now "
                          f"says {'paid' if result.paid else 'failed'}")
    require(session, actor, Action.APPROVE, payment.region_code)
    if actor.id == payment.recorded_by:
        raise MakerChecker(f"{actor.username} recorded transfer #{payment.id} and cannot also "
                           "approve it")
    if result.paid:
        day = payment.effective_date
        if day not in open_days:
            try:
                check_period_open(session, day)
                open_days[day] = None
            except LedgerError as exc:
                open_days[day] = str(exc)
        if open_days[day]:
            raise LedgerError(open_days[day])
        return "posted", payment
    return "returned", payment


def _post_chunk(session, actor, head, chunk, legs, now) -> None:
    base = head.size
    approvals = [{"transfer_id": payment.id, "decision": Decision.APPROVED,
                  "decided_by": actor.id, "decided_at": now,
                  "comment": f"银行已支付 {result.voucher}".strip(), "log_index": base + k}
                 for k, (_, result, payment) in enumerate(chunk)]
    for row, new_id in zip(approvals, insert_with_ids(session, APPROVALS, approvals)):
        row["id"] = new_id
    append_entries(session, head, [
        PendingEntry(actor.username, "transfer.approved", now, [table_record(APPROVALS, row)],
                     {"transfer_id": row["transfer_id"]}) for row in approvals])
    deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for _, _result, payment in chunk:
        for account_id, _kind, _holder, amount in legs[payment.id]:
            d = deltas[account_id]
            if amount < 0:   # money out: pending credit becomes posted (posting._settle)
                d[1] += -amount
                d[3] -= -amount
            else:
                d[0] += amount
                d[2] -= amount
    _move_balances(session, {i: tuple(d) for i, d in deltas.items()})
