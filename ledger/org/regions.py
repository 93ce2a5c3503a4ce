"""Administrative regions (行政区划) and the people who work in them."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.audit.log import lock_head, record_change
from ledger.core.errors import LedgerError, NotFound
from ledger.models import LEVEL_ORDER, Region, RegionLevel, Role, User
from ledger.store.access import Action, require
from ledger.store.db import fetch


def get_region(session: Session, code: str) -> Region:
    return fetch(session, Region, code, f"region {code!r}")


def get_user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist", what="user", key=username)
    return user


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
             region_code: str, password_hash: str | None = None) -> User:
    """Add a user; the same user again (same name, role, region) returns it unchanged."""
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
    user = User(username=username, display_name=display_name, role=role,
                region_code=region_code, password_hash=password_hash)
    with record_change(session, actor.username, "user.add") as change:
        change.add(user)
    return user


def _check_code(code: str) -> None:
    if not (code.isascii() and code.isdigit() and 2 <= len(code) <= 12):
        raise LedgerError(f"region code {code!r} must be 2–12 digits (行政区划代码)",
                          code="region_code_format", value=repr(code))
