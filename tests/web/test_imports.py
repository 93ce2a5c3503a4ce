"""The import page (`/staff/import`): every kind of ledger.imports.kinds.KINDS, with its label;
lists and registers from other offices with their source and snapshot date.

Regression: the page offered all 14 kinds, but the 9 that need a source and a snapshot date
(the external lists and the payee registers) answered 500 (`import_list() missing 2 required
keyword-only arguments: 'source' and 'snapshot'`): the form had no such fields.
"""
from __future__ import annotations

import re
from html import unescape
from io import BytesIO

import pytest
from sqlalchemy import select

from ledger.imports.kinds import GROUPS, KINDS
from ledger.models.registers import ExternalList, PayeeRegister

DEATHS = "身份证号,姓名,死亡日期\n430121197001010011,张三,2024-03-01\n"
APPROVED = "项目编码,单位名称,批准日期\nP-001,星沙建筑有限公司,2024-03-01\n"
NEEDS_SOURCE = sorted(name for name, spec in KINDS.items() if spec.needs_source)


def _upload(b, kind, text, **fields):
    data = {"kind": kind, "file": (BytesIO(text.encode()), f"{kind}.csv")}
    data.update(fields)
    return b.post("/staff/import", data, token_from="/staff/import",
                  content_type="multipart/form-data")


def _error_beside(html: str, field: str) -> str | None:
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}">.*?</div>', html,
                      re.S)
    return block.group(0) if block else None


def test_the_form_offers_every_kind_by_its_chinese_name_in_groups(app, scene, browser):
    html = unescape(browser("k_clerk").get("/staff/import").get_data(as_text=True))
    offered = re.findall(r'<option[^>]*value="([^"]+)"', html)
    assert sorted(offered) == sorted(KINDS)  # the core's table, nothing else
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', html, re.S)
    assert [g for g, _ in groups] == list(GROUPS)
    for group, options in groups:
        assert re.findall(r'value="([^"]+)"', options) == \
            [name for name, spec in KINDS.items() if spec.group == group]
    for name, spec in KINDS.items():
        # the Chinese name alone, no English identifier in the choice
        assert re.search(rf'<option[^>]*value="{name}"[^>]*>{re.escape(spec.label)}</option>',
                         html), name
    assert 'name="source"' in html and 'name="snapshot"' in html  # no JavaScript needed


def test_the_page_describes_each_kind_and_its_columns_with_its_templates(app, scene, browser):
    """The help is on the page itself, from the kinds table: no link to a Markdown file."""
    html = unescape(browser("k_clerk").get("/staff/import").get_data(as_text=True))
    assert ".md" not in html
    for name, spec in KINDS.items():
        block = re.search(rf'<details class="kind" id="kind-{name}">(.*?)</details>', html,
                          re.S).group(1)
        assert spec.about and spec.about in block, name
        cells = re.findall(r"<tr><td>([^<]+)</td>", block)
        assert cells == spec.header, name
        for fmt in ("csv", "xlsx"):
            assert f'href="/staff/import/template/{name}.{fmt}"' in block


def test_the_page_reads_in_english_on_request(app, scene, browser):
    b = browser("k_clerk")
    b.get("/lang/en")
    html = unescape(b.get("/staff/import").get_data(as_text=True))
    assert "Registered households" in html or "registered households" in html.lower()
    assert "Download template" in html


@pytest.mark.parametrize("kind", NEEDS_SOURCE)
def test_a_list_without_source_or_date_is_refused_beside_the_fields(app, scene, browser,
                                                                      kind):
    r = _upload(browser("k_clerk"), kind, DEATHS)
    html = r.get_data(as_text=True)
    assert r.status_code == 422, html[-2000:]
    assert "来源" in _error_beside(html, "source")
    assert "名单日期" in _error_beside(html, "snapshot")
    assert 'name="token"' not in html  # nothing kept, nothing to confirm


def test_a_kind_without_source_needs_neither_field(app, scene, browser):
    good = "户编码,村代码,户主姓名,户状态,识别日期\nKH-9,430121001001,赵六,建档立卡,2024-03-01\n"
    r = _upload(browser("k_clerk"), "households", good)
    assert r.status_code == 200 and "1 新增" in r.get_data(as_text=True)


