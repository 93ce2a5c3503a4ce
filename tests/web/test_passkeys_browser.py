"""Passkeys end to end in a real browser: Debian's chromium driven by Playwright, each officer
with a CDP virtual authenticator (CTAP2, internal transport, resident keys, user verification)
— a real authenticator in software inside Chromium, signing with its own keys.

The story (docs/passkeys.md): the county clerk and the county approver each register a passkey
on "我的安全密钥"; the county administrator files both enrolment requests, the province
administrator approves them (four eyes). The clerk records a payment and the approver approves
it, each through the confirmation page that states what they sign; `verify` is intact and both
entries carry a webauthn auth. Then a forged approval, written with database access in the
approver's name by the project's own service without their passkey, is reported by `verify`;
and an assertion signed for one intent and posted for another is refused.

The app runs under waitress on 127.0.0.1 and the browser opens it as http://localhost:PORT: an
RP ID must be a domain (not an IP address), and localhost is a secure context.
Screenshots go to test-artifacts/passkeys/.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ledger.audit.tlog import cbormin
from ledger.audit.verify import verify
from ledger.funds import posting
from ledger.models import Approval, AuditEntry, Transfer
from ledger.org import regions
from ledger.store.context import use_log
from ledger.store.db import transaction
from tests.web.browser import SQLITE_ONLY, serving, shot, sign_in
from tests.web.conftest import make_settings
from tests.web.scene import ORIGIN
from web.app import create_app

pytestmark = SQLITE_ONLY   # the browser layer on SQLite (tests/web/browser.py)


@pytest.fixture
def server(db_url, scene):
    # The origin names the port, known once the server listens (browser.serving).
    def make(base):
        return create_app(make_settings(db_url, scene, extra={
            "passkeys": {"rp_id": "localhost", "origins": [base]}}))
    with serving(make, host="localhost") as base:
        yield base



def _officer(browser, base: str, username: str, **context):
    """A signed-in page of `username`, with a virtual authenticator of their own."""
    page = browser.new_context(**context).new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return sign_in(page, base, username)


def _register(page, base: str) -> None:
    page.goto(f"{base}/passkeys/")
    page.click("#passkey-register button[type=submit]")
    page.wait_for_selector("text=安全密钥已登记")


def _sign(page) -> None:
    """On a confirmation page: touch the key (the virtual authenticator answers)."""
    page.wait_for_selector("h1:has-text('用安全密钥确认')")
    page.click("#passkey-confirm button[type=submit]")
    page.wait_for_load_state("load")



def _entries(world, kind: str) -> list[list]:
    with world.factory() as s:
        use_log(s, ORIGIN)
        return [cbormin.decode(bytes(e)) for e in s.execute(
            select(AuditEntry.entry).order_by(AuditEntry.idx)).scalars()
            if cbormin.decode(bytes(e))[6] == kind]


def _signature_findings(world) -> list[str]:
    with world.factory() as s:
        use_log(s, ORIGIN)
        report = verify(s)
    others = [f for f in report.findings if f.kind != "signature"]
    assert others == [], others
    return [f.message for f in report.findings if f.kind == "signature"]


def test_passkeys_sign_recording_and_approval(server, chromium, scene, world, db_url):
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    clerk = _officer(chromium, server, "k_clerk")
    approver = _officer(chromium, server, "k_approver", viewport={"width": 390, "height": 844},
                        is_mobile=True, device_scale_factor=2)
    _register(clerk, server)
    _register(approver, server)
    shot(clerk, "passkeys", "1-registered", db)

    # Four eyes: the county administrator files both requests, the province's approves.
    county_admin = _officer(chromium, server, "k_admin")
    county_admin.goto(f"{server}/passkeys/admin")
    for _ in range(2):
        county_admin.click("main button:has-text('核对无误，提交申请')")
        county_admin.wait_for_selector("text=已提交")
    province_admin = _officer(chromium, server, "p_admin")
    province_admin.goto(f"{server}/passkeys/admin")
    for _ in range(2):
        province_admin.click("main button:has-text('批准')")
        province_admin.wait_for_selector("text=已批准")
    clerk.goto(f"{server}/passkeys/")
    assert "有效" in clerk.inner_text("main table")

    # The clerk records a payment: the confirmation page says what is signed.
    clerk.goto(f"{server}/staff/record/pay")
    clerk.select_option("#source", "county:430121")
    clerk.fill("#payee", "KH-2")
    clerk.fill("#amount", "12345.00")
    clerk.select_option("#function_code", "2130505")
    clerk.select_option("#use", "household_subsidy")
    clerk.fill("#key", "凭证-PK-1")
    clerk.click("main button[type=submit]")
    clerk.wait_for_selector("h1:has-text('用安全密钥确认')")
    assert "向 收款人 KH-2 支付 12,345.00 元" in clerk.inner_text(".intent-text")
    _sign(clerk)
    clerk.wait_for_url(re.compile(r".*/staff/transfers/\d+$"))
    transfer_id = int(clerk.url.rsplit("/", 1)[1])

    # The approver, on a phone, approves it.
    approver.goto(f"{server}/staff/transfers/{transfer_id}")
    approver.click("main button:has-text('审核通过')")
    approver.wait_for_selector("h1:has-text('用安全密钥确认')")
    text = approver.inner_text(".intent-text")
    assert text.startswith(f"批准 转账 #{transfer_id}：从 430121 向 收款人 KH-2 支付 "
                           "12,345.00 元，凭证号 凭证-PK-1"), text
    width = approver.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the confirmation page scrolls sideways on a phone ({width}px)"
    shot(approver, "passkeys", "2-confirm-approval-phone", db)
    posted = {}
    approver.on("request", lambda r: posted.update(r.post_data_json or {})
                if r.method == "POST" else None)
    _sign(approver)
    approver.wait_for_selector("text=操作成功")
    assert "已通过" in approver.content() or "approved" in approver.content()

    recorded, approved = _entries(world, "transfer.record")[-1], \
        _entries(world, "transfer.approved")[-1]
    for entry, who in ((recorded, "k_clerk"), (approved, "k_approver")):
        assert entry[5] == who and len(entry) == 10 and entry[9]["t"] == "webauthn"
        assert entry[9]["intent"]["actor"] == who
    assert approved[9]["intent"]["bind"] == {"transfer_id": transfer_id}
    assert _signature_findings(world) == []

    # Replays: the consumed nonce again, and this assertion under a fresh nonce of another
    # intent (approving the scene's other pending transfer). Both refused; nothing written.
    other = scene.own["transfer"]
    approver.goto(f"{server}/staff/transfers/{other}")
    approver.click("main button:has-text('审核通过')")
    approver.wait_for_selector("h1:has-text('用安全密钥确认')")
    fresh_nonce = approver.input_value("input[name=passkey_nonce]")
    csrf = approver.input_value("#passkey-confirm input[name=csrf_token]")
    for nonce, url in ((posted["passkey_nonce"], f"/staff/transfers/{transfer_id}/decide"),
                       (fresh_nonce, f"/staff/transfers/{other}/decide")):
        answer = approver.request.post(f"{server}{url}", form={
            "csrf_token": csrf, "decision": "approve", "comment": "",
            "passkey_nonce": nonce, "passkey_assertion": posted["passkey_assertion"]})
        assert answer.status == 200 and "用安全密钥确认" in answer.text()
        assert "失效或已使用" in answer.text() or "未通过校验" in answer.text()
    with world.factory() as s:
        assert s.execute(select(Approval).where(Approval.transfer_id == other)).first() is None

    # A forged approval: database access and the project's own service, in the approver's
    # name, without their passkey. Written — and found by verify.
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        posting.approve(s, regions.get_user(s, "k_approver"), other)
        assert s.get(Transfer, other) is not None
    findings = _signature_findings(world)
    assert len(findings) == 1 and "k_approver" in findings[0] and "not signed" in findings[0]
