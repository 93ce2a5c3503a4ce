"""The authorisation matrix, generated from the app's url_map: every route and method × every
role × own/other county.

Every (rule, method) pair is either on the public allow-list (web.access.PUBLIC) or its view
carries a guard (web.access.requires / signed_in); a pair that is neither is refused at
runtime (deny by default) and fails `test_every_route_is_public_or_guarded`. The matrix calls
every pair the url_map has, so a new route is in it the day it is added; what is typed here is
only how to name an object in a URL, and the few facts a guard cannot say (below).

County staff of 430121 (one user per role) and a visitor who is not signed in call every
route; a route naming an object (a roll, transfer, village, user, alert) is called once on
an object of their own county and once on one of county 430122. Expected: allowed exactly
when the route is public, or the role has the guard's action and the object is in scope
(whole-log routes need the root region's scope). A refused request answers 403 (422 when a
form offers no such choice), a visitor is sent to sign in, and no refused request adds
anything to the audit log.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ledger.models import AuditHead, Role
from ledger.models.alerts import Alert
from ledger.store.access import ROLE_ACTIONS
from web.access import PUBLIC, SIGNED_IN, guard_of, is_public

ROLES = {"k_clerk": Role.CLERK, "k_approver": Role.APPROVER, "k_auditor": Role.AUDITOR,
         "k_admin": Role.ADMIN}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}  # HEAD is GET's; OPTIONS is Flask's, no view runs

# What each path argument is filled with, from the side (own or other county) being called.
ARGUMENTS = {"roll_code": "{roll}", "village_code": "{village}", "transfer_id": "{transfer}",
             "username": "{user}", "alert_id": "{alert}", "index": "3", "lang": "en",
             "filename": "style.css", "change": "disable", "decision": "refuse",
             "registration_id": "1", "request_id": "999999",
             "kind": "households", "fmt": "csv", "county_code": "{county}",
             "township_code": "430121001", "project_code": "P-001"}
# Arguments that name one county's object: a route with one is called on both counties'.
OBJECTS = {"roll_code", "village_code", "transfer_id", "username", "alert_id"}

# Facts a guard does not carry. Pages over the whole log need the root region's scope (the
# services refuse county staff).
WHOLE_LOG = {"audit.index", "audit.run_verify", "audit.bundle", "audit.proof"}
# The flow chart of the calling side's county (the service refuses another county's).
QUERIES = {"staff.flow": "lot=1&root=unit:{county}"}
# Forms whose own validation comes before the service's scope check: a valid submission, so
# that the other county's object reaches the check. `{county}` makes the form name a county.
SUBMISSIONS = {
    "staff.decide": {"decision": "reject", "comment": "金额有误"},
    "staff.reverse": {"reason": "错误", "effective_date": "2024-03-15", "key": "rev-x"},
    "rolls.roll_publish": {"day": "2024-03-15"},
    "rolls.roll_approve": {"day": "2024-03-15"},
    "rolls.roll_send": {"day": "2024-03-15"},
    "staff.record_pay": {"lot": "1", "source": "county:{county}", "payee": "KH-1",
                         "amount": "1.00", "function_code": "2130505",
                         "use": "household_subsidy", "effective_date": "2024-03-15",
                         "key": "M-{county}"},
    "admin.password": {"password": "another-good-password"},
}
# Routes that end the session they are called in: each call gets a session of its own.
FRESH = {"auth.logout"}


def _pairs(app) -> list[tuple[object, str]]:
    return sorted(((rule, method) for rule in app.url_map.iter_rules()
                   for method in rule.methods - SKIPPED_METHODS),
                  key=lambda pair: (pair[0].rule, pair[1]))


def _unclassified(app) -> list[str]:
    """Pairs neither on the public list nor guarded, and pairs that are both."""
    wrong = []
    for rule, method in _pairs(app):
        public = is_public(rule.endpoint, method)
        guarded = guard_of(app.view_functions[rule.endpoint]) is not None
        if public == guarded:
            wrong.append(f"{method} {rule.rule} ({rule.endpoint}): "
                         + ("public and guarded" if public else "neither public nor guarded"))
    return wrong


def test_every_route_is_public_or_guarded(bare_app):
    assert _unclassified(bare_app) == []
    served = {(r.endpoint, m) for r, m in _pairs(bare_app)}
    listed = {(endpoint, m) for endpoint, methods in PUBLIC.items() for m in methods}
    assert listed - served == set(), "the public list names routes that do not exist"


def test_a_new_unguarded_route_is_refused_and_fails_the_check(bare_app):
    bare_app.add_url_rule("/staff/forgotten", "forgotten", lambda: "open to all")
    assert _unclassified(bare_app) == [
        "GET /staff/forgotten (forgotten): neither public nor guarded"]
    assert bare_app.test_client().get("/staff/forgotten").status_code == 403


def test_the_matrix_can_call_every_route(bare_app):
    """Every path argument has a value, and every fact typed above names a real route."""
    arguments = {a for rule, _ in _pairs(bare_app) for a in rule.arguments}
    assert arguments - set(ARGUMENTS) == set()
    endpoints = {rule.endpoint for rule, _ in _pairs(bare_app)}
    for table in (WHOLE_LOG, QUERIES, SUBMISSIONS, FRESH):
        assert set(table) - endpoints == set()


def _sides(app, scene):
    """The objects of the own county and of the other one, by name."""
    with app.extensions["fundtrail_factory"]() as s:
        alerts = {a.region_code: a.id for a in s.execute(select(Alert)).scalars()}
    own = dict(scene.own, user="k_clerk", alert=alerts[scene.own["county"]])
    other = dict(scene.other, user="k2_clerk", alert=alerts[scene.other["county"]])
    return {"own": own, "other": other}


def _targeted(rule, method: str) -> bool:
    return bool(rule.arguments & OBJECTS) or \
        (method == "POST" and "{county}" in str(SUBMISSIONS.get(rule.endpoint))) or \
        "{county}" in QUERIES.get(rule.endpoint, "")


def _expected(app, rule, method: str, role: Role | None, target: str) -> bool:
    if is_public(rule.endpoint, method):
        return True
    if role is None:
        return False
    guard = guard_of(app.view_functions[rule.endpoint])
    if guard == SIGNED_IN:
        return True
    if guard not in ROLE_ACTIONS[role] or rule.endpoint in WHOLE_LOG:
        return False
    return target == "own" or not _targeted(rule, method)


def _url(rule, side: dict) -> str:
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>",
                  lambda m: ARGUMENTS[m.group(1)].format(**side), rule.rule)
    return path + (f"?{QUERIES[rule.endpoint].format(**side)}" if rule.endpoint in QUERIES
                   else "")


def _log_size(app) -> int:
    with app.extensions["fundtrail_factory"]() as s:
        return s.execute(select(AuditHead.size)).scalar_one()


@pytest.fixture
def scanned(app, scene, browser):
    """The scene with alerts in both counties (a scan by the province's auditor)."""
    auditor = browser("auditor")
    assert auditor.post("/audit/alerts/scan", token_from="/audit/").status_code == 302
    return scene


@pytest.mark.parametrize("username", [None, *ROLES])
def test_authorisation_matrix(app, scanned, browser, username):
    b = browser(username)
    role = ROLES.get(username)
    sides = _sides(app, scanned)
    failures = []
    calls = 0
    for rule, method in _pairs(app):
        for target in (("own", "other") if _targeted(rule, method) else ("own",)):
            side = sides[target]
            url = _url(rule, side)
            allowed = _expected(app, rule, method, role, target)
            caller = browser(username) if rule.endpoint in FRESH else b
            before = _log_size(app)
            if method == "GET":
                r = caller.get(url)
            else:
                data = {k: v.format(**side) for k, v in SUBMISSIONS.get(rule.endpoint, {}).items()}
                r = caller.post(url, data)
            calls += 1
            grew = _log_size(app) > before
            status = r.status_code
            to_login = status == 302 and "/login" in r.headers.get("Location", "")
            if allowed:
                ok = status < 500 and status not in (401, 403) and not to_login
                if method == "GET" and not is_public(rule.endpoint, method):
                    ok = ok and status == 200
            elif username is None:
                ok = to_login and not grew
            else:
                ok = status in (403, 422) and not grew
            if not ok:
                failures.append(f"{username} {method} {url} [{target}]: {status}, expected "
                                f"{'allowed' if allowed else 'refused'}, log grew={grew}")
    assert failures == []
    assert calls >= len(_pairs(app))


@pytest.mark.parametrize("username", list(ROLES))
def test_lists_never_show_the_other_county(app, scene, browser, username):
    b = browser(username)
    for url in ["/staff/", "/staff/flow", "/staff/transfers", "/staff/rolls", "/staff/balances",
                "/staff/idle",
                "/staff/record/pay", "/staff/rolls/new", "/admin/users"]:
        page = b.get(url).get_data(as_text=True)
        for leak in (scene.other["roll"], scene.other["county"], "k2_clerk", "王k22"):
            assert leak not in page, (username, url, leak)

