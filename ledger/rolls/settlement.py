"""Settling a roll with the bank's result file, as the bank sent it (docs/ledger.md, "Bank
results as banks send them").

What the bank did has happened: the money left the county's account or it did not. So every
line of a result file is recorded (`bank_results`, in the audit log), and where it departs from
the posted roll — credited short (代扣, 手续费), paid into another account or under another name,
a line never posted, a different amount, a line returned after an earlier file said it was paid
(退汇) or paid after one said it failed — the departure is recorded with the line, the money is
accounted for, and nothing is refused. Only a malformed file is refused, whole: a line number
twice in one file, a payment recorded under a line's key that is not that line's payment, an
importer who may not settle it (the sender, or someone without approval rights in the county),
a paid line whose payment lies in a closed month, or a return whose money sits where an
earlier difference, still waiting for review, put it (import it again after the review).

The money, for a line the bank reports paid: with A the amount the posted line put on the
household (the line's amount if its payment is approved now, nothing if the payment was
rejected earlier or there is none), S what the bank sent and C what it credited, the household
keeps R (C, or nothing if the money went to another account or the line was never posted), the
rest of what was sent, S − R, is a receivable of the lot (money that left the county and must
come back or be explained), and the roll's source (the county's share, or the household-
programme project the roll pays from) gets back A − S (or pays S − A more). One
`bank_difference` transfer carries those legs; it is recorded by the importer and, like every
transfer, waits for a colleague's approval (maker–checker). A line returned after it was
reported paid moves what it credited back to the roll's source, from the household (or from
the receivable, where it went into another account).

A line that agrees with the roll is settled on the bulk path of `ledger.rolls.payments`: its
payment is approved in an entry of its own ("transfer.approved"), as line by line would.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from ledger.audit.entries import image_template, table_record
from ledger.audit.log import PendingEntry, append_entries, lock_head, record_change
from ledger.core import clock
from ledger.core.errors import LedgerError, MakerChecker
from ledger.core.pii import PiiVault
from ledger.funds import flows, posting
from ledger.funds.accounts import account_for, find_account, lock_accounts
from ledger.funds.lots import get_lot
from ledger.funds.posting import Leg, check_period_open
from ledger.households.cards import same_number
from ledger.households.registry import card_key, salted, unsalted
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    Card,
    Decision,
    Household,
    Payee,
    PaymentRoll,
    Posting,
    RollEventKind,
    RollLine,
    Transfer,
    TransferKind,
    User,
)
from ledger.models.rolls import BankDifference, BankResult
from ledger.rolls.payments import (
    CHUNK,
    TRANSFERS,
    add_event,
    failed_lines,
    get_roll,
    keyed_transfers,
    move_balances,
    recorded_payments,
    roll_source,
    runs,
)
from ledger.store.access import Action, require
from ledger.store.bulk import collector_paused
from ledger.store.db import insert_tuples, new_ids

APPROVALS = Approval.__table__
# The comment of a `repaid` roll event when the bank itself paid a line it had returned (a
# re-payment roll's code otherwise)
BANK_REPAID = "银行退票后又支付"
RESULTS = BankResult.__table__
# Bank result rows per audit entry: an entry stays a few tens of kilobytes.
RESULTS_PER_ENTRY = 200


@dataclass(frozen=True)
class BankLine:
    """One line of the bank's result file, as the bank sent it. `credited_fen` None: all of
    what was sent if paid, nothing if failed."""
    line_no: int
    sent_fen: int
    paid: bool
    reason: str = ""
    voucher: str = ""
    household_code: str | None = None
    value_date: dt.date | None = None
    credited_fen: int | None = None
    payee_name: str | None = None
    account: str | None = None
    file_line: int = 0

    @property
    def credited(self) -> int:
        if self.credited_fen is not None:
            return self.credited_fen
        return self.sent_fen if self.paid else 0


@dataclass
class _Settled:
    """What settling does with one bank line (worked out before anything is written)."""
    bank: BankLine
    outcome: str                      # posted | returned | recorded | unchanged
    line: object | None = None        # the roll_lines row
    payment: object | None = None     # the payment's transfer row
    decision: Decision | None = None  # to write on the payment now, if any
    differences: list[BankDifference] = field(default_factory=list)
    legs: dict = field(default_factory=dict)   # (kind, holder) → amount of the difference
    difference_fen: int = 0
    difference_transfer_id: int | None = None

    @property
    def bulk(self) -> bool:
        return self.decision is Decision.APPROVED and not self.differences


_LONG_NUMBER = re.compile(r"[0-9]{8,}")


def masked(text: str | None) -> str | None:
    """Free text from the bank with any long number (an account or ID number the bank quoted:
    账号6222…户名不符) cut to its last four digits, before it is stored or logged."""
    if not text:
        return text
    return _LONG_NUMBER.sub(lambda m: "*" * (len(m[0]) - 4) + m[0][-4:], text)


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def settle(session: Session, actor: User, roll: PaymentRoll, results: list[BankLine], *,
           file_name: str = "", digest: str = "", vault: PiiVault | None = None,
           today: dt.date | None = None) -> tuple[list[str], list[tuple[int, LedgerError]]]:
    """Record a bank result file against `roll` and settle its payments.

    Returns the outcome of each line ('posted', 'returned', 'recorded': kept with its
    differences but no payment decided, or 'unchanged': the same file again) and the problems
    as (position in `results`, refusal). With any problem nothing is written.
    """
    with collector_paused():
        return _settle(session, actor, roll, results, file_name, digest, vault,
                       today or clock.today())


def _settle(session, actor, roll, results, file_name, digest, vault, today):
    require(session, actor, Action.APPROVE, roll.county_code)
    head = lock_head(session)
    if not digest:
        digest = file_digest("\n".join(repr(r) for r in results).encode())
    if session.execute(select(RESULTS.c.id).where(
            RESULTS.c.roll_id == roll.id, RESULTS.c.file_digest == digest).limit(1)).first():
        return ["unchanged"] * len(results), []   # this very file was recorded before
    if vault is None and any(bank.account for bank in results):
        raise LedgerError("the bank file gives payee accounts; reading them needs the "
                          "personal-data key", code="pii_key_missing")
    reader = _RollReader(session, roll, vault)
    problems, plans = [], []
    seen: dict[int, int] = {}
    approvable: set[str] = set()
    for position, bank in enumerate(results):
        try:
            if bank.line_no in seen:
                raise LedgerError(
                    f"line {bank.line_no} is in the bank file twice (also at file line "
                    f"{seen[bank.line_no]})", code="bank_line_repeated", line=bank.line_no,
                    other=seen[bank.line_no])
            seen[bank.line_no] = bank.file_line or position + 1
            plans.append(_plan(session, actor, roll, reader, approvable, bank))
        except LedgerError as exc:
            problems.append((position, exc.with_traceback(None)))
    if problems:
        return [""] * len(results), problems
    now = clock.now()
    # Payments first, in file order (log indexes as result by result would give them); then the
    # transfers that account for differences; then the bank's lines themselves, which name them.
    decided = [p for p in plans if p.decision is not None]
    for together, run in runs(decided, lambda p: p.bulk):
        if together:
            for start in range(0, len(run), CHUNK):
                _approve_chunk(session, actor, head, run[start:start + CHUNK], reader, now)
            session.flush()
            continue
        for plan in run:
            _decide_one(session, actor, roll, plan, today)
    for plan in plans:
        if plan.legs:
            _account_for_difference(session, actor, roll, plan, digest, today)
        _mark_line(session, actor, roll, plan, today)
    _record_lines(session, actor, roll, plans, file_name, digest, vault, now)
    return [p.outcome for p in plans], []


class _RollReader:
    """What settling needs of a roll, read once for the whole file."""

    def __init__(self, session, roll, vault):
        self.vault = vault
        self.lines = {row.line_no: row for row in session.execute(
            select(RollLine.__table__).where(RollLine.roll_id == roll.id))}
        self.payments = recorded_payments(session, roll)
        self.legs, self.decided = defaultdict(list), {}
        for tid, account_id, kind, holder, amount in session.execute(
                keyed_transfers(roll).with_only_columns(
                    Posting.transfer_id, Posting.account_id,
                    type_coerce(Account.kind, String), Account.holder_code, Posting.amount_fen)
                .join(Posting, Posting.transfer_id == TRANSFERS.c.id)
                .join(Account, Account.id == Posting.account_id)
                .order_by(Posting.id)):
            self.legs[tid].append((account_id, kind, holder, amount))
        self.decided.update(session.execute(
            keyed_transfers(roll).with_only_columns(Approval.transfer_id, Approval.decision)
            .join(Approval, Approval.transfer_id == TRANSFERS.c.id)).all())
        self._session = session
        self._roll = roll
        self._households: dict[str, Household] | None = None
        self._history: dict | None = None
        self._reviews: dict = {}
        self._cards: dict | None = None
        self.open_days: dict[dt.date, LedgerError | None] = {}

    def household(self, code):
        if self._households is None:
            codes = select(RollLine.household_code).where(RollLine.roll_id == self._roll.id)
            self._households = {h.code: h for h in self._session.execute(
                select(Household).where(Household.code.in_(codes))).scalars()}
        return self._households.get(code)

    def state(self, line, line_no, payment, decision, source) -> _Position:
        """Where the line's money sits after the bank lines recorded before this file: from
        the payment's decision, each earlier answer in order applied as its difference
        transfer left it (approved or waiting: applied; rejected, or unfunded: not)."""
        if self._history is None:
            self._history = defaultdict(list)
            rows = self._session.execute(
                select(RESULTS.c.line_id, RESULTS.c.line_no, RESULTS.c.transfer_id,
                       RESULTS.c.paid, RESULTS.c.sent_fen, RESULTS.c.credited_fen,
                       RESULTS.c.differences, RESULTS.c.difference_transfer_id,
                       RESULTS.c.household_code)
                .where(RESULTS.c.roll_id == self._roll.id).order_by(RESULTS.c.id)).all()
            moved = [r.difference_transfer_id for r in rows if r.difference_transfer_id]
            self._reviews = dict(self._session.execute(
                select(Approval.transfer_id, Approval.decision)
                .where(Approval.transfer_id.in_(moved))).all()) if moved else {}
            for r in rows:
                self._history[_history_key(r.line_id, r.line_no, r.transfer_id)].append(r)
        line_id = line.id if line is not None else None
        key = _history_key(line_id, line_no, payment.id if payment is not None else None)
        state = (_decided(line, source, decision) if payment is not None
                 else _Position({}))
        for r in self._history.get(key, ()):
            kinds = r.differences.split(",") if r.differences else []
            if BankDifference.UNFUNDED.value in kinds:
                continue
            review = self._reviews.get(r.difference_transfer_id)
            if review is Decision.REJECTED:
                continue
            holder = (line.household_code if line is not None
                      else _receivable_holder(self._session, self._roll, None, r))
            answer = BankLine(r.line_no, r.sent_fen, r.paid, credited_fen=r.credited_fen)
            elsewhere = (BankDifference.OTHER_ACCOUNT.value in kinds
                         or BankDifference.NOT_POSTED.value in kinds)
            state = _position(state, answer, holder, source, elsewhere)
        # A difference transfer of this line still waiting for review, whichever answer
        # recorded it: until it is decided, nothing else of the line's money may move.
        waiting = [r.difference_transfer_id for r in self._history.get(key, ())
                   if r.difference_transfer_id
                   and self._reviews.get(r.difference_transfer_id) is None]
        return dataclasses.replace(state, pending=waiting[-1]) if waiting else state

    def card(self, card_id):
        """The register card a line pays (`roll_lines.card_id`), read once per roll."""
        if self._cards is None:
            ids = select(RollLine.card_id).where(RollLine.roll_id == self._roll.id)
            self._cards = {c.id: c for c in self._session.execute(
                select(Card).where(Card.id.in_(ids))).scalars()}
        return self._cards.get(card_id)

    def card_matches(self, line, account: str) -> bool:
        """Whether `account` is the card the line pays: its register card, or else the
        household card recorded at registration. (`settle` has refused a file with accounts
        and no personal-data key before any line is read.)"""
        if line.card_id is not None:
            return same_number(self.vault, self.card(line.card_id), account)
        household = self.household(line.household_code)
        if household is None or (household.bank_card is None and household.card_digest is None):
            return False
        if household.card_digest:
            return unsalted(household.card_digest) == card_key(self.vault, account)
        return self.vault.decrypt(household.bank_card) == account


def _history_key(line_id, line_no, transfer_id):
    """Whose answers follow each other: a roll line's for its payment (or, not sent, for the
    line itself), or a line number the roll does not have."""
    return ("line", line_id, transfer_id) if line_id is not None else ("number", line_no)


def _same_name(a: str, b: str) -> bool:
    def norm(text):
        return "".join(unicodedata.normalize("NFKC", text).split())
    return norm(a) == norm(b)


_PAYEE = AccountKind.PAYEE.value


def _plan(session, actor, roll, reader, approvable, bank: BankLine) -> _Settled:
    """What to do with one bank line: the checks that refuse the file, and the differences."""
    if bank.sent_fen < 0 or bank.credited < 0:
        raise LedgerError(f"line {bank.line_no}: amounts cannot be negative",
                          code="amount_not_positive", field="amount", amount_fen=bank.sent_fen)
    line = reader.lines.get(bank.line_no)
    payment = reader.payments.get(bank.line_no)
    plan = _Settled(bank, "recorded", line, payment)
    diffs = plan.differences
    if line is None or payment is None:
        diffs.append(BankDifference.NOT_POSTED)
    else:
        if not any(kind == _PAYEE and holder == line.household_code
                   and amount == line.amount_fen
                   for _, kind, holder, amount in reader.legs[payment.id]) \
                or payment.lot_id != roll.lot_id:
            # Not the bank's doing: the ledger itself holds something else under the key.
            raise LedgerError(f"line {bank.line_no}: the payment recorded under its key does "
                              f"not pay {line.amount_fen} fen to {line.household_code} from "
                              "this roll's lot", code="bank_payment_mismatch",
                              line=bank.line_no, household=line.household_code,
                              amount_fen=line.amount_fen)
        if bank.household_code is not None and bank.household_code != line.household_code:
            diffs.append(BankDifference.OTHER_HOUSEHOLD)
        if bank.sent_fen != line.amount_fen:
            diffs.append(BankDifference.OTHER_AMOUNT)
        if bank.account and not reader.card_matches(line, bank.account):
            diffs.append(BankDifference.OTHER_ACCOUNT)
        if bank.payee_name:
            card = reader.card(line.card_id) if line.card_id is not None else None
            # The holder of the card the line pays: its register card's, else the head's (the
            # registration card is the household's, also for a per-person line).
            expected = (card.holder_name if card is not None
                        else getattr(reader.household(line.household_code), "head_name", None))
            if expected is not None and not _same_name(bank.payee_name, expected):
                diffs.append(BankDifference.OTHER_NAME)
    if bank.paid and bank.credited < bank.sent_fen:
        diffs.append(BankDifference.SHORT_CREDIT)
    elif bank.paid and bank.credited > bank.sent_fen \
            and BankDifference.OTHER_AMOUNT not in diffs:
        diffs.append(BankDifference.OTHER_AMOUNT)
    not_posted = BankDifference.NOT_POSTED in diffs
    holder = (line.household_code if line is not None
              else _receivable_holder(session, roll, line, bank))
    source = roll_source(roll)
    earlier = reader.decided.get(payment.id) if payment is not None else None
    if payment is not None and earlier is None:
        # The first answer for this payment decides it: approved puts the line's amount on
        # the household, rejected leaves it with the roll's source (退票).
        _check_decider(session, actor, payment, approvable, reader, bank)
        plan.decision = Decision.APPROVED if bank.paid else Decision.REJECTED
        plan.outcome = "posted" if bank.paid else "returned"
        before = _decided(line, source, plan.decision)
    else:
        before = reader.state(line, bank.line_no, payment, earlier, source)
        if before.known and before.paid and not bank.paid:
            diffs.append(BankDifference.RETURNED_AFTER_PAID)
            plan.outcome = "returned"
        elif before.known and not before.paid and bank.paid:
            diffs.append(BankDifference.PAID_AFTER_RETURN)
            plan.outcome = "posted"
    after = _position(before, bank, holder, source,
                      BankDifference.OTHER_ACCOUNT in diffs or not_posted)
    legs = {k: after.legs.get(k, 0) - before.legs.get(k, 0)
            for k in set(after.legs) | set(before.legs)}
    plan.legs = {k: v for k, v in legs.items() if v}
    if plan.decision is None and not plan.legs and before.known \
            and before.paid == bank.paid:
        plan.outcome = "unchanged"   # the bank said it before: kept as evidence, nothing moves
    if plan.legs and before.pending is not None:
        # The money moves from where an earlier difference put it, which that transfer's
        # review decides; nothing is lost by importing the file after the review.
        raise LedgerError(
            f"line {bank.line_no}: the difference an earlier bank file recorded "
            f"(transfer #{before.pending}) is waiting for review; review it, then import this "
            "file", code="bank_difference_pending", line=bank.line_no,
            transfer_id=before.pending)
    return _with_amount(plan)


@dataclass(frozen=True)
class _Position:
    """Where a line's money sits in the ledger after the bank's answers so far: the amounts
    of the household's, its receivable's and the roll source's accounts that the line
    accounts for (relative to before it was paid), whether the last answer was paid, what
    the bank sent and credited then, and a difference transfer still waiting for review."""
    legs: dict
    paid: bool = False
    sent: int = 0
    credited: int = 0
    known: bool = False      # the bank (or a decision before migration 0019) answered before
    pending: int | None = None


def _decided(line, source, decision) -> _Position:
    """The position a payment's decision alone gives: approved, the line's amount moved from
    the source to the household, as if credited in full; rejected, nothing."""
    if decision is Decision.APPROVED:
        return _Position({(AccountKind.PAYEE, line.household_code): line.amount_fen,
                          source: -line.amount_fen}, True, line.amount_fen, line.amount_fen,
                         True)
    return _Position({}, False, known=decision is not None)


def _position(before: _Position, bank, holder, source, elsewhere: bool) -> _Position:
    """Where the money sits once the bank's answer `bank` holds.

    Paid: S sent, C credited; the household keeps R (C, or nothing where the money went
    elsewhere: another account, or a line the roll never posted), the receivable S − R, the
    source paid S. Failed after a paid answer: the bank sent back what it had credited, so
    only what it kept then (S − C of that answer) is still out, as a receivable. Failed
    otherwise: nothing moved."""
    if bank.paid:
        kept = 0 if elsewhere else bank.credited
        return _Position({(AccountKind.PAYEE, holder): kept,
                          (AccountKind.RECEIVABLE, holder): bank.sent_fen - kept,
                          source: -bank.sent_fen}, True, bank.sent_fen, bank.credited, True)
    if before.paid:
        out = before.sent - before.credited
        return _Position({(AccountKind.RECEIVABLE, holder): out, source: -out}, False,
                         known=True)
    return _Position({}, False, known=True)


def _with_amount(plan: _Settled) -> _Settled:
    """The money at stake: what the difference moves (nothing for one that moves no money:
    another name, the same account)."""
    plan.difference_fen = sum(v for v in plan.legs.values() if v > 0)
    return plan


def _receivable_holder(session, roll, line, bank) -> str:
    """Who holds the receivable for money paid on a line never posted: the line's household,
    else the household the bank named if it is a payee, else the county itself."""
    if line is not None:
        return line.household_code
    if bank.household_code and session.get(Payee, bank.household_code) is not None:
        return bank.household_code
    return roll.county_code


def _check_decider(session, actor, payment, approvable, reader, bank) -> None:
    if payment.region_code not in approvable:
        require(session, actor, Action.APPROVE, payment.region_code)
        approvable.add(payment.region_code)
    if actor.id == payment.recorded_by:
        raise MakerChecker(f"{actor.username} recorded transfer #{payment.id} and cannot also "
                           "approve it", user=actor.username, what="transfer", key=payment.id)
    if bank.paid:
        day = payment.effective_date
        if day not in reader.open_days:
            try:
                check_period_open(session, day, payment.region_code)
                reader.open_days[day] = None
            except LedgerError as exc:
                reader.open_days[day] = exc
        refusal = reader.open_days[day]
        if refusal is not None:  # the same refusal for every line of that day, each its own
            raise LedgerError(str(refusal), code=refusal.code, **refusal.params)


# --------------------------------------------------------------------------- writing

_APPROVAL_COLUMNS = ["id", "transfer_id", "decision", "decided_by", "decided_at", "comment",
                     "log_index", "log_id"]


def _approve_chunk(session, actor, head, chunk, reader, now) -> None:
    """Approve the payments of lines that agree with the roll, an entry each, in bulk."""
    base = head.size
    template = image_template(APPROVALS, {"decision": Decision.APPROVED,
                                          "decided_by": actor.id, "decided_at": now})
    rows, entries = [], []
    for k, (plan, approval_id) in enumerate(zip(chunk, new_ids(session, APPROVALS,
                                                               len(chunk)))):
        comment = f"银行已支付 {plan.bank.voucher}".strip()
        rows.append((approval_id, plan.payment.id, Decision.APPROVED, actor.id, now, comment,
                     base + k, head.log_id))
        image = template.copy()
        image["id"] = approval_id
        image["comment"] = comment
        image["log_index"] = base + k
        image["transfer_id"] = plan.payment.id
        entries.append(PendingEntry(actor.username, "transfer.approved", now,
                                    [("approvals", [approval_id], 1, None, image)],
                                    {"transfer_id": plan.payment.id}, ordered=True))
    insert_tuples(session, APPROVALS, _APPROVAL_COLUMNS, rows)
    append_entries(session, head, entries)
    deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for plan in chunk:
        for account_id, _kind, _holder, amount in reader.legs[plan.payment.id]:
            d = deltas[account_id]
            if amount < 0:   # money out: pending credit becomes posted (posting._settle)
                d[1] += -amount
                d[3] -= -amount
            else:
                d[0] += amount
                d[2] -= amount
    move_balances(session, {i: tuple(d) for i, d in deltas.items()})


def _decide_one(session, actor, roll, plan, today) -> None:
    bank = plan.bank
    if plan.decision is Decision.APPROVED:
        posting.approve(session, actor, plan.payment.id, f"银行已支付 {bank.voucher}".strip())
        return
    reason = f"退票: {masked(bank.reason) or '银行未说明原因'}"
    posting.reject(session, actor, plan.payment.id, reason)
    line = session.get(RollLine, plan.line.id)
    add_event(session, actor, roll, RollEventKind.RETURNED, bank.value_date or today, reason,
              line)


def _mark_line(session, actor, roll, plan, today) -> None:
    """A line the bank sent back after paying it is a returned line (退票) like any, to be
    re-paid or left with the roll's source; one the bank paid after returning it is no longer
    waiting for a re-payment (marked as re-paid by the bank)."""
    kinds = plan.differences
    if plan.line is None or plan.payment is None:
        return
    line = session.get(RollLine, plan.line.id)
    bank = plan.bank
    if BankDifference.RETURNED_AFTER_PAID in kinds:
        add_event(session, actor, roll, RollEventKind.RETURNED, bank.value_date or today,
                  f"退汇: {masked(bank.reason) or '银行未说明原因'}", line)
    elif BankDifference.PAID_AFTER_RETURN in kinds and line.id in {
            x.id for x in failed_lines(session, roll)}:
        add_event(session, actor, roll, RollEventKind.REPAID, bank.value_date or today,
                  BANK_REPAID, line)


def _difference_day(session, bank, today, county) -> dt.date:
    """The bank's value date, or today where the value date's period is closed (the bank line
    keeps its own date, so the delay stays visible) or the bank gave none."""
    day = bank.value_date or today
    try:
        check_period_open(session, day, county)
    except LedgerError:
        return today
    return day


def _account_for_difference(session, actor, roll, plan, digest, today) -> None:
    """Record the `bank_difference` transfer that moves the money of `plan.legs`; where an
    account it takes from cannot cover it (the county's share, for what the bank paid beyond
    the roll; a receivable whose earlier difference was rejected) the line is marked
    `unfunded` instead: the bank line and its amount stay on record, and no invariant bends."""
    bank = plan.bank
    lot = get_lot(session, roll.lot_id)
    for (kind, holder), amount in plan.legs.items():
        if amount >= 0:
            continue
        account = find_account(session, lot.id, kind, holder)
        available = (lock_accounts(session, [account.id])[account.id].available
                     if account is not None else 0)
        if available < -amount:
            plan.differences.append(BankDifference.UNFUNDED)
            return
    key = f"bank:{roll.code}:{digest[:16]}:{bank.line_no}"
    request = {"kind": "bank_difference", "roll": roll.code, "line": bank.line_no,
               "file": digest, "differences": [d.value for d in plan.differences],
               "legs": {f"{kind.value}:{holder}": amount
                        for (kind, holder), amount in sorted(plan.legs.items())}}
    existing = posting.replay(session, key, request, actor)
    if existing is not None:
        plan.difference_transfer_id = existing.id
        return
    memo = "银行差异 " + "、".join(d.value for d in plan.differences)
    with record_change(session, actor.username, "transfer.record", roll=roll.code,
                       line=bank.line_no) as change:
        legs = []
        for (kind, holder), amount in sorted(plan.legs.items(), key=lambda kv: kv[1]):
            region = (roll.county_code if kind in (AccountKind.UNIT, AccountKind.PROJECT)
                      else _holder_region(session, holder, roll))
            legs.append(Leg(account_for(change, lot, kind, holder, region), amount))
        transfer = posting.record(
            change, actor, kind=TransferKind.BANK_DIFFERENCE, lot_id=lot.id, legs=legs,
            key=key, request=request,
            effective_date=_difference_day(session, bank, today, roll.county_code),
            region_code=roll.county_code, function_code=roll.function_code,
            use_code=roll.use_code, memo=memo)
    plan.difference_transfer_id = transfer.id


def _holder_region(session, holder, roll) -> str:
    payee = session.get(Payee, holder)
    return payee.region_code if payee is not None else roll.county_code


_RESULT_COLUMNS = ["id", "roll_id", "line_no", "line_id", "transfer_id", "file_name",
                   "file_digest", "file_line", "value_date", "sent_fen", "credited_fen", "paid",
                   "reason", "voucher", "household_code", "payee_name", "account",
                   "account_digest", "account_last4", "differences", "difference_fen",
                   "difference_transfer_id", "recorded_by", "recorded_at", "log_index",
                   "log_id"]


def _record_lines(session, actor, roll, plans, file_name, digest, vault, now) -> None:
    """The bank's lines as it sent them, a few hundred to an audit entry."""
    ids = new_ids(session, RESULTS, len(plans))
    for start in range(0, len(plans), RESULTS_PER_ENTRY):
        with record_change(session, actor.username, "roll.bank_results", roll=roll.code,
                           file=digest) as change:
            rows = []
            for plan, row_id in zip(plans[start:start + RESULTS_PER_ENTRY],
                                    ids[start:start + RESULTS_PER_ENTRY]):
                if change.full:  # long names and reasons: the entry goes on in a next part
                    insert_tuples(session, RESULTS, _RESULT_COLUMNS, rows)
                    rows = []
                    change.next_part()
                bank = plan.bank
                account = bank.account or None
                values = {
                    "id": row_id, "roll_id": roll.id, "line_no": bank.line_no,
                    "line_id": plan.line.id if plan.line is not None else None,
                    "transfer_id": plan.payment.id if plan.payment is not None else None,
                    "file_name": file_name[:255], "file_digest": digest,
                    "file_line": bank.file_line, "value_date": bank.value_date,
                    "sent_fen": bank.sent_fen, "credited_fen": bank.credited,
                    "paid": bank.paid, "reason": masked(bank.reason) or "",
                    "voucher": bank.voucher, "household_code": bank.household_code,
                    "payee_name": masked(bank.payee_name),
                    "account": vault.encrypt(account) if account else None,
                    # salted, as a household's card digest: equal accounts must not show equal
                    # commitments in the public log (households.registry.salted)
                    "account_digest": salted(card_key(vault, account)) if account else None,
                    "account_last4": account[-4:] if account else None,
                    "differences": ",".join(d.value for d in plan.differences),
                    "difference_fen": plan.difference_fen,
                    "difference_transfer_id": plan.difference_transfer_id,
                    "recorded_by": actor.id, "recorded_at": now,
                    "log_index": change.index, "log_id": change.log_id}
                rows.append(tuple(values[c] for c in _RESULT_COLUMNS))
                change.add_written(table_record(RESULTS, values))
            insert_tuples(session, RESULTS, _RESULT_COLUMNS, rows)


