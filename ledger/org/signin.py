"""Staff sign-in: password hashing, setting passwords, login with rate limiting and lockout.

- Passwords are hashed with scrypt (hashlib, RFC 7914), memory-hard, with a random salt; the
  parameters travel inside the stored text so they can be raised later without breaking old
  hashes. At least 12 characters: a length rule, not composition rules (NIST SP 800-63B).
- Setting a password appends a `UserCredential` row through the audit log (who set it, when),
  so a password hash typed into the database behind the ledger's back is found by `verify`.
- Login: after `MAX_FAILURES` failed attempts within `WINDOW` a username is locked for
  `WINDOW`; a client address with `MAX_CLIENT_FAILURES` failures in `WINDOW` is refused too.
  Every successful login, every failure against a real account while it is not locked, and
  every lockout is an audit-log entry (bounded per account by the lockout itself). A disabled
  user (ledger.org.admin_requests) is refused like a wrong password.
- Web sessions live on the server (`StaffSession`): the cookie holds a random token, and a
  session ends on sign-out, on a new password, on disabling, or when ended from the session
  list; a copied cookie is worth nothing after that.
- Public look-ups (complaint receipts) are throttled per address on their own counter
  (`throttled`), never counted as sign-in failures: strangers cannot lock staff out.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.models import User
from ledger.models.admin import StaffSession
from ledger.models.auth import LoginAttempt, UserCredential
from ledger.store.access import Action, four_eyes_apply, is_disabled, require

MIN_LENGTH = 12
MAX_LENGTH = 1024  # scrypt of a megabyte password is a denial of service, not a password
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_FAILURES = 5
MAX_CLIENT_FAILURES = 20
WINDOW = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=8)
# Names of throttle buckets start with this; no username can (regions checks usernames), and
# sign-in failure counts skip them.
BUCKET_PREFIX = "#"


class WeakPassword(LedgerError):
    """The password is too short or too easy to guess. Each raise names which (its code);
    the class's code names the family, for callers that treat them alike."""

    code = "weak_password"


class LoginRefused(LedgerError):
    """Sign-in failed. `reason` is bad_credentials, locked or rate_limited; the message never
    says whether the username exists. The refusal's code is the reason's entry in `codes`."""

    codes = {"bad_credentials": "sign_in_failed", "locked": "sign_in_locked",
             "rate_limited": "sign_in_rate_limited"}

    def __init__(self, reason: str, message: str, **params):
        super().__init__(message, code=self.codes[reason], **params)
        self.reason = reason


def hash_password(password: str, *, n: int | None = None) -> str:
    n = n or SCRYPT_N
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        _scrypt(password, b"\0" * 16, SCRYPT_N, SCRYPT_R, SCRYPT_P)  # same time either way
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(want, got)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8")[:MAX_LENGTH * 4], salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_strength(password: str, username: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters",
                           code="password_too_short", min_length=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters",
                           code="password_too_long", max_length=MAX_LENGTH)
    if len(set(password)) < 4 or username.lower() in password.lower():
        raise WeakPassword("this password is too easy to guess (repeated characters or the "
                           "username)", code="password_guessable")


def current_hash(session: Session, user: User) -> str | None:
    stored = session.execute(
        select(UserCredential.password_hash).where(UserCredential.user_id == user.id)
        .order_by(UserCredential.id.desc()).limit(1)).scalar_one_or_none()
    return stored or user.password_hash


def set_password(session: Session, actor: User | None, user: User, password: str,
                 *, now: dt.datetime | None = None) -> UserCredential:
    """Set `user`'s password. `actor` is the user themselves, an administrator over the
    user's region while the ledger has fewer than two administrators (afterwards: a request,
    ledger.org.admin_requests), or None: the operator at the server's command line (who holds
    the database; logged as "command line")."""
    if actor is not None and actor.id != user.id:
        require(session, actor, Action.ADMINISTER, user.region_code)
        if four_eyes_apply(session):
            raise PermissionDenied(
                f"{actor.username} may not make the change user.password_reset for "
                f"{user.username} alone; a second administrator approves a request for it",
                code="four_eyes_required", user=actor.username, change="user.password_reset",
                target=user.username)
    check_strength(password, user.username)
    by = actor.username if actor is not None else "command line"
    return store_password_hash(session, by, user, hash_password(password), now=now)


