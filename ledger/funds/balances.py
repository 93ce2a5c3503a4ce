"""Balances and the trial balance, computed from postings (not from the cached columns).

"As of" a date means: approved transfers whose effective date is on or before that date.
Reading is scoped: an actor sees accounts in their region and below; `actor=None` is the
operator at the command line, who holds the database file and sees everything.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from ledger.i18n.labels import label
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Decision,
    FundLot,
    Posting,
    Region,
    Transfer,
    User,
)
from ledger.store.access import Action, require


@dataclass(frozen=True)
class AccountBalance:
    account_id: int
    lot_id: int
    lot: str
    kind: str
    holder: str
    region: str
    debits: int
    credits: int

    @property
    def balance(self) -> int:
        return self.debits - self.credits


def descendants(session: Session, region_code: str) -> select:
    """A subquery of the region's code and every code below it (recursive CTE)."""
    tree = select(Region.code).where(Region.code == region_code).cte("tree", recursive=True)
    tree = tree.union_all(select(Region.code).where(Region.parent_code == tree.c.code))
    return select(tree.c.code)


def account_balances(session: Session, actor: User | None = None,
                     as_of: dt.date | None = None, lot_id: int | None = None,
                     kinds=None) -> list[AccountBalance]:
    """Posted debits and credits of every account in scope, as of a date."""
    approved = and_(Approval.transfer_id == Posting.transfer_id,
                    Approval.decision == Decision.APPROVED)
    date_ok = Transfer.effective_date <= as_of if as_of else literal(True)
    amount = Posting.amount_fen
    stmt = (
        select(Account.id, Account.lot_id, FundLot.doc_number, FundLot.source_level,
               FundLot.year, Account.kind, Account.holder_code, Account.region_code,
               func.coalesce(func.sum(case((amount > 0, amount), else_=0)), 0),
               func.coalesce(func.sum(case((amount < 0, -amount), else_=0)), 0))
        .join(FundLot, FundLot.id == Account.lot_id)
        .join(Posting, Posting.account_id == Account.id)
        .join(Approval, approved)
        .join(Transfer, Transfer.id == Posting.transfer_id)
        .where(date_ok)
        .group_by(Account.id, Account.lot_id, FundLot.doc_number, FundLot.source_level,
                  FundLot.year, Account.kind, Account.holder_code, Account.region_code)
        .order_by(Account.lot_id, Account.id)
    )
    if actor is not None:
        require(session, actor, Action.READ, actor.region_code)
        stmt = stmt.where(Account.region_code.in_(descendants(session, actor.region_code)))
    if lot_id is not None:
        stmt = stmt.where(Account.lot_id == lot_id)
    if kinds:
        stmt = stmt.where(Account.kind.in_(list(kinds)))
    return [AccountBalance(r[0], r[1], f"{r[2]} ({label(r[3])} {r[4]})", r[5].value, r[6], r[7],
                           int(r[8]), int(r[9]))
            for r in session.execute(stmt)]


@dataclass(frozen=True)
class TrialBalance:
    rows: list[AccountBalance]
    total_debits: int
    total_credits: int
    unbalanced_lots: dict[int, int]

    @property
    def balanced(self) -> bool:
        return self.total_debits == self.total_credits and not self.unbalanced_lots


def trial_balance(session: Session, actor: User | None = None,
                  as_of: dt.date | None = None) -> TrialBalance:
    rows = account_balances(session, actor, as_of)
    per_lot: dict[int, int] = {}
    for r in rows:
        per_lot[r.lot_id] = per_lot.get(r.lot_id, 0) + r.balance
    # Scoped views see only part of each lot, so lot conservation is judged on the full ledger.
    unbalanced = {lot: s for lot, s in per_lot.items() if s != 0} if actor is None else {}
    return TrialBalance(rows, sum(r.debits for r in rows), sum(r.credits for r in rows),
                        unbalanced)