def apply_bank_result(session: Session, actor: User, code: str, line_no: int, amount_fen: int,
                      paid: bool, reason: str = "", voucher: str = "",
                      household_code: str | None = None) -> str:
    """One bank result for one line (a file of one line). Returns 'posted', 'returned',
    'recorded' or 'unchanged'; a refusal is raised."""
    roll = get_roll(session, code)
    bank = BankLine(line_no, amount_fen, paid, reason, voucher, household_code, file_line=1)
    digest = file_digest(f"{code}:{line_no}:{amount_fen}:{paid}:{reason}:{voucher}:"
                         f"{dt.datetime.now(dt.timezone.utc).isoformat()}".encode())
    outcomes, problems = settle(session, actor, roll, [bank], file_name="", digest=digest)
    if problems:
        raise problems[0][1]
    return outcomes[0]


def bank_lines(session: Session, roll: PaymentRoll) -> list[BankResult]:
    """Every bank line recorded for a roll, in the order recorded."""
    return list(session.execute(select(BankResult).where(BankResult.roll_id == roll.id)
                                .order_by(BankResult.id)).scalars())


# --------------------------------------------------------------------------- after the file

# How a county officer reads each kind of difference (docs/ledger.md, "Bank results as banks
# send them"); the codes are what code and files use.
DIFFERENCE_LABELS = {
    BankDifference.SHORT_CREDIT: "少入账",
    BankDifference.OTHER_ACCOUNT: "入其他账户",
    BankDifference.OTHER_NAME: "户名不符",
    BankDifference.OTHER_HOUSEHOLD: "户编码不符",
    BankDifference.OTHER_AMOUNT: "金额不符",
    BankDifference.NOT_POSTED: "名册外支付",
    BankDifference.RETURNED_AFTER_PAID: "成功后退汇",
    BankDifference.PAID_AFTER_RETURN: "退票后又支付",
    BankDifference.UNFUNDED: "账户余额不足未入账",
}


