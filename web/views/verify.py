"""The page a notice's QR opens (`/v#<proof>`), which checks the proof in the visitor's browser,
and the one thing it asks this server for besides the published policy: the notice's rows as
the server's database gives them now.

The QR's link carries the whole proof in its fragment (ledger.audit.tlog.proofs.proof_link),
which a browser never sends: the page's script (web/static/notice-check.js) decodes it and
checks the checkpoint's signatures, the witnesses' quorum of the published policy
(`/policy.txt`) and the inclusion of the notice's entry, with noble-ed25519 and noble-hashes
served from web/static/vendor/ (no Web Crypto: a phone on plain http has no secure context).
Then it hashes the rows this server gives for the notice (`/v/rows/N.json`) and compares them
with the digest the signed entry commits to. The server is never asked whether a proof is
valid; `/verify` (web.views.public) still checks pasted proofs on the server, as a fallback
for a browser without JavaScript, and says so.
"""
from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, Response, abort, g, redirect, render_template
from sqlalchemy import select

from ledger.core.errors import LedgerError
from ledger.disclosure.notices import content_for, parse_subject
from ledger.models.disclosure import Notice, NoticeKind
from web import db

bp = Blueprint("verify", __name__)

MAX_INDEX = 2**63 - 1


@bp.route("/v")
def page():
    g.csp_script_self = True   # the page's one same-origin module script (web/app.py)
    return render_template("public/check.html")


@bp.route("/v/rows/<int:index>.json")
def rows(index: int):
    """The rows of the notice published as log entry `index`, recomputed from this server's
    database now (as the ledger stood before that entry, ledger.disclosure.content), as the
    canonical JSON whose SHA-256 the entry commits to (`rows_digest`). The page hashes these
    exact bytes: equal means the server's rows are the printed ones; a row changed behind the
    log's back gives another digest. Only notice entries can be named (404 otherwise): they are
    what the boards print."""
    if index > MAX_INDEX:
        abort(404)
    s = db.session()
    notice = s.execute(select(Notice).where(Notice.log_index == index)).scalar_one_or_none()
    if notice is None:
        abort(404)
    try:
        content = content_for(s, NoticeKind(notice.kind), parse_subject(notice.subject),
                              _date(notice.display_from), _date(notice.display_to), index)
    except (LedgerError, KeyError, ValueError) as exc:
        # e.g. a roll notice on a server without the PII keys: the rows cannot be drawn
        from flask import current_app
        current_app.logger.warning("rows of notice entry %s cannot be recomputed: %s",
                                   index, exc)
        abort(503)
    body = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    response = Response(body.encode("utf-8"), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"   # "now": never an older copy
    return response


@bp.route("/v/village/<village_code>/roll/<roll_code>")
def roll_check(village_code: str, roll_code: str):
    """The village page's 核验此清册: the link this village's printed roll carries in its QR
    (the newest notice of the roll for the village, proved against the newest checkpoint),
    so that the check runs in the visitor's browser as a scanned QR's does. The server only
    assembles the proof; it is not asked whether it holds."""
    from ledger.audit.tlog import proofs
    from ledger.disclosure.notices import latest_notice, subject_text
    from ledger.reading import scoped as reading
    from web.proofcheck import entry_proof_at
    from web.settings import current_settings
    s = db.session()
    reading.village(s, village_code)   # NotFound (404) for a code that is no village
    names = current_settings().ledger.name_display
    try:
        subject = subject_text(roll=roll_code, village=village_code, names=names)
    except LedgerError:   # a code holding ';' or '=' names no roll
        abort(404)
    notice = latest_notice(s, NoticeKind.ROLL, subject)
    proof = entry_proof_at(s, notice.log_index) if notice is not None else None
    if proof is None:   # no notice, or no signed checkpoint holds it yet
        abort(404)
    return redirect(proofs.proof_link("", proofs.encode_compact(proof)), code=303)


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
