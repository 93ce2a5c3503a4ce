"""The posting engine: record, approve, reject and reverse transfers.

Every transfer goes through `_record`, which enforces the invariants of DESIGN.md in one place:
integer fen (1), balance per lot (2), lot identity (3), no overdraft counting pending (5),
period open, idempotency (8), and writes the audit entry in the same transaction (10).
Purpose lock (4) is checked by the callers that spend (`ledger.funds.flows`). Approval is the
maker–checker step (7); a recorded transfer holds its amounts as pending until then.
Services leave commit to the caller.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import Change, lock_head, record_change
from ledger.core.errors import (
    ClosedPeriod,
    IdempotencyConflict,
    InvariantViolation,
    LedgerError,
    LotMismatch,
    MakerChecker,
    Overdraft,
    PermissionDenied,
)
from ledger.funds.accounts import lock_accounts
from ledger.funds.refusals_log import attempting
from ledger.models import (
    SOURCE_KINDS,
    Account,
    Approval,
    CountyPeriodClosure,
    Decision,
    IntegrationLineage,
    PeriodClosure,
    Posting,
    Transfer,
    TransferKind,
    User,
)
from ledger.store.access import Action, ancestors, require
from ledger.store.db import fetch

MAX_AMOUNT_FEN = 10**15  # ten trillion yuan: larger is a typing error, not a budget


@dataclass(frozen=True)
class Leg:
    """One side of a transfer: a signed amount (positive = money in) on an account."""
    account: Account
    amount: int


def check_amount(amount, what: str = "amount") -> int:
    """Amounts reach the core as integer fen; anything else is refused, not rounded."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise LedgerError(
            f"{what} must be a whole number of fen, got {amount!r} "
            "(parse yuan text with ledger.core.money.parse_yuan first)",
            code="amount_not_fen", field=what, value=repr(amount))
    if amount <= 0:
        raise LedgerError(f"{what} must be positive, got {amount} fen",
                          code="amount_not_positive", field=what, amount_fen=amount)
    if amount > MAX_AMOUNT_FEN:
        raise LedgerError(f"{what} of {amount} fen is larger than any budget; check the figure",
                          code="amount_too_large", field=what, amount_fen=amount,
                          max_fen=MAX_AMOUNT_FEN)
    return amount


def check_date(day, what: str = "effective date") -> dt.date:
    """Dates reach the core as dates (not datetimes or text), so rows and log agree."""
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise LedgerError(f"{what} must be a date like 2024-03-31, got {day!r}",
                          code="date_invalid", field=what, value=repr(day))
    return day


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def closure_of(session: Session, day: dt.date, region_code: str | None = None):
    """Who closed `day`'s month for an entry of `region_code`: "" for the whole ledger, a
    county's code for that county's closure, or None when the month is open there.

    A county's closure covers the county and every region inside it; without a region (the
    roll paths that do not name one yet) only the ledger-wide closure counts."""
    period = period_of(day)
    if session.get(PeriodClosure, period) is not None:
        return ""
    if region_code is None:
        return None
    return session.execute(
        select(CountyPeriodClosure.county_code)
        .where(CountyPeriodClosure.period == period,
               CountyPeriodClosure.county_code.in_(ancestors(session, region_code)))
        .limit(1)).scalar_one_or_none()


def check_period_open(session: Session, day: dt.date, region_code: str | None = None) -> None:
    """Refuse an entry dated in a month closed for the whole ledger, or (given the entry's
    region) closed by the county it lies in."""
    check_date(day)
    closed_by = closure_of(session, day, region_code)
    if closed_by is None:
        return
    period = period_of(day)
    if closed_by == "":
        raise ClosedPeriod(f"fiscal period {period} is closed; {day.isoformat()} cannot be used",
                           period=period, date=day)
    raise ClosedPeriod(f"fiscal period {period} is closed for county {closed_by}; "
                       f"{day.isoformat()} cannot be used", period=period, date=day,
                       county=closed_by)


def posting_date(session: Session, effective_date: dt.date | None,
                 voucher_date: dt.date | None, region_code: str) -> dt.date:
    """The date a transfer is posted on (its accounting date, `effective_date`).

    The caller's date when given; else the voucher's date while its month is open; else today.
    A voucher keyed after its month was closed is never refused for that and never re-dated:
    it is posted in the open period and keeps its own date in `voucher_date`, so the delay
    stays on the record (issue 17). A posting dated before its voucher would be backdated,
    and is refused."""
    if voucher_date is not None:
        check_date(voucher_date, "voucher date")
    if effective_date is None:
        late = voucher_date is None or closure_of(session, voucher_date, region_code) is not None
        effective_date = dt.date.today() if late else voucher_date
    check_date(effective_date)
    if voucher_date is not None and voucher_date > effective_date:
        raise LedgerError(f"a transfer is not posted before its voucher: voucher dated "
                          f"{voucher_date}, posting date {effective_date}",
                          code="voucher_after_posting", voucher_date=voucher_date,
                          date=effective_date)
    return effective_date


