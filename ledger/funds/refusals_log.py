"""Refused attempts: a movement of money the ledger refused as a control against misuse, made
visible to auditors (issue 18).

A prevented misuse leaves no transfer, so without this record nobody would know it was tried.
The services that move money (`flows.allocate`, `fund_project`, `pay`, `posting.approve`,
`reverse`, a roll sent, the movement imports) describe what they are doing in an `Attempt`
(`attempting`); when they are refused with a code of `PREVENTED`, the attempt rides on the
refusal. Whoever owns the transaction (the command line's `ctx.session()`, the web's
`web.unit.run`, or `recording`) rolls the refused change back — it leaves nothing — and then
writes the attempt in a transaction of its own (`record_refused`): one `refused_attempts` row
and its own audit entry, "refusal.record". A refusal that is not a control (a typing error, a
missing payee, another region's scope) is not recorded: it prevents nothing.

An import refused whole records one attempt, naming the file, the line and the column of the
line the service refused (`attach_file`).
"""
from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError
from ledger.core.idcard import IdNumberError, mask, read_number
from ledger.core.money import format_yuan
from ledger.funds.balances import descendants
from ledger.models import Project, User
from ledger.models.refusals import RefusedAttempt
from ledger.store.access import ROLE_ACTIONS, Action, in_scope, require
from ledger.store.db import transaction

# The refusals that are controls against misuse, and the alert rule each one prevents: the rule
# that would find the movement after the fact had the ledger let it through (None: a ledger
# invariant no rule scans for, because no such movement can exist in the books). `fundtrail
# alerts rules` counts prevented attempts under this rule. Codes left out are refusals of
# input (a fraction of a fen, an unknown payee or use, a missing field, a key used twice for
# different content, which is a typing error as often as not), of state (already decided) or
# of access (role, region scope: the access control refuses before any money is named).
PREVENTED: dict[str, str | None] = {
    # A payee on the violations blacklist, refused where `[ledger] refuse_blacklisted_payees`;
    # elsewhere the payment goes through and BLK-01 raises it.
    "payment_refused": "BLK-01",
    # The purpose lock (invariant 4): spending on the negative list, under a function code or
    # a use the lot does not carry, or a project paying under another function code than its
    # own — DIV-01 reads the same things (negative list, "a code outside the lot") in payments.
    "use_prohibited": "DIV-01",
    "function_outside_lot": "DIV-01",
    "use_outside_lot": "DIV-01",
    "project_outside_lot": "DIV-01",
    "project_function_mismatch": "DIV-01",
    # An entry dated into a closed month is dated back behind books already closed: the
    # backdating STA-05 finds in entries that got in (a late voucher is never refused for its
    # own date since issue 17; only an explicit posting date in a closed month is).
    "closed_period": "STA-05",
    # Invariants with no rule behind them: paying out more than the account holds (5), money
    # crossing lots outside an integration (3), the recorder approving their own entry (7), a
    # county paying a payee outside it.
    "overdraft": None,
    "lot_mismatch": None,
    "maker_checker": None,
    "payee_outside_county": None,
}

# What was tried, in Chinese first, for the list and the page.
KIND_LABELS = {
    "pay": "支付 pay", "allocate": "下达 allocate", "fund_project": "安排项目资金 fund project",
    "approve": "审核 approve", "reject": "退回 reject", "reverse": "冲销 reverse",
    "roll_send": "发放清册 roll send",
}
CODE_LABELS = {
    "payment_refused": "收款人在违规违纪黑名单", "use_prohibited": "负面清单用途",
    "function_outside_lot": "功能科目超出资金批次", "use_outside_lot": "用途超出资金批次",
    "project_outside_lot": "项目科目超出资金批次", "project_function_mismatch": "项目科目不符",
    "closed_period": "会计期间已结账", "overdraft": "余额不足（透支）",
    "lot_mismatch": "跨资金批次", "maker_checker": "录入人自审",
    "payee_outside_county": "收款人不在本县",
}


@dataclass
class Attempt:
    """What a service was doing when it was refused: plain values only (the session's objects
    are expired by the rollback that comes before the attempt is written)."""
    actor_id: int
    username: str
    kind: str
    region_code: str | None = None
    project_code: str | None = None     # resolves the region when the refusal came first
    lot_id: int | None = None
    source_kind: str | None = None
    source_holder: str | None = None
    target: str | None = None
    amount_fen: int | None = None
    day: dt.date | None = None
    key: str | None = None
    transfer_id: int | None = None
    roll_code: str | None = None
    file_name: str | None = None
    file_line: int | None = None
    file_column: str | None = None
    code: str = ""
    params: dict = field(default_factory=dict)


