"""Year end (年终结转): what each unit and project carries over, how long it has sat idle, and
taking idle money back up the chain for pooled use (收回统筹).

Balances need no closing entry to carry over: every account belongs to a lot, and a lot's money
stays in it from year to year. What year end adds is judgement: the State Council's rule on
idle funds (国办发〔2014〕70号 and the fund measures in research/china-fund-rules.md) is that
money unspent for a year is flagged and re-planned, and money carried over for two years is
taken back by the finance department for pooled use. Money is aged first in, first out: what a
unit still holds is its most recent inflows. `statement` says how much of each balance is a year
or two years old; `reclaim` moves money back up the chain, in the same lot, and only the part
that is old enough.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError
from ledger.funds.accounts import account_for, find_account
from ledger.funds.balances import descendants
from ledger.funds.lots import get_lot
from ledger.funds.posting import (
    Leg,
    check_amount,
    iso_day,
    posting_date,
    record,
    replay,
    voucher_fields,
)
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Decision,
    FundLot,
    Posting,
    RegionLevel,
    Transfer,
    TransferKind,
    User,
)
from ledger.org.regions import get_region
from ledger.store.access import Action, ancestors, require

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
    idle_1y_fen: int     # of the balance, what arrived more than a year ago (oldest spent first)
    idle_2y_fen: int     # … and more than two years ago: the part to be taken back
    status: str          # carry_over | idle_flag | reclaim


def _status(idle_1y: int, idle_2y: int) -> str:
    if idle_2y > 0:
        return "reclaim"
    return "idle_flag" if idle_1y > 0 else "carry_over"


def aged(balance: int, inflows: list[tuple[dt.date, int]], as_of: dt.date, days: int) -> int:
    """How much of `balance` arrived more than `days` before `as_of`.

    Money is spent oldest first (first in, first out), so what remains of old money is the
    balance less everything that arrived within the window — never less than nothing. A fresh
    inflow therefore never makes old money look new, nor new money look old."""
    since = as_of - dt.timedelta(days=days)
    recent = sum(amount for day, amount in inflows if day > since)
    return max(0, balance - recent)


def _inflows(session: Session, account_ids, as_of: dt.date) -> dict[int, list]:
    rows = session.execute(
        select(Posting.account_id, Transfer.effective_date, Posting.amount_fen)
        .join(Transfer, Transfer.id == Posting.transfer_id)
        .join(Approval, and_(Approval.transfer_id == Posting.transfer_id,
                             Approval.decision == Decision.APPROVED))
        .where(Posting.account_id.in_(list(account_ids)), Posting.amount_fen > 0,
               Transfer.effective_date <= as_of)).all()
    result: dict[int, list] = {}
    for account_id, day, amount in rows:
        result.setdefault(account_id, []).append((_as_date(day), amount))
    return result


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


def year_end(year: int) -> dt.date:
    """The day a year's money is judged by: 31 December. What a lot of that year has not spent
    by then is carried over (`statement`), and its idle clock keeps running; the staff home
    measures a year's spending progress against this day (ledger.reading.progress)."""
    return dt.date(year, 12, 31)


def statement(session: Session, actor: User | None, year: int, *, flag_days: int = FLAG_DAYS,
              reclaim_days: int = RECLAIM_DAYS) -> list[CarryOver]:
    """What every unit and project in scope carries into year+1, judged at 31 December."""
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise LedgerError(f"year must be between 2000 and 2100, got {year!r}",
                          code="year_out_of_range", value=repr(year))
    return carried(session, actor, year_end(year), flag_days=flag_days,
                   reclaim_days=reclaim_days)