def test_an_external_list_previews_then_imports_with_its_source(app, scene, browser, world):
    b = browser("k_clerk")
    r = _upload(b, "deaths", DEATHS, source="县民政局", snapshot="2024-03-05")
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[-3000:]
    assert "死亡人口名单" in html and "县民政局" in html and "2024-03-05" in html
    assert "1 新增" in html
    with world.factory() as s:  # a preview writes nothing
        assert s.execute(select(ExternalList)).first() is None
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    r = b.post("/staff/import/confirm", {"token": token}, token_from="/staff/import")
    assert r.status_code == 302
    assert "1 新增" in b.get("/staff/import").get_data(as_text=True)
    with world.factory() as s:
        kept = s.execute(select(ExternalList)).scalar_one()
        assert (kept.kind.value, kept.source, kept.snapshot_date.isoformat()) == \
            ("deaths", "县民政局", "2024-03-05")
    # The same snapshot again changes nothing, and says so.
    r = _upload(b, "deaths", DEATHS, source="县民政局", snapshot="2024-03-05")
    assert r.status_code == 200 and "已存在且一致" in r.get_data(as_text=True)


def test_a_payee_register_imports_with_its_source(app, scene, browser, world):
    b = browser("k_clerk")
    r = _upload(b, "approved_payees", APPROVED, source="县公共资源交易中心",
                snapshot="2024-03-05")
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[-3000:]
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    assert b.post("/staff/import/confirm", {"token": token},
                  token_from="/staff/import").status_code == 302
    with world.factory() as s:
        kept = s.execute(select(PayeeRegister)).scalar_one()
        assert (kept.source, kept.snapshot_date.isoformat()) == ("县公共资源交易中心",
                                                                  "2024-03-05")