def differences(session: Session, roll: PaymentRoll) -> list[tuple[BankResult, str | None]]:
    """The bank lines of a roll that differ from it, in the order recorded, each with the
    state of the transfer that accounts for its money: 'approved', 'rejected', 'pending', or
    None where it moved no money."""
    found = [b for b in bank_lines(session, roll) if b.differences]
    moved = [b.difference_transfer_id for b in found if b.difference_transfer_id]
    reviews = dict(session.execute(select(Approval.transfer_id, Approval.decision).where(
        Approval.transfer_id.in_(moved))).all()) if moved else {}
    return [(b, reviews[b.difference_transfer_id].value
             if b.difference_transfer_id in reviews
             else "pending" if b.difference_transfer_id else None) for b in found]


def shortfall(session: Session, roll: PaymentRoll, line_no: int) -> tuple[RollLine, int]:
    """A line and what its household is still owed of it: the line's amount less what the
    bank's last answer put on the household's card (as the ledger holds it: a difference
    still waiting for review counts as it will stand), less the top-ups recorded since (pending
    or approved, not rejected). Nothing where the last answer was a return or the money went
    to another account: those are re-paid (`roll repay`) or recovered, not topped up."""
    line = session.execute(select(RollLine).where(
        RollLine.roll_id == roll.id, RollLine.line_no == line_no)).scalar_one_or_none()
    if line is None:
        raise LedgerError(f"roll {roll.code} has no line {line_no}", code="not_found",
                          what="roll_line", key=f"{roll.code}:{line_no}")
    reader = _RollReader(session, roll, None)
    payment = reader.payments.get(line_no)
    if payment is None:
        return line, 0
    source = roll_source(roll)
    state = reader.state(line, line_no, payment, reader.decided.get(payment.id), source)
    if state.pending is not None:
        # What the household got is what that review decides: a top-up before it could pay
        # a shortfall the reviewer finds was never there.
        raise LedgerError(f"roll {roll.code} line {line_no}: the bank's difference (transfer "
                          f"#{state.pending}) is waiting for review; top up after it",
                          code="topup_waits_for_review", roll=roll.code, line=line_no,
                          transfer_id=state.pending)
    got = state.legs.get((AccountKind.PAYEE, line.household_code), 0)
    short = line.amount_fen - got if state.paid and got > 0 else 0
    rejected = select(Approval.transfer_id).where(Approval.decision == Decision.REJECTED)
    topped = session.execute(select(func.coalesce(func.sum(Transfer.amount_fen), 0)).where(
        Transfer.idempotency_key.like(f"{_topup_prefix(roll, line_no)}%"),
        Transfer.id.not_in(rejected))).scalar_one()
    return line, short - int(topped)   # PostgreSQL sums bigint to numeric