def attempt_of(exc: BaseException) -> Attempt | None:
    """The refused attempt `exc` carries, if it is a prevented misuse."""
    return getattr(exc, "refused_attempt", None)


@contextmanager
def attempting(actor: User | None, kind: str, **what) -> Iterator[Attempt]:
    """Within the block, a refusal of `PREVENTED` carries this attempt (the block may fill in
    what it learns: the region, the accounts). The innermost attempt wins: a roll's line paid
    through `flows.pay` names its payee and key, not only the roll."""
    if actor is None:   # refused as `no_actor`, which is not a control against misuse
        yield Attempt(0, "", kind, **what)
        return
    attempt = Attempt(actor.id, actor.username, kind, **what)
    try:
        yield attempt
    except LedgerError as exc:
        if exc.code in PREVENTED and attempt_of(exc) is None:
            exc.refused_attempt = replace(attempt, code=exc.code, params=_masked(exc.params))
        raise


def attach_file(exc: LedgerError, cause: LedgerError, file_name: str, line: int,
                column: str) -> None:
    """An import refused whole (`exc`) because a service refused line `line` (`cause`):
    the file's one refused attempt is the line's, naming the file, line and column."""
    attempt = attempt_of(cause)
    if attempt is not None:
        exc.refused_attempt = replace(attempt, file_name=file_name[:255], file_line=line,
                                      file_column=column or None)


# Parameter names that could hold a personal number; their values are masked whatever they
# look like. Anywhere else, text that reads as a valid ID number (check digit and all) is
# masked; codes (household, project, region) and names stay as the registers keep them.
_PERSONAL = re.compile(r"(^|_)(id_number|id_no|card|account|bank_account|phone)($|_)")
_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
# 15 to 19 digits in a row: a legacy ID number or a bank card (16–19), never an amount or a
# code of the registers; masked wherever it stands (found by the review of issue 18).
_LONG_NUMBER = re.compile(r"(?<![0-9])[0-9]{15,19}(?![0-9])")


def _masked(value, name: str = ""):
    """`value` (a refusal's params) with no ID, card or account number in clear: a refusal's
    params name codes, amounts and names, and this keeps it so if a future one does not."""
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, name) for v in value]
    if isinstance(value, str):
        if _PERSONAL.search(name):
            return mask(value)
        return _LONG_NUMBER.sub(lambda m: mask(m[0]), _ID_LIKE.sub(_mask_id, value))
    return value


def _mask_id(match: re.Match) -> str:
    try:
        read_number(match[0])
    except (IdNumberError, ValueError):
        return match[0]
    return mask(match[0])


def record_refused(session: Session, exc: BaseException) -> RefusedAttempt | None:
    """Write the attempt `exc` carries (None if it carries none) with its audit entry, in the
    session's transaction: the caller has rolled the refused change back and commits this."""
    attempt = attempt_of(exc)
    if attempt is None or not attempt.actor_id:
        return None
    region = attempt.region_code
    if region is None and attempt.project_code is not None:
        region = session.execute(select(Project.county_code).where(
            Project.code == attempt.project_code)).scalar_one_or_none()
    actor = session.get(User, attempt.actor_id)
    if region is None:   # refused before the paying region was known: the actor's own
        region = actor.region_code
    if not _may_move_money(session, actor, region):
        # Someone who may not move money there was refused by a control checked before their
        # scope: not a misuse the control prevented in that county, and recording it would let
        # anyone write attempts into another county's record (and its FLW-02 evidence).
        return None
    with record_change(session, attempt.username, "refusal.record", code=attempt.code,
                       tried=attempt.kind) as change:
        row = RefusedAttempt(
            attempted_at=change.time, actor_id=attempt.actor_id, username=attempt.username,
            kind=attempt.kind, code=attempt.code, params=attempt.params, region_code=region,
            lot_id=attempt.lot_id, source_kind=attempt.source_kind,
            source_holder=attempt.source_holder,
            target=_masked(attempt.target[:100]) if attempt.target else attempt.target,
            amount_fen=attempt.amount_fen if _whole(attempt.amount_fen) else None,
            day=attempt.day if isinstance(attempt.day, dt.date) else None,
            idempotency_key=attempt.key[:200] if isinstance(attempt.key, str) else None,
            transfer_id=attempt.transfer_id, roll_code=attempt.roll_code,
            file_name=attempt.file_name, file_line=attempt.file_line,
            file_column=attempt.file_column)
        change.add(row)
    return row