def test_a_workbook_imports_through_the_page_like_a_csv(app, scene, browser, world, tmp_path):
    """Offices keep their lists in Excel: an .xlsx upload previews and imports as CSV does."""
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["户编码", "村代码", "户主姓名", "户状态", "识别日期"])
    book.active.append(["KH-10", "430121001001", "钱七", "建档立卡", "2024-03-01"])
    data = BytesIO()
    book.save(data)
    b = browser("k_clerk")
    r = b.post("/staff/import", {"kind": "households",
                                 "file": (BytesIO(data.getvalue()), "户清单.xlsx")},
               token_from="/staff/import", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "1 新增" in html, html[-2000:]
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    assert b.post("/staff/import/confirm", {"token": token},
                  token_from="/staff/import").status_code == 302
    with world.factory() as s:
        from ledger.models import Household
        assert s.get(Household, "KH-10").head_name == "钱七"


def test_the_preview_shows_what_the_import_noted_without_refusing(app, scene, browser):
    """Nothing a county's file holds is dropped without a line in the report: a column the kind
    does not read is named on the preview, before anything is written."""
    text = ("户编码,村代码,户主姓名,户状态,识别日期,备注\n"
            "KH-11,430121001001,孙八,建档立卡,2024-03-01,老户\n")
    html = _upload(browser("k_clerk"), "households", text).get_data(as_text=True)
    assert "导入报告 (1)" in html and "备注" in html


# Two bad cells on two lines: a status that is none (line 2, column 4) and an impossible date
# (line 3, column 5); line 3 also carries a card number, masked on the preview.
TWO_BAD = ("户编码,村代码,户主姓名,户状态,识别日期,银行卡号\n"
           "KH-21,430121001001,赵六,建档,2024-03-01,\n"
           "KH-22,430121001001,钱七,建档立卡,2024-13-01,6222021234567890123\n")


def _cells_of_line(html: str, line: int) -> list[str]:
    row = re.search(rf'<tr[^>]*><th class="num" scope="row">{line}</th>(.*?)</tr>', html, re.S)
    assert row, f"line {line} is not shown"
    return re.findall(r"<td([^>]*)>(.*?)</td>", row.group(1), re.S)


def test_two_bad_cells_are_marked_on_their_lines_and_nothing_can_be_imported(app, scene,
                                                                             browser, world):
    from ledger.models import Household
    r = _upload(browser("k_clerk"), "households", TWO_BAD)
    html = unescape(r.get_data(as_text=True))
    assert r.status_code == 422
    line2, line3 = _cells_of_line(html, 2), _cells_of_line(html, 3)
    bad2 = [i for i, (attrs, _) in enumerate(line2) if "cell-bad" in attrs]
    bad3 = [i for i, (attrs, _) in enumerate(line3) if "cell-bad" in attrs]
    assert (bad2, bad3) == ([3], [4])   # 户状态 of line 2, 识别日期 of line 3, nothing else
    assert "cell-problem" in line2[3][1] and "建档" in line2[3][1]
    assert "2024-13-01" in line3[4][1]
    # the list of every problem, with line and column, each linked to its marked cell
    listed = re.findall(r'<tr><td class="num"><a href="#([^"]+)">(\d+)</a></td>'
                        r'<td class="nowrap">([^<]+?)\s*<span class="muted">（第 (\d+) 列）'
                        r'</span></td>', html)
    assert listed == [("c-2-4", "2", "户状态", "4"), ("c-3-5", "3", "识别日期", "5")]
    assert 'id="c-2-4"' in html and 'id="c-3-5"' in html
    # no import: no confirm button, no token kept; 重新上传 instead
    assert "确认导入" not in html and 'name="token"' not in html
    assert 'action="/staff/import/confirm"' not in html
    assert "重新上传" in html
    # the card number is masked as on every staff page
    assert "6222021234567890123" not in html and "****0123" in html
    with world.factory() as s:   # and nothing was written
        assert s.get(Household, "KH-21") is None and s.get(Household, "KH-22") is None


def test_a_good_file_shows_its_lines_and_a_clear_confirm_step(app, scene, browser, world):
    from ledger.models import Household
    text = ("户编码,村代码,户主姓名,户状态,识别日期,银行卡号\n"
            + "".join(f"KH-{n},430121001001,户主{n},建档立卡,2024-03-01,62220212345678{n:05d}\n"
                      for n in range(100, 160)))
    b = browser("k_clerk")
    r = _upload(b, "households", text)
    html = unescape(r.get_data(as_text=True))
    assert r.status_code == 200, html[-2000:]
    assert "60 新增" in html and "确认导入" in html
    assert len(re.findall(r'<th class="num" scope="row">', html)) == 50   # the first 50 lines
    assert "另有 10 行未显示" in html
    assert "cell-bad" not in html
    assert "6222021234567800100" not in html and "****0100" in html
    with world.factory() as s:   # the preview wrote nothing
        assert s.get(Household, "KH-100") is None
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    assert b.post("/staff/import/confirm", {"token": token},
                  token_from="/staff/import").status_code == 302
    with world.factory() as s:
        assert s.get(Household, "KH-159").head_name == "户主159"


def test_an_id_number_is_masked_on_the_preview(app, scene, browser):
    text = "户编码,姓名,与户主关系,身份证号\nKH-1,张小,子,430121201005050225\n"
    html = unescape(_upload(browser("k_clerk"), "members", text).get_data(as_text=True))
    assert "430121201005050225" not in html and "4301**********0225" in html


def test_no_uploaded_file_with_personal_data_is_left_behind(app, scene, browser, world):
    """An upload is removed once confirmed (imported or refused), and one nobody confirms goes
    after uploads.KEEP_SECONDS (red-team: files with ID and card numbers stayed in /tmp)."""
    import os
    import time

    from web import uploads
    text = "户编码,村代码,户主姓名,户状态,识别日期,银行卡号\nKH-700,430121001001,户主,建档立卡," \
           "2024-03-01,6222021234567800700\n"
    b = browser("k_clerk")

    def kept() -> set[str]:
        return {p.name for p in uploads._DIR.iterdir()}

    before = kept()
    html = unescape(_upload(b, "households", text).get_data(as_text=True))
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    assert kept() - before == {token}
    assert b.post("/staff/import/confirm", {"token": token},
                  token_from="/staff/import").status_code == 302
    assert token not in kept()
    # a preview left alone: swept once it is older than KEEP_SECONDS
    html = unescape(_upload(b, "households", text.replace("KH-700", "KH-701"))
                    .get_data(as_text=True))
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    old = time.time() - uploads.KEEP_SECONDS - 5
    os.utime(uploads._DIR / token, (old, old))
    assert uploads.sweep() >= 1 and token not in kept()
