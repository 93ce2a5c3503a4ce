"""Template filters: money in yuan, dates, masked numbers, role names."""
from __future__ import annotations

from ledger.core.money import format_yuan
from ledger.reading.scoped import masked_card
from web.i18n import gettext

STAGES = {"proposed": "申报", "in_library": "入库", "approved": "批复", "implementing": "实施",
          "accepted": "验收", "closed": "结项", "filed": "备案", "rejected": "不予立项",
          "adjusted": "项目调整"}
LINE_STATES = {"open": "待发放", "held": "有异议，暂缓", "withdrawn": "已撤销"}
ROLL_EVENTS = {"published": "公示", "objection": "异议", "objection_dismissed": "异议不成立",
               "line_withdrawn": "撤销该户", "approved": "审核通过", "sent": "已送银行",
               "returned": "退票", "repaid": "已重新发放"}
DECISIONS = {"approved": "已通过", "rejected": "已退回"}
ROLE_NAMES = {"clerk": "经办", "approver": "审核员", "auditor": "审计员", "admin": "管理员"}


def register_filters(app) -> None:
    app.jinja_env.filters["yuan"] = lambda fen: format_yuan(int(fen or 0))
    app.jinja_env.filters["card"] = masked_card
    app.jinja_env.filters["role"] = lambda r: gettext(ROLE_NAMES.get(getattr(r, "value", r), r))
    app.jinja_env.filters["stage"] = lambda v: gettext(STAGES.get(getattr(v, "value", v), v))
    app.jinja_env.filters["line_state"] = lambda v: gettext(LINE_STATES.get(v, v))
    app.jinja_env.filters["roll_event"] = lambda v: gettext(
        ROLL_EVENTS.get(getattr(v, "value", v), v))
    app.jinja_env.filters["decision"] = lambda d: gettext(
        DECISIONS.get(getattr(d, "value", d), "待审"))
