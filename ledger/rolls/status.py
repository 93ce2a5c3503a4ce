"""A roll line's payment status as a person reads it: 待发放, 已送银行, 已发放, 被退回, 补发,
暂停 or 撤销 — from the roll's events (objections, withdrawals, the bank's returns, re-issues)
and the payment recorded under the line's key with its decision.

`lifecycle.line_states` knows only what the board's objections did to a line (open, held,
withdrawn): the roll's steps need that. A reader of the roll — the staff roll page, the
village page — needs what happened to the money, which this module adds.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import String, cast, literal, select
from sqlalchemy.orm import Session, aliased

from ledger.models import Approval, Decision, PaymentRoll, RollEventKind, RollLine, Transfer
from ledger.rolls.payments import line_key
from ledger.rolls.settlement import BANK_REPAID


class LineStatus(str, enum.Enum):
    PENDING = "pending"      # 待发放: not with the bank yet
    SENT = "sent"            # 已送银行: payment recorded, the bank's answer not yet in
    PAID = "paid"            # 已发放: the payment approved (the bank paid it)
    RETURNED = "returned"    # 退回: the bank returned it, or its payment was rejected
    REISSUED = "reissued"    # 补发: returned, and put on a new roll (`roll` names it)
    HELD = "held"            # 暂停: an objection holds it
    WITHDRAWN = "withdrawn"  # 撤销: taken off the roll, never paid
    REVERSED = "reversed"    # 已冲销: paid, then its payment reversed (an approved reversal)


@dataclass(frozen=True)
class Status:
    kind: LineStatus
    day: dt.date | None = None     # paid: the payment's date
    roll: str | None = None        # re-issued: the roll that pays it again

    @property
    def counts(self) -> bool:
        """Whether the line's amount counts toward the roll's total (as the notice totals)."""
        return self.kind is not LineStatus.WITHDRAWN


def line_statuses(session: Session, roll: PaymentRoll, events,
                  lines: list[tuple[int, int]] | None = None) -> dict[int, Status]:
    """line id → Status for the lines of `roll` (or only `lines`, (id, line number) of lines
    of `roll` the caller has read: a village's).

    `events` are the roll's events in order (ORM rows or rows with kind, line_id, comment).
    Events decide first, in order: an objection holds, a dismissal releases, a withdrawal is
    final, a bank return (退票, 退汇) returns, a re-payment re-issues on the roll its comment
    names (or, when the bank itself paid the returned line, pays). A line the events leave
    open is read from its payment: none yet, recorded, approved, or rejected (退回)."""
    ids = [i for i, _ in lines] if lines is not None else list(session.execute(
        select(RollLine.id).where(RollLine.roll_id == roll.id)).scalars())
    folded: dict[int, tuple[str, str | None]] = {i: ("open", None) for i in ids}
    for e in events:
        if e.line_id not in folded:
            continue
        kind = RollEventKind(e.kind)
        if kind is RollEventKind.OBJECTION:
            folded[e.line_id] = ("held", None)
        elif kind is RollEventKind.OBJECTION_DISMISSED:
            folded[e.line_id] = ("open", None)
        elif kind is RollEventKind.LINE_WITHDRAWN:
            folded[e.line_id] = ("withdrawn", None)
        elif kind is RollEventKind.RETURNED:
            folded[e.line_id] = ("returned", None)
        elif kind is RollEventKind.REPAID:
            folded[e.line_id] = (("bank_paid", None) if e.comment == BANK_REPAID
                                 else ("reissued", e.comment))
    payments = _payments(session, roll) if lines is None else _payments_of(session, roll, lines)
    result = {}
    for line_id, (state, other) in folded.items():
        payment = payments.get(line_id)
        if state == "withdrawn":
            result[line_id] = Status(LineStatus.WITHDRAWN)
        elif state == "held":
            result[line_id] = Status(LineStatus.HELD)
        elif state == "returned":
            result[line_id] = Status(LineStatus.RETURNED)
        elif state == "reissued":
            result[line_id] = Status(LineStatus.REISSUED, roll=other)
        elif state == "bank_paid":
            result[line_id] = Status(LineStatus.REVERSED) if payment and payment[2] else \
                Status(LineStatus.PAID, payment[0] if payment else None)
        elif payment is None:
            result[line_id] = Status(LineStatus.PENDING)
        elif payment[2]:
            result[line_id] = Status(LineStatus.REVERSED)
        else:
            day, decision, _reversed = payment
            result[line_id] = Status(
                {None: LineStatus.SENT, Decision.APPROVED: LineStatus.PAID,
                 Decision.REJECTED: LineStatus.RETURNED}[decision],
                day if decision is Decision.APPROVED else None)
    return result


def _payments(session, roll) -> dict[int, tuple[dt.date, Decision | None]]:
    """line id → (payment date, decision or None) for the roll's lines with a payment recorded
    under their key (`payments.line_key`): the key is computed in SQL, so each line finds its
    payment through the unique index on the key, with no list of keys sent from Python."""
    key = literal(f"roll:{roll.code}:") + cast(RollLine.line_no, String)
    stmt = (select(RollLine.id, Transfer.effective_date, Approval.decision, Transfer.id)
            .join(Transfer, Transfer.idempotency_key == key)
            .outerjoin(Approval, Approval.transfer_id == Transfer.id)
            .where(RollLine.roll_id == roll.id))
    rows = session.execute(stmt).all()
    reversed_ids = _reversed(session, [transfer_id for *_, transfer_id in rows])
    return {line_id: (day, decision, transfer_id in reversed_ids)
            for line_id, day, decision, transfer_id in rows}


def _reversed(session, transfer_ids: list[int]) -> set[int]:
    """Which of these payments an approved reversal (冲销) took back: such a line was paid and
    is no longer, and the board must not count it as paid (red-team, issue 20)."""
    if not transfer_ids:
        return set()
    rev = aliased(Transfer)
    found = set()
    for start in range(0, len(transfer_ids), 900):   # within SQLite's bound parameters
        chunk = transfer_ids[start:start + 900]
        found |= set(session.execute(
            select(rev.reverses_id).join(Approval, Approval.transfer_id == rev.id)
            .where(rev.reverses_id.in_(chunk), Approval.decision == Decision.APPROVED)
        ).scalars())
    return found


def _payments_of(session, roll, lines) -> dict[int, tuple[dt.date, Decision | None]]:
    """The same for a few lines (a village's): their keys looked up directly."""
    if not lines:
        return {}
    id_of = {line_key(roll, number): line_id for line_id, number in lines}
    stmt = (select(Transfer.idempotency_key, Transfer.effective_date, Approval.decision,
                   Transfer.id)
            .outerjoin(Approval, Approval.transfer_id == Transfer.id)
            .where(Transfer.idempotency_key.in_(list(id_of))))
    rows = session.execute(stmt).all()
    reversed_ids = _reversed(session, [transfer_id for *_, transfer_id in rows])
    return {id_of[key]: (day, decision, transfer_id in reversed_ids)
            for key, day, decision, transfer_id in rows}


def reissued_from(session: Session, roll: PaymentRoll) -> dict[str, list[tuple[str, int]]]:
    """household code → [(roll code, line number)] of the returned lines this roll pays again
    (a re-payment roll, `lifecycle.repay_roll`): its own lines say 补发 with where they came
    from."""
    from ledger.models import RollEvent
    found: dict[str, list[tuple[str, int]]] = {}
    for code, line_no, household in session.execute(
            select(PaymentRoll.code, RollLine.line_no, RollLine.household_code)
            .join(RollEvent, RollEvent.roll_id == PaymentRoll.id)
            .join(RollLine, RollLine.id == RollEvent.line_id)
            .where(RollEvent.kind == RollEventKind.REPAID, RollEvent.comment == roll.code)
            .order_by(RollEvent.id)):
        found.setdefault(household, []).append((code, line_no))
    return found
