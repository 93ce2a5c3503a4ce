"""Administrative regions (行政区划) and the people who work in them."""
from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ledger.audit.log import lock_head, record_change
from ledger.core.errors import LedgerError, NotFound, PermissionDenied
from ledger.models import LEVEL_ORDER, Region, RegionLevel, Role, User
from ledger.models.admin import AdminDecision, AdminRequest
from ledger.store.access import Action, four_eyes_apply, require
from ledger.store.db import fetch


def get_region(session: Session, code: str) -> Region:
    return fetch(session, Region, code, f"region {code!r}")


def get_user(session: Session, username: str) -> User:
    user = session.execute(_USER, {"username": username}).scalar_one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist", what="user", key=username)
    return user


# Built once: every request loads its actor, and building the statement cost as much as
# running it (issue 21, the disbursement figure).
_USER = select(User).where(User.username == bindparam("username"))


def bootstrap(session: Session, *, province_code: str, province_name: str,
              admin_username: str, admin_name: str) -> User:
    """Create the root region and the first administrator of an empty database."""
    lock_head(session)  # decide under the log lock, as posting.replay does
    if session.execute(select(func.count()).select_from(User)).scalar_one():
        raise LedgerError("this database already has users; bootstrap runs only once",
                          code="already_bootstrapped")
    _check_code(province_code)
    with record_change(session, admin_username, "bootstrap") as change:
        change.add(Region(code=province_code, name=province_name,
                          level=RegionLevel.PROVINCE, parent_code=None))
        session.flush()
        admin = User(username=admin_username, display_name=admin_name, role=Role.ADMIN,
                     region_code=province_code)
        change.add(admin)
    return admin


def add_region(session: Session, actor: User, *, code: str, name: str, level: RegionLevel,
               parent_code: str) -> Region:
    """Add a region; the same region again (same name, level, parent) returns it unchanged."""
    lock_head(session)  # decide under the log lock, as posting.replay does
    parent = get_region(session, parent_code)
    require(session, actor, Action.ADMINISTER, parent_code)
    _check_code(code)
    existing = session.get(Region, code)
    if existing is not None:
        if (existing.name, existing.level, existing.parent_code) == (name, level, parent_code):
            return existing
        raise LedgerError(f"region {code} already exists as {existing.name} "
                          f"({existing.level.value}, under {existing.parent_code})",
                          code="already_exists", what="region", key=code)
    expected = LEVEL_ORDER[LEVEL_ORDER.index(parent.level) + 1] \
        if parent.level != RegionLevel.VILLAGE else None
    if level != expected:
        raise LedgerError(
            f"region {code}: a {parent.level.value}'s child must be a "
            f"{expected.value if expected else 'nothing'}, not a {level.value}",
            code="region_level", region=code, parent_level=parent.level, expected=expected,
            level=level)
    region = Region(code=code, name=name, level=level, parent_code=parent_code)
    with record_change(session, actor.username, "region.add") as change:
        change.add(region)
    return region


def add_user(session: Session, actor: User, *, username: str, display_name: str, role: Role,
             region_code: str, password_hash: str | None = None,
             approved_request: int | None = None) -> User:
    """Add a user; the same user again (same name, role, region) returns it unchanged.

    Once the ledger has two administrators (`four_eyes_apply`) a new user needs
    `approved_request`: a user.create request for this username that a second administrator
    approved (ledger.org.admin_requests calls this when approving). Before that, the first
    administrator sets the province up alone, and the log entry says so."""
    lock_head(session)  # decide under the log lock, as posting.replay does
    get_region(session, region_code)
    require(session, actor, Action.ADMINISTER, region_code)
    existing = session.execute(select(User).where(User.username == username)) \
        .scalar_one_or_none()
    if existing is not None:
        if (existing.display_name, existing.role, existing.region_code) == \
                (display_name, role, region_code) and password_hash is None:
            return existing
        raise LedgerError(f"user {username!r} already exists", code="already_exists",
                          what="user", key=username)
    if approved_request is None:
        if four_eyes_apply(session):
            raise PermissionDenied(
                f"{actor.username} may not make the change user.create for {username} alone; "
                "a second administrator approves a request for it",
                code="four_eyes_required", user=actor.username, change="user.create",
                target=username)
        how = {"four_eyes": "setup: fewer than two administrators"}
    else:
        _check_approved(session, approved_request, username)
        how = {"request": approved_request}
    user = User(username=username, display_name=display_name, role=role,
                region_code=region_code, password_hash=password_hash)
    with record_change(session, actor.username, "user.add", **how) as change:
        change.add(user)
    return user


def _check_approved(session: Session, request_id: int, username: str) -> None:
    approved = session.execute(
        select(AdminRequest.id).join(AdminDecision, AdminDecision.request_id == AdminRequest.id)
        .where(AdminRequest.id == request_id, AdminRequest.kind == "user.create",
               AdminRequest.target == username, AdminDecision.approved.is_(True))
    ).scalar_one_or_none()
    if approved is None:
        raise PermissionDenied(
            f"{username} may not make the change user.create for {username} alone; a second "
            "administrator approves a request for it", code="four_eyes_required",
            user=username, change="user.create", target=username)


def _check_code(code: str) -> None:
    if not (code.isascii() and code.isdigit() and 2 <= len(code) <= 12):
        raise LedgerError(f"region code {code!r} must be 2–12 digits (行政区划代码)",
                          code="region_code_format", value=repr(code))
