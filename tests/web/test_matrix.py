"""The authorisation matrix, generated: every route × every role × own/other county.

County staff of 430121 (one user per role) and a visitor who is not signed in call every route,
once on objects of their own county and once on objects of county 430122. Expected: allowed
exactly when the role has the route's action and the object is in scope (audit-log routes need
the root region's scope). A refused request answers 403 (422 when a form offers no such choice),
a visitor is sent to sign in, and no refused request adds anything to the audit log.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from ledger.store.access import ROLE_ACTIONS, Action
from ledger.models import AuditHead, Role

ROLES = {"k_clerk": Role.CLERK, "k_approver": Role.APPROVER, "k_auditor": Role.AUDITOR,
         "k_admin": Role.ADMIN}


@dataclass(frozen=True)
class Route:
    method: str
    path: str            # may name {roll}, {transfer}, {user}, {county}
    action: Action | None  # None: public
    targeted: bool = False  # names an object of one county
    whole_log: bool = False  # needs the root region's scope
    data: tuple = ()

    def url(self, side: dict) -> str:
        return self.path.format(**side)


ROUTES = [
    Route("GET", "/", None), Route("GET", "/verify", None), Route("GET", "/keys.txt", None),
    Route("GET", "/policy.txt", None), Route("GET", "/checkpoint.txt", None),
    Route("GET", "/complaint/", None), Route("GET", "/complaint/status", None),
    Route("GET", "/village/{village}", None, targeted=True),
    Route("GET", "/staff/", Action.READ), Route("GET", "/staff/balances", Action.READ),
    Route("GET", "/staff/idle", Action.READ), Route("GET", "/staff/transfers", Action.READ),
    Route("GET", "/staff/rolls", Action.READ), Route("GET", "/audit/alerts/", Action.READ),
    Route("GET", "/staff/flow?lot=1", Action.READ, whole_log=True),
    Route("GET", "/staff/transfers/{transfer}", Action.READ, targeted=True),
    Route("GET", "/staff/rolls/{roll}", Action.READ, targeted=True),
    Route("GET", "/staff/record/pay", Action.RECORD),
    Route("GET", "/staff/record/allocate", Action.RECORD),
    Route("GET", "/staff/record/fund-project", Action.RECORD),
    Route("GET", "/staff/rolls/new", Action.RECORD), Route("GET", "/staff/import", Action.RECORD),
    Route("GET", "/audit/", Action.AUDIT, whole_log=True),
    Route("GET", "/audit/proof/3.txt", Action.AUDIT, whole_log=True),
    Route("POST", "/audit/verify", Action.AUDIT, whole_log=True),
    Route("POST", "/audit/bundle", Action.AUDIT, whole_log=True),
    Route("GET", "/admin/users", Action.ADMINISTER),
    Route("POST", "/audit/alerts/scan", Action.AUDIT),
    Route("POST", "/staff/transfers/{transfer}/decide", Action.APPROVE, targeted=True,
          data=(("decision", "reject"), ("comment", "金额有误"))),
    Route("POST", "/staff/transfers/{transfer}/reverse", Action.RECORD, targeted=True,
          data=(("reason", "错误"), ("effective_date", "2024-03-15"), ("key", "rev-x"))),
    Route("POST", "/staff/rolls/{roll}/publish", Action.RECORD, targeted=True,
          data=(("day", "2024-03-15"),)),
    Route("POST", "/staff/rolls/{roll}/approve", Action.APPROVE, targeted=True,
          data=(("day", "2024-03-15"),)),
    Route("POST", "/staff/rolls/{roll}/send", Action.RECORD, targeted=True,
          data=(("day", "2024-03-15"),)),
    Route("POST", "/staff/record/pay", Action.RECORD, targeted=True,
          data=(("lot", "1"), ("source", "county:{county}"), ("payee", "KH-1"),
                ("amount", "1.00"), ("function_code", "2130505"), ("use", "household_subsidy"),
                ("effective_date", "2024-03-15"), ("key", "M-{county}"))),
    Route("POST", "/admin/users/{user}/password", Action.ADMINISTER, targeted=True,
          data=(("password", "another-good-password"),)),
]


def _sides(scene):
    own = dict(scene.own, user="k_clerk")
    other = dict(scene.other, user="k2_clerk")
    return {"own": own, "other": other}


def _expected(route: Route, role: Role | None, target: str) -> bool:
    if route.action is None:
        return True
    if role is None:
        return False
    if route.action not in ROLE_ACTIONS[role] or route.whole_log:
        return False
    return target == "own" or not route.targeted


def _log_size(app) -> int:
    factory = app.extensions["fundtrail_factory"]
    with factory() as s:
        return s.execute(select(AuditHead.size)).scalar_one()


@pytest.mark.parametrize("username", [None, *ROLES])
def test_authorisation_matrix(app, scene, browser, username):
    b = browser(username)
    role = ROLES.get(username)
    failures = []
    for route in ROUTES:
        for target, side in _sides(scene).items():
            url = route.url(side)
            allowed = _expected(route, role, target)
            before = _log_size(app)
            if route.method == "GET":
                r = b.get(url)
            else:
                data = {k: v.format(**side) for k, v in route.data}
                r = b.post(url, data)
            grew = _log_size(app) > before
            status = r.status_code
            if allowed:
                ok = status not in (401, 403) and not (route.method == "GET" and status != 200)
            elif username is None:
                ok = status == 302 and "/login" in r.headers["Location"] and not grew
            else:
                ok = status in (403, 422) and not grew
            if not ok:
                failures.append(f"{username} {route.method} {url} [{target}]: {status}, "
                                f"expected {'allowed' if allowed else 'refused'}, log grew={grew}")
    assert failures == []


@pytest.mark.parametrize("username", list(ROLES))
def test_lists_never_show_the_other_county(app, scene, browser, username):
    b = browser(username)
    for url in ["/staff/", "/staff/transfers", "/staff/rolls", "/staff/balances", "/staff/idle",
                "/staff/record/pay", "/staff/rolls/new", "/admin/users"]:
        page = b.get(url).get_data(as_text=True)
        for leak in (scene.other["roll"], scene.other["county"], "k2_clerk", "王k22"):
            assert leak not in page, (username, url, leak)
