"""Hostile input against every route of the web app, on SQLite and PostgreSQL.

The routes come from the app's url_map: `test_every_route_has_a_fuzz_spec` fails for a route
that has no entry in SPECS, so a new route is fuzzed as soon as it is given one (a valid
submission, the user who may send it, its path arguments and query parameters).

Each form is sent, signed in as a role that may use it and with a valid CSRF token: the valid
submission with each field missing, with each field replaced by wrong-typed, out-of-range,
oversized and malicious values (script, SQL, NUL, invalid UTF-8 and encoded lone surrogates,
spreadsheet formulas, path traversal in upload file names), with thousands of extra fields,
without or with a wrong CSRF token, as JSON (malformed, a list, numbers and objects for
strings) and with wrong content types. GET routes get the same values in their query parameters
and path arguments. Hypothesis mixes them at random on top of the explicit cases.

Every response must be: not a 5xx, no traceback, no unescaped script reflected; a refusal
(4xx) must leave the audit log and every account balance as they were. At the end the whole
ledger verifies (`ledger.audit.verify`: every row bound to its log entry, so nothing half
written), the trial balance balances, and uploads stayed inside the upload directory.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
from dataclasses import dataclass, field
from io import BytesIO
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, func, select

from ledger.audit.verify import verify
from ledger.funds.balances import cache_mismatches, trial_balance
from ledger.models import Account, AuditHead, Posting
from tests.web.conftest import Browser
from tests.web.scene import PASSWORD
from tests.world import COUNTY, TOWNSHIP, VILLAGE

SCALE = int(os.environ.get("FUNDTRAIL_FUZZ_SCALE", "1"))
TODAY = dt.date.today().isoformat()
MEGABYTE = "A" * (1 << 20)

# Malicious and oversized text: sent in every field.
HOSTILE = [
    "", " \t\r\n", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --", "a\x00b", "=cmd|' /C calc'!A0", "../../etc/passwd", "\u202e" + "A" * 10_001,
]
# Only in the random cases (Hypothesis), to keep the explicit ones short.
MORE = ["1; DROP TABLE transfers; --", "{{7*7}}%s%n", "Infinity", "0x10", "-0.01",
        "2024-03-15T25:00", "24-3-15", "\ufeff1", "1\u00a0000"]
# Wrong types and out-of-range values: sent where a number or an id is expected.
NUMBERS = ["0", "-1", "1e400", "99999999999999999999999999", "9223372036854775808", "NaN",
           "１２", "١٢٣", "²", "1,000.00", "12.345", "abc"]
# ... and where a date is expected.
DATES = ["0000-00-00", "9999-12-31", "2024-02-30", "2024-13-01", "-001-01-01", "abc", "1"]


def values_for(valid, turn: int = 0) -> list[str]:
    """What to put in a field, judging its kind by its valid value. Numbers and dates: the
    first four always, and a third of the others, a different third for each `turn` (all of
    them with FUNDTRAIL_FUZZ_SCALE above 1), so that a form's fields share the work."""
    kind = ["abc"]
    if isinstance(valid, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", valid):
        kind = DATES
    elif isinstance(valid, str) and re.fullmatch(r"[\d.]+", valid):
        kind = NUMBERS
    return HOSTILE + kind[:4] + (kind[4:] if SCALE > 1 else kind[4 + turn % 3::3])


# Sent as raw bytes in a urlencoded body: invalid UTF-8, an encoded lone surrogate, NUL.
INVALID_BYTES = [b"\xff\xfe", b"\xed\xa0\x80", b"\xc0\xaf", b"a\x00\xff"]
# What must never come back unescaped.
REFLECTED = ["<script>alert(1)", "<img src=x onerror", "<svg onload"]
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"/[^\"]+\.py\", line")

FILE_NAMES = ["../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd", "..", ".",
              "<script>alert(1)</script>.csv", "=cmd|' /C calc'!A0.csv", "a\x00b.csv",
              "x" * 1000 + ".csv", "行.csv"]
FILE_BODIES = [
    b"", b"\xff\xfe\x00\x00\xed\xa0\x80garbage\x00", "户编码,数量\n=cmd|' /C calc'!A0,1\n".encode(),
    "户编码,数量\nKH-1,1\n".encode("utf-16"), b"," * (1 << 20), b"\n" * 200_000,
    "户编码,数量\n<script>alert(1)</script>,1\nKH-1,-5\nKH-2,99999999999999999999\n".encode(),
]


