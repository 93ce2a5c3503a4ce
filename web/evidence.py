"""An alert's evidence as a person reads it: a table of labels and values instead of raw JSON.

The evidence a rule records (ledger/alerts/rules_*.py) is a tree of dicts and lists with stable
English keys; the log keeps it as it is. Here each key gets its label from
ledger.alerts.labels.EVIDENCE (translated), each value its form by its key: money in 元,
moments in Beijing time, transfers and rolls as links to their staff pages, payees, projects,
lots and regions by name with their codes. A list of records becomes a table with a column per
key; anything unknown is still shown, as text, never dropped.
"""
from __future__ import annotations

import datetime as dt
import re

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from ledger.alerts.labels import ENTITIES, EVIDENCE, label, value_label
from ledger.i18n import gettext, local_time, yuan
from ledger.models import FundLot, Payee, Project, Region

TRANSFER_KEYS = {"transfer_id", "received_transfer_id", "duplicate_transfer_id",
                 "difference_transfer_id", "transfer_ids"}
PAYEE_KEYS = {"payee", "household", "split_from", "ward_household"}
REGION_KEYS = {"unit", "county", "jurisdiction", "village", "region"}
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


class Names:
    """The names of the payees, projects, lots and regions one evidence tree names, read in
    one query per table (an alert names a handful; a page shows one alert)."""

    def __init__(self, session, *trees):
        codes: dict[str, set] = {"payee": set(), "project": set(), "lot": set(), "region": set()}
        for tree in trees:
            _collect(tree, codes)
        self.payees = _names(session, Payee.code, Payee.name, codes["payee"])
        self.projects = _names(session, Project.code, Project.name, codes["project"])
        self.lots = _names(session, FundLot.id, FundLot.doc_number,
                           {int(i) for i in codes["lot"] if str(i).isdigit()})
        self.regions = _names(session, Region.code, Region.name, codes["region"])


def _names(session, key, name, wanted) -> dict:
    if not wanted:
        return {}
    return dict(session.execute(select(key, name).where(key.in_(sorted(wanted)))).all())


def _collect(value, codes, key=None) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _collect(v, codes, k)
    elif isinstance(value, list):
        for v in value:
            _collect(v, codes, key)
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        if key in PAYEE_KEYS or key == "code":
            codes["payee"].add(str(value))
        elif key in ("project", "source"):
            codes["project"].add(str(value))
        elif key == "lot_id":
            codes["lot"].add(value)
        elif key in REGION_KEYS:
            codes["region"].add(str(value))


def table(evidence, names: Names) -> Markup:
    """The evidence (a dict) as an HTML table of label → value."""
    if not isinstance(evidence, dict) or not evidence:
        return Markup('<p class="muted">{}</p>').format(gettext("没有记录"))
    return _dict(evidence, names)


def _label(key: str) -> str:
    return label(EVIDENCE, key)


def _dict(data: dict, names: Names) -> Markup:
    rows = []
    for key, value in data.items():
        if key == "amount" and "amount_fen" in data:
            continue  # the same money, already shown from its fen
        rows.append(Markup("<tr><th scope=\"row\">{}</th><td>{}</td></tr>").format(
            _label(key), _value(key, value, names)))
    return Markup('<table class="evidence">') + Markup("").join(rows) + Markup("</table>")


def _value(key: str, value, names: Names) -> Markup:
    if isinstance(value, dict):
        return _dict(value, names) if value else Markup("—")
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return _records(value, names)
        if not value:
            return Markup("—")
        return Markup("、").join(_scalar(key, v, names) for v in value)
    return _scalar(key, value, names)


