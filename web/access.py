"""Who is signed in and which pages they may open: deny by default.

Every route is either on the public allow-list below (`PUBLIC`, by endpoint and method) or its
view carries a guard: `requires(action)` (signed in, and the role includes the action) or
`signed_in` (any signed-in user). A route that is neither is refused with 403 before its view
runs (`install`), so a page added without a guard is closed, not open; the authorisation
matrix (tests/web/test_matrix.py) is generated from the same url_map and fails for it too.

The guards check the role only. The ledger's services check role and region scope again on
every read and write (ledger/store/access.py), so a guard is never the only check.
"""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, current_app, request
from flask_login import UserMixin, current_user, login_required
from sqlalchemy import select

from ledger.models import User
from ledger.models.auth import UserCredential
from ledger.org import signin
from ledger.store.access import ROLE_ACTIONS, Action
from web import db

# Pages anyone may open without signing in: endpoint -> methods. Everything else needs a
# guard on its view. HEAD is GET's; OPTIONS is answered by Flask without calling a view.
PUBLIC: dict[str, frozenset[str]] = {
    "static": frozenset({"GET"}),
    "public.index": frozenset({"GET"}),
    "public.village": frozenset({"GET"}),
    "public.roll_pdf": frozenset({"GET"}),
    "public.project_pdf": frozenset({"GET"}),
    "public.county": frozenset({"GET"}),
    "public.township": frozenset({"GET"}),
    "public.verify_page": frozenset({"GET", "POST"}),
    "public.verify_proof_file": frozenset({"GET"}),
    "public.keys_text": frozenset({"GET"}),
    "public.policy_text": frozenset({"GET"}),
    "public.checkpoint_text": frozenset({"GET"}),
    # The page a notice's QR opens (the proof is checked in the browser) and the notice's rows
    # as the database gives them now, which that page hashes (web/views/verify.py).
    "verify.page": frozenset({"GET"}),
    "verify.rows": frozenset({"GET"}),
    "verify.roll_check": frozenset({"GET"}),
    # What a witness on another machine reads and writes (ledger.audit.witness): a proof, and
    # its cosignature, which the server keeps only if it verifies against the policy.
    "public.consistency_proof": frozenset({"GET"}),
    "public.witness_cosignature": frozenset({"POST"}),
    "complaints.file": frozenset({"GET", "POST"}),
    "complaints.status": frozenset({"GET", "POST"}),
    "auth.login": frozenset({"GET", "POST"}),
    "auth.language": frozenset({"GET"}),
}

# The guard of a view open to every signed-in user, whatever their role.
SIGNED_IN = "signed in"


class StaffUser(UserMixin):
    """The signed-in person: the ledger's User and the server-side session (ledger.org.signin,
    `StaffSession`) their cookie names. Flask-Login keeps `get_id()` in the cookie: here the
    session's random token, never the user's id, so signing out, a new password or disabling
    the user (which end the session row) make every copy of the cookie worthless."""

    def __init__(self, user: User, token: str):
        self.user = user
        self.token = token

    def get_id(self) -> str:
        return self.token

    def may(self, action: Action) -> bool:
        return action in ROLE_ACTIONS.get(self.user.role, frozenset())


def credential_id(user_id: int) -> int:
    """The user's newest credential (0 before any password is set)."""
    return db.session().execute(select(UserCredential.id).where(
        UserCredential.user_id == user_id).order_by(UserCredential.id.desc()).limit(1)
    ).scalar_one_or_none() or 0


def load_user(token: str):
    s = db.session()
    row = signin.open_session(s, token)
    if row is None or credential_id(row.user_id) != row.credential_id:
        return None
    return StaffUser(s.get(User, row.user_id), token)


def actor() -> User:
    """The ledger User acting in this request (views pass it to every service)."""
    return current_user.user


def requires(action: Action):
    """Login required, and the role must include `action` (the service checks scope too)."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.may(action):
                abort(403)
            return view(*args, **kwargs)
        wrapped.guard = action
        return wrapped
    return decorate


def signed_in(view):
    """Login required, any role: pages about the session itself (signing out)."""
    wrapped = login_required(view)
    wrapped.guard = SIGNED_IN
    return wrapped


def guard_of(view) -> Action | str | None:
    """The action a view requires, SIGNED_IN, or None for a view without a guard."""
    return getattr(view, "guard", None)


def is_public(endpoint: str, method: str) -> bool:
    method = "GET" if method == "HEAD" else method
    return method in PUBLIC.get(endpoint, ())


def install(app: Flask) -> None:
    """Refuse every request to a route that is neither public nor guarded."""

    @app.before_request
    def deny_unlisted():
        endpoint = request.endpoint
        if endpoint is None or request.method == "OPTIONS":
            return  # no route (404, 405), or Flask's automatic OPTIONS answer
        if is_public(endpoint, request.method) \
                or guard_of(current_app.view_functions[endpoint]) is not None:
            return
        current_app.logger.error("refused %s %s: the route is neither public nor guarded",
                                 request.method, endpoint)
        abort(403)
