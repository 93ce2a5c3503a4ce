"""The visitor's language: Chinese by default, English on request (cookie `lang`, set by
/lang/en or /lang/zh). Flask-Babel selects the locale and time zone per request; the strings
themselves come from the gettext catalogs of `ledger.i18n` (Chinese source, English in
ledger/i18n/locale/en/LC_MESSAGES/messages.po), so that the web, the command line and the
reports read one catalog. Templates call `_("中文", name=value)`: `{name}` placeholders, as in
Python code.
"""
from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel

from ledger import i18n
from ledger.i18n import gettext, local_time, yuan

# the cookie's values (the /lang/<code> links) and the locale each selects
LANGUAGES = ("zh", "en")
_LOCALE_OF = {"zh": "zh_CN", "en": "en"}


def current_language() -> str:
    """`zh` or `en`: the visitor's choice (cookie), Chinese when none or an unknown one."""
    lang = getattr(g, "lang", None)
    if lang is None:
        lang = request.cookies.get("lang", "zh")
        g.lang = lang if lang in LANGUAGES else "zh"
    return g.lang


def _select_locale() -> str:
    return _LOCALE_OF[current_language()]


def install(app: Flask) -> None:
    """Flask-Babel on `app`, and the template globals every page uses."""
    Babel(app, locale_selector=_select_locale,
          default_locale=i18n.DEFAULT_LOCALE, default_timezone=str(i18n.timezone()))
    # Flask-Babel's own `_` formats with %(name)s; ours keeps the code's {name} convention.
    app.jinja_env.globals.update(_=gettext, gettext=gettext, lang=current_language,
                                 yuan=yuan, local_time=local_time)


__all__ = ["LANGUAGES", "current_language", "gettext", "install"]
