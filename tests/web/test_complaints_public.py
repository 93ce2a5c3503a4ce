"""Public complaint pages: file anonymously or named, get a receipt, look it up; rate limits."""
from __future__ import annotations

import re

from web.views import complaints as complaints_views


def test_file_a_complaint_and_look_it_up(app, scene, browser):
    visitor = browser()
    r = visitor.post("/complaint/", {"subject_kind": "roll_line",
                                     "subject_code": f"{scene.own['roll']}:1",
                                     "summary": "这一户实际没有养殖", "name": ""},
                     token_from="/complaint/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[-2000:]
    receipt = re.search(r'id="receipt" class="mono">([^<]+)<', html).group(1)
    r = visitor.post("/complaint/status", {"receipt": receipt.lower()},
                     token_from="/complaint/status")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "长沙县" in html and "这一户" not in html
    r = visitor.post("/complaint/status", {"receipt": "0000-0000-000"},
                     token_from="/complaint/status")
    assert r.status_code == 404


def test_a_bad_subject_is_shown_beside_the_field(app, scene, browser):
    r = browser().post("/complaint/", {"subject_kind": "household", "subject_code": "NOPE",
                                       "summary": "x"}, token_from="/complaint/")
    assert r.status_code == 422 and "NOPE" in r.get_data(as_text=True)


def test_receipt_lookups_are_rate_limited(app, scene, browser, monkeypatch):
    monkeypatch.setattr(complaints_views, "LOOKUPS_PER_WINDOW", 3)
    visitor = browser()
    codes = [visitor.post("/complaint/status", {"receipt": "ABCD-EFGH-JKM"},
                          token_from="/complaint/status").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_codes_typed_full_width_are_the_codes(app, scene, browser):
    """Every form reads codes under NFKC (web.forms.Form, issue 19): a subject and a receipt
    typed with a Chinese input method's full-width letters and digits are the ASCII ones;
    the complaint's own words are kept as typed."""
    wide = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
    visitor = browser()
    r = visitor.post("/complaint/", {"subject_kind": "roll_line",
                                     "subject_code": f"{scene.own['roll']}:1".translate(wide),
                                     "summary": "这一户，实际没有养殖（核实）", "name": ""},
                     token_from="/complaint/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[-2000:]
    receipt = re.search(r'id="receipt" class="mono">([^<]+)<', html).group(1)
    r = visitor.post("/complaint/status", {"receipt": receipt.translate(wide)},
                     token_from="/complaint/status")
    assert r.status_code == 200 and "长沙县" in r.get_data(as_text=True)