def _topup_prefix(roll, line_no) -> str:
    return f"topup:{roll.code}:{line_no}:"


def top_up(session: Session, actor: User, code: str, line_no: int, day: dt.date, *,
           voucher: str, amount_fen: int | None = None) -> Transfer:
    """Pay a household what the bank credited short on a roll line (补足), from the roll's lot
    at the county, as a payment of the roll's item waiting for a colleague's approval. The
    withheld money itself stays a receivable until it comes back (`roll differences`)."""
    roll = get_roll(session, code)
    require(session, actor, Action.RECORD, roll.county_code)
    lock_head(session)   # two top-ups of one line at once: the second sees the first
    key = f"{_topup_prefix(roll, line_no)}{voucher}"
    existing = session.execute(select(Transfer).where(Transfer.idempotency_key == key)) \
        .scalar_one_or_none()
    line, owed = shortfall(session, roll, line_no)
    if existing is not None:
        owed += existing.amount_fen   # the same top-up again: flows.pay returns it
    amount = owed if amount_fen is None else amount_fen
    if owed <= 0 or amount > owed:
        raise LedgerError(f"roll {code} line {line_no}: {owed} fen credited short is left to "
                          f"top up; {amount} fen cannot be", code="topup_exceeds_shortfall",
                          roll=code, line=line_no, owed_fen=owed, amount_fen=amount)
    return flows.pay(session, actor, lot_id=roll.lot_id, payee_code=line.household_code,
                     amount_fen=amount, function_code=roll.function_code,
                     use_code=roll.use_code, project_code=roll.project_code,
                     county_code=None if roll.project_code else roll.county_code,
                     effective_date=day, key=key,
                     memo=f"补足 {roll.code} 第{line_no}行 银行少入账")