def _may_move_money(session: Session, actor: User, region: str) -> bool:
    """The actor records or approves movements (role) in `region` (scope)."""
    if not ({Action.RECORD, Action.APPROVE} & ROLE_ACTIONS.get(actor.role, frozenset())):
        return False
    return in_scope(session, actor, region)


def _whole(amount) -> bool:
    return isinstance(amount, int) and not isinstance(amount, bool)


def record_after_rollback(factory: sessionmaker, exc: BaseException) -> RefusedAttempt | None:
    """Write the attempt `exc` carries in a transaction of its own, committed."""
    if attempt_of(exc) is None:
        return None
    with transaction(factory) as session:
        return record_refused(session, exc)


@contextmanager
def recording(factory: sessionmaker) -> Iterator[Session]:
    """`ledger.store.db.transaction`, and after a refused change is rolled back, its attempt
    written in a transaction of its own (the command line's unit of work)."""
    try:
        with transaction(factory) as session:
            yield session
    except LedgerError as exc:
        record_after_rollback(factory, exc)
        raise


# --------------------------------------------------------------------------- reading


def list_refused(session: Session, actor: User, *, region: str | None = None,
                 since: dt.date | None = None) -> list[dict]:
    """The refused attempts in `region` (the actor's own by default) and below, newest first,
    for an auditor (the AUDIT action, in scope)."""
    region = region or actor.region_code
    require(session, actor, Action.AUDIT, region)
    stmt = select(RefusedAttempt).where(
        RefusedAttempt.region_code.in_(descendants(session, region)))
    if since is not None:
        start = dt.datetime.combine(since, dt.time(), tzinfo=dt.timezone.utc)
        stmt = stmt.where(RefusedAttempt.attempted_at >= start)
    rows = session.execute(stmt.order_by(RefusedAttempt.attempted_at.desc(),
                                         RefusedAttempt.id.desc())).scalars()
    return [as_dict(row) for row in rows]


def as_dict(row: RefusedAttempt) -> dict:
    at = row.attempted_at
    if at.tzinfo is None:   # SQLite gives back naive datetimes; they were written in UTC
        at = at.replace(tzinfo=dt.timezone.utc)
    source = f"{row.source_kind}:{row.source_holder}" if row.source_holder else None
    return {
        "id": row.id, "attempted_at": at.isoformat(), "user": row.username,
        "kind": row.kind, "kind_label": KIND_LABELS.get(row.kind, row.kind),
        "code": row.code, "code_label": CODE_LABELS.get(row.code, row.code),
        "rule_id": PREVENTED.get(row.code), "params": row.params, "region": row.region_code,
        "lot_id": row.lot_id, "source": source, "target": row.target,
        "amount_fen": row.amount_fen,
        "amount": format_yuan(row.amount_fen) if row.amount_fen is not None else None,
        "date": row.day.isoformat() if row.day else None, "key": row.idempotency_key,
        "transfer_id": row.transfer_id, "roll": row.roll_code, "file": row.file_name,
        "line": row.file_line, "column": row.file_column, "log_index": row.log_index}


def prevented_counts(session: Session) -> dict[str | None, int]:
    """Refused attempts per alert rule they prevented (None: invariants no rule scans)."""
    counts: dict[str | None, int] = {}
    for code, n in session.execute(select(RefusedAttempt.code, func.count())
                                   .group_by(RefusedAttempt.code)):
        rule = PREVENTED.get(code)
        counts[rule] = counts.get(rule, 0) + n
    return counts


def refused_spending(session: Session) -> dict[tuple[int, str, str], list[dict]]:
    """Refused attempts to spend from a unit's or project's account, by (lot id, account kind,
    holder), oldest first: what FLW-02 names when the money they would have spent sits idle.
    `date` is the date the entry asked for, else the day it was tried (server time)."""
    out: dict[tuple[int, str, str], list[dict]] = {}
    rows = session.execute(select(RefusedAttempt).where(
        RefusedAttempt.lot_id.is_not(None), RefusedAttempt.source_holder.is_not(None))
        .order_by(RefusedAttempt.id)).scalars()
    for row in rows:
        day = row.day or row.attempted_at.date()
        out.setdefault((row.lot_id, row.source_kind, row.source_holder), []).append(
            {"refused_attempt_id": row.id, "date": day.isoformat(), "code": row.code,
             "amount_fen": row.amount_fen, "key": row.idempotency_key, "kind": row.kind,
             "user": row.username, "target": row.target, "roll": row.roll_code,
             "file": row.file_name, "line": row.file_line})
    return out
