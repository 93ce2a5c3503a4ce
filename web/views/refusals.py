"""Refused attempts (`/audit/refusals`): the movements the ledger refused as a control against
misuse, for auditors (ledger.funds.refusals_log). Read-only: a refused attempt is never
changed, only read; the service checks the auditor's scope (their own region and below, or a
region below it named in `?region=`)."""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, render_template, request

from ledger.funds.refusals_log import list_refused
from ledger.store.access import Action
from web import db
from web.access import actor, requires

bp = Blueprint("refusals", __name__, url_prefix="/audit/refusals")

# A region code as regions are coded (digits, or letters and digits in a test province).
_CODE = re.compile(r"[0-9A-Za-z_-]{1,40}")


@bp.route("/")
@requires(Action.AUDIT)
def index():
    me = actor()
    region = (request.args.get("region") or "").strip() or None
    if region is not None and not _CODE.fullmatch(region):
        abort(400)   # not a region code (and never sent to the database as one)
    since_text = (request.args.get("since") or "").strip()
    try:
        since = dt.date.fromisoformat(since_text) if since_text else None
    except ValueError:
        abort(400)
    rows = list_refused(db.session(), me, region=region, since=since)
    return render_template("audit/refusals.html", rows=rows, region=region or me.region_code,
                           since=since_text)