def voucher_fields(voucher_date: dt.date | None, value_date: dt.date | None) -> dict:
    """The voucher's dates as a stored request holds them: only those given, so a request
    without them reads as it did before they existed (its replay still matches)."""
    fields = {}
    if voucher_date is not None:
        fields["voucher_date"] = iso_day(voucher_date)
    if value_date is not None:
        fields["value_date"] = iso_day(value_date)
    return fields


def iso_day(day) -> str:
    """A date as it appears in a stored request (whatever was passed, so bad input is kept
    verbatim for the error that follows; None, a date left to the engine, stays null)."""
    if day is None:
        return None
    return day.isoformat() if isinstance(day, dt.date) else str(day)


def canonical_request(request: dict) -> str:
    return json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def replay(session: Session, key: str, request: dict, actor: User) -> Transfer | None:
    """Return the transfer already recorded under `key` with the same content, if any.

    The same key with different content is refused, naming the earlier transfer and every
    field that differs (invariant 8).
    """
    if not key or not isinstance(key, str):
        raise LedgerError("every transfer needs an idempotency key (e.g. the voucher number)",
                          code="key_missing")
    # Look the key up under the log-head lock that recording takes anyway: a concurrent writer
    # with the same key has then either committed (and is seen here) or not started, so a
    # retried voucher gets its transfer back rather than a unique-key error.
    lock_head(session)
    existing = session.execute(
        select(Transfer).where(Transfer.idempotency_key == key)).scalar_one_or_none()
    if existing is None:
        return None
    try:
        require(session, actor, Action.RECORD, existing.region_code)
    except PermissionDenied:
        # Another region's transfer: say only that the key is taken, not whose it is.
        raise IdempotencyConflict(f"idempotency key {key!r} is already used; choose "
                                  "another", code="key_taken", key=key) from None
    text = canonical_request(request)
    if existing.request == text:
        return existing
    old = json.loads(existing.request)
    new = json.loads(text)
    fields = [f for f in sorted(set(old) | set(new)) if old.get(f) != new.get(f)]
    diffs = [f"{f}: recorded {old.get(f)!r}, now {new.get(f)!r}" for f in fields]
    raise IdempotencyConflict(
        f"idempotency key {key!r} already belongs to transfer #{existing.id} "
        f"({existing.kind.value}, {existing.amount_fen} fen, {existing.effective_date}); "
        f"this request differs: {'; '.join(diffs)}",
        key=key, transfer_id=existing.id, kind=existing.kind, amount_fen=existing.amount_fen,
        date=existing.effective_date, fields=fields,
        recorded={f: old.get(f) for f in fields}, requested={f: new.get(f) for f in fields})


def record(change: Change, actor: User, *, kind: TransferKind, lot_id: int, legs: list[Leg],
           key: str, request: dict, effective_date: dt.date | None, region_code: str,
           function_code: str | None = None, use_code: str | None = None, memo: str = "",
           reverses: Transfer | None = None,
           lineage: list[tuple[int, int, int]] = (), voucher_date: dt.date | None = None,
           value_date: dt.date | None = None) -> Transfer:
    """Write a transfer with its postings, holding its outflows as pending (invariants 2, 3, 5).

    `effective_date` None: posted on the voucher's date, or today if that month is closed
    (`posting_date`)."""
    session = change.session
    effective_date = posting_date(session, effective_date, voucher_date, region_code)
    if value_date is not None:
        check_date(value_date, "value date")
    check_period_open(session, effective_date, region_code)
    _check_balanced(legs)
    _check_lot_identity(kind, lot_id, legs)
    accounts = lock_accounts(session, [leg.account.id for leg in legs])
    _hold_pending(accounts, legs)
    text = canonical_request(request)
    transfer = Transfer(
        idempotency_key=key, content_hash=hashlib.sha256(text.encode()).hexdigest(),
        request=text, kind=kind, lot_id=lot_id,
        amount_fen=sum(leg.amount for leg in legs if leg.amount > 0) // _lot_count(legs),
        effective_date=effective_date, function_code=function_code, use_code=use_code,
        memo=memo, region_code=region_code, recorded_by=actor.id,
        recorded_at=change.time, reverses_id=reverses.id if reverses else None,
        voucher_date=voucher_date, value_date=value_date)
    change.add(transfer)
    session.flush()
    for leg in legs:
        change.add(Posting(transfer_id=transfer.id, account_id=leg.account.id,
                           lot_id=leg.account.lot_id, amount_fen=leg.amount))
    for from_lot, to_lot, amount in lineage:
        change.add(IntegrationLineage(transfer_id=transfer.id, from_lot_id=from_lot,
                                      to_lot_id=to_lot, amount_fen=amount))
    # Alerts that are cheap to check as money moves (BEN-01: paid after death), raised in this
    # same audit entry; see ledger/screening/at_posting.py. Imported here: alerts import posting.
    from ledger.screening.at_posting import check_transfer
    check_transfer(change, actor, transfer, legs)
    return transfer