@dataclass(frozen=True)
class Upload:
    content: bytes
    name: str


@dataclass
class Spec:
    user: str | None = None      # who may use it (None: the public)
    args: dict = field(default_factory=dict)   # path arguments ({...} from the context)
    form: dict = field(default_factory=dict)   # a valid submission, for POST
    query: dict = field(default_factory=dict)  # GET parameters it reads
    fresh: bool = False          # every case on a newly signed-in client (logout)
    heavy: bool = False          # slow view: only the structural cases
    public: bool = False         # rate-limited per client address: vary the address


ROLL = {"code": "R-FZ", "lot": "{lot}", "county": COUNTY, "item": "产业奖补",
        "function_code": "2130505", "use": "household_subsidy", "standard": "300.00",
        "lines": Upload("户编码,数量\nKH-1,1\nKH-2,2\n".encode(), "lines.csv")}
BANK = "序号,户编码,金额,结果,失败原因\n1,KH-1,500.00,成功,\n2,KH-2,1000.00,失败,卡号错误\n"
HOUSEHOLDS = f"户编码,村代码,户主姓名,户状态,识别日期\nKH-9,{VILLAGE},赵六,建档立卡,2024-03-01\n"
# A list from another office: the import kind that needs its source and snapshot date.
DEATHS = "身份证号,姓名,死亡日期\n110101195001011234,王某,2024-01-05\n"
MONEY = {"lot": "{lot}", "amount": "1.00", "effective_date": "2024-03-15", "memo": "模糊测试"}

