"""Who may do what, where. Checked in the services, not only in the views (deny by default).

A user acts within the region they work for and every region below it. Each role has a fixed
set of actions; anything not listed is refused.
"""
from __future__ import annotations

import enum

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError, PermissionDenied
from ledger.models import Region, Role, User
from ledger.models.admin import AdminDecision, AdminRequest


class Action(str, enum.Enum):
    READ = "read"          # see balances, transfers, reports in scope
    RECORD = "record"      # record allocations, payments, lots, projects, payees
    APPROVE = "approve"    # approve or reject a colleague's entry
    AUDIT = "audit"        # verify, cosign, work alerts
    ADMINISTER = "administer"  # regions, users, periods, keys


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.CLERK: frozenset({Action.READ, Action.RECORD}),
    Role.APPROVER: frozenset({Action.READ, Action.APPROVE}),
    Role.AUDITOR: frozenset({Action.READ, Action.AUDIT}),
    Role.ADMIN: frozenset({Action.READ, Action.ADMINISTER}),
}


def ancestors(session: Session, region_code: str) -> list[str]:
    """The region and every region above it, nearest first."""
    cache: dict = session.info.setdefault("region_parents", {})
    if region_code not in cache:
        # The whole chain in one statement (a payment checks a village five levels deep).
        cache.setdefault(region_code, None)
        cache.update(session.execute(_CHAIN, {"code": region_code}).all())
    chain, code = [], region_code
    while code is not None:
        chain.append(code)
        if code not in cache:
            cache[code] = session.execute(
                select(Region.parent_code).where(Region.code == code)).scalar_one_or_none()
        code = cache[code]
        if len(chain) > 10:  # regions are at most five levels deep; a cycle is corrupt data
            raise PermissionDenied(f"region {region_code}: parent chain is corrupt",
                                   code="region_chain_corrupt", action=None, region=region_code)
    return chain


# (code, parent) of a region and the regions above it; the depth bound stops a corrupt cycle.
_CHAIN = text("""
    WITH RECURSIVE chain(code, parent_code, depth) AS (
        SELECT code, parent_code, 0 FROM regions WHERE code = :code
        UNION ALL
        SELECT r.code, r.parent_code, c.depth + 1 FROM regions r
        JOIN chain c ON r.code = c.parent_code WHERE c.depth < 12)
    SELECT code, parent_code FROM chain""")


def in_scope(session: Session, user: User, region_code: str) -> bool:
    return user.region_code in ancestors(session, region_code)


def require(session: Session, user: User | None, action: Action, region_code: str) -> None:
    """Refuse unless `user` has `action` and `region_code` lies within their scope."""
    if user is None:
        raise PermissionDenied(f"{action.value}: no user given; every change needs an actor",
                               code="no_actor", action=action, region=region_code)
    if action not in ROLE_ACTIONS.get(user.role, frozenset()):
        raise PermissionDenied(
            f"{user.username} ({user.role.value}) may not {action.value}",
            code="role_forbidden", user=user.username, role=user.role, action=action,
            region=region_code)
    if is_disabled(session, user.username):
        raise PermissionDenied(f"{user.username} is disabled", code="user_disabled",
                               user=user.username)
    if not in_scope(session, user, region_code):
        raise PermissionDenied(
            f"{user.username} works for region {user.region_code} and may not "
            f"{action.value} in region {region_code}",
            user=user.username, user_region=user.region_code, action=action,
            region=region_code)


DISABLE, ENABLE = "user.disable", "user.enable"


def four_eyes_apply(session: Session) -> bool:
    """True once the ledger has two administrators: from then on a new user or a password an
    administrator sets for someone else takes effect only through a request a second one
    approves (ledger.org.admin_requests). Before that, the first administrator sets the
    province up alone (`fundtrail init`, the demo), each step in the log; the second
    administrator is the last thing one administrator can add alone."""
    return session.execute(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN)).scalar_one() >= 2


def is_disabled(session: Session, username: str) -> bool:
    """True when the newest approved disable/enable request about `username` disabled them.
    Cached per database session (a service checks many rows for one actor); approving such a
    request clears the cache (ledger.org.admin_requests)."""
    cache: dict = session.info.setdefault("disabled_users", {})
    if username not in cache:
        newest = session.execute(
            select(AdminRequest.kind).join(AdminDecision,
                                           AdminDecision.request_id == AdminRequest.id)
            .where(AdminRequest.target == username, AdminRequest.kind.in_((DISABLE, ENABLE)),
                   AdminDecision.approved.is_(True))
            .order_by(AdminDecision.id.desc()).limit(1)).scalar_one_or_none()
        cache[username] = newest == DISABLE
    return cache[username]


def disabled_among(session: Session, usernames: list[str]) -> set[str]:
    """Those of `usernames` who are disabled now (one query; a page listing users)."""
    newest: dict[str, str] = {}
    for target, kind in session.execute(
            select(AdminRequest.target, AdminRequest.kind)
            .join(AdminDecision, AdminDecision.request_id == AdminRequest.id)
            .where(AdminRequest.target.in_(usernames), AdminRequest.kind.in_((DISABLE, ENABLE)),
                   AdminDecision.approved.is_(True)).order_by(AdminDecision.id)):
        newest[target] = kind
    return {name for name, kind in newest.items() if kind == DISABLE}


def root_code(session: Session) -> str:
    """The code of the region at the top of the ledger (the province `bootstrap` made)."""
    code = session.execute(select(Region.code).where(Region.parent_code.is_(None))) \
        .scalar_one_or_none()
    if code is None:
        raise LedgerError("no province region is recorded yet (fundtrail init)",
                          code="no_province")
    return code