def carried(session: Session, actor: User | None, end: dt.date, *, flag_days: int = FLAG_DAYS,
            reclaim_days: int = RECLAIM_DAYS) -> list[CarryOver]:
    """What every unit and project in scope holds on `end`, and how much of it is a year or
    two years old (the year-end statement on any day: the staff home judges it today)."""
    region = None
    if actor is not None:
        require(session, actor, Action.READ, actor.region_code)
        region = actor.region_code
    accounts = [row for row in idle_accounts(session, end, region) if row[7]]
    inflows = _inflows(session, [row[0] for row in accounts], end)
    rows = []
    for (aid, lot_id, doc, lot_year, kind, holder, reg, balance, last_out,
         first_in) in accounts:
        balance = int(balance)  # PostgreSQL sums BIGINT as NUMERIC
        since = _as_date(last_out or first_in)
        one = aged(balance, inflows.get(aid, []), end, flag_days)
        two = aged(balance, inflows.get(aid, []), end, reclaim_days)
        rows.append(CarryOver(lot_id, f"{doc} ({lot_year})", kind.value, holder, reg, balance,
                              since.isoformat(), (end - since).days, one, two,
                              _status(one, two)))
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
            amount_fen: int, key: str, reason: str, effective_date: dt.date | None = None,
            min_idle_days: int = RECLAIM_DAYS, voucher_date: dt.date | None = None,
            value_date: dt.date | None = None) -> Transfer:
    """A higher finance unit takes idle money of a lot back from a unit below it (收回统筹).

    Only unit accounts, only upwards, only within the lot, and only as much as arrived more
    than `min_idle_days` before the effective date and is still unspent (oldest spent first).
    The dates are a voucher's, as for an allocation (`posting.posting_date`): the document's
    date kept in `voucher_date`, posted today when its month is closed.
    """
    request = {"kind": "reclaim", "lot": lot_id, "from": from_region, "to": to_region,
               "amount_fen": amount_fen, "date": iso_day(effective_date), "reason": reason,
               **voucher_fields(voucher_date, value_date)}
    existing = replay(session, key, request, actor)
    if existing is not None:
        return existing
    check_amount(amount_fen)
    # Resolved here, not only in `record`: how much is idle depends on the posting date.
    effective_date = posting_date(session, effective_date, voucher_date, to_region)
    if not isinstance(reason, str) or not reason.strip():
        raise LedgerError("taking money back needs a reason (e.g. the 收回 document number)",
                          code="required", field="reason")
    lot = get_lot(session, lot_id)
    source, target = get_region(session, from_region), get_region(session, to_region)
    if to_region == from_region or to_region not in ancestors(session, from_region) \
            or target.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE) \
            or source.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise LedgerError(f"money is taken back by a finance unit above the one holding it: "
                          f"{to_region} is not above {from_region}", code="reclaim_not_upward",
                          from_region=from_region, to_region=to_region)
    require(session, actor, Action.RECORD, to_region)
    held = find_account(session, lot_id, AccountKind.UNIT, from_region)
    if held is None:
        raise LedgerError(f"{from_region} holds nothing of lot {lot.label}",
                          code="reclaim_nothing_held", region=from_region, lot=lot_id)
    idle = idle_amount(session, held.id, effective_date, min_idle_days)
    if amount_fen > idle:
        raise LedgerError(
            f"{from_region}'s share of lot {lot.label} holds {idle} fen that arrived more than "
            f"{min_idle_days} days before {effective_date} and is unspent; only that may be "
            f"taken back, not {amount_fen}", code="reclaim_exceeds_idle", region=from_region,
            lot=lot_id, idle_fen=idle, requested_fen=amount_fen, min_idle_days=min_idle_days,
            date=effective_date)
    with record_change(session, actor.username, "transfer.record", reason=reason) as change:
        src = account_for(change, lot, AccountKind.UNIT, from_region, from_region)
        dst = account_for(change, lot, AccountKind.UNIT, to_region, to_region)
        return record(change, actor, kind=TransferKind.RECLAIM, lot_id=lot_id,
                      legs=[Leg(src, -amount_fen), Leg(dst, amount_fen)], key=key,
                      request=request, effective_date=effective_date, region_code=to_region,
                      memo=reason, voucher_date=voucher_date, value_date=value_date)


def idle_amount(session: Session, account_id: int, as_of: dt.date, days: int) -> int:
    """Of an account's balance on `as_of`, what arrived more than `days` before (FIFO)."""
    balance = session.execute(
        select(func.coalesce(func.sum(Posting.amount_fen), 0))
        .join(Transfer, Transfer.id == Posting.transfer_id)
        .join(Approval, and_(Approval.transfer_id == Posting.transfer_id,
                             Approval.decision == Decision.APPROVED))
        .where(Posting.account_id == account_id, Transfer.effective_date <= as_of)).scalar_one()
    return aged(int(balance), _inflows(session, [account_id], as_of).get(account_id, []),
                as_of, days)
