"""Template filters: money in yuan, dates, masked numbers, role names."""
from __future__ import annotations

from ledger.money import format_yuan
from ledger.reading import masked_card
from web.i18n import gettext

ROLE_NAMES = {"clerk": "经办", "approver": "审核员", "auditor": "审计员", "admin": "管理员"}


def register_filters(app) -> None:
    app.jinja_env.filters["yuan"] = lambda fen: format_yuan(int(fen or 0))
    app.jinja_env.filters["card"] = masked_card
    app.jinja_env.filters["role"] = lambda r: gettext(ROLE_NAMES.get(getattr(r, "value", r), r))
    app.jinja_env.filters["decision"] = lambda d: gettext(
        {"approved": "已通过", "rejected": "已退回"}.get(getattr(d, "value", d), "待审"))
