"""End to end in a real headless browser (Debian's chromium driven by Playwright).

The app runs under waitress on 127.0.0.1 on a free port. A county clerk uploads and publishes
a payment roll, an approver approves it, the province auditor verifies the log, and a member
of the public opens the village page and checks the notice's QR payload and a pasted proof.
Screenshots go to test-artifacts/e2e/.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from sqlalchemy import select

from ledger.audit import checkpoints as cps
from ledger.audit.log import entry_bytes
from ledger.audit.tlog import proofs
from ledger.core import clock
from ledger.models import PaymentRoll
from ledger.store.context import use_log
from tests.web.browser import pytestmark, serving, shot, sign_in  # noqa: F401 (pytestmark: pytest reads it)
from tests.web.conftest import make_settings
from tests.web.scene import ORIGIN, sign_checkpoint
from web.app import create_app


@pytest.fixture
def server(db_url, scene):
    import dataclasses
    # Secure cookies as in production: Chromium accepts them from http://127.0.0.1.
    settings = dataclasses.replace(make_settings(db_url, scene), secure_cookies=True)
    with serving(lambda base: create_app(settings)) as base:
        yield base




def _login(browser, base: str, username: str, **context):
    return sign_in(browser.new_context(**context).new_page(), base, username)


def _roll_proof(world, code: str) -> proofs.TlogProof:
    with world.factory() as s:
        use_log(s, ORIGIN)
        index = s.execute(select(PaymentRoll.log_index).where(PaymentRoll.code == code)
                          ).scalar_one()
        note = cps.with_cosignatures(s, cps.latest(s))
        return proofs.build_proof(index, note, cps.node_reader(s),
                                  extra=entry_bytes(s, index))


def test_roll_from_clerk_to_villager(server, chromium, scene, world, db_url, tmp_path):
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    published = (dt.date.today() - dt.timedelta(days=20)).isoformat()

    clerk = _login(chromium, server, "k_clerk")
    shot(clerk, "e2e", "1-clerk-home", db)
    clerk.goto(f"{server}/staff/record/pay")
    clerk.fill("#payee", "KH-1")
    clerk.fill("#amount", "12.345")
    clerk.fill("#key", "凭证-E2E")
    clerk.click("main button[type=submit]")
    assert "fen" in clerk.inner_text(".has-error")  # the error stands beside the amount
    shot(clerk, "e2e", "1b-pay-form-error", db)
    # The roll is drawn up and posted 20 days ago and recorded then (the server's clock, which
    # the app's thread reads: ledger.core.clock), so its window has run when it is approved.
    with clock.at(dt.date.fromisoformat(published)):
        clerk.goto(f"{server}/staff/rolls/new")
        clerk.fill("#code", "R-E2E")
        clerk.select_option("#county", "430121")
        clerk.fill("#item", "产业奖补")
        clerk.select_option("#function_code", "2130505")
        clerk.select_option("#use", "household_subsidy")
        clerk.fill("#standard", "800.00")
        lines = tmp_path / "lines.csv"
        lines.write_text("户编码,数量\nKH-1,1\nKH-2,2\n", encoding="utf-8")
        clerk.set_input_files("#lines", str(lines))
        clerk.click("main button[type=submit]")
        clerk.wait_for_selector("h1:has-text('预览')")
        shot(clerk, "e2e", "2-roll-preview", db)
        assert "2,400.00" in clerk.content()
        shot(clerk, "e2e", "2-roll-preview", db)
        clerk.click("main button:has-text('确认创建')")
        clerk.wait_for_url(f"{server}/staff/rolls/R-E2E")
        clerk.fill("#day", published)
        clerk.click("main button:has-text('公示')")
        clerk.wait_for_selector("text=操作成功")
        shot(clerk, "e2e", "3-roll-published", db)

    approver = _login(chromium, server, "k_approver")
    approver.goto(f"{server}/staff/rolls/R-E2E")
    approver.click("main button:has-text('审核')")
    approver.wait_for_selector("text=操作成功")
    assert "审核通过" in approver.content()
    shot(approver, "e2e", "4-roll-approved", db)

    # The clerk sends the roll to the bank; the bank's file comes back with line 1 credited
    # 2.00 short (手续费) and line 2 paid: the approver records it, and the roll's page shows
    # the difference waiting for a colleague's review.
    clerk.goto(f"{server}/staff/rolls/R-E2E")
    with clerk.expect_download():
        clerk.click("main button:has-text('发送银行')")
    result = tmp_path / "回盘.csv"
    result.write_text("序号,户编码,金额,入账金额,结果,失败原因\n"
                      "1,KH-1,800.00,798.00,成功,手续费\n2,KH-2,1600.00,1600.00,成功,\n",
                      encoding="gb18030")
    approver.goto(f"{server}/staff/rolls/R-E2E")
    approver.set_input_files("#file", str(result))
    approver.click("main button:has-text('预览')")
    approver.wait_for_selector("text=行与名册不符")
    approver.click("main button:has-text('确认导入')")
    approver.wait_for_selector("h2:has-text('银行差异')")
    assert "少入账" in approver.content() and "待复核" in approver.content()
    shot(approver, "e2e", "4b-roll-bank-differences", db)

    sign_checkpoint(world, scene)  # the bureau signs, village and township cosign
    auditor = _login(chromium, server, "auditor")
    auditor.goto(f"{server}/audit/")
    auditor.click("main button:has-text('验证审计日志')")
    auditor.wait_for_selector("#verify-result")
    assert "完整" in auditor.inner_text("#verify-result")
    shot(auditor, "e2e", "5-audit-verified", db)
    auditor.goto(f"{server}/staff/flow?lot=1")
    auditor.wait_for_selector(".chart canvas")
    assert auditor.locator("#flow-table tbody tr").count() >= 5
    shot(auditor, "e2e", "5b-fund-flow", db)

    phone = chromium.new_context(viewport={"width": 390, "height": 844},
                                 device_scale_factor=2, is_mobile=True).new_page()
    phone.goto(f"{server}/village/{scene.own['village']}")
    board = phone.content()
    assert "R-E2E" in board and "张k1" in board and "6222021" not in board
    shot(phone, "e2e", "6-village-phone", db)
    proof = _roll_proof(world, "R-E2E")
    payload = proofs.base45_encode(proofs.encode_compact(proof))
    phone.goto(f"{server}/verify?p={quote(payload, safe='')}")
    assert "核验通过" in phone.inner_text("#verify-outcome")
    shot(phone, "e2e", "7-verify-qr-phone", db)

    desk = chromium.new_context().new_page()
    desk.goto(f"{server}/verify")
    desk.fill("#proof", proofs.encode_text(proof))
    desk.click("main button:has-text('核验')")
    desk.wait_for_selector("#verify-outcome")
    assert "核验通过" in desk.inner_text("#verify-outcome")
    assert "1,600.00 元" in desk.content()  # the printed row: KH-2, 2 × 800.00
    shot(desk, "e2e", "8-verify-pasted", db)
