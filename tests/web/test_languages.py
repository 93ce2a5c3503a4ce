"""Every page a person reads is Chinese, and English when they choose it (docs/i18n.md).

Each GET route of the app is opened by the people who may open it — a visitor, the county's
clerk, approver and administrator, and the province's auditor (the whole-log pages) — once in
Chinese (no cookie) and once in English (`lang=en`). In Chinese, no English word is left in
what the page shows (its text, its buttons' and fields' labels, titles and placeholders):
only the allow-listed names of file formats and the like. In English, no label — headings,
table headers, field labels, buttons, navigation — is left in Chinese; table cells and other
data (names of villages and people, uses of money as a document states them) may be Chinese.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.web.test_matrix import _pairs, _sides, _url

# Words that are the same in a Chinese page: names of formats, standards and the product.
ALLOWED_LATIN = {"fundtrail", "English", "CSV", "Excel", "XLSX", "PDF", "QR", "URL", "ID",
                 "PIN", "UTF", "GB18030", "RFC", "C2SP", "SHA", "Ed25519", "WebAuthn", "USB",
                 "JSON", "UTC", "Base45", "HTTPS", "HTTP", "XLS", "GB", "CBOR", "TOML"}
# A word: lower case, or capitalised; a token with capitals inside (a key's base64, a hash) is
# not a word a person reads.
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9_./:#+=-])(?:[a-z]{3,}|[A-Z][a-z]{2,}|[A-Z]{3,})"
                        r"(?![A-Za-z0-9_./:+=-])")
# The test scene's data that is Latin by nature: its users' names and its witnesses' names
# (identifiers an administrator chose, shown as they are).
SCENE_NAMES = {"auditor", "township", "village", "county", "admin"}
CJK = re.compile(r"[\u3400-\u9fff]")
LABEL_TAGS = {"h1", "h2", "h3", "h4", "th", "label", "button", "dt", "legend", "caption",
              "summary", "nav", "title"}
SHOWN_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}
# Pages that are not a person's reading: files, machine endpoints, redirects.
NOT_PAGES = re.compile(r"\.(txt|pdf|csv|xlsx|json|css|js|zip|tar|png)$|/log/|/static/|"
                       r"/checkpoint|/keys|/policy|/bundle|/proof|/lang/|/logout|/tile")


class _Reader(HTMLParser):
    """The text a person sees, and which of it is a label."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.labels: list[str] = []
        self.hidden = 0
        self.code = 0   # inside <code>: a literal (a column's header, a setting's name)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template"):
            self.hidden += 1
        if tag == "code":
            self.code += 1
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.text.append(attrs["value"])
            self.labels.append(attrs["value"])
        for name in SHOWN_ATTRIBUTES & attrs.keys():
            if attrs[name]:
                self.text.append(attrs[name])
                self.labels.append(attrs[name])
        if tag not in ("br", "img", "input", "meta", "link", "hr", "col", "source"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self.hidden = max(0, self.hidden - 1)
        if tag == "code":
            self.code = max(0, self.code - 1)
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.hidden or not data.strip():
            return
        if not self.code:
            self.text.append(data)
        if LABEL_TAGS & set(self.stack) and not {"td", "code", "pre"} & set(self.stack):
            self.labels.append(data)


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


def english_left(html: str) -> set[str]:
    words = set()
    for text in read(html).text:
        words |= {w for w in LATIN_WORD.findall(text)
                  if w not in ALLOWED_LATIN and w not in SCENE_NAMES}
    return words


def _catalogued() -> set[str]:
    from tests.i18n.test_catalogs import catalog
    return {m.id for m in catalog("en", "messages") if m.id}


CATALOGUED: set[str] = set()


def chinese_labels(html: str) -> set[str]:
    """Labels that are (or hold) a Chinese string of the catalog: the interface's own words
    left untranslated. Names in a heading (a village, a county, a roll's item) are data."""
    if not CATALOGUED:
        CATALOGUED.update(_catalogued())
    left = set()
    for text in read(html).labels:
        for piece in re.split(r"[\s·:：,，、()（）—/|]+", text.strip()):
            if CJK.search(piece) and piece in CATALOGUED:
                left.add(piece)
    return left


PEOPLE = [None, "k_clerk", "k_approver", "k_admin", "auditor"]


def _pages(app, scene, browser, username):
    b = browser(username)
    side = _sides(app, scene)["own"]
    for rule, method in _pairs(app):
        if method != "GET" or rule.arguments - {"roll_code", "village_code", "transfer_id",
                                                "username", "alert_id"}:
            continue
        url = _url(rule, side)
        if NOT_PAGES.search(url):
            continue
        r = b.get(url)
        if r.status_code != 200 or "text/html" not in r.headers.get("Content-Type", ""):
            continue
        yield url, b, r.get_data(as_text=True)


@pytest.mark.parametrize("username", PEOPLE)
def test_pages_in_chinese_have_no_english_left(app, scanned, browser, username):
    leftovers = {}
    for url, _, html in _pages(app, scanned, browser, username):
        words = english_left(html)
        if words:
            leftovers[url] = sorted(words)[:12]
    assert leftovers == {}, f"English left on Chinese pages ({username}): {leftovers}"


@pytest.mark.parametrize("username", PEOPLE)
def test_pages_in_english_have_english_labels(app, scanned, browser, username):
    leftovers = {}
    b = browser(username)
    b.client.set_cookie("lang", "en")
    for url, _, _ in _pages(app, scanned, browser, username):
        html = b.get(url).get_data(as_text=True)
        labels = chinese_labels(html)
        if labels:
            leftovers[url] = sorted(labels)[:8]
    assert leftovers == {}, f"Chinese labels left on English pages ({username}): {leftovers}"


def test_the_readers_see_what_a_person_sees():
    html = ('<html><head><title>余额</title><style>.x{color:red}</style></head><body>'
            '<script>var pending = 1;</script><h1>Balances</h1><table><tr><th>金额</th></tr>'
            '<tr><td>湘西村</td></tr></table><input type="submit" value="Submit">'
            '<input placeholder="用户名"></body></html>')
    assert english_left(html) == {"Balances", "Submit"}
    assert chinese_labels(html) == {"余额", "金额", "用户名"}
    assert chinese_labels("<h1>松雅村 · 产业奖补</h1>") == set()   # names are data


@pytest.fixture
def scanned(app, scene, browser):
    """The scene with alerts in both counties, as the matrix has it."""
    auditor = browser("auditor")
    assert auditor.post("/audit/alerts/scan", token_from="/audit/").status_code == 302
    return scene
