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
    # The passkey pages run web/static/passkey.js (CSP script-src 'self'); no other page does.
    mine = clerk.get("/passkeys/")
    assert "我的安全密钥" in mine.get_data(as_text=True)
    assert "script-src 'none'" in clerk.get("/staff/").headers["Content-Security-Policy"]
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