def balance_of(session: Session, account_id: int, as_of: dt.date | None = None) -> int:
    approved = and_(Approval.transfer_id == Posting.transfer_id,
                    Approval.decision == Decision.APPROVED)
    stmt = (select(func.coalesce(func.sum(Posting.amount_fen), 0))
            .join(Approval, approved).join(Transfer, Transfer.id == Posting.transfer_id)
            .where(Posting.account_id == account_id))
    if as_of:
        stmt = stmt.where(Transfer.effective_date <= as_of)
    return int(session.execute(stmt).scalar_one())


def cache_mismatches(session: Session) -> list[str]:
    """Accounts whose cached balance columns (posted and pending) disagree with their postings,
    holder accounts below zero, and lots whose postings do not sum to zero."""
    from ledger.models import SOURCE_KINDS
    decided = select(Approval.transfer_id)
    amount = Posting.amount_fen
    sums = {row[0]: row[1:] for row in session.execute(
        select(Posting.account_id,
               func.coalesce(func.sum(case((and_(amount > 0, Approval.decision ==
                                                 Decision.APPROVED), amount), else_=0)), 0),
               func.coalesce(func.sum(case((and_(amount < 0, Approval.decision ==
                                                 Decision.APPROVED), -amount), else_=0)), 0),
               func.coalesce(func.sum(case((and_(amount > 0, Posting.transfer_id.not_in(
                   decided)), amount), else_=0)), 0),
               func.coalesce(func.sum(case((and_(amount < 0, Posting.transfer_id.not_in(
                   decided)), -amount), else_=0)), 0))
        .outerjoin(Approval, Approval.transfer_id == Posting.transfer_id)
        .group_by(Posting.account_id))}
    problems = []
    for account in session.execute(select(Account).order_by(Account.id)).scalars():
        want = tuple(int(v) for v in sums.get(account.id, (0, 0, 0, 0)))
        have = (account.debits_posted, account.credits_posted, account.debits_pending,
                account.credits_pending)
        if have != want:
            problems.append(f"{account.label}: cached posted {have[0]}/{have[1]} pending "
                            f"{have[2]}/{have[3]}, postings say posted {want[0]}/{want[1]} "
                            f"pending {want[2]}/{want[3]}")
        if account.kind not in SOURCE_KINDS and want[0] - want[1] - want[3] < 0:
            problems.append(f"{account.label}: holds {want[0] - want[1]} fen with {want[3]} "
                            "pending out: overdrawn")
    for lot_id, total in session.execute(select(Posting.lot_id, func.sum(Posting.amount_fen))
                                         .group_by(Posting.lot_id)):
        if total != 0:
            problems.append(f"lot #{lot_id}: its postings sum to {total} fen, not zero")
    return problems


@dataclass(frozen=True)
class LotSummary:
    """One line of `fundtrail lots`: a lot as a finance officer names it (文号, year), what it
    was opened with, and what of it the bureaus and projects still hold (not yet paid out)."""
    id: int
    doc_number: str
    source_level: str
    year: int
    title: str
    region: str
    amount_fen: int
    unspent_fen: int


def lot_summaries(session: Session, actor: User | None = None,
                  year: int | None = None) -> list[LotSummary]:
    """Every lot (in the actor's scope: opened in or passed down into their region), oldest
    first, with its unspent money: the approved balances of its unit and project accounts in
    scope, i.e. what was neither paid to a payee, integrated elsewhere nor is owed back."""
    held: dict[int, int] = {}
    for row in account_balances(session, actor, kinds=[AccountKind.UNIT, AccountKind.PROJECT]):
        held[row.lot_id] = held.get(row.lot_id, 0) + row.balance
    stmt = select(FundLot).order_by(FundLot.id)
    if year is not None:
        stmt = stmt.where(FundLot.year == year)
    if actor is not None:
        in_scope = select(Account.lot_id).where(
            Account.region_code.in_(descendants(session, actor.region_code)))
        stmt = stmt.where(FundLot.id.in_(in_scope))
    return [LotSummary(lot.id, lot.doc_number, lot.source_level.value, lot.year, lot.title,
                       lot.region_code, lot.amount_fen, held.get(lot.id, 0))
            for lot in session.execute(stmt).scalars()]