SPECS: dict[str, Spec] = {
    # public
    "public.index": Spec(),
    "public.village": Spec(args={"village_code": "{village}"}),
    "public.roll_pdf": Spec(args={"village_code": "{village}", "roll_code": "{roll}"},
                            heavy=True),
    "public.project_pdf": Spec(args={"village_code": "{village}", "project_code": "P-001"},
                               heavy=True),
    "public.county": Spec(args={"county_code": COUNTY}),
    "public.township": Spec(args={"township_code": TOWNSHIP}),
    "public.verify_page": Spec(query={"p": "NOT-A-PROOF"}, form={"proof": "not a proof"},
                               public=True),
    "public.verify_proof_file": Spec(query={"entry": "0", "size": "1"}, public=True),
    "public.keys_text": Spec(), "public.policy_text": Spec(), "public.checkpoint_text": Spec(),
    # the QR's page (checks in the browser) and a notice's rows as the server has them now
    "verify.page": Spec(), "verify.rows": Spec(args={"index": "3"}),
    "verify.roll_check": Spec(args={"village_code": VILLAGE, "roll_code": "R-k"}),
    # a witness's endpoints (ledger.audit.witness): no session, so no CSRF token applies;
    # a note that is not a cosigned checkpoint of this log is a 400, whatever else comes
    "public.consistency_proof": Spec(query={"old": "1", "new": "2"}),
    "public.witness_cosignature": Spec(form={"note": "not a checkpoint note"}),
    "static": Spec(args={"filename": "style.css"}),
    "complaints.file": Spec(form={"subject_kind": "village", "subject_code": VILLAGE,
                                 "summary": "补贴没有发到", "name": "", "phone": ""},
                            query={"kind": "roll_line", "code": "R-k:1"}, public=True),
    "complaints.status": Spec(form={"receipt": "ABCD-EFGH-IJKL"}, public=True),
    "auth.login": Spec(form={"username": "k2_approver", "password": PASSWORD},
                       query={"next": "/staff/"}, public=True),
    "auth.logout": Spec("k_clerk", form={}, fresh=True),
    "auth.language": Spec(args={"lang": "en"}, query={"next": "/staff/"}),
    # staff
    "staff.home": Spec("k_clerk", query={"year": "2024"}), "staff.balance_page": Spec("k_clerk"),
    "staff.idle": Spec("k_clerk"),
    "staff.flow": Spec("k_clerk", query={"lot": "{lot}", "root": "unit:430121"}),
    "staff.transfers": Spec("k_clerk", query={"state": "pending"}),
    "staff.transfer": Spec("k_clerk", args={"transfer_id": "{transfer}"}),
    "staff.decide": Spec("k_approver", args={"transfer_id": "{transfer}"},
                         form={"decision": "reject", "comment": "金额有误"}),
    "staff.reverse": Spec("k_clerk", args={"transfer_id": "{transfer}"},
                          form={"reason": "错误", "effective_date": "2024-03-15",
                                "key": "rev-fz"}),
    "staff.record_allocate": Spec("c_clerk", form=dict(MONEY, to_region=COUNTY, key="fz-a")),
    "staff.record_fund_project": Spec("k_clerk", form=dict(MONEY, project="P-001",
                                                           key="fz-f")),
    "staff.record_pay": Spec("k_clerk", form=dict(
        MONEY, source=f"county:{COUNTY}", payee="KH-1", function_code="2130505",
        use="household_subsidy", key="fz-p")),
    # rolls and imports
    "rolls.roll_list": Spec("k_clerk"),
    "rolls.roll_detail": Spec("k_clerk", args={"roll_code": "{roll}"}),
    "rolls.roll_new": Spec("k_clerk", form=ROLL),
    "rolls.roll_confirm": Spec("k_clerk", form={"token": "{token}"}),
    "rolls.roll_publish": Spec("k_clerk", args={"roll_code": "{roll}"}, form={"day": TODAY}),
    "rolls.roll_approve": Spec("k_approver", args={"roll_code": "{roll}"}, form={"day": TODAY}),
    "rolls.roll_send": Spec("k_clerk", args={"roll_code": "{roll}"}, form={"day": TODAY}),
    "rolls.roll_object": Spec("k_clerk", args={"roll_code": "{roll}"}, form={
        "obj-household": "KH-2", "obj-day": TODAY, "obj-comment": "数量不符"}),
    "rolls.roll_resolve": Spec("k_approver", args={"roll_code": "{roll}"}, form={
        "res-household": "KH-2", "res-upheld": "dismissed", "res-day": TODAY,
        "res-comment": "核实不属实"}),
    "rolls.bank_results_upload": Spec("k_approver", args={"roll_code": "{roll}"},
                                      form={"file": Upload(BANK.encode(), "回盘.csv")}),
    "rolls.bank_results_confirm": Spec("k_approver", args={"roll_code": "{roll}"},
                                       form={"token": "{token}"}),
    "imports.upload": Spec("k_clerk", form={
        "kind": "deaths", "source": "县民政局", "snapshot": "2024-03-01",
        "file": Upload(DEATHS.encode(), "deaths.csv")}),
    "imports.confirm": Spec("k_clerk", form={"token": "{token}"}),
    "imports.template": Spec("k_clerk", args={"kind": "households", "fmt": "xlsx"}),
    # auditors
    "audit.index": Spec("auditor"),
    "audit.run_verify": Spec("auditor", form={"comment": ""}, heavy=True),
    "audit.bundle": Spec("auditor", form={"comment": ""}, heavy=True),
    "audit.proof": Spec("auditor", args={"index": "3"}),
    "refusals.index": Spec("auditor", query={"region": COUNTY, "since": "2024-01-01"}),
    "alerts.inbox": Spec("auditor", query={"state": "all", "rule": "BEN-08",
                                           "severity": "high"}),
    "alerts.detail": Spec("auditor", args={"alert_id": "{alert}"}),
    # The alert is confirmed; recovering needs the recovery transfer. The baseline names a
    # transfer that does not exist, so that the alert stays confirmed and every case reaches
    # the parsing of the transfer number.
    "alerts.transition": Spec("auditor", args={"alert_id": "{alert}"}, form={
        "to": "recovering", "reason": "", "until": "", "recovery": "987654",
        "note": "追回中"}),
    "alerts.scan": Spec("auditor", form={}, heavy=True),
    # administrators
    "admin.users": Spec("k_admin", form={"username": "fz-user", "display_name": "模糊",
                                         "role": "clerk", "region": COUNTY,
                                         "password": "a-long-enough-password"}),
    "admin.password": Spec("k_admin", args={"username": "k_auditor"},
                           form={"password": "another-good-password"}),
    "admin.status": Spec("k_admin", args={"username": "k_auditor", "change": "disable"},
                         form={}),
    "admin.decide": Spec("k_admin", args={"request_id": "999999", "decision": "refuse"},
                         form={}),
    "admin.sessions": Spec("k_admin", args={"username": "k_auditor"}, form={}),
    # ends the user's other sessions: a user no other spec signs in as
    "auth.sessions": Spec("c_approver", form={}),
    # passkeys (web/views/passkeys.py): a registration is a ceremony's JSON, refused when
    # it is not one; an administrator files or approves what is waiting
    "passkeys.mine": Spec("k_clerk", form={"token": "not-a-token", "registration": "null",
                                           "proof": "null"}),
    "passkeys.admin": Spec("k_admin"),
    "passkeys.file_request": Spec("k_admin", args={"registration_id": "999999"}, form={}),
    "passkeys.approve_request": Spec("k_admin", args={"request_id": "999999"}, form={}),
}
# Parameters no route reads, sent to every GET route anyway (pagination, search, region).
STRAY_QUERY = ("page", "q", "region")


