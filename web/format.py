"""Template filters: money in yuan, dates, masked numbers, role names."""
from __future__ import annotations

from ledger.core.money import format_yuan, to_daxie
from ledger.i18n import N_
from ledger.reading.scoped import masked_card
from web.i18n import gettext

STAGES = {"proposed": "申报", "in_library": "入库", "approved": "批复", "implementing": "实施",
          "accepted": "验收", "closed": "结项", "filed": "备案", "rejected": "不予立项",
          "adjusted": "项目调整"}
LINE_STATES = {"open": "待发放", "held": "有异议，暂缓", "withdrawn": "已撤销"}
ROLL_EVENTS = {"published": "公示", "objection": "异议", "objection_dismissed": "异议不成立",
               "line_withdrawn": "撤销该户", "approved": "审核通过", "sent": "已送银行",
               "returned": "退票", "repaid": "已重新发放"}
# What happened to a roll line's money (ledger.rolls.status.LineStatus), as the board says it.
LINE_STATUS = {"pending": N_("待发放"), "sent": N_("已送银行"), "paid": N_("已发放"),
               "returned": N_("被退回"), "reissued": N_("补发"), "held": N_("暂停"),
               "withdrawn": N_("已撤销")}
# How far a roll went (ledger.reading.scoped.roll_summaries), for the roll list.
ROLL_STEPS = {"drafted": N_("未公示"), "published": N_("公示中"), "approved": N_("已审核"),
              "sent": N_("已送银行")}
# Transfers and accounts (ledger.models TransferKind, AccountKind) as a finance officer says them.
TRANSFER_KINDS = {"appropriate": N_("下达指标"), "allocate": N_("下达"),
                  "fund_project": N_("拨付项目资金"), "pay": N_("支付"), "reverse": N_("冲销"),
                  "integrate": N_("统筹整合"), "recovery_claim": N_("责令追回"),
                  "recovery_collect": N_("追回归位"), "reclaim": N_("收回统筹"),
                  "bank_difference": N_("银行差异")}
ACCOUNT_KINDS = {"appropriation": N_("指标来源"), "unit": N_("财政部门"), "project": N_("项目"),
                 "payee": N_("收款人"), "integration_out": N_("整合转出"),
                 "integration_in": N_("整合转入"), "receivable": N_("应收款")}
NOTICE_KINDS = {"publicity": N_("公示"), "announcement": N_("公告")}
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
    app.jinja_env.filters["line_status"] = lambda v: gettext(
        LINE_STATUS.get(getattr(v, "value", v), v))
    app.jinja_env.filters["roll_step"] = lambda v: gettext(ROLL_STEPS.get(v, v))
    app.jinja_env.filters["notice_kind"] = lambda v: gettext(
        NOTICE_KINDS.get(getattr(v, "value", v), v))
    app.jinja_env.filters["transfer_kind"] = lambda v: gettext(
        TRANSFER_KINDS.get(getattr(v, "value", v), getattr(v, "value", v)))
    app.jinja_env.filters["account_kind"] = lambda v: gettext(
        ACCOUNT_KINDS.get(getattr(v, "value", v), getattr(v, "value", v)))
    app.jinja_env.filters["daxie"] = lambda fen: to_daxie(int(fen or 0))
    app.jinja_env.filters["decision"] = lambda d: gettext(
        DECISIONS.get(getattr(d, "value", d), "待审"))