def store_password_hash(session: Session, by: str, user: User, password_hash: str,
                        *, now: dt.datetime | None = None, **details) -> UserCredential:
    """Append `user`'s new credential and end every session opened with an older one. The
    caller has checked who may set it (`set_password`, or an approved admin request)."""
    with record_change(session, by, "auth.password", user=user.username, by=by,
                       **details) as change:
        credential = UserCredential(user_id=user.id, password_hash=password_hash,
                                    set_by=by, set_at=now or change.time)
        change.add(credential)
    end_sessions(session, user, "password_changed")
    return credential


def authenticate(session: Session, username: str, password: str, client: str,
                 *, now: dt.datetime | None = None) -> User:
    """Return the user if the password is right and neither the user nor the client is
    locked out; otherwise raise LoginRefused. Leaves commit to the caller, and the caller
    must commit on refusal too, so that the attempt counts."""
    now = now or dt.datetime.now(dt.timezone.utc)
    username = (username or "").strip()[:64]
    client = (client or "unknown")[:64]
    if _failures(session, LoginAttempt.client == client, now) >= MAX_CLIENT_FAILURES:
        _attempt(session, username, client, now, False)
        raise LoginRefused("rate_limited", "too many failed sign-ins from this address; "
                           "try again later")
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None and locked(session, username, now):
        _attempt(session, username, client, now, False)
        raise LoginRefused("locked", "this account is locked after repeated failed sign-ins; "
                           f"try again in {int(WINDOW.total_seconds() // 60)} minutes",
                           minutes=int(WINDOW.total_seconds() // 60))
    ok = verify_password(password or "", current_hash(session, user) if user else None)
    if ok and is_disabled(session, username):
        ok = False  # told apart from a wrong password only in the log, not to the visitor
        with record_change(session, username, "auth.login_disabled"):
            pass
    _attempt(session, username, client, now, ok)
    if user is None:
        raise LoginRefused("bad_credentials", "wrong username or password")
    if not ok:
        with record_change(session, username, "auth.login_failed"):
            pass
        if locked(session, username, now):
            with record_change(session, username, "auth.locked",
                               minutes=int(WINDOW.total_seconds() // 60)):
                pass
        raise LoginRefused("bad_credentials", "wrong username or password")
    with record_change(session, username, "auth.login"):
        pass
    return user


def locked(session: Session, username: str, now: dt.datetime) -> bool:
    return _failures(session, LoginAttempt.username == username, now) >= MAX_FAILURES


def _failures(session: Session, who, now: dt.datetime) -> int:
    """Sign-in failures in the window since the last success (a success clears the count).
    Throttle buckets' uses are stored as failures of a "#bucket" name and are not counted."""
    who = who & ~LoginAttempt.username.startswith(BUCKET_PREFIX, autoescape=True)
    since = now - WINDOW
    last_ok = session.execute(select(func.max(LoginAttempt.at)).where(
        who, LoginAttempt.succeeded.is_(True), LoginAttempt.at >= since)).scalar_one()
    if last_ok is not None:
        since = _aware(last_ok)
    return session.execute(select(func.count()).select_from(LoginAttempt).where(
        who, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)).scalar_one()


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes for DateTime(timezone=True); they were stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _attempt(session: Session, username: str, client: str, now: dt.datetime,
             ok: bool) -> None:
    session.add(LoginAttempt(username=username, client=client, at=now, succeeded=ok))
    session.flush()


def record_logout(session: Session, user: User) -> None:
    with record_change(session, user.username, "auth.logout"):
        pass


def throttled(session: Session, bucket: str, client: str, limit: int,
              *, now: dt.datetime | None = None) -> bool:
    """True when `client` has used `bucket` (e.g. public receipt look-ups) `limit` times in the
    window; each call that is not throttled counts as one use. Kept beside the login attempts
    under the name "#bucket", which no username can take (usernames are checked by regions)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    name, client = f"{BUCKET_PREFIX}{bucket}"[:64], (client or "unknown")[:64]
    used = session.execute(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == name, LoginAttempt.client == client,
        LoginAttempt.at > now - WINDOW)).scalar_one()
    if used >= limit:
        return True
    _attempt(session, name, client, now, False)
    return False


def start_session(session: Session, user: User, credential_id: int, client: str, agent: str,
                  *, now: dt.datetime | None = None) -> str:
    """Open a web session for `user`; return its token (for the cookie; stored hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_digest=_token_digest(token), user_id=user.id,
                             credential_id=credential_id, client=(client or "unknown")[:64],
                             agent=(agent or "")[:200],
                             started_at=now or dt.datetime.now(dt.timezone.utc)))
    session.flush()
    return token


def open_session(session: Session, token: str, *, now: dt.datetime | None = None
                 ) -> StaffSession | None:
    """The live session `token` names: not ended, not older than SESSION_LIFETIME, its user
    not disabled. None otherwise."""
    if not token or len(token) > 100:
        return None
    row = session.execute(select(StaffSession).where(
        StaffSession.token_digest == _token_digest(token))).scalar_one_or_none()
    now = now or dt.datetime.now(dt.timezone.utc)
    if row is None or row.ended_at is not None or _aware(row.started_at) < now - SESSION_LIFETIME:
        return None
    user = session.get(User, row.user_id)
    if user is None or is_disabled(session, user.username):
        return None
    return row


def end_session(session: Session, token: str, why: str = "signed_out") -> None:
    row = session.execute(select(StaffSession).where(
        StaffSession.token_digest == _token_digest(token))).scalar_one_or_none()
    if row is not None and row.ended_at is None:
        row.ended_at, row.ended_why = dt.datetime.now(dt.timezone.utc), why
        session.flush()


def end_sessions(session: Session, user: User, why: str, *, keep: str | None = None) -> int:
    """End every live session of `user` (but the one whose token is `keep`); return how many."""
    rows = active_sessions(session, user)
    keep_digest = _token_digest(keep) if keep else None
    now = dt.datetime.now(dt.timezone.utc)
    ended = 0
    for row in rows:
        if row.token_digest != keep_digest:
            row.ended_at, row.ended_why = now, why
            ended += 1
    session.flush()
    return ended


def active_sessions(session: Session, user: User, *, now: dt.datetime | None = None
                    ) -> list[StaffSession]:
    now = now or dt.datetime.now(dt.timezone.utc)
    rows = session.execute(select(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .order_by(StaffSession.id)).scalars()
    return [r for r in rows if _aware(r.started_at) >= now - SESSION_LIFETIME]


def is_current(row: StaffSession, token: str) -> bool:
    return hmac.compare_digest(row.token_digest, _token_digest(token))


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def end_other_sessions(session: Session, actor: User, user: User, *,
                       keep: str | None = None) -> int:
    """"Sign out elsewhere": `actor` (the user, or an administrator over the user's region)
    ends `user`'s sessions but the one whose token is `keep`. A protective step, so one
    administrator may take it alone; it is logged."""
    if actor.id != user.id:
        require(session, actor, Action.ADMINISTER, user.region_code)
    ended = end_sessions(session, user, "ended_by_" + ("owner" if actor.id == user.id
                                                         else "administrator"), keep=keep)
    with record_change(session, actor.username, "auth.sessions_ended", user=user.username,
                       sessions=ended):
        pass
    return ended


def open_session_counts(session: Session, users: list[User], *,
                        now: dt.datetime | None = None) -> dict[str, int]:
    """Username → number of live sessions, for a list of users (one query)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    by_id = {u.id: u.username for u in users}
    counts = dict.fromkeys(by_id.values(), 0)
    for user_id, in session.execute(select(StaffSession.user_id).where(
            StaffSession.user_id.in_(by_id), StaffSession.ended_at.is_(None),
            StaffSession.started_at >= now - SESSION_LIFETIME)):
        counts[by_id[user_id]] += 1
    return counts
