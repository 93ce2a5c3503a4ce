"""Template filters: money in yuan, dates, masked numbers, and enum values as labels.

Every enum value a page shows goes through `ledger.i18n.labels` (one table for the web, the
command line and the refusals): `{{ transfer.kind|label }}` for an enum member,
`{{ "critical"|label("Severity") }}` for a plain value, with the table's name. The older
filters (`role`, `stage`, `line_state`, `roll_event`, `decision`) are that table under the
names the templates already use."""
from __future__ import annotations

from ledger.core.money import format_yuan, to_daxie
from ledger.i18n import N_
from ledger.i18n.labels import LABELS, label
from ledger.reading.scoped import masked_card
from web.i18n import gettext

# the tables the older filters read (kept for code that imports them): ledger/i18n/labels.py
STAGES = LABELS["ProjectStatus"]
LINE_STATES = LABELS["LineState"]
ROLL_EVENTS = LABELS["RollEventKind"]
DECISIONS = LABELS["Decision"]
ROLE_NAMES = LABELS["Role"]


def _decision(value) -> str:
    """A transfer's decision; none yet is 待审 (pending)."""
    if value is None or value == "":
        return gettext("待审")
    return label(value, "Decision")

# What happened to a roll line's money (ledger.rolls.status.LineStatus), as the board says it.
LINE_STATUS = {"pending": N_("待发放"), "sent": N_("已送银行"), "paid": N_("已发放"),
               "returned": N_("被退回"), "reissued": N_("补发"), "held": N_("暂停"),
               "withdrawn": N_("已撤销"), "reversed": N_("已冲销")}
# How far a roll went (ledger.reading.scoped.roll_summaries), for the roll list.
ROLL_STEPS = {"drafted": N_("未公示"), "published": N_("公示中"), "approved": N_("已审核"),
              "sent": N_("已送银行")}


def register_filters(app) -> None:
    app.jinja_env.filters["yuan"] = lambda fen: format_yuan(int(fen or 0))
    app.jinja_env.filters["card"] = masked_card
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["role"] = lambda r: label(r, "Role")
    app.jinja_env.filters["stage"] = lambda v: label(v, "ProjectStatus")
    app.jinja_env.filters["line_state"] = lambda v: label(v, "LineState")
    app.jinja_env.filters["roll_event"] = lambda v: label(v, "RollEventKind")
    app.jinja_env.filters["decision"] = _decision
    app.jinja_env.filters["line_status"] = lambda v: gettext(
        LINE_STATUS.get(getattr(v, "value", v), v))
    app.jinja_env.filters["roll_step"] = lambda v: gettext(ROLL_STEPS.get(v, v))
    app.jinja_env.filters["notice_kind"] = lambda v: label(v, "ProjectNoticeKind")
    app.jinja_env.filters["transfer_kind"] = lambda v: label(v, "TransferKind")
    app.jinja_env.filters["account_kind"] = lambda v: label(v, "AccountKind")
    app.jinja_env.filters["daxie"] = lambda fen: to_daxie(int(fen or 0))
