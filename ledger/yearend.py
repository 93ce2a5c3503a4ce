"""Year end (年终结转): what each unit and project carries over, how long it has sat idle, and
taking idle money back up the chain for pooled use (收回统筹).

Balances need no closing entry to carry over: every account belongs to a lot, and a lot's money
stays in it from year to year. What year end adds is judgement: the State Council's rule on
idle funds (国办发〔2014〕70号 and the fund measures in research/china-fund-rules.md) is that
money unspent for a year is flagged and re-planned, and money carried over for two years is
taken back by the finance department for pooled use. `statement` says which is which;
`reclaim` moves money back up the chain, in the same lot, and only once it has been idle for
the configured time.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ledger.access import Action, ancestors, require
from ledger.accounts import account_for, find_account
from ledger.audit.log import record_change
from ledger.balances import descendants
from ledger.errors import LedgerError
from ledger.lots import get_lot
from ledger.models import (
    Account, AccountKind, Approval, Decision, FundLot, Posting, RegionLevel, Transfer,
    TransferKind, User,
)
from ledger.posting import Leg, check_amount, check_date, iso_day, record, replay
from ledger.regions import get_region

FLAG_DAYS = 365      # idle a year: flagged for re-planning (FLW-02 high)
RECLAIM_DAYS = 730   # idle two years: taken back for pooled use (FLW-02 critical)
HELD_KINDS = (AccountKind.UNIT, AccountKind.PROJECT)


@dataclass(frozen=True)
class CarryOver:
    lot_id: int
    lot: str
    kind: str
    holder: str
    region: str
    balance_fen: int
    idle_since: str      # the last approved outflow, else the first inflow
    idle_days: int
    status: str          # carry_over | idle_flag | reclaim


def _status(idle_days: int, flag_days: int, reclaim_days: int) -> str:
    if idle_days >= reclaim_days:
        return "reclaim"
    return "idle_flag" if idle_days >= flag_days else "carry_over"


def idle_accounts(session: Session, as_of: dt.date, region_code: str | None = None):
    """Per held account: balance, last outflow and first inflow as of a date (one query)."""
    amount = Posting.amount_fen
    stmt = (
        select(Account.id, Account.lot_id, FundLot.doc_number, FundLot.year, Account.kind,
               Account.holder_code, Account.region_code, func.sum(amount),
               func.max(case((amount < 0, Transfer.effective_date))),
               func.min(case((amount > 0, Transfer.effective_date))))
        .join(FundLot, FundLot.id == Account.lot_id)
        .join(Posting, Posting.account_id == Account.id)
        .join(Approval, and_(Approval.transfer_id == Posting.transfer_id,
                             Approval.decision == Decision.APPROVED))
        .join(Transfer, Transfer.id == Posting.transfer_id)
        .where(Transfer.effective_date <= as_of, Account.kind.in_(HELD_KINDS))
        .group_by(Account.id, Account.lot_id, FundLot.doc_number, FundLot.year, Account.kind,
                  Account.holder_code, Account.region_code)
        .order_by(Account.lot_id, Account.region_code, Account.kind, Account.holder_code))
    if region_code is not None:
        stmt = stmt.where(Account.region_code.in_(descendants(session, region_code)))
    return session.execute(stmt).all()


def _as_date(value) -> dt.date:
    # SQLite returns MIN/MAX over a DATE column as text; PostgreSQL as a date.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def statement(session: Session, actor: User | None, year: int, *, flag_days: int = FLAG_DAYS,
              reclaim_days: int = RECLAIM_DAYS) -> list[CarryOver]:
    """What every unit and project in scope carries into year+1, judged at 31 December."""
    end = dt.date(year, 12, 31)
    region = None
    if actor is not None:
        require(session, actor, Action.READ, actor.region_code)
        region = actor.region_code
    rows = []
    for (_aid, lot_id, doc, lot_year, kind, holder, reg, balance, last_out,
         first_in) in idle_accounts(session, end, region):
        if not balance:
            continue
        since = _as_date(last_out or first_in)
        idle = (end - since).days
        rows.append(CarryOver(lot_id, f"{doc} ({lot_year})", kind.value, holder, reg,
                              int(balance),  # PostgreSQL sums BIGINT as NUMERIC
                              since.isoformat(), idle, _status(idle, flag_days, reclaim_days)))
    return rows


def record_statement(session: Session, actor: User, year: int,
                     rows: list[CarryOver]) -> str:
    """Fix the year-end statement in the audit log (its digest and totals), so that what was
    carried over cannot later be argued about. Returns the digest."""
    require(session, actor, Action.RECORD, actor.region_code)
    text = json.dumps([asdict(r) for r in rows], ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    totals = {status: sum(r.balance_fen for r in rows if r.status == status)
              for status in ("carry_over", "idle_flag", "reclaim")}
    with record_change(session, actor.username, "year_end.statement", year=year,
                       region=actor.region_code, digest=digest, accounts=len(rows),
                       **{f"{k}_fen": v for k, v in totals.items()}):
        pass
    return digest


def reclaim(session: Session, actor: User, *, lot_id: int, from_region: str, to_region: str,
            amount_fen: int, effective_date: dt.date, key: str, reason: str,
            min_idle_days: int = RECLAIM_DAYS) -> Transfer:
    """A higher finance unit takes idle money of a lot back from a unit below it (收回统筹).

    Only unit accounts, only upwards, only within the lot, and only when the lower unit's
    share has had no outflow for `min_idle_days` by the effective date.
    """
    request = {"kind": "reclaim", "lot": lot_id, "from": from_region, "to": to_region,
               "amount_fen": amount_fen, "date": iso_day(effective_date), "reason": reason}
    existing = replay(session, key, request, actor)
    if existing is not None:
        return existing
    check_amount(amount_fen)
    check_date(effective_date)
    if not isinstance(reason, str) or not reason.strip():
        raise LedgerError("taking money back needs a reason (e.g. the 收回 document number)")
    lot = get_lot(session, lot_id)
    source, target = get_region(session, from_region), get_region(session, to_region)
    if to_region == from_region or to_region not in ancestors(session, from_region) \
            or target.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE) \
            or source.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise LedgerError(f"money is taken back by a finance unit above the one holding it: "
                          f"{to_region} is not above {from_region}")
    require(session, actor, Action.RECORD, to_region)
    held = find_account(session, lot_id, AccountKind.UNIT, from_region)
    if held is None:
        raise LedgerError(f"{from_region} holds nothing of lot {lot.label}")
    idle = _idle_days(session, held.id, effective_date)
    if idle < min_idle_days:
        raise LedgerError(
            f"{from_region}'s share of lot {lot.label} has been idle {idle} days by "
            f"{effective_date}; it may be taken back after {min_idle_days} days")
    with record_change(session, actor.username, "transfer.record", reason=reason) as change:
        src = account_for(change, lot, AccountKind.UNIT, from_region, from_region)
        dst = account_for(change, lot, AccountKind.UNIT, to_region, to_region)
        return record(change, actor, kind=TransferKind.RECLAIM, lot_id=lot_id,
                      legs=[Leg(src, -amount_fen), Leg(dst, amount_fen)], key=key,
                      request=request, effective_date=effective_date, region_code=to_region,
                      memo=reason)


def _idle_days(session: Session, account_id: int, as_of: dt.date) -> int:
    amount = Posting.amount_fen
    last_out, first_in = session.execute(
        select(func.max(case((amount < 0, Transfer.effective_date))),
               func.min(case((amount > 0, Transfer.effective_date))))
        .select_from(Posting)
        .join(Transfer, Transfer.id == Posting.transfer_id)
        .join(Approval, and_(Approval.transfer_id == Posting.transfer_id,
                             Approval.decision == Decision.APPROVED))
        .where(Posting.account_id == account_id, Transfer.effective_date <= as_of)).one()
    since = last_out or first_in
    return (as_of - _as_date(since)).days if since else 0
