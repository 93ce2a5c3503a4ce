"""Four eyes on administration: a change to who may act takes effect only when a second
administrator approves it.

One administrator files a request (`request`): a new user, a password reset, a user disabled
or enabled again. Nothing changes until another administrator who administers the same region
decides it (`decide`); the one who asked can never approve, and nobody decides about their own
account. Requests and decisions are append-only rows, each its own audit-log entry, so the log
shows who asked and who agreed; the change itself (user.add, auth.password, ...) follows in the
approver's name in the same transaction.

A new password travels in the request only as its scrypt hash: the approver never sees it.
Whoever filed the request chose it, so the person should change it at first sign-in.

The kinds are text, dispatched through `KINDS`; another kind (a personal signing key's
enrolment) adds a checker and an effect there and needs no new table.

Bootstrap: `fundtrail init` creates the first administrator (regions.bootstrap). While the
ledger has one administrator, that one sets the province up alone (regions, staff, the second
administrator), each step a "user.add" entry marked "setup: fewer than two administrators";
from the second administrator on (ledger.store.access.four_eyes_apply) only requests do.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import lock_head, record_change
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.models import Role, User
from ledger.models.admin import AdminDecision, AdminRequest
from ledger.org import regions, signin
from ledger.store.access import (
    DISABLE,
    ENABLE,
    Action,
    ancestors,
    is_disabled,
    require,
)

CREATE, PASSWORD_RESET = "user.create", "user.password_reset"


@dataclass(frozen=True)
class Kind:
    """How one kind of request is checked when filed and what it does when approved."""
    check: Callable[[Session, User, str, dict, str | None], str]  # -> region deciding it
    apply: Callable[[Session, User, AdminRequest], None]


def request(session: Session, actor: User, kind: str, target: str, *, reason: str = "",
            details: dict | None = None, password: str | None = None) -> AdminRequest:
    """File a request by administrator `actor`; nothing changes until a second one approves."""
    lock_head(session)  # decide under the log lock: one pending request per kind and user
    if kind not in KINDS:
        raise LedgerError(f"no such administrative request: {kind}",
                          code="admin_request_kind", kind=kind)
    details = dict(details or {})
    region_code = KINDS[kind].check(session, actor, target, details, password)
    require(session, actor, Action.ADMINISTER, region_code)
    waiting = session.execute(select(AdminRequest.id).where(
        AdminRequest.kind == kind, AdminRequest.target == target,
        ~AdminRequest.id.in_(select(AdminDecision.request_id)))).scalars().first()
    if waiting is not None:
        raise LedgerError(f"request {waiting} ({kind} for {target}) is still waiting for a "
                          "second administrator", code="admin_request_pending",
                          request=waiting, kind=kind, target=target)
    row = AdminRequest(kind=kind, target=target, region_code=region_code, details=details,
                       password_hash=signin.hash_password(password) if password else None,
                       reason=(reason or "")[:500], requested_by=actor.username,
                       requested_at=dt.datetime.now(dt.timezone.utc))
    with record_change(session, actor.username, "admin.request", request_kind=kind,
                       target=target) as change:
        row.requested_at = change.time
        change.add(row)
    return row


def decide(session: Session, actor: User, request_id: int, *, approve: bool) -> AdminDecision:
    """Approve (the change takes effect now) or refuse a request, as a second administrator."""
    lock_head(session)
    row = session.get(AdminRequest, request_id)
    if row is None:
        raise LedgerError(f"no administrative request {request_id}", code="not_found",
                          what="administrative request", key=str(request_id))
    require(session, actor, Action.ADMINISTER, row.region_code)
    if session.execute(select(AdminDecision.id).where(
            AdminDecision.request_id == row.id)).scalar_one_or_none() is not None:
        raise LedgerError(f"request {row.id} is already decided", code="admin_request_decided",
                          request=row.id)
    if actor.username == row.requested_by:
        raise PermissionDenied(f"{actor.username} filed request {row.id}; a second "
                               "administrator must decide it", code="four_eyes_same_admin",
                               user=actor.username, request=row.id)
    if actor.username == row.target:
        raise PermissionDenied(f"request {row.id} is about {actor.username}; another "
                               "administrator must decide it", code="four_eyes_own_account",
                               user=actor.username, request=row.id)
    decision = AdminDecision(request_id=row.id, approved=approve, decided_by=actor.username,
                             decided_at=dt.datetime.now(dt.timezone.utc))
    with record_change(session, actor.username, "admin.approve" if approve else "admin.refuse",
                       request=row.id, request_kind=row.kind, target=row.target,
                       requested_by=row.requested_by) as change:
        decision.decided_at = change.time
        change.add(decision)
    if approve:
        KINDS[row.kind].apply(session, actor, row)
    return decision


def pending(session: Session, actor: User) -> list[AdminRequest]:
    """Undecided requests that `actor` administers (their own included, to see them wait)."""
    require(session, actor, Action.ADMINISTER, actor.region_code)
    rows = session.execute(select(AdminRequest).where(
        ~AdminRequest.id.in_(select(AdminDecision.request_id)))
        .order_by(AdminRequest.id)).scalars()
    return [r for r in rows if actor.region_code in ancestors(session, r.region_code)]


# --- the kinds -------------------------------------------------------------------------------

def _check_new_user(session: Session, username: str) -> None:
    if session.execute(select(User.id).where(User.username == username)).first() is not None:
        raise LedgerError(f"user {username!r} already exists", code="already_exists",
                          what="user", key=username)


def _check_create(session, actor, target, details, password) -> str:
    _check_new_user(session, target)
    try:
        details["role"] = Role(details.get("role")).value
    except ValueError:
        raise LedgerError(f"administrative request: role is missing or wrong, got "
                          f"{details.get('role')!r}", code="admin_request_field",
                          field="role", value=repr(details.get("role"))) from None
    details["display_name"] = str(details.get("display_name") or target)[:100]
    region = regions.get_region(session, str(details.get("region") or "")).code
    details["region"] = region
    if password is not None:
        signin.check_strength(password, target)
    return region


def _check_existing(session, actor, target, details, password) -> str:
    return regions.get_user(session, target).region_code


def _check_reset(session, actor, target, details, password) -> str:
    region = _check_existing(session, actor, target, details, password)
    if not password:
        raise LedgerError("administrative request: password is missing or wrong, got ''",
                          code="admin_request_field",
                          field="password", value="''")
    signin.check_strength(password, target)
    return region


def _check_disable(session, actor, target, details, password) -> str:
    region = _check_existing(session, actor, target, details, password)
    if is_disabled(session, target):
        raise LedgerError(f"{DISABLE} for {target} would change nothing", code="admin_request_moot",
                          kind=DISABLE, target=target)
    return region


def _check_enable(session, actor, target, details, password) -> str:
    region = _check_existing(session, actor, target, details, password)
    if not is_disabled(session, target):
        raise LedgerError(f"{ENABLE} for {target} would change nothing", code="admin_request_moot",
                          kind=ENABLE, target=target)
    return region


def _apply_create(session, approver, row) -> None:
    user = regions.add_user(session, approver, username=row.target,
                            display_name=row.details["display_name"],
                            role=Role(row.details["role"]), region_code=row.details["region"],
                            approved_request=row.id)
    session.flush()
    if row.password_hash:
        signin.store_password_hash(session, approver.username, user, row.password_hash,
                                   request=row.id)


def _apply_reset(session, approver, row) -> None:
    signin.store_password_hash(session, approver.username, regions.get_user(session, row.target),
                               row.password_hash, request=row.id)


def _apply_status(session, approver, row) -> None:
    session.info.get("disabled_users", {}).pop(row.target, None)
    if row.kind == DISABLE:
        signin.end_sessions(session, regions.get_user(session, row.target), "disabled")


KINDS: dict[str, Kind] = {
    CREATE: Kind(_check_create, _apply_create),
    PASSWORD_RESET: Kind(_check_reset, _apply_reset),
    DISABLE: Kind(_check_disable, _apply_status),
    ENABLE: Kind(_check_enable, _apply_status),
}
