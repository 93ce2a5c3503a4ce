"""The views' unit of work (web.unit): a refusal rolls back and is shown beside the field its
code and params name, never according to its message text.

Regression: the pay form put an unknown payee beside the payee field when the message text
contained "payee" (`isinstance(exc, NotFound) and "payee" in str(exc)`): a translated message
lost the field, and any other thing not found whose message said "payee" gained it.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ledger.core import refusals
from ledger.core.errors import IdempotencyConflict, NotFound, Overdraft, PurposeViolation
from ledger.funds import flows
from ledger.models import AuditHead
from web import unit

PAY = {"lot": "1", "source": "county:430121", "payee": "KH-2", "amount": "120.50",
       "function_code": "2130505", "use": "household_subsidy", "effective_date": "2024-03-20",
       "key": "凭证-9", "memo": "测试"}


def _errors_beside(html: str) -> dict[str, str]:
    """field name -> its error text, for every field shown with an error."""
    return {m.group(1): m.group(2) for m in re.finditer(
        r'<div class="field has-error">\s*<label for="([^"]+)">.*?<span class="error">(.*?)'
        r'</span>', html, re.S)}


def _above_the_form(html: str) -> list[str]:
    return re.findall(r'<p class="flash error">(.*?)</p>', html)


def _pay_refused_with(monkeypatch, browser, refusal):
    def refuse(*_args, **_kwargs):
        raise refusal
    monkeypatch.setattr(flows, "pay", refuse)
    r = browser("k_clerk").post("/staff/record/pay", PAY, token_from="/staff/record/pay")
    assert r.status_code == 422
    return r.get_data(as_text=True)


def test_an_unknown_payee_is_placed_by_its_params_not_its_words(app, scene, browser,
                                                                  monkeypatch):
    html = _pay_refused_with(monkeypatch, browser,
                             NotFound("没有这个收款人", what="payee", key="KH-2"))
    assert _errors_beside(html) == {"payee": "收款人 KH-2 不存在"}   # its code's Chinese


def test_a_message_that_mentions_a_payee_does_not_pick_the_field(app, scene, browser,
                                                                   monkeypatch):
    html = _pay_refused_with(monkeypatch, browser,
                             NotFound("the payee's lot does not exist", what="lot", key=1))
    assert _errors_beside(html) == {"lot": "批次 1 不存在"}
    html = _pay_refused_with(monkeypatch, browser,
                             NotFound("payee register missing", what="register", key=1))
    assert _errors_beside(html) == {}  # no such field: above the form
    assert _above_the_form(html) == ["register 1 不存在"]   # a thing with no label: its word


@pytest.mark.parametrize("refusal, field", [
    (Overdraft("余额不足"), "amount"),
    (PurposeViolation("用途不符", code="use_outside_lot"), "use"),  # its family's field
    (PurposeViolation("功能分类不符", code="function_outside_lot"), "function_code"),
    (IdempotencyConflict("凭证号已用", code="key_taken"), "key"),
])
def test_refusals_land_beside_the_field_their_code_names(app, scene, browser, monkeypatch,
                                                          refusal, field):
    html = _pay_refused_with(monkeypatch, browser, refusal)
    # what is shown is the code's Chinese template (its params, absent here, read 无), not the
    # raise site's words
    assert _errors_beside(html) == {field: refusals.render(refusal.code, refusal.params,
                                                           locale="zh_CN")}


def test_a_refusal_writes_nothing(app, scene, browser, world, monkeypatch):
    """The unit of work rolls back whatever the service wrote before it refused."""
    real_pay = flows.pay

    def pay_then_refuse(*args, **kwargs):
        real_pay(*args, **kwargs)  # writes the transfer and its log entry
        raise Overdraft("refused after writing", account_kind="unit", holder="430121", lot=1,
                        available_fen=100, requested_fen=12050)
    monkeypatch.setattr(flows, "pay", pay_then_refuse)
    with world.factory() as s:
        before = s.execute(select(AuditHead.size)).scalar_one()
    b = browser("k_clerk")
    with world.factory() as s:
        signed_in = s.execute(select(AuditHead.size)).scalar_one()
    assert signed_in >= before
    r = b.post("/staff/record/pay", PAY, token_from="/staff/record/pay")
    assert r.status_code == 422 and "可用余额为 1.00 元" in r.get_data(as_text=True)
    with world.factory() as s:
        assert s.execute(select(AuditHead.size)).scalar_one() == signed_in


def test_a_weak_password_is_shown_beside_the_password(app, scene, browser):
    b = browser("k_admin")
    r = b.post("/admin/users", {"username": "new-clerk", "display_name": "新人", "role": "clerk",
                                "region": "430121", "password": "aaaaaaaaaaaaaaaa"},
               token_from="/admin/users")
    assert r.status_code == 422
    assert set(_errors_beside(r.get_data(as_text=True))) == {"password"}


def test_field_names_come_from_codes_and_params_only():
    assert unit.field_name(NotFound("x", what="payee", key="P")) == "payee"
    assert unit.field_name(NotFound("payee P does not exist")) is None
    assert unit.field_name(Overdraft("x")) == "amount"
    assert unit.field_name(PurposeViolation("x", code="use_unknown")) == "use"
    assert unit.field_name(Overdraft("x"), {"overdraft": "standard"}) == "standard"