def _lot_count(legs: list[Leg]) -> int:
    # An integration moves the same sum out of its source lots and into the new lot, so the
    # money in across all lots is counted twice; the transfer's amount is the sum moved.
    lots = {leg.account.lot_id for leg in legs}
    return 2 if len(lots) > 1 else 1


def _check_balanced(legs: list[Leg]) -> None:
    per_lot: dict[int, int] = defaultdict(int)
    for leg in legs:
        if isinstance(leg.amount, bool) or not isinstance(leg.amount, int) or leg.amount == 0:
            raise InvariantViolation(f"posting amount must be a non-zero integer of fen: {leg}",
                                     code="posting_not_fen", value=repr(leg.amount))
        per_lot[leg.account.lot_id] += leg.amount
    unbalanced = {lot: s for lot, s in per_lot.items() if s != 0}
    if unbalanced or len(legs) < 2:
        raise InvariantViolation(f"transfer does not balance within each lot: {unbalanced}",
                                 code="unbalanced", imbalance_fen=unbalanced, legs=len(legs))


def _check_lot_identity(kind: TransferKind, lot_id: int, legs: list[Leg]) -> None:
    lots = {leg.account.lot_id for leg in legs}
    if kind in (TransferKind.INTEGRATE, TransferKind.REVERSE):
        return  # integration records lineage; a reversal mirrors an already-checked transfer
    if lots != {lot_id}:
        raise LotMismatch(
            f"a {kind.value} must stay within lot {lot_id}, but touches lots "
            f"{sorted(lots)}; money crosses lots only through an approved integration (统筹整合)",
            kind=kind, lot=lot_id, lots=sorted(lots))


def _hold_pending(accounts: dict[int, Account], legs: list[Leg]) -> None:
    outflow: dict[int, int] = defaultdict(int)
    for leg in legs:
        if leg.amount < 0:
            outflow[leg.account.id] += -leg.amount
    for account_id, amount in outflow.items():
        account = accounts[account_id]
        if account.kind not in SOURCE_KINDS and account.available < amount:
            raise Overdraft(
                f"{account.label} has {account.available} fen available "
                f"(posted balance {account.balance}, pending out {account.credits_pending}); "
                f"cannot pay out {amount} fen",
                account_kind=account.kind, holder=account.holder_code, lot=account.lot_id,
                available_fen=account.available, requested_fen=amount)
    for leg in legs:
        account = accounts[leg.account.id]
        if leg.amount < 0:
            account.credits_pending += -leg.amount
        else:
            account.debits_pending += leg.amount


def get_transfer(session: Session, transfer_id: int) -> Transfer:
    return fetch(session, Transfer, transfer_id, f"transfer #{transfer_id}")


def decision_of(session: Session, transfer_id: int) -> Decision | None:
    return session.execute(
        select(Approval.decision).where(Approval.transfer_id == transfer_id)).scalar_one_or_none()


def approve(session: Session, actor: User, transfer_id: int, comment: str = "") -> Approval:
    """The checker posts a colleague's transfer: pending amounts become posted."""
    return _decide(session, actor, transfer_id, Decision.APPROVED, comment)


def reject(session: Session, actor: User, transfer_id: int, comment: str) -> Approval:
    """The checker refuses a transfer: its pending amounts are released."""
    if not isinstance(comment, str) or not comment.strip():
        raise LedgerError("a rejection needs a comment saying why", code="required",
                          field="comment")
    return _decide(session, actor, transfer_id, Decision.REJECTED, comment)