def _methods(rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def _routes(app):
    return list(app.url_map.iter_rules())


class Fuzzer:
    """Sends cases and collects every failure (all of them, so one run names every defect)."""

    def __init__(self, app, ctx, tmp_path):
        self.app, self.ctx, self.tmp_path = app, ctx, tmp_path
        self.factory = app.extensions["fundtrail_factory"]
        self.clients: dict[str | None, Browser] = {}
        self.tokens: dict[str | None, str] = {}
        self.addresses = itertools.count(1)
        self.failures: list[str] = []
        self.cases = 0
        self.rules = {r.endpoint: r for r in _routes(app)}
        self.last = self.state()  # the state after the latest request (nothing else writes)

    # -- state

    def state(self):
        """The log's size and the books in one row: postings (count, debits, credits) and the
        balance caches (posted and pending), so any change to the money shows."""
        with self.factory() as s:
            size = s.execute(select(AuditHead.size)).scalar_one()
            postings = s.execute(select(
                func.count(Posting.id),
                func.coalesce(func.sum(case((Posting.amount_fen > 0, Posting.amount_fen))), 0),
                func.coalesce(func.sum(case((Posting.amount_fen < 0, Posting.amount_fen))), 0),
            )).one()
            caches = s.execute(select(*(func.coalesce(func.sum(c), 0) for c in (
                Account.debits_posted, Account.credits_posted, Account.debits_pending,
                Account.credits_pending)))).one()
        return size, (tuple(postings), tuple(caches))

    # -- clients

    def client(self, user: str | None, fresh: bool = False) -> Browser:
        if fresh or user not in self.clients:
            b = Browser(self.app)
            if user:
                r = b.login(user)
                assert r.status_code == 302, (user, r.status_code)
                self.last = self.state()  # signing in is logged
            if fresh:
                return b
            self.clients[user] = b
        return self.clients[user]

    def token(self, b: Browser) -> str:
        if id(b) not in self.tokens:
            self.tokens[id(b)] = b.token("/login")
        return self.tokens[id(b)]

    # -- requests

    def fill(self, value):
        return value.format(**self.ctx) if isinstance(value, str) else value

    def url(self, endpoint: str, args: dict | None = None, query: dict | None = None) -> str:
        spec, rule = SPECS[endpoint], self.rules[endpoint]
        values = {k: self.fill(v) for k, v in spec.args.items()}
        values.update(args or {})
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>",
                      lambda m: quote(str(values[m.group(1)]), safe=""), rule.rule)
        return path + ("?" + urlencode(query, encoding="utf-8") if query else "")

    def send(self, label: str, endpoint: str, method: str = "POST", *, form=None, raw=None,
             content_type=None, headers=None, csrf=True, args=None, query=None,
             expect=None):
        spec = SPECS[endpoint]
        b = self.client(spec.user, fresh=spec.fresh)
        environ = {}
        if spec.public:  # a new address each time: the rate limits are tested elsewhere
            n = next(self.addresses)
            environ["REMOTE_ADDR"] = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        url = self.url(endpoint, args, query)
        before = self.last
        kw = {"environ_base": environ, "headers": headers or {}}
        if method == "GET":
            r = b.client.get(url, **kw)
        elif raw is not None:
            r = b.client.post(url, data=raw, content_type=content_type, **kw)
        else:
            data = {}
            multipart = False
            for k, v in (form or {}).items():
                if isinstance(v, Upload):
                    data[k] = (BytesIO(v.content), v.name)
                    multipart = True
                else:
                    data[k] = v
            if csrf is True:
                data["csrf_token"] = self.token(b)
            elif csrf:
                data["csrf_token"] = csrf
            r = b.client.post(url, data=data, content_type=content_type or (
                "multipart/form-data" if multipart else None), **kw)
        self.cases += 1
        self.judge(f"{endpoint} {label}", r, before, may_log=endpoint == "auth.login",
                   expect=expect)
        return r

    def judge(self, label: str, r, before, *, may_log=False, expect=None) -> None:
        text = r.get_data().decode("utf-8", "replace")
        problems = []
        if r.status_code >= 500:
            problems.append(f"status {r.status_code}")
        if expect is not None and r.status_code not in expect:
            problems.append(f"status {r.status_code}, expected one of {sorted(expect)}")
        if TRACEBACK.search(text):
            problems.append("traceback in the response")
        for marker in REFLECTED:
            if marker in text:
                problems.append(f"unescaped {marker!r} reflected")
        after = self.last = self.state()
        if r.status_code >= 400 and (after[1] != before[1]
                                     or (after[0] != before[0] and not may_log)):
            problems.append(f"refused ({r.status_code}) but wrote: log {before[0]} → "
                            f"{after[0]}, balances changed: {after[1] != before[1]}")
        if problems:
            self.failures.append(f"{label[:160]!r}: {'; '.join(problems)} "
                                 f"[{text[:200]!r}]")

    # -- the end

    def sweep(self) -> None:
        """Every GET route with its valid arguments, as its user and as the public: what the
        hostile cases stored (names, memos, comments, users) shows escaped."""
        for endpoint, spec in _gets(self):
            query = {k: self.fill(v) for k, v in spec.query.items()}
            for user in {spec.user, None}:
                b = self.client(user)
                r = b.client.get(self.url(endpoint, query=query))
                self.cases += 1
                self.judge(f"{endpoint} as {user}, after the cases", r, self.last)

    def finish(self, sweep: bool = False) -> None:
        if sweep:
            self.sweep()
        print(f"{self.cases} cases")
        with self.factory() as s:
            report = verify(s)
            assert report.intact, [str(f) for f in report.findings][:10]
            assert trial_balance(s).balanced
            assert cache_mismatches(s) == []
        uploads = self.tmp_path / "uploads"
        for path in self.tmp_path.rglob("*"):
            if path.is_file() and uploads in path.parents:
                rel = path.relative_to(uploads).parts
                assert len(rel) == 2 and ".." not in rel, path
            elif path.is_file():
                assert path.name in {"ledger.store.db", "ledger.store.db-wal",
                                     "ledger.store.db-shm", "policy.txt", "village.state",
                                     "township.state"}, path
        assert self.failures == [], f"{len(self.failures)} of {self.cases} cases failed:\n" + \
            "\n".join(self.failures[:40])


