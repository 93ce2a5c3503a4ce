"""Paying a roll a roll at a time: its lines sent to the bank, the bank's results settled.

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
the payment's own entry, `ledger.screening.at_posting`) and a failed bank result (it also writes the
roll's `returned` event).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from json.encoder import encode_basestring
from typing import NamedTuple

from sqlalchemy import String, cast, literal, select, type_coerce
from sqlalchemy.orm import Session

from ledger.audit.entries import image_template
from ledger.audit.log import PendingEntry, append_entries, lock_head, record_change
from ledger.core.classification import check_spending
from ledger.core.errors import LedgerError, MakerChecker, NotFound, Overdraft
from ledger.funds import flows, posting
from ledger.funds.accounts import find_account, lock_accounts
from ledger.funds.lots import get_lot
from ledger.funds.posting import canonical_request, check_amount, check_period_open, iso_day
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Decision,
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


def _keyed_transfers(roll: PaymentRoll):
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
        _keyed_transfers(roll).add_columns(*_PAYMENT_COLUMNS))}


# --------------------------------------------------------------------------- sending


def send_lines(session: Session, actor: User, roll: PaymentRoll, lines: list[RollLine],
               day: dt.date) -> list[tuple[RollLine, SentPayment | Transfer]]:
    """Record a pending payment for each of `lines` (open lines of `roll`, an approved roll,
    not yet sent), in line order. Refuses all of them if any one is refused."""
    with collector_paused():
        return _send_lines(session, actor, roll, lines, day)


def _send_lines(session, actor, roll, lines, day):
    county = roll.county_code
    lot = get_lot(session, roll.lot_id)
    check_spending(lot, roll.function_code, roll.use_code)
    region = get_region(session, county)
    if region.level is not RegionLevel.COUNTY:
        raise LedgerError(f"direct payments come from a county; {county} is not one",
                          code="not_a_county", region=county, level=region.level)
    require(session, actor, Action.RECORD, county)
    check_period_open(session, day)
    for line in lines:
        check_amount(line.amount_fen, f"line {line.line_no} amount")
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
    now = dt.datetime.now(dt.timezone.utc)
    batch = _SendBatch(session, actor, roll, lot, day, now, payees, accounts)
    # In line order, so that ids and log indexes come out as line by line would give them.
    for together, run in _runs(lines, lambda line: line.household_code not in dead):
        if together:
            sent += _send_run(session, head, batch, run)
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


def _send_run(session, head, batch, lines):
    roll, lot = batch.roll, batch.lot
    county = roll.county_code
    total = sum(line.amount_fen for line in lines)
    source = find_account(session, lot.id, AccountKind.UNIT, county)
    if source is not None:
        source = lock_accounts(session, [source.id])[source.id]
    available = source.available if source is not None else 0
    if available < total:
        raise Overdraft(
            f"county {county} has {available} fen of lot {lot.label} available; roll "
            f"{roll.code} needs {total} fen for lines {lines[0].line_no}–{lines[-1].line_no}",
            account_kind=AccountKind.UNIT, holder=county, lot=lot.id, available_fen=available,
            requested_fen=total)
    sent = []
    for start in range(0, len(lines), CHUNK):
        sent += batch.send_chunk(head, source.id, lines[start:start + CHUNK])
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
            "function_code": roll.function_code, "use": roll.use_code, "project": None,
            "county": roll.county_code, "date": iso_day(day), "memo": self.memo})
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

    def send_chunk(self, head, source_id, lines):
        session, lot, roll = self.session, self.lot, self.roll
        regions = [self._check_payee(line) for line in lines]
        base, log_id = head.size, head.log_id
        accounts = self.accounts
        # Payee accounts opened here go in with their pending debit already: the row ends as
        # the one-line path leaves it, without a second statement per account.
        # A household with several lines (several members or items) opens its account once,
        # at its first line; the amounts of its other lines move the balance below.
        opening, first_of = [], set()
        for k, line in enumerate(lines):
            if line.household_code not in accounts and line.household_code not in first_of:
                first_of.add(line.household_code)
                opening.append(k)
        opened = {}
        account_rows = []
        for k, account_id in zip(opening, new_ids(session, ACCOUNTS, len(opening))):
            line = lines[k]
            accounts[line.household_code] = opened[k] = account_id
            account_rows.append((account_id, lot.id, AccountKind.PAYEE, line.household_code,
                                 regions[k], 0, 0, line.amount_fen, 0, base + k, log_id))
        insert_tuples(session, ACCOUNTS, _ACCOUNT_COLUMNS, account_rows)

        transfer_ids = new_ids(session, TRANSFERS, len(lines))
        posting_ids = new_ids(session, POSTINGS, 2 * len(lines))
        # The transfer columns that are the same on every line, in _TRANSFER_COLUMNS order:
        # those between request and amount_fen, and those between amount_fen and log_index.
        t = self.transfer
        before_amount = (t["kind"], t["lot_id"])
        after_amount = tuple(t[c] for c in _TRANSFER_COLUMNS[7:-2])
        lot_id, request_of, actor, now = lot.id, self.request, self.actor.username, self.now
        transfer_rows, posting_rows, entries, sent = [], [], [], []
        for k, line in enumerate(lines):
            tid, index = transfer_ids[k], base + k
            key = line_key(roll, line.line_no)
            request = request_of(line.household_code, line.amount_fen)
            digest = hashlib.sha256(request.encode()).hexdigest()
            transfer_rows.append((tid, key, digest, request, *before_amount, line.amount_fen,
                                  *after_amount, index, log_id))
            payee_account = accounts[line.household_code]
            out_id, in_id = posting_ids[2 * k], posting_ids[2 * k + 1]
            posting_rows.append((out_id, tid, source_id, lot_id, -line.amount_fen, index, log_id))
            posting_rows.append((in_id, tid, payee_account, lot_id, line.amount_fen, index,
                                 log_id))

            # Images: copies of the templates with the differing columns set in place.
            records = []
            if k in opened:
                image = self.account_image.copy()
                image["id"] = payee_account
                image["holder_code"] = line.household_code
                image["region_code"] = regions[k]
                image["log_index"] = index
                records.append(("accounts", [payee_account], 1, None, image))
            image = self.transfer_image.copy()
            image["id"] = tid
            image["idempotency_key"] = key
            image["content_hash"] = digest
            image["request"] = request
            image["amount_fen"] = line.amount_fen
            image["log_index"] = index
            records.append(("transfers", [tid], 1, None, image))
            records.append(("postings", [out_id], 1, None,
                            _posting_image(out_id, lot_id, index, source_id, -line.amount_fen,
                                           tid)))
            records.append(("postings", [in_id], 1, None,
                            _posting_image(in_id, lot_id, index, payee_account,
                                           line.amount_fen, tid)))
            entries.append(PendingEntry(actor, "transfer.record", now, records, ordered=True))
            sent.append((line, SentPayment(tid, key, line.amount_fen, lot_id)))
        insert_tuples(session, TRANSFERS, _TRANSFER_COLUMNS, transfer_rows)
        insert_tuples(session, POSTINGS, _POSTING_COLUMNS, posting_rows)
        append_entries(session, head, entries)
        moves: dict[int, int] = {}
        for k, line in enumerate(lines):
            if k not in opened:
                account = accounts[line.household_code]
                moves[account] = moves.get(account, 0) + line.amount_fen
        _move_balances(session, {account: (0, 0, amount, 0) for account, amount in moves.items()})
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


def _move_balances(session, deltas: dict[int, tuple[int, int, int, int]]) -> None:
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


# --------------------------------------------------------------------------- settling


def settle(session: Session, actor: User, roll: PaymentRoll,
           results: list[BankResult]) -> tuple[list[str], list[tuple[int, str]]]:
    """Apply the bank's results to a roll's payments: paid lines are posted (approved with the
    bank's voucher), failed ones rejected (退票), which releases their money to the county.

    Returns the outcome of each result ('posted', 'returned' or 'unchanged': the same result
    again) and the problems as (position in `results`, refusal: a `LedgerError`, whose text is
    the message). Everything is checked before anything is written: with any problem, nothing
    is.
    """
    with collector_paused():
        return _settle(session, actor, roll, results)


def _settle(session, actor, roll, results):
    require(session, actor, Action.APPROVE, roll.county_code)
    head = lock_head(session)
    lines = {row.line_no: row for row in session.execute(
        select(RollLine.__table__).where(RollLine.roll_id == roll.id))}
    # The roll's payments, their legs and any decision on them, each with one query joined
    # through roll_lines (a line without a payment simply has none).
    payments = recorded_payments(session, roll)
    legs, decided = defaultdict(list), {}
    for tid, account_id, kind, holder, amount in session.execute(
            _keyed_transfers(roll).with_only_columns(
                Posting.transfer_id, Posting.account_id,
                type_coerce(Account.kind, String),  # the stored text: no enum per row
                Account.holder_code, Posting.amount_fen)
            .join(Posting, Posting.transfer_id == TRANSFERS.c.id)
            .join(Account, Account.id == Posting.account_id)
            .order_by(Posting.id)):
        legs[tid].append((account_id, kind, holder, amount))
    decided.update(session.execute(
        _keyed_transfers(roll).with_only_columns(Approval.transfer_id, Approval.decision)
        .join(Approval, Approval.transfer_id == TRANSFERS.c.id)).all())
    approvable: set[str] = set()   # payment regions the actor was found to approve in
    outcomes, problems, to_apply = [], [], []
    open_days: dict[dt.date, str | None] = {}
    for position, result in enumerate(results):
        try:
            outcome, payment = _check_result(session, actor, roll, lines, payments, legs,
                                             decided, open_days, approvable, result)
        except LedgerError as exc:
            # Kept as the refusal (code, params), without its traceback: a file of 100,000
            # bad lines would otherwise hold every checking frame alive.
            problems.append((position, exc.with_traceback(None)))
            outcomes.append("")
            continue
        outcomes.append(outcome)
        if outcome != "unchanged":
            decided[payment.id] = Decision.APPROVED if result.paid else Decision.REJECTED
            to_apply.append((outcome, result, payment))
    if problems:
        return outcomes, problems
    now = dt.datetime.now(dt.timezone.utc)
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


def _check_result(session, actor, roll, lines, payments, legs, decided, open_days, approvable,
                  result):
    """The checks of `rolls.apply_bank_result`, on data read for the whole file."""
    n = result.line_no
    line = lines.get(n)
    if line is None:
        raise LedgerError(f"roll {roll.code} has no line {n}", code="not_found",
                          what="roll_line", key=f"{roll.code}:{n}")
    if result.household_code is not None and result.household_code != line.household_code:
        raise LedgerError(f"line {n} is household {line.household_code} on the roll, "
                          f"but the bank reports {result.household_code}",
                          code="bank_household_mismatch", line=n,
                          household=line.household_code, reported=result.household_code)
    if result.amount_fen != line.amount_fen:
        raise LedgerError(f"line {n}: the bank reports {result.amount_fen} fen but the roll "
                          f"approved {line.amount_fen} fen (bank file differs from the roll)",
                          code="bank_amount_mismatch", line=n, reported_fen=result.amount_fen,
                          roll_fen=line.amount_fen)
    payment = payments.get(n)
    if payment is None:
        raise LedgerError(f"line {n} was never sent to the bank", code="bank_line_not_sent",
                          line=n)
    if not any(kind == _PAYEE and holder == line.household_code
               and amount == line.amount_fen for _, kind, holder, amount in legs[payment.id]) \
            or payment.lot_id != roll.lot_id:
        raise LedgerError(f"line {n}: the payment recorded under its key does not pay "
                          f"{line.amount_fen} fen to {line.household_code} from this roll's lot",
                          code="bank_payment_mismatch", line=n, household=line.household_code,
                          amount_fen=line.amount_fen)
    wanted = Decision.APPROVED if result.paid else Decision.REJECTED
    earlier = decided.get(payment.id)
    if earlier is wanted:
        return "unchanged", payment
    if earlier is not None:
        raise LedgerError(f"line {n} was already recorded as {earlier.value}, the bank now "
                          f"says {'paid' if result.paid else 'failed'}",
                          code="bank_result_conflict", line=n, decision=earlier,
                          reported="paid" if result.paid else "failed")
    if payment.region_code not in approvable:
        require(session, actor, Action.APPROVE, payment.region_code)
        approvable.add(payment.region_code)
    if actor.id == payment.recorded_by:
        raise MakerChecker(f"{actor.username} recorded transfer #{payment.id} and cannot also "
                           "approve it", user=actor.username, what="transfer", key=payment.id)
    if result.paid:
        day = payment.effective_date
        if day not in open_days:
            try:
                check_period_open(session, day)
                open_days[day] = None
            except LedgerError as exc:
                open_days[day] = exc
        refusal = open_days[day]
        if refusal is not None:  # the same refusal for every line of that day, each its own
            raise LedgerError(str(refusal), code=refusal.code, **refusal.params)
        return "posted", payment
    return "returned", payment


_PAYEE = AccountKind.PAYEE.value   # an account's kind as `settle` reads it

_APPROVAL_COLUMNS = ["id", "transfer_id", "decision", "decided_by", "decided_at", "comment",
                     "log_index", "log_id"]


def _post_chunk(session, actor, head, chunk, legs, now) -> None:
    base = head.size
    template = image_template(APPROVALS, {"decision": Decision.APPROVED,
                                          "decided_by": actor.id, "decided_at": now})
    rows, entries = [], []
    for k, ((_, result, payment), approval_id) in enumerate(
            zip(chunk, new_ids(session, APPROVALS, len(chunk)))):
        comment = f"银行已支付 {result.voucher}".strip()
        rows.append((approval_id, payment.id, Decision.APPROVED, actor.id, now, comment,
                     base + k, head.log_id))
        image = template.copy()
        image["id"] = approval_id
        image["comment"] = comment
        image["log_index"] = base + k
        image["transfer_id"] = payment.id
        entries.append(PendingEntry(actor.username, "transfer.approved", now,
                                    [("approvals", [approval_id], 1, None, image)],
                                    {"transfer_id": payment.id}, ordered=True))
    insert_tuples(session, APPROVALS, _APPROVAL_COLUMNS, rows)
    append_entries(session, head, entries)
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


def apply_bank_result(session: Session, actor: User, code: str, line_no: int, amount_fen: int,
                      paid: bool, reason: str = "", voucher: str = "",
                      household_code: str | None = None) -> str:
    """Post a paid line or reject a failed one. Returns 'posted', 'returned' or 'unchanged'."""
    lock_head(session)  # the same result file applied twice at once: the second is 'unchanged'
    roll = get_roll(session, code)
    require(session, actor, Action.APPROVE, roll.county_code)
    line = session.execute(select(RollLine).where(RollLine.roll_id == roll.id,
                                                  RollLine.line_no == line_no)) \
        .scalar_one_or_none()
    if line is None:
        raise LedgerError(f"roll {code} has no line {line_no}", code="not_found",
                          what="roll_line", key=f"{code}:{line_no}")
    if household_code is not None and household_code != line.household_code:
        raise LedgerError(f"line {line_no} is household {line.household_code} on the roll, "
                          f"but the bank reports {household_code}",
                          code="bank_household_mismatch", line=line_no,
                          household=line.household_code, reported=household_code)
    if amount_fen != line.amount_fen:
        raise LedgerError(f"line {line_no}: the bank reports {amount_fen} fen but the roll "
                          f"approved {line.amount_fen} fen (bank file differs from the roll)",
                          code="bank_amount_mismatch", line=line_no, reported_fen=amount_fen,
                          roll_fen=line.amount_fen)
    transfer = transfer_of(session, roll, line)
    if transfer is None:
        raise LedgerError(f"line {line_no} was never sent to the bank",
                          code="bank_line_not_sent", line=line_no)
    legs = {(p.account.kind.value, p.account.holder_code, p.amount_fen) for p in transfer.postings}
    if ("payee", line.household_code, line.amount_fen) not in legs \
            or transfer.lot_id != roll.lot_id:
        raise LedgerError(f"line {line_no}: the payment recorded under its key does not pay "
                          f"{line.amount_fen} fen to {line.household_code} from this roll's lot",
                          code="bank_payment_mismatch", line=line_no,
                          household=line.household_code, amount_fen=line.amount_fen)
    decided = posting.decision_of(session, transfer.id)
    wanted = Decision.APPROVED if paid else Decision.REJECTED
    if decided is wanted:
        return "unchanged"
    if decided is not None:
        raise LedgerError(f"line {line_no} was already recorded as {decided.value}, the bank "
                          f"now says {'paid' if paid else 'failed'}",
                          code="bank_result_conflict", line=line_no, decision=decided,
                          reported="paid" if paid else "failed")
    if paid:
        posting.approve(session, actor, transfer.id, f"银行已支付 {voucher}".strip())
        return "posted"
    posting.reject(session, actor, transfer.id, f"退票: {reason or 'no reason given'}")
    add_event(session, actor, roll, RollEventKind.RETURNED, dt.date.today(),
               f"退票: {reason or 'no reason given'}", line)
    return "returned"