def _decide(session: Session, actor: User, transfer_id: int, decision: Decision,
            comment: str) -> Approval:
    transfer = get_transfer(session, transfer_id)
    require(session, actor, Action.APPROVE, transfer.region_code)
    # A refused decision (the recorder deciding their own entry, a closed month) is recorded
    # for auditors (ledger.funds.refusals_log).
    with attempting(actor, "approve" if decision is Decision.APPROVED else "reject",
                    region_code=transfer.region_code, lot_id=transfer.lot_id,
                    amount_fen=transfer.amount_fen, day=transfer.effective_date,
                    key=transfer.idempotency_key, transfer_id=transfer_id):
        return _decided(session, actor, transfer, decision, comment)


def _decided(session: Session, actor: User, transfer: Transfer, decision: Decision,
             comment: str) -> Approval:
    transfer_id = transfer.id
    if actor.id == transfer.recorded_by:
        raise MakerChecker(
            f"{actor.username} recorded transfer #{transfer_id} and cannot also approve it",
            user=actor.username, what="transfer", key=transfer_id)
    with record_change(session, actor.username, f"transfer.{decision.value}",
                       transfer_id=transfer_id) as change:
        previous = decision_of(session, transfer_id)
        if previous is not None:
            raise LedgerError(f"transfer #{transfer_id} was already {previous.value}",
                              code="already_decided", transfer_id=transfer_id,
                              decision=previous)
        if decision is Decision.APPROVED:
            check_period_open(session, transfer.effective_date, transfer.region_code)
        postings = session.execute(
            select(Posting).where(Posting.transfer_id == transfer_id)).scalars().all()
        accounts = lock_accounts(session, [p.account_id for p in postings])
        for p in postings:
            _settle(accounts[p.account_id], p.amount_fen, decision)
        approval = Approval(transfer_id=transfer_id, decision=decision, decided_by=actor.id,
                            decided_at=change.time, comment=comment)
        change.add(approval)
    return approval


def _settle(account: Account, amount: int, decision: Decision) -> None:
    if amount < 0:
        account.credits_pending -= -amount
        if decision is Decision.APPROVED:
            account.credits_posted += -amount
    else:
        account.debits_pending -= amount
        if decision is Decision.APPROVED:
            account.debits_posted += amount


def reverse(session: Session, actor: User, transfer_id: int, *, reason: str,
            effective_date: dt.date, key: str) -> Transfer:
    """Correct an approved transfer by recording its mirror image (invariant 6: never edit).

    The reversal needs approval like any transfer, and the accounts that received the money
    must still hold it (money a payee already spent is recovered, not reversed).
    """
    original = get_transfer(session, transfer_id)
    request = {"kind": "reverse", "reverses": transfer_id, "reason": reason,
               "date": iso_day(effective_date)}
    existing = replay(session, key, request, actor)
    if existing is not None:
        return existing
    require(session, actor, Action.RECORD, original.region_code)
    if not reason or not reason.strip():
        raise LedgerError("a reversal needs a reason", code="required", field="reason")
    if original.kind is TransferKind.REVERSE:
        raise LedgerError(f"transfer #{transfer_id} is itself a reversal; record a new transfer",
                          code="reversal_of_reversal", transfer_id=transfer_id)
    if decision_of(session, transfer_id) is not Decision.APPROVED:
        raise LedgerError(f"transfer #{transfer_id} is not approved; reject it instead",
                          code="reverse_unapproved", transfer_id=transfer_id)
    with attempting(actor, "reverse", region_code=original.region_code,
                    lot_id=original.lot_id, amount_fen=original.amount_fen,
                    day=effective_date, key=key, transfer_id=transfer_id), \
            record_change(session, actor.username, "transfer.record", reason=reason) as change:
        _check_not_reversed(session, transfer_id)
        postings = session.execute(
            select(Posting).where(Posting.transfer_id == transfer_id)
            .order_by(Posting.id)).scalars().all()
        legs = [Leg(p.account, -p.amount_fen) for p in postings]
        lineage = [(row.to_lot_id, row.from_lot_id, row.amount_fen) for row in
                   session.execute(select(IntegrationLineage).where(
                       IntegrationLineage.transfer_id == transfer_id)).scalars()]
        return record(change, actor, kind=TransferKind.REVERSE, lot_id=original.lot_id,
                      legs=legs, key=key, request=request, effective_date=effective_date,
                      region_code=original.region_code, function_code=original.function_code,
                      use_code=original.use_code, memo=reason, reverses=original,
                      lineage=lineage)


def _check_not_reversed(session: Session, transfer_id: int) -> None:
    for rev_id in session.execute(
            select(Transfer.id).where(Transfer.reverses_id == transfer_id)).scalars():
        if decision_of(session, rev_id) is not Decision.REJECTED:
            raise LedgerError(f"transfer #{transfer_id} already has reversal #{rev_id}",
                              code="already_reversed", transfer_id=transfer_id,
                              reversal_id=rev_id)
