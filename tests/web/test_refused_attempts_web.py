"""Refused attempts on the web (issue 18): a payment the ledger refuses through the staff form
is rolled back, recorded for auditors, and shown on the read-only page /audit/refusals/ to
auditors in scope, in Chinese first and in yuan; others are refused the page."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from ledger.models import Transfer
from ledger.models.refusals import RefusedAttempt
from ledger.store.db import transaction
from tests.web.test_staff import _pay


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr><td>\d+</td>.*?</tr>", html, re.S)


def test_a_payment_refused_on_the_web_is_listed_for_auditors(app, scene, browser, world):
    clerk = browser("k_clerk")
    # The county holds ¥200,000; ¥250,000 is an overdraft (invariant 5)
    r = _pay(clerk, amount="250000", key="凭证-超支")
    assert r.status_code == 422 and "可用余额" in r.get_data(as_text=True)
    with transaction(world.factory) as s:
        assert s.execute(select(func.count()).select_from(Transfer).where(
            Transfer.idempotency_key == "凭证-超支")).scalar_one() == 0
        [attempt] = s.execute(select(RefusedAttempt)).scalars().all()
        assert (attempt.username, attempt.code, attempt.amount_fen) == \
            ("k_clerk", "overdraft", 250_000_00)

    for auditor in ("auditor", "k_auditor"):   # the province's and the county's
        page = browser(auditor).get("/audit/refusals/")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "被拒绝的操作" in html
        [row] = _rows(html)
        for text in ("k_clerk", "支付 pay", "余额不足（透支）", "overdraft", "不变量",
                     "430121", "unit:430121", "KH-2", "250,000.00", "2024-03-20", "凭证-超支"):
            assert text in row, (text, row)
    province = browser("auditor")
    assert _rows(province.get("/audit/refusals/?region=430122").get_data(as_text=True)) == []
    assert _rows(province.get("/audit/refusals/?since=2999-01-01").get_data(as_text=True)) == []
    assert province.get("/audit/refusals/?since=yesterday").status_code == 400
    # a county auditor may not look into the neighbouring county; a clerk does not audit
    assert browser("k_auditor").get("/audit/refusals/?region=430122").status_code == 403
    assert browser("k_clerk").get("/audit/refusals/").status_code == 403


def test_a_payment_that_goes_through_records_no_attempt(app, scene, browser, world):
    r = _pay(browser("k_clerk"), key="凭证-正常")
    assert r.status_code == 302
    with transaction(world.factory) as s:
        assert s.execute(select(func.count()).select_from(RefusedAttempt)).scalar_one() == 0
    assert _rows(browser("auditor").get("/audit/refusals/").get_data(as_text=True)) == []
