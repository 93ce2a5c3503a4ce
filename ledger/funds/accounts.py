"""Accounts: one holder's share of one fund lot, opened on first use and locked for update."""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, lazyload

from ledger.audit.log import Change
from ledger.models import Account, AccountKind, FundLot

# Built once: statement construction is a good part of a small query's cost in SQLAlchemy.
# `lazyload(Account.lot)` drops the joined load of the lot that the model asks for by default:
# the lot is nearly always in the session already (the service fetched it), and a many-to-one
# lazy load takes it from the identity map without a query.
_FIND = (select(Account).where(Account.lot_id == bindparam("lot_id"),
                               Account.kind == bindparam("kind"),
                               Account.holder_code == bindparam("holder"))
         .options(lazyload(Account.lot)))


def find_account(session: Session, lot_id: int, kind: AccountKind, holder: str) -> Account | None:
    return session.execute(_FIND, {"lot_id": lot_id, "kind": kind,
                                   "holder": holder}).scalar_one_or_none()


def account_for(change: Change, lot: FundLot, kind: AccountKind, holder: str,
                region_code: str) -> Account:
    """The holder's account in `lot`, opened (and logged with this change) if new.

    Opening happens under the log-head lock that `change` holds, so two writers cannot both
    open the same account.
    """
    account = find_account(change.session, lot.id, kind, holder)
    if account is None:
        account = Account(lot_id=lot.id, kind=kind, holder_code=holder, region_code=region_code,
                          debits_posted=0, credits_posted=0, debits_pending=0, credits_pending=0)
        change.add(account)
        change.session.flush()
    return account


def lock_accounts(session: Session, ids) -> dict[int, Account]:
    """Re-read accounts with their latest balances, locked in id order (no deadlocks).

    On SQLite BEGIN IMMEDIATE already holds the database write lock.
    """
    stmt = (select(Account).where(Account.id.in_(sorted(set(ids)))).order_by(Account.id)
            .options(lazyload(Account.lot)))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    rows = session.execute(stmt.execution_options(populate_existing=True)).scalars().all()
    return {a.id: a for a in rows}
