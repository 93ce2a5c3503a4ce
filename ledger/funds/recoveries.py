"""Recoveries (追回归位): misused money goes back to the lot it came from.

When an audit or an alert finds that a payee received money it should not have (a false claim,
a payment after death, a diversion), the county opens a recovery case. The money the payee
received is re-classed as a receivable of the lot (`recovery_claim`: payee account → receivable
account), so the payee no longer counts as having legitimately received it and the lot knows
what it is owed. Each sum that comes back is a `recovery_collect` transfer (receivable → the
county's share of the same lot), after which the county can spend it again on the lot's purpose.
What is still outstanding, and whether it is overdue, is derived from the approved transfers.

Both steps are ordinary transfers: recorded by a clerk of the paying county, approved by a
colleague, refused if they would overdraw (a claim cannot exceed what the payee received; a
collection cannot exceed what is still owed), and logged in the audit log.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError, Overdraft
from ledger.funds.accounts import account_for
from ledger.funds.lots import get_lot
from ledger.funds.posting import (
    Leg,
    check_amount,
    check_date,
    get_transfer,
    iso_day,
    record,
    replay,
)
from ledger.funds.projects import get_payee
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Decision,
    Posting,
    Recovery,
    Region,
    RegionLevel,
    Transfer,
    TransferKind,
    User,
)
from ledger.store.access import Action, ancestors, require
from ledger.store.db import fetch


def get_recovery(session: Session, code: str) -> Recovery:
    row = session.execute(select(Recovery).where(Recovery.code == code)).scalar_one_or_none()
    if row is None:
        raise LedgerError(f"recovery case {code!r} does not exist", code="not_found",
                          what="recovery", key=code)
    return row


def county_of(session: Session, region_code: str) -> str:
    """The county a region lies in (the region itself if it is a county)."""
    for code in ancestors(session, region_code):
        if fetch(session, Region, code, f"region {code}").level is RegionLevel.COUNTY:
            return code
    raise LedgerError(f"region {region_code} does not lie in a county", code="no_county",
                      region=region_code)


def open_recovery(session: Session, actor: User, *, code: str, lot_id: int, payee_code: str,
                  amount_fen: int, due_date: dt.date, reason: str, effective_date: dt.date,
                  source_transfer_id: int | None = None) -> Recovery:
    """Record that `payee_code` must return `amount_fen` of `lot_id` by `due_date` (责令追回).

    The claim is a transfer and waits for approval like any other. Opening the same case again
    with the same figures returns it; with other figures it is refused.
    """
    key = f"recovery:{code}:claim"
    request = {"kind": "recovery_claim", "case": code, "lot": lot_id, "payee": payee_code,
               "amount_fen": amount_fen, "due": iso_day(due_date), "reason": reason,
               "date": iso_day(effective_date), "source_transfer": source_transfer_id}
    existing = replay(session, key, request, actor)
    if existing is not None:
        return session.execute(select(Recovery).where(
            Recovery.claim_transfer_id == existing.id)).scalar_one()
    if not isinstance(code, str) or not code.strip():
        raise LedgerError("a recovery case needs a code (e.g. the audit finding number)",
                          code="required", field="code")
    if not isinstance(reason, str) or not reason.strip():
        raise LedgerError(f"recovery {code}: say why the money must come back (reason)",
                          code="required", field="reason")
    check_amount(amount_fen, "recovery amount")
    check_date(due_date, "due date")
    check_date(effective_date)
    if due_date < effective_date:
        raise LedgerError(f"recovery {code}: due date {due_date} is before the case is opened "
                          f"({effective_date})", code="recovery_due_before_opened", case=code,
                          due_date=due_date, date=effective_date)
    lot = get_lot(session, lot_id)
    payee = get_payee(session, payee_code)
    county = county_of(session, payee.region_code)
    if source_transfer_id is not None:
        source = get_transfer(session, source_transfer_id)
        if source.kind is not TransferKind.PAY or source.lot_id != lot_id:
            raise LedgerError(f"recovery {code}: transfer #{source_transfer_id} is not a payment "
                              f"from lot {lot_id}", code="recovery_source_not_payment",
                              case=code, transfer_id=source_transfer_id, lot=lot_id)
        payee_legs = session.execute(select(Posting).join(Posting.account).where(
            Posting.transfer_id == source_transfer_id, Posting.amount_fen > 0)).scalars().all()
        if not any(p.account.holder_code == payee_code for p in payee_legs):
            raise LedgerError(f"recovery {code}: transfer #{source_transfer_id} did not pay "
                              f"{payee_code}", code="recovery_source_other_payee", case=code,
                              transfer_id=source_transfer_id, payee=payee_code)
    if session.execute(select(Recovery.id).where(Recovery.code == code)).first():
        raise LedgerError(f"recovery case {code!r} already exists with other figures",
                          code="already_exists", what="recovery", key=code)
    require(session, actor, Action.RECORD, county)
    with record_change(session, actor.username, "transfer.record", case=code) as change:
        paid = account_for(change, lot, AccountKind.PAYEE, payee_code, payee.region_code)
        owed = account_for(change, lot, AccountKind.RECEIVABLE, payee_code, payee.region_code)
        claim = record(change, actor, kind=TransferKind.RECOVERY_CLAIM, lot_id=lot_id,
                       legs=[Leg(paid, -amount_fen), Leg(owed, amount_fen)], key=key,
                       request=request, effective_date=effective_date, region_code=county,
                       memo=reason)
        case = Recovery(code=code, lot_id=lot_id, payee_code=payee_code, county_code=county,
                        amount_fen=amount_fen, due_date=due_date, reason=reason,
                        claim_transfer_id=claim.id, source_transfer_id=source_transfer_id)
        change.add(case)
    return case


def collect(session: Session, actor: User, *, code: str, amount_fen: int,
            effective_date: dt.date, key: str, memo: str = "") -> Transfer:
    """Record money that came back for case `code` (the bank voucher number is the key).

    It returns to the paying county's share of the same lot (归位); it is refused while the
    claim is not approved, and for more than is still owed (counting pending collections).
    """
    case = get_recovery(session, code)
    request = {"kind": "recovery_collect", "case": code, "amount_fen": amount_fen,
               "date": iso_day(effective_date), "memo": memo}
    existing = replay(session, key, request, actor)
    if existing is not None:
        return existing
    check_amount(amount_fen, "recovered amount")
    require(session, actor, Action.RECORD, case.county_code)
    decision = session.execute(select(Approval.decision).where(
        Approval.transfer_id == case.claim_transfer_id)).scalar_one_or_none()
    if decision is not Decision.APPROVED:
        raise LedgerError(f"recovery {code}: its claim (transfer #{case.claim_transfer_id}) is "
                          f"{decision.value if decision else 'not approved yet'}; "
                          "approve the claim before recording money that came back",
                          code="recovery_claim_unapproved", case=code,
                          transfer_id=case.claim_transfer_id, decision=decision)
    still_owed = case.amount_fen - _collections_standing(session, code)
    if amount_fen > still_owed:
        raise Overdraft(f"recovery {code}: {still_owed} fen is still owed on this case "
                        f"(collections pending approval count); cannot collect {amount_fen}",
                        code="recovery_overcollected", case=code, owed_fen=still_owed,
                        requested_fen=amount_fen)
    lot = get_lot(session, case.lot_id)
    payee = get_payee(session, case.payee_code)
    with record_change(session, actor.username, "transfer.record", case=code) as change:
        owed = account_for(change, lot, AccountKind.RECEIVABLE, case.payee_code,
                           payee.region_code)
        back = account_for(change, lot, AccountKind.UNIT, case.county_code, case.county_code)
        return record(change, actor, kind=TransferKind.RECOVERY_COLLECT, lot_id=case.lot_id,
                      legs=[Leg(owed, -amount_fen), Leg(back, amount_fen)], key=key,
                      request=request, effective_date=effective_date,
                      region_code=case.county_code, memo=memo or f"追回 {code}")


def _collections_standing(session: Session, code: str) -> int:
    """What was collected on one case, approved or still pending (not rejected, not reversed).

    The receivable account is shared by every case against the same payee in the lot, so its
    overdraft check alone would let one case absorb another's collections; this is the
    per-case limit. It runs under the log-head lock `replay` took, so it cannot race."""
    rejected = select(Approval.transfer_id).where(Approval.decision == Decision.REJECTED)
    reversed_ = select(Transfer.reverses_id).join(Approval, and_(
        Approval.transfer_id == Transfer.id, Approval.decision != Decision.REJECTED)) \
        .where(Transfer.reverses_id.is_not(None))
    total = 0
    for amount, request in session.execute(
            select(Transfer.amount_fen, Transfer.request)
            .where(Transfer.kind == TransferKind.RECOVERY_COLLECT,
                   Transfer.id.not_in(rejected), Transfer.id.not_in(reversed_))):
        if json.loads(request).get("case") == code:
            total += amount
    return total


@dataclass(frozen=True)
class RecoveryState:
    code: str
    lot_id: int
    payee_code: str
    county_code: str
    claimed_fen: int     # approved claim (0 while the claim waits for approval)
    collected_fen: int   # approved collections
    due_date: dt.date
    reason: str

    @property
    def outstanding_fen(self) -> int:
        return self.claimed_fen - self.collected_fen

    def overdue(self, as_of: dt.date) -> bool:
        return self.outstanding_fen > 0 and as_of > self.due_date

    def to_dict(self, as_of: dt.date) -> dict:
        return {"code": self.code, "lot_id": self.lot_id, "payee": self.payee_code,
                "county": self.county_code, "claimed_fen": self.claimed_fen,
                "collected_fen": self.collected_fen, "outstanding_fen": self.outstanding_fen,
                "due_date": self.due_date.isoformat(), "overdue": self.overdue(as_of),
                "reason": self.reason}


def recovery_states(session: Session, actor: User | None = None,
                    as_of: dt.date | None = None) -> list[RecoveryState]:
    """Every case with what was claimed and collected (approved transfers dated ≤ as_of,
    reversals netted), read in three queries for all cases together; limited to the actor's
    scope when an actor is given."""
    as_of = as_of or dt.date.max
    approved = select(Transfer.id, Transfer.amount_fen, Transfer.kind, Transfer.request) \
        .join(Approval, and_(Approval.transfer_id == Transfer.id,
                             Approval.decision == Decision.APPROVED)) \
        .where(Transfer.effective_date <= as_of,
               Transfer.kind.in_([TransferKind.RECOVERY_CLAIM, TransferKind.RECOVERY_COLLECT]))
    # A reversed claim or collection counts for nothing (reversals are approved transfers too).
    reversed_ids = set(session.execute(
        select(Transfer.reverses_id).join(Approval, and_(
            Approval.transfer_id == Transfer.id, Approval.decision == Decision.APPROVED))
        .where(Transfer.reverses_id.is_not(None), Transfer.effective_date <= as_of)).scalars())
    claimed, collected = {}, {}
    for row in session.execute(approved).all():
        if row.id in reversed_ids:
            continue
        if row.kind is TransferKind.RECOVERY_CLAIM:
            claimed[row.id] = row.amount_fen
        else:  # a collection names its case in the stored request
            case = json.loads(row.request)["case"]
            collected[case] = collected.get(case, 0) + row.amount_fen
    states = []
    for case in session.execute(select(Recovery).order_by(Recovery.id)).scalars():
        if actor is not None and actor.region_code not in ancestors(session, case.county_code):
            continue
        states.append(RecoveryState(
            code=case.code, lot_id=case.lot_id, payee_code=case.payee_code,
            county_code=case.county_code, claimed_fen=claimed.get(case.claim_transfer_id, 0),
            collected_fen=collected.get(case.code, 0), due_date=case.due_date,
            reason=case.reason))
    return states


def outstanding_total(session: Session, lot_id: int) -> int:
    """What a lot is still owed: the balance of its receivable accounts (posted)."""
    return session.execute(select(func.coalesce(func.sum(
        Account.debits_posted - Account.credits_posted), 0)).where(
        Account.lot_id == lot_id, Account.kind == AccountKind.RECEIVABLE)).scalar_one()
