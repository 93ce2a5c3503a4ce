"""Transfer pages name what they show (issue 20, "Names, not codes"): the region, the payee, the
lot's title and document number (文号), who recorded the transfer and who approved or rejected
it (their display names: the test world names users as their usernames), in Beijing time;
kinds in Chinese, not `pay`."""
from __future__ import annotations

import re
from html import unescape

from ledger.funds import posting
from ledger.org import regions
from ledger.store.context import use_log
from ledger.store.db import transaction
from tests.web.scene import ORIGIN

DOC_NUMBER = "财农〔2024〕12号"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_transfer_page_names_recorder_approver_payee_and_lot(app, scene, browser, world):
    transfer = scene.own["transfer"]
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        posting.approve(s, regions.get_user(s, "k_approver"), transfer, "核对无误")
    clerk = browser("k_clerk")
    html = clerk.get(f"/staff/transfers/{transfer}").get_data(as_text=True)
    text = _text(html)
    assert "录入人 k_clerk" in text and "审核人 k_approver" in text, text[:3000]
    assert DOC_NUMBER in text and "中央衔接推进乡村振兴补助资金" in text
    assert "收款人 张k1" in text and "长沙县" in text
    assert "支付" in text and ">pay<" not in html
    assert "100.00 元" in text
    # recorded and decided in Beijing time, to the second (not UTC ISO with microseconds)
    assert re.search(r"k_clerk · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text)
    assert not re.search(r"\d\d:\d\d:\d\d\.\d{6}", text)
    listing = _text(clerk.get("/staff/transfers").get_data(as_text=True))
    assert "k_clerk" in listing and "k_approver" in listing and DOC_NUMBER in listing
    assert "张k1" in listing and "长沙县" in listing


def test_a_rejected_transfer_names_who_rejected_it(app, scene, browser, world):
    transfer = scene.own["transfer"]
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        posting.reject(s, regions.get_user(s, "k_approver"), transfer, "金额有误")
    text = _text(browser("k_clerk").get(f"/staff/transfers/{transfer}").get_data(as_text=True))
    assert "退回人 k_approver" in text and "金额有误" in text