def _records(items: list[dict], names: Names) -> Markup:
    """A list of records: one row each, one column per key any of them has."""
    keys: list[str] = []
    for item in items:
        for k in item:
            if k not in keys and not (k == "amount" and "amount_fen" in item):
                keys.append(k)
    head = Markup("").join(Markup("<th>{}</th>").format(_label(k)) for k in keys)
    body = Markup("").join(
        Markup("<tr>") + Markup("").join(
            Markup('<td{}>{}</td>').format(
                Markup(' class="num"') if k.endswith("fen") else "",
                _value(k, item[k], names) if k in item else "")
            for k in keys) + Markup("</tr>")
        for item in items)
    return (Markup('<div class="scroll"><table class="evidence records"><thead><tr>') + head
            + Markup("</tr></thead><tbody>") + body + Markup("</tbody></table></div>"))


def _scalar(key: str, value, names: Names) -> Markup:
    if value is None or value == "":
        return Markup("—")
    if isinstance(value, bool):
        return escape(gettext("是") if value else gettext("否"))
    if key in TRANSFER_KEYS and isinstance(value, int):
        return Markup('<a href="{}">#{}</a>').format(
            url_for("staff.transfer", transfer_id=value), value)
    if key in ("roll", "repayment_roll") and isinstance(value, str):
        return Markup('<a href="{}">{}</a>').format(
            url_for("rolls.roll_detail", roll_code=value), value)
    if (key.endswith("_fen") or key == "amount_fen") and isinstance(value, int):
        return escape(yuan(value))
    if key in PAYEE_KEYS or key == "code":
        return _named(names.payees.get(str(value)), value)
    if key == "project" or (key == "source" and str(value) in names.projects):
        return _named(names.projects.get(str(value)), value)
    if key == "lot_id":
        return _named(names.lots.get(value if isinstance(value, int) else -1), f"#{value}")
    if key in REGION_KEYS:
        return _named(names.regions.get(str(value)), value)
    if isinstance(value, str) and MOMENT.match(value):
        return escape(local_time(value))
    if isinstance(value, float):
        return escape(f"{value:.4g}")
    if isinstance(value, (dt.date, dt.datetime)):
        return escape(local_time(value))
    if isinstance(value, str):
        return escape(value_label(key, value))
    return escape(str(value))


def _named(name, code) -> Markup:
    if not name or str(name) == str(code):
        return escape(str(code))
    return Markup('{} <span class="muted">{}</span>').format(name, code)


def entity_tree(kind: str, key: str) -> dict:
    """What an alert is about (Alert.entity_kind and entity_key) in the evidence's own keys, so
    that it is named and linked as the evidence is."""
    parts = key.split(":")

    def number(text: str):
        return int(text) if text.isdigit() else text
    shapes = {
        "transfer": lambda: {"transfer_id": number(key)},
        "household": lambda: {"household": key},
        "payee": lambda: ({"county": parts[0], "payee": parts[1]} if len(parts) == 2
                          else {"payee": key}),
        "project": lambda: {"project": key},
        "roll": lambda: {"roll": key},
        "roll_line": lambda: {"roll": key.rsplit(":", 1)[0], "line": key.rsplit(":", 1)[-1]},
        "lot_unit": lambda: {"lot_id": number(parts[0]), "unit": parts[-1]},
        "account": lambda: {"lot_id": number(parts[0]), "account_kind": parts[1],
                            "holder": ":".join(parts[2:])},
        "project_payee": lambda: {"project": parts[0], "payee": parts[-1]},
        "payee_use": lambda: {"project": parts[0], "payee": parts[1], "use": parts[-1]},
        "award": lambda: {"project": parts[0], "payee_name": ":".join(parts[1:])},
        "member": lambda: {"member_id": key},
        "complaint": lambda: {"complaint_id": parts[0]},
        "household_year": lambda: {"household": parts[0], "year": parts[-1]},
    }
    shape = shapes.get(kind)
    try:
        return shape() if shape else {"code": key}
    except (IndexError, ValueError):
        return {"code": key}


def entity(kind: str, key: str, names: Names) -> Markup:
    """An alert's entity as a person reads it: its kind, then its parts named and linked."""
    parts = [_scalar(k, v, names) for k, v in entity_tree(kind, key).items()]
    return Markup("{} ").format(label(ENTITIES, kind)) + Markup(" · ").join(parts)