@pytest.fixture
def fuzz(app, scene, world, tmp_path, monkeypatch):
    from web import uploads
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 here, as in production
    monkeypatch.setattr(uploads, "_DIR", tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    ctx = dict(scene.own, lot=world.lot_id, token="T" * 32, alert="1")
    fz = Fuzzer(app, ctx, tmp_path)
    auditor = fz.client("auditor")
    r = auditor.post("/audit/alerts/scan", {"csrf_token": fz.token(auditor)})
    assert r.status_code == 302
    html = auditor.get("/audit/alerts/?state=all").get_data(as_text=True)
    ids = re.findall(r'href="/audit/alerts/(\d+)"', html)
    assert ids, "the scene raises alerts"
    ctx["alert"] = ids[0]
    page = f"/audit/alerts/{ids[0]}"
    for to in ("investigating", "confirmed"):
        r = auditor.post(f"{page}/transition", {"to": to, "note": "核查",
                                               "csrf_token": fz.token(auditor)})
        assert r.status_code == 302
    assert "→ 已确认" in auditor.get(page).get_data(as_text=True)   # confirmed
    fz.last = fz.state()
    return fz


def _posts(fz):
    return [(e, SPECS[e]) for e, r in fz.rules.items() if "POST" in _methods(r)]


def _gets(fz):
    return [(e, SPECS[e]) for e, r in fz.rules.items() if "GET" in _methods(r)]


def _valid(fz, spec) -> dict:
    return {k: fz.fill(v) for k, v in spec.form.items()}


# ----------------------------------------------------------------------------- the tests

def test_every_route_has_a_fuzz_spec():
    from ledger.core.config import Settings
    from tests.web.conftest import SECRET
    from web.app import create_app
    from web.settings import WebSettings
    app = create_app(WebSettings(ledger=Settings(database_url="sqlite://"), secret_key=SECRET,
                                 secure_cookies=False))
    missing = sorted(r.endpoint for r in _routes(app) if r.endpoint not in SPECS)
    assert missing == [], f"add these routes to SPECS in {__file__}: {missing}"
    stale = sorted(set(SPECS) - {r.endpoint for r in _routes(app)})
    assert stale == []
    for rule in _routes(app):
        if "POST" in _methods(rule):
            assert SPECS[rule.endpoint].form is not None


def test_forms_refuse_hostile_fields(fuzz):
    """Each field missing, then each field replaced by each hostile value, one at a time."""
    for endpoint, spec in _posts(fuzz):
        valid = _valid(fuzz, spec)
        fuzz.send("valid", endpoint, form=valid)
        if valid and not spec.heavy:
            fuzz.send("every field 1 MB", endpoint, form={
                k: Upload(MEGABYTE.encode(), "x.csv") if isinstance(v, Upload) else MEGABYTE
                for k, v in valid.items()})
        for turn, name in enumerate(valid):
            fuzz.send(f"without {name}", endpoint, form={k: v for k, v in valid.items()
                                                         if k != name})
            values = HOSTILE[2:5] if spec.heavy else values_for(valid[name], turn)
            for value in values:
                if isinstance(valid[name], Upload):
                    value = Upload(value.encode("utf-8", "surrogatepass"), "x.csv")
                fuzz.send(f"{name}={value[:40] if isinstance(value, str) else value!r}",
                          endpoint, form=dict(valid, **{name: value}))
            if spec.heavy:
                continue
            if not spec.fresh and not any(isinstance(v, Upload) for v in valid.values()):
                token = fuzz.token(fuzz.client(spec.user))
                fuzz.send(f"{name} twice", endpoint, raw=urlencode(
                    list(valid.items()) + [(name, "-1"), ("csrf_token", token)]),
                    content_type="application/x-www-form-urlencoded")
    fuzz.finish(sweep=True)


def test_forms_refuse_invalid_utf8_and_many_fields(fuzz):
    for endpoint, spec in _posts(fuzz):
        valid = _valid(fuzz, spec)
        if any(isinstance(v, Upload) for v in valid.values()):
            continue  # uploads: test_uploads_refuse_hostile_files
        token = fuzz.token(fuzz.client(spec.user))
        for name in valid:
            for bad in INVALID_BYTES:
                rest = urlencode({k: v for k, v in valid.items() if k != name} |
                                 {"csrf_token": token}).encode()
                body = rest + b"&" + name.encode() + b"=" + quote(bad, safe="").encode()
                fuzz.send(f"{name}={bad!r}", endpoint, raw=body,
                          content_type="application/x-www-form-urlencoded")
        many = urlencode(list(valid.items()) + [("csrf_token", token)] +
                         [(f"f{i}", "x") for i in range(5000)])
        fuzz.send("5000 extra fields", endpoint, raw=many,
                  content_type="application/x-www-form-urlencoded")
    fuzz.finish()


def test_csrf_json_and_content_types(fuzz):
    """No token or a wrong one: 400. JSON or another content type: refused, never a 500."""
    for endpoint, spec in _posts(fuzz):
        valid = _valid(fuzz, spec)
        token = fuzz.token(fuzz.client(spec.user))
        fuzz.send("no CSRF token", endpoint, form=valid, csrf=False, expect={400})
        fuzz.send("wrong CSRF token", endpoint, form=valid, csrf="x" * 40, expect={400})
        fuzz.send("another session's token", endpoint, form=valid,
                  csrf=Browser(fuzz.app).token(), expect={400})
        header = {"X-CSRFToken": token}
        as_json = {k: v for k, v in valid.items() if not isinstance(v, Upload)}
        for label, body in [("malformed JSON", '{"amount": '), ("JSON list", "[1, 2, 3]"),
                            ("JSON string", '"x"'), ("JSON null", "null"),
                            ("JSON numbers and objects",
                             json.dumps({k: [1e308, {"a": None}] for k in as_json})),
                            ("JSON numbers", json.dumps({k: 1e400 for k in as_json})
                             .replace("Infinity", "1e400")),
                            ("JSON valid", json.dumps(as_json))]:
            fuzz.send(label, endpoint, raw=body, content_type="application/json",
                      headers=header, expect={400, 415})
        for ctype in ["text/plain", "application/xml", "multipart/form-data",
                      "application/x-www-form-urlencoded; charset=utf-16"]:
            body = urlencode(dict(as_json, csrf_token=token))
            fuzz.send(f"as {ctype}", endpoint, raw=body.encode("utf-16")
                      if "utf-16" in ctype else body, content_type=ctype, headers=header)
    fuzz.finish()


def test_uploads_refuse_hostile_files(fuzz):
    """Path traversal and odd names stay inside the upload directory; hostile contents are
    refused line by line; confirming a token that is not yours or not a token is a 400."""
    for endpoint, spec in _posts(fuzz):
        valid = _valid(fuzz, spec)
        files = [k for k, v in valid.items() if isinstance(v, Upload)]
        for name in files:
            for filename in FILE_NAMES:
                fuzz.send(f"{name} named {filename[:40]!r}", endpoint,
                          form=dict(valid, **{name: Upload(valid[name].content, filename)}))
            for body in FILE_BODIES:
                fuzz.send(f"{name} = {body[:30]!r}", endpoint,
                          form=dict(valid, **{name: Upload(body, "x.csv")}))
            fuzz.send(f"{name} as text", endpoint, form=dict(valid, **{name: "not a file"}))
    for endpoint in ("rolls.roll_confirm", "imports.confirm", "rolls.bank_results_confirm"):
        for token in ["../../etc", "A" * 20 + "/../x", "A" * 64, "<script>alert(1)</script>"]:
            fuzz.send(f"token {token}", endpoint, form={"token": token})
    fuzz.finish()


def test_query_strings_and_path_arguments(fuzz):
    """Every GET route: its own parameters and path arguments with hostile values, and the
    parameters no route reads (page, q, region) all at once."""
    for endpoint, spec in _gets(fuzz):
        query = {k: fuzz.fill(v) for k, v in spec.query.items()}
        fuzz.send("valid", endpoint, "GET", query=query)
        for value in HOSTILE[2:5] + ([] if spec.heavy else [HOSTILE[-1], NUMBERS[3]]):
            fuzz.send(f"?page,q,region={value[:40]}", endpoint, "GET",
                      query=dict(query, **{name: value for name in STRAY_QUERY}))
        for name in query:
            for value in dict.fromkeys(values_for(query[name]) + NUMBERS[:4]):
                fuzz.send(f"?{name}={value[:40]}", endpoint, "GET",
                          query=dict(query, **{name: value}))
        for name in list(query) + ["q"]:
            for bad in INVALID_BYTES:
                _get_raw(fuzz, endpoint, urlencode(query) + "&" + name + "=" +
                         quote(bad, safe=""))
        for arg, valid in SPECS[endpoint].args.items():
            for value in values_for(fuzz.fill(valid)):
                if value.strip(" .\t\r\n") == "":
                    continue  # changes the path itself
                fuzz.send(f"/{arg}={value[:40]}", endpoint, "GET", args={arg: value},
                          query=query)
    fuzz.finish()


def _get_raw(fuzz, endpoint, raw_query):
    spec = SPECS[endpoint]
    b = fuzz.client(spec.user)
    before = fuzz.last
    r = b.client.get(fuzz.url(endpoint) + "?" + raw_query)
    fuzz.cases += 1
    fuzz.judge(f"{endpoint} ?{raw_query[-40:]}", r, before)


FIELD_VALUES = st.one_of(
    st.sampled_from(HOSTILE + NUMBERS + DATES + MORE), st.text(max_size=30),
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
    st.from_regex(r"-?\d{1,25}(\.\d{1,4})?", fullmatch=True))


@settings(max_examples=60 * SCALE, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_submissions(fuzz, data):
    """Hypothesis: a form, some fields kept valid, others missing or replaced."""
    posts = [(e, s) for e, s in _posts(fuzz) if not s.heavy and not s.fresh]
    endpoint, spec = data.draw(st.sampled_from(posts), label="route")
    valid = _valid(fuzz, spec)
    form = {}
    for name, value in valid.items():
        choice = data.draw(st.sampled_from(["valid", "missing", "hostile"]), label=name)
        if choice == "valid":
            form[name] = value
        elif choice == "hostile":
            new = data.draw(FIELD_VALUES, label=name)
            form[name] = Upload(new.encode("utf-8", "surrogatepass"),
                                data.draw(st.sampled_from(FILE_NAMES))) \
                if isinstance(value, Upload) else new
    fuzz.send(f"random {form!r}"[:200], endpoint, form=form)
    assert fuzz.failures == [], fuzz.failures


def test_random_submissions_leave_the_ledger_whole(fuzz):
    """The end-of-run checks for the random cases (Hypothesis reuses one fixture, so the
    verification runs here on a fresh scene after a shorter random run)."""
    rng = random.Random(7)
    posts = [(e, s) for e, s in _posts(fuzz) if not s.heavy and not s.fresh]
    for _ in range(40 * SCALE):
        endpoint, spec = rng.choice(posts)
        form = {}
        for name, value in _valid(fuzz, spec).items():
            roll = rng.random()
            if roll < 0.5:
                form[name] = value
            elif roll < 0.9 and not isinstance(value, Upload):
                form[name] = rng.choice(values_for(value))
        fuzz.send(f"seeded {form!r}"[:200], endpoint, form=form)
    fuzz.finish(sweep=True)


# ----------------------------------------------------------------------------- regressions
# Each of these gave a 500 before the fix named in docs/reliability.md ("Web input"); one
# test runs them all on one scene.

def _regression_nul_character_is_a_400_naming_the_field(fuzz):
    # login_attempts.username refused the NUL at flush time (LedgerError → 500); PostgreSQL
    # refused a NUL in a path argument (/staff/rolls/a%00b) with a driver error.
    r = fuzz.send("NUL username", "auth.login", form={"username": "k\x00", "password": "x" * 12},
                  expect={400})
    assert "username" in r.get_data(as_text=True)
    fuzz.send("NUL in the path", "rolls.roll_detail", "GET", args={"roll_code": "a\x00b"},
              expect={400})


def _regression_json_bodies_are_refused_with_415(fuzz):
    # Flask-WTF reads a JSON body as the form: a list, a string or numbers crashed the views.
    token = fuzz.token(fuzz.client("k_clerk"))
    for body in ("[1, 2]", '"x"', '{"amount": 1e308, "lot": [1], "effective_date": {}}'):
        r = fuzz.send(f"JSON {body}", "staff.record_pay", raw=body,
                      content_type="application/json", headers={"X-CSRFToken": token},
                      expect={415})
        assert "application/json" in r.get_data(as_text=True)


def _regression_upload_named_dot_dot_stays_a_file_in_its_folder(fuzz):
    # ".." survived the name cleaning and the upload was saved onto its own folder.
    from web.uploads import _safe_name
    assert _safe_name("..") == "upload.csv" and _safe_name(".") == "upload.csv"
    assert _safe_name("../../etc/passwd") == "passwd"
    assert _safe_name("..\\..\\windows\\win.ini") == "win.ini"
    assert _safe_name(".hidden.csv") == "hidden.csv"
    r = fuzz.send("named ..", "imports.upload", form={
        "kind": "households", "file": Upload(HOUSEHOLDS.encode(), "..")}, expect={200})
    assert "upload.csv" in r.get_data(as_text=True)  # the preview names the file as kept


def _regression_ids_beyond_64_bits_are_not_found(fuzz):
    # The database driver overflowed (SQLite: OverflowError) on 2**63 in a route or ?lot=.
    for endpoint, arg in (("staff.transfer", "transfer_id"), ("alerts.detail", "alert_id"),
                          ("audit.proof", "index")):
        fuzz.send("2**63", endpoint, "GET", args={arg: str(2**63)}, expect={404})
    fuzz.send("2**63", "staff.flow", "GET", query={"lot": str(2**63)}, expect={404})
    fuzz.send("not a number", "staff.flow", "GET", query={"lot": "١"}, expect={404})


def _regression_recovery_transfer_number_is_checked(fuzz):
    # "²".isdigit() is true but int("²") raises; 2**63 overflowed the driver.
    valid = _valid(fuzz, SPECS["alerts.transition"])
    for number in ("²", "١٢٣", str(2**63), "-1"):
        r = fuzz.send(f"recovery={number}", "alerts.transition",
                      form=dict(valid, recovery=number), expect={302})
        page = fuzz.client("auditor").get(r.headers["Location"]).get_data(as_text=True)
        assert "追回转账编号应为数字" in page   # the recovery transfer is a number


def test_regressions_found_by_fuzzing(fuzz):
    _regression_nul_character_is_a_400_naming_the_field(fuzz)
    _regression_json_bodies_are_refused_with_415(fuzz)
    _regression_upload_named_dot_dot_stays_a_file_in_its_folder(fuzz)
    _regression_ids_beyond_64_bits_are_not_found(fuzz)
    _regression_recovery_transfer_number_is_checked(fuzz)
    fuzz.finish()
