"""The web's passkey gate without a browser: what a person without a key may do, and the
script policy of the passkey pages (docs/passkeys.md)."""
from __future__ import annotations

from sqlalchemy import select

from ledger.models import Transfer

PAY = {"lot": "1", "source": "county:430121", "payee": "KH-1", "amount": "1.00",
       "function_code": "2130505", "use": "household_subsidy", "effective_date": "2024-03-15",
       "key": "POLICY-1"}


def test_policy_requiring_signatures_stops_people_without_a_key(app, browser, scene, world):
    clerk = browser("k_clerk")
    # The passkey pages run web/static/passkey.js (CSP script-src 'self'), as the chart pages
    # run charts.js; a page without a script of its own allows none.
    mine = clerk.get("/passkeys/")
    assert "我的安全密钥" in mine.get_data(as_text=True)
    assert "script-src 'none'" in clerk.get("/staff/transfers").headers["Content-Security-Policy"]
    # Not configured here ([web] passkey_rp_id): the page says so and offers no registration.
    assert "script-src 'none'" in mine.headers["Content-Security-Policy"]
    assert "尚未配置安全密钥" in mine.get_data(as_text=True)

    # The auditors' policy requires signatures: the clerk, holding no key, is refused.
    with scene.policy_file.open("a", encoding="utf-8") as policy:
        policy.write("#fundtrail signatures required\n")
    answer = clerk.post("/staff/record/pay", PAY, token_from="/staff/record/pay")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/passkeys/")
    assert "请先登记安全密钥" in clerk.get("/passkeys/").get_data(as_text=True)
    with world.factory() as s:
        assert s.execute(select(Transfer).where(Transfer.idempotency_key == "POLICY-1")) \
            .first() is None


def test_roll_approval_confirmed_with_a_passkey(db_url, scene, world):
    """The confirmation page and the posted assertion, without a browser: a software
    authenticator (tests/ledger/audit/test_webauthn_tlog.py) answers the page's challenge."""
    import datetime as dt
    import json
    import re
    import secrets

    from ledger.audit.log import log_origin
    from ledger.audit.tlog import cbormin, personal
    from ledger.audit.tlog import webauthn as wa
    from ledger.audit.verify import verify
    from ledger.models import AuditEntry
    from ledger.org import personal_keys, regions
    from ledger.store.context import use_log
    from ledger.store.db import transaction
    from tests.ledger.audit.test_webauthn_tlog import SoftAuthenticator
    from tests.web.conftest import Browser, make_settings
    from tests.web.scene import ORIGIN
    from web.app import create_app

    origin = "http://localhost"
    app = create_app(make_settings(db_url, scene, extra={
        "passkeys": {"rp_id": "localhost", "origins": [origin]}}))
    key = SoftAuthenticator(wa.ALG_EDDSA, credential_id=secrets.token_bytes(16))
    key_id = wa.key_id_for_credential(key.credential_id)
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        statement = personal.enrolment_statement(log_origin(s), "k_approver", key_id)
        proof = wa.encode_proof(**key.get(wa.proof_challenge(statement), rp_id="localhost",
                                          origin=origin))
        request_id = personal_keys.request_enrolment(
            s, regions.get_user(s, "k_admin"), "k_approver", "webauthn", key.cose, proof,
            rp_id="localhost", credential_id=key_id)
        personal_keys.approve_enrolment(s, regions.get_user(s, "p_admin"), request_id)

    # The clerk holds a passkey too. Recording an objection has no confirmation step on the
    # web yet: the change is refused, not written unsigned (web.confirm.UnconfirmedSigner).
    clerk_key = SoftAuthenticator(wa.ALG_ES256, credential_id=secrets.token_bytes(16))
    clerk_key_id = wa.key_id_for_credential(clerk_key.credential_id)
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        statement = personal.enrolment_statement(log_origin(s), "k_clerk", clerk_key_id)
        proof = wa.encode_proof(**clerk_key.get(wa.proof_challenge(statement),
                                                rp_id="localhost", origin=origin))
        request_id = personal_keys.request_enrolment(
            s, regions.get_user(s, "k_admin"), "k_clerk", "webauthn", clerk_key.cose, proof,
            rp_id="localhost", credential_id=clerk_key_id)
        personal_keys.approve_enrolment(s, regions.get_user(s, "p_admin"), request_id)
    clerk = Browser(app)
    assert clerk.login("k_clerk").status_code == 302
    roll_page = f"/staff/rolls/{scene.own['roll']}"
    token = clerk.token(roll_page)
    refused = clerk.post(f"{roll_page}/object", {
        "obj-csrf_token": token, "csrf_token": token, "obj-household": "KH-1",
        "obj-day": dt.date.today().isoformat(), "obj-comment": "收入超标"},
        follow_redirects=True)
    assert "须签名" in refused.get_data(as_text=True)   # personal_key_required, in Chinese
    # Signing out is recorded about the person, unsigned, and works as before.
    assert clerk.post("/logout", token_from=roll_page).status_code == 302

    approver = Browser(app)
    assert approver.login("k_approver").status_code == 302
    url = f"/staff/rolls/{scene.own['roll']}/approve"
    form = {"day": dt.date.today().isoformat()}
    page = approver.post(url, form, token_from=f"/staff/rolls/{scene.own['roll']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"审核通过 清册 {scene.own['roll']}" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    nonce = re.search(r'name="passkey_nonce" value="([0-9a-f]+)"', html).group(1)
    challenge = wa.b64url_decode(re.search(r'data-challenge="([^"]+)"', html).group(1))
    signed = key.as_browser_json(key.get(challenge, rp_id="localhost", origin=origin))
    done = approver.post(url, {**form, "passkey_nonce": nonce,
                               "passkey_assertion": json.dumps(signed)},
                         token_from=f"/staff/rolls/{scene.own['roll']}")
    assert done.status_code == 302
    with world.factory() as s:
        use_log(s, ORIGIN)
        entry = cbormin.decode(bytes(s.execute(select(AuditEntry.entry).order_by(
            AuditEntry.idx.desc()).limit(1)).scalar_one()))
        assert entry[6] == "roll.approved" and entry[9]["key"] == key_id
        assert [f.message for f in verify(s).findings if f.kind == "signature"] == []
        objections = [e for e in s.execute(select(AuditEntry.entry)).scalars()
                      if cbormin.decode(bytes(e))[6] == "roll.objection"]
        assert objections == []
    app.extensions["fundtrail_factory"].kw["bind"].dispose()
