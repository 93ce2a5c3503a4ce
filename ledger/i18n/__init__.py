"""What a person reads, in their language: gettext catalogs, 元 and Beijing time.

Chinese is the source language of the interface: every string a person reads is written in the
code in Chinese, wrapped in `_()` (or `gettext()`, `N_()` where it is only marked), and
`locale/en/LC_MESSAGES/messages.po` holds its English. The refusals are the exception: their
source is the English template in `ledger.core.refusals` (the catalogue operators and the docs
read), and `locale/zh_CN/LC_MESSAGES/refusals.po` holds each one's Chinese, keyed by its code
(msgctxt). tests/i18n/test_catalogs.py fails on any string without its translation in either
language.

Decision: the .po files are the only form kept in the repository. They are compiled in memory
with Babel when a process first needs a language (about 0.1 s), so there is no build step a
checkout can forget and no stale .mo file that disagrees with its .po (docs/i18n.md).

The language of the moment: in the web app, the visitor's (Flask-Babel's locale selector, see
web/i18n.py); elsewhere (CLI, reports), `FUNDTRAIL_LANG` (`zh_CN` or `en`), else Chinese, or
whatever `use()` set for a block of work. Times are shown in `FUNDTRAIL_TZ`, default
Asia/Shanghai (Beijing time), to the second.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import io
import os
import string
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

# Babel's catalog and support modules are imported where a catalog is compiled: a command in
# Chinese, the source language, never compiles one (they were a third of `fundtrail --help`).
from babel.numbers import format_decimal

if TYPE_CHECKING:
    from babel.support import NullTranslations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DOMAINS = ("messages", "refusals")
LOCALE_DIR = Path(__file__).parent / "locale"

_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("fundtrail_locale",
                                                                    default=None)


def normal_locale(value: str | None) -> str:
    """`zh`, `zh-CN`, `zh_CN.UTF-8` … → `zh_CN`; `en*` → `en`; anything else → Chinese."""
    text = (value or "").strip().lower().replace("-", "_")
    if text.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def current_locale() -> str:
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    # Inside a web request: the visitor's language. A process that has not imported Flask
    # (the command line, reports) serves no request, so it does not import Flask only to ask:
    # that import (Flask, Werkzeug, Jinja) was a tenth of every command's start-up.
    if "flask" in sys.modules:
        from flask import has_request_context
        if has_request_context():
            from flask_babel import get_locale
            locale = get_locale()
            if locale is not None:
                return normal_locale(str(locale))
    return normal_locale(os.environ.get("FUNDTRAIL_LANG"))


@contextlib.contextmanager
def use(locale: str):
    """Render a block of work (a report, a CLI command) in `locale`."""
    token = _chosen.set(normal_locale(locale))
    try:
        yield
    finally:
        _chosen.reset(token)


def set_locale(locale: str | None) -> None:
    """For the process's remaining work (the CLI's `--lang`)."""
    _chosen.set(normal_locale(locale) if locale else None)


@functools.lru_cache(maxsize=None)
def translations(locale: str, domain: str = "messages") -> NullTranslations:
    """The catalog of `domain` in `locale`, compiled from its .po file in memory."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import NullTranslations, Translations
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


def gettext(text: str, **values) -> str:
    """`text` (Chinese source) in the current language, `{name}` placeholders filled from
    `values`. A missing translation falls back to the Chinese, never to an error (the catalog
    test keeps that from happening)."""
    out = translations(current_locale()).gettext(text) if current_locale() != DEFAULT_LOCALE \
        else text
    return out.format(**values) if values else out


_ = gettext


def N_(text: str) -> str:
    """Marks `text` for the catalog where it is defined; translate it where it is shown."""
    return text


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# --- 元 and Beijing time --------------------------------------------------------------------

def yuan(fen: int | None, *, unit: bool = True) -> str:
    """Integer fen as the person reads it: `1,234.56 元` (`1,234.56 yuan` in English)."""
    if fen is None:
        return "—"
    # Babel's number formatting (separators as the locale writes them; exact: Decimal, not float)
    text = format_decimal(Decimal(int(fen)).scaleb(-2), format="#,##0.00;-#,##0.00",
                          locale="en")
    if not unit:
        return text
    return f"{text} 元" if current_locale() == DEFAULT_LOCALE else f"{text} yuan"


def timezone() -> ZoneInfo:
    return ZoneInfo(os.environ.get("FUNDTRAIL_TZ") or DEFAULT_TIMEZONE)


def local_time(value: dt.datetime | str | None, *, seconds: bool = True) -> str:
    """A moment as Beijing time (or FUNDTRAIL_TZ), to the second: `2026-12-07 20:41:05`.
    Naive datetimes are the ledger's UTC. ISO text is parsed first; a date stays a date."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(timezone()).strftime("%Y-%m-%d %H:%M:%S" if seconds
                                                 else "%Y-%m-%d %H:%M")
