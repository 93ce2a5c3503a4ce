"""Receipt of a transfer between levels (到账): the receiving unit records the day the money or
its document reached it, beside the issuing level's own dates (issue 17).

The issuing level's transfer carries its issue date (the voucher date of the allocation) and its
posting date; its row is never updated, and the receipt is the receiving unit's statement, not
the issuer's, so it is a row of its own (`transfer_receipts`), written by a clerk of the
receiving unit in an entry of its own. The time between issue and receipt is what the rules on
money held back (FLW-01) measure.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.funds.posting import check_date, decision_of, get_transfer
from ledger.models import (
    AccountKind,
    Decision,
    Posting,
    Transfer,
    TransferKind,
    TransferReceipt,
    User,
)
from ledger.store.access import Action, require

# Transfers from one level to another: down the chain, and idle money taken back up it.
BETWEEN_LEVELS = (TransferKind.ALLOCATE, TransferKind.RECLAIM)


def receiving_region(session: Session, transfer: Transfer) -> str:
    """The unit a transfer between levels pays into: the holder of its unit account credited."""
    for p in session.execute(select(Posting).where(Posting.transfer_id == transfer.id)).scalars():
        if p.amount_fen > 0 and p.account.kind is AccountKind.UNIT:
            return p.account.holder_code
    raise LedgerError(f"transfer #{transfer.id} pays into no unit", code="not_between_levels",
                      transfer_id=transfer.id, kind=transfer.kind)


def record_receipt(session: Session, actor: User, transfer_id: int, *,
                   received_date: dt.date, memo: str = "") -> TransferReceipt:
    """The receiving unit records that a transfer between levels arrived on `received_date`.

    Once per transfer; not before the transfer was issued (its voucher date, else its posting
    date), not in the future, and not for a transfer its issuer rejected (nothing was sent)."""
    transfer = get_transfer(session, transfer_id)
    if transfer.kind not in BETWEEN_LEVELS:
        raise LedgerError(f"transfer #{transfer_id} is a {transfer.kind.value}, not a transfer "
                          "between levels; only those are received", code="not_between_levels",
                          transfer_id=transfer_id, kind=transfer.kind)
    region = receiving_region(session, transfer)
    require(session, actor, Action.RECORD, region)
    # The receipt is the receiving unit's word that the money came: the issuing level (whose
    # scope covers the unit below) does not certify its own transfer as arrived.
    if actor.region_code != region:
        raise LedgerError(f"{actor.username} works for {actor.region_code}; the receipt of "
                          f"transfer #{transfer_id} is recorded by {region}, which received it",
                          code="not_the_receiver", transfer_id=transfer_id, region=region,
                          user=actor.username)
    check_date(received_date, "received date")
    issued = transfer.voucher_date or transfer.effective_date
    if received_date < issued:
        raise LedgerError(f"transfer #{transfer_id} was issued on {issued}; it cannot have been "
                          f"received on {received_date}", code="received_before_issue",
                          transfer_id=transfer_id, issued=issued, received_date=received_date)
    if received_date > dt.date.today():
        raise LedgerError(f"received date {received_date} is in the future",
                          code="date_in_future", field="received date", date=received_date)
    if decision_of(session, transfer_id) is Decision.REJECTED:
        raise LedgerError(f"transfer #{transfer_id} was rejected by its issuer; nothing was sent",
                          code="receipt_of_rejected", transfer_id=transfer_id)
    with record_change(session, actor.username, "transfer.receive",
                       transfer_id=transfer_id) as change:
        if session.get(TransferReceipt, transfer_id) is not None:
            raise LedgerError(f"transfer #{transfer_id} is already recorded as received",
                              code="already_received", transfer_id=transfer_id)
        receipt = TransferReceipt(transfer_id=transfer_id, received_date=received_date,
                                  region_code=region, memo=memo, recorded_by=actor.id,
                                  recorded_at=change.time)
        change.add(receipt)
    return receipt


def readable_transfer(session: Session, actor: User | None, transfer_id: int) -> Transfer:
    """A transfer as `actor` may read it: in the scope of its region, or (a transfer between
    levels) of the unit that received it, which reads what it was sent. No actor: the whole
    ledger, as the command line's reports without --as."""
    transfer = get_transfer(session, transfer_id)
    if actor is None:
        return transfer
    try:
        require(session, actor, Action.READ, transfer.region_code)
    except PermissionDenied:
        if transfer.kind not in BETWEEN_LEVELS:
            raise
        require(session, actor, Action.READ, receiving_region(session, transfer))
    return transfer


@dataclass(frozen=True)
class TransferDates:
    """Every date of one transfer, and the delays between them, as listings show them."""
    posted: dt.date                 # effective_date: the period it is booked in
    voucher: dt.date | None         # the voucher's own date (an allocation's issue date)
    value: dt.date | None           # the bank's value date
    entered: dt.date                # the day it was keyed in (recorded_at)
    received: dt.date | None        # the receiving level's receipt (transfers between levels)

    @property
    def posting_delay_days(self) -> int:
        """Days from the voucher to its posting: above zero for a late voucher."""
        return (self.posted - self.voucher).days if self.voucher else 0

    @property
    def receipt_days(self) -> int | None:
        """Days from issue to receipt."""
        if self.received is None:
            return None
        return (self.received - (self.voucher or self.posted)).days

    def to_dict(self) -> dict:
        def day(d):
            return d.isoformat() if d else None
        return {"effective_date": day(self.posted), "voucher_date": day(self.voucher),
                "value_date": day(self.value), "entry_date": day(self.entered),
                "received_date": day(self.received),
                "posting_delay_days": self.posting_delay_days,
                "receipt_days": self.receipt_days}


def entry_day(recorded_at: dt.datetime) -> dt.date:
    """The day a row was keyed in, on the server's calendar (as `--date`'s "today" is)."""
    if recorded_at.tzinfo is None:  # SQLite hands back the stored UTC time without its zone
        recorded_at = recorded_at.replace(tzinfo=dt.timezone.utc)
    return recorded_at.astimezone().date()


def dates_of(session: Session, transfer: Transfer) -> TransferDates:
    receipt = session.get(TransferReceipt, transfer.id)
    return TransferDates(posted=transfer.effective_date, voucher=transfer.voucher_date,
                         value=transfer.value_date, entered=entry_day(transfer.recorded_at),
                         received=receipt.received_date if receipt else None)
