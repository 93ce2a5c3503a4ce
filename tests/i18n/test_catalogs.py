"""Every string a person reads has its translation in both languages (docs/i18n.md).

The interface's source language is Chinese: each `_()` / `gettext()` / `N_()` string in the code
and the templates is Chinese, and the `en` catalog translates it with the same placeholders.
The refusals' source is English (ledger.core.refusals), and the `zh_CN` refusals catalog
translates every code. A string with no translation fails here, naming where it is used.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ledger import i18n
from ledger.core import refusals

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("ledger/**.py", "python"), ("web/**.py", "python"), ("reports/**.py", "python"),
           ("web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "N_": None}
CJK = re.compile(r"[\u3400-\u9fff]")


def source_strings() -> dict[str, list[str]]:
    """msgid → where it is used, as pybabel extract -F babel.cfg finds them."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map=METHODS, keywords=KEYWORDS):
        if isinstance(message, tuple):
            message = message[0]
        if message:
            found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def catalog(locale: str, domain: str):
    with (i18n.LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po").open("rb") as fh:
        # abort_invalid: a merge that left a msgid without its msgstr fails here, not silently
        return read_po(fh, locale=locale, domain=domain, abort_invalid=True)


@pytest.fixture(scope="module")
def strings():
    return source_strings()


def test_the_source_strings_are_chinese(strings):
    english = {m: where for m, where in strings.items() if not CJK.search(m)}
    assert not english, ("strings marked for translation must be written in Chinese (the "
                         f"source language); in English: {english}")


def test_every_string_has_its_english(strings):
    en = catalog("en", "messages")
    missing = {m: where[:3] for m, where in strings.items()
               if not en.get(m) or not en.get(m).string or en.get(m).fuzzy}
    assert not missing, (f"{len(missing)} strings have no English in "
                         f"ledger/i18n/locale/en/LC_MESSAGES/messages.po: {missing}")


def test_english_keeps_the_placeholders():
    for message in catalog("en", "messages"):
        if message.id and message.string:
            assert i18n.placeholders(message.string) == i18n.placeholders(message.id), \
                message.id


def test_the_catalogs_have_no_duplicates():
    for locale, domain in (("en", "messages"), ("zh_CN", "refusals")):
        text = (i18n.LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po").read_text("utf-8")
        keys = re.findall(r'^(?:msgctxt "(.*)"\n)?msgid "(.+)"$', text, re.M)
        repeated = {k for k in keys if keys.count(k) > 1}
        assert not repeated, f"{locale}/{domain}.po defines twice: {repeated}"


def test_every_refusal_has_its_chinese():
    zh = catalog("zh_CN", "refusals")
    missing, wrong = [], []
    for entry in refusals.CATALOGUE:
        message = zh.get(entry.template, context=entry.code)
        if message is None or not message.string or message.fuzzy:
            missing.append(entry.code)
        elif not CJK.search(message.string) or \
                i18n.placeholders(message.string) - set(entry.params + entry.optional):
            wrong.append(entry.code)
    assert not missing, f"refusals without Chinese (zh_CN/refusals.po): {missing}"
    assert not wrong, f"Chinese refusals naming other parameters, or not Chinese: {wrong}"


def test_a_refusal_reads_in_the_language_asked_for():
    params = {"account_kind": "unit", "holder": "430121", "lot": 1,
              "available_fen": 6890000, "requested_fen": 50000000}
    english = refusals.render("overdraft", params, locale="en")
    assert "68,900.00 yuan" in english and "500,000.00 yuan" in english
    chinese = refusals.render("overdraft", params, locale="zh_CN")
    assert "68,900.00 元" in chinese and "500,000.00 元" in chinese
    assert CJK.search(chinese) and "fen" not in chinese


def test_times_are_beijing_time_to_the_second(monkeypatch):
    import datetime as dt
    monkeypatch.delenv("FUNDTRAIL_TZ", raising=False)
    moment = dt.datetime(2026, 12, 7, 20, 41, 5, 123456)   # the ledger's UTC
    assert i18n.local_time(moment) == "2026-12-08 04:41:05"
    assert i18n.local_time("2026-12-07T20:41:05.123456+00:00") == "2026-12-08 04:41:05"
    monkeypatch.setenv("FUNDTRAIL_TZ", "UTC")
    assert i18n.local_time(moment) == "2026-12-07 20:41:05"
