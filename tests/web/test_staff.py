"""Staff flows through the forms: record, validate, approve, reject, reverse, rolls, imports."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from ledger.models import Approval, Decision, PaymentRoll, Transfer
from tests.world import VILLAGE

TODAY = dt.date.today().isoformat()


def _pay(b, **fields):
    data = {"lot": "1", "source": "county:430121", "payee": "KH-2", "amount": "120.50",
            "function_code": "2130505", "use": "household_subsidy", "effective_date": "2024-03-20",
            "key": "凭证-9", "memo": "测试"}
    data.update(fields)
    return b.post("/staff/record/pay", data, token_from="/staff/record/pay")


def _field_error(html: str, field: str) -> str:
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}">.*?</div>', html,
                      re.S)
    assert block, f"no error beside {field}"
    return block.group(0)


def test_pay_form_validates_beside_the_field(app, scene, browser):
    b = browser("k_clerk")
    r = _pay(b, amount="12.345")
    assert r.status_code == 422
    assert "amount" in r.get_data(as_text=True)
    assert "fen" in _field_error(r.get_data(as_text=True), "amount") or \
        "分" in _field_error(r.get_data(as_text=True), "amount")
    r = _pay(b, amount="99999999.00")
    assert r.status_code == 422
    error = _field_error(r.get_data(as_text=True), "amount")
    assert "可用余额" in error and "元" in error and "fen" not in error
    r = _pay(b, payee="NOBODY")
    assert "NOBODY" in _field_error(r.get_data(as_text=True), "payee")
    r = _pay(b, source="county:430122")  # not a choice this clerk is offered
    assert r.status_code == 422 and "source" in r.get_data(as_text=True)


def test_record_approve_reverse(app, scene, browser, world):
    clerk, approver = browser("k_clerk"), browser("k_approver")
    r = _pay(clerk)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    transfer_id = int(r.headers["Location"].rsplit("/", 1)[1])
    page = f"/staff/transfers/{transfer_id}"
    assert "120.50" in clerk.get(page).get_data(as_text=True)
    r = approver.post(f"{page}/decide", {"decision": "reject", "comment": ""}, token_from=page)
    assert "comment" in approver.get(page).get_data(as_text=True)  # flashed: needs a reason
    r = approver.post(f"{page}/decide", {"decision": "approve", "comment": "已核对"},
                      token_from=page)
    assert r.status_code == 302
    with world.factory() as s:
        assert s.execute(select(Approval.decision).where(
            Approval.transfer_id == transfer_id)).scalar_one() is Decision.APPROVED
    html = clerk.get(page).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', html).group(1)
    r = clerk.post(f"{page}/reverse", {"reason": "收款人错误", "effective_date": "2024-03-21",
                                       "key": key}, token_from=page)
    assert r.status_code == 302
    reversal = int(r.headers["Location"].rsplit("/", 1)[1])
    with world.factory() as s:
        assert s.get(Transfer, reversal).reverses_id == transfer_id


def test_roll_upload_preview_errors_line_by_line(app, scene, browser, world):
    b = browser("k_clerk")
    form = {"code": "R-NEW", "lot": "1", "county": "430121", "item": "产业奖补",
            "function_code": "2130505", "use": "household_subsidy", "standard": "300.00"}
    bad = "户编码,数量\nKH-1,1\nKH-1,2\nNOPE,1\n".encode()
    from io import BytesIO
    r = b.post("/staff/rolls/new", dict(form, lines=(BytesIO(bad), "lines.csv")),
               token_from="/staff/rolls/new", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "twice" in html and "lines.csv" in html
    # roll line 2 is file line 3 (below the header): placed by the refusal's params["line"]
    assert re.search(r"<td>lines\.csv</td><td>3</td><td></td><td>line 2 \(KH-1\)", html)
    bad_columns = "户编码,数量\nKH-1,abc\nKH-2,0\n".encode()
    r = b.post("/staff/rolls/new", dict(form, lines=(BytesIO(bad_columns), "lines.csv")),
               token_from="/staff/rolls/new", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r"<td>2</td><td>数量</td>", html) and re.search(r"<td>3</td><td>数量</td>",
                                                                    html)
    good = "户编码,数量\nKH-1,1\nKH-2,3\n".encode()
    r = b.post("/staff/rolls/new", dict(form, lines=(BytesIO(good), "lines.csv")),
               token_from="/staff/rolls/new", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "1,200.00" in html and "张k1" in html
    with world.factory() as s:  # a preview writes nothing
        assert s.execute(select(PaymentRoll).where(PaymentRoll.code == "R-NEW")).first() is None
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    r = b.post("/staff/rolls/confirm", {"token": token}, token_from="/staff/rolls/new")
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/rolls/R-NEW")
    other = browser("k2_clerk")  # someone else's upload token is useless
    r = other.post("/staff/rolls/confirm", {"token": token}, token_from="/staff/rolls/new")
    assert r.status_code == 400


def test_roll_publish_approve_send(app, scene, browser):
    clerk, approver = browser("k_clerk"), browser("k_approver")
    code = scene.own["roll"]
    page = f"/staff/rolls/{code}"
    r = approver.post(f"{page}/approve", {"day": TODAY}, token_from=page)
    assert r.status_code == 302
    assert "审核通过" in approver.get(page).get_data(as_text=True)
    r = clerk.post(f"{page}/send", {"day": TODAY}, token_from=page)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    assert len(r.data.decode("gb18030").strip().splitlines()) == 3  # header + two lines
    assert "已送银行" in clerk.get(page).get_data(as_text=True)
    from io import BytesIO
    # The bank kept 5.00 of line 1 (手续费): recorded as it happened, shown on the roll's page.
    result = ("序号,户编码,金额,入账金额,结果,失败原因,入账日期\n"
              f"1,KH-1,500.00,495.00,成功,手续费,{TODAY}\n2,KH-2,1000.00,0,失败,卡号错误,{TODAY}\n")
    r = approver.post(f"{page}/bank-results", {"file": (BytesIO(result.encode()), "回盘.csv")},
                      token_from=page, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "1 已支付, 1 退票" in html, html[-3000:]
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    r = approver.post(f"{page}/bank-results/confirm", {"token": token}, token_from=page)
    assert r.status_code == 302
    html = approver.get(page).get_data(as_text=True)
    assert "1 已支付, 1 退票" in html and "1 行与名册不符" in html
    assert "银行差异" in html and "少入账" in html and "待复核" in html and "5.00" in html
    other = browser("k2_approver")
    r = other.post(f"{page}/bank-results", {"file": (BytesIO(result.encode()), "x.csv")},
                   token_from="/staff/", content_type="multipart/form-data")
    assert r.status_code == 403


def test_import_households_preview_then_confirm(app, scene, browser):
    from io import BytesIO
    b = browser("k_clerk")
    header = "户编码,村代码,户主姓名,户状态,识别日期,银行卡号\n"
    bad = header + (f"KH-9,{VILLAGE},赵六,建档立卡,2024-03-01,123\n"
                    f"KH-10,{VILLAGE},钱七,火星,2024-03-01,\n")
    r = b.post("/staff/import", {"kind": "households", "file": (BytesIO(bad.encode()), "hh.csv")},
               token_from="/staff/import", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "hh.csv" in html
    # every problem listed by line and column, each linked to its marked cell
    assert '<a href="#c-2-6">2</a></td><td class="nowrap">银行卡号' in html
    assert '<a href="#c-3-4">3</a></td><td class="nowrap">户状态' in html
    good = header + f"KH-9,{VILLAGE},赵六,建档立卡,2024-03-01,6222021000000000123\n"
    r = b.post("/staff/import", {"kind": "households", "file": (BytesIO(good.encode()), "hh.csv")},
               token_from="/staff/import", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "1 新增" in html
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    r = b.post("/staff/import/confirm", {"token": token}, token_from="/staff/import")
    assert r.status_code == 302
    assert "1 新增" in b.get("/staff/import").get_data(as_text=True)


def test_import_into_another_county_is_refused(app, scene, browser):
    from io import BytesIO
    b = browser("k_clerk")
    csv = "户编码,村代码,户主姓名,户状态,识别日期\nKH-X,430122001001,孙八,建档立卡,2024-03-01\n"
    r = b.post("/staff/import", {"kind": "households", "file": (BytesIO(csv.encode()), "hh.csv")},
               token_from="/staff/import", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code in (403, 422) and "430122001001" in html
    assert 'name="token"' not in html  # nothing to confirm


def test_dashboards_for_the_province(app, scene, browser):
    b = browser("p_clerk")
    r = b.get("/staff/flow?lot=1")
    html = r.get_data(as_text=True)
    # the chart's figures as JSON and its code from same-origin files: no inline script
    assert r.status_code == 200 and 'id="chart-flow"' in html and "<script>" not in html
    html = b.get("/staff/balances").get_data(as_text=True)
    assert "430121" in html and "430122" in html
    html = b.get("/staff/idle").get_data(as_text=True)
    assert "单位 · 430100" in html   # the account kind by its label


def test_english_is_available(app, scene, browser):
    b = browser("k_clerk")
    assert "余额" in b.get("/staff/").get_data(as_text=True)
    r = b.get("/lang/en?next=/staff/")
    assert r.status_code == 302
    html = b.get("/staff/").get_data(as_text=True)
    assert "Balances" in html and 'lang="en"' in html


def test_objection_holds_a_line_until_the_county_decides(app, scene, browser):
    clerk, approver = browser("k_clerk"), browser("k_approver")
    page = f"/staff/rolls/{scene.own['roll']}"
    r = clerk.post(f"{page}/object", {"obj-household": "KH-2", "obj-day": TODAY,
                                      "obj-comment": "户主已外出务工，数量不符"}, token_from=page)
    assert r.status_code == 302
    assert "暂停（有异议）" in clerk.get(page).get_data(as_text=True)
    r = approver.post(f"{page}/resolve", {"res-household": "KH-2", "res-upheld": "upheld",
                                          "res-day": TODAY, "res-comment": "核实属实"},
                      token_from=page)
    assert r.status_code == 302
    html = approver.get(page).get_data(as_text=True)
    assert "已撤销" in html and "500.00</td><td></td>" in html.replace("\n", "")  # total: KH-1
    r = browser("k2_clerk").post(f"{page}/object", {"obj-household": "KH-1", "obj-day": TODAY,
                                                    "obj-comment": "x"}, token_from="/staff/")
    assert r.status_code == 403
