"""Public pages (no sign-in): each village's notices and payment rolls as on the board, the
verification page the notice's QR code opens, and the published keys, policy and checkpoint."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request

from ledger import reading
from ledger.audit import checkpoints as cps
from web import current_settings, db
from web.forms import ProofForm
from web.proofcheck import check, entry_qr_payload, load_policy

bp = Blueprint("public", __name__)


@bp.route("/")
def index():
    return render_template("public/index.html", villages=reading.villages(db.session()))


@bp.route("/village/<code>")
def village(code: str):
    s = db.session()
    region = reading.village(s, code)
    rolls = reading.village_rolls(s, code)
    proofs_of = {}
    for view, _lines in rolls:
        payload = entry_qr_payload(s, view.roll.log_index)
        if payload is not None:  # the roll as created is covered by a signed checkpoint
            proofs_of[view.roll.code] = payload
    return render_template("public/village.html", village=region, rolls=rolls,
                           notices=_published_rolls(s, code, rolls),
                           proofs_of=proofs_of, projects=reading.village_projects(s, code))


@bp.route("/verify", methods=["GET", "POST"])
def verify_page():
    form = ProofForm()
    outcome = None
    policy = load_policy(current_settings().ledger.policy_file)
    if request.method == "GET" and request.args.get("p"):
        if len(request.args["p"]) > 20_000:
            abort(400)
        outcome = check(request.args["p"], policy, db.session())
    elif form.validate_on_submit():
        outcome = check(form.proof.data, policy, db.session())
    status = 200 if outcome is None or outcome.ok else 422
    return render_template("public/verify.html", form=form, outcome=outcome), status


def _published_rolls(s, code: str, rolls) -> set[str]:
    """Codes of the rolls that have a published notice for this village (so a PDF exists)."""
    from ledger.notice_models import NoticeKind
    from ledger.notices import latest_notice, subject_text
    names = current_settings().ledger.name_display
    return {view.roll.code for view, _ in rolls if latest_notice(
        s, NoticeKind.ROLL, subject_text(roll=view.roll.code, village=code, names=names))}


def _text(body: str | None) -> Response:
    if body is None:
        abort(404)
    return Response(body, mimetype="text/plain; charset=utf-8")


@bp.route("/policy.txt")
def policy_text():
    path = Path(current_settings().ledger.policy_file)
    return _text(path.read_text(encoding="utf-8") if path.exists() else None)


@bp.route("/keys.txt")
def keys_text():
    policy = load_policy(current_settings().ledger.policy_file)
    if policy is None:
        abort(404)
    lines = [f"log {v.vkey}" for v in policy.logs]
    lines += [f"witness {name} {w.verifier.vkey}" for name, w in policy.witnesses.items()]
    return _text("\n".join(lines) + "\n")


@bp.route("/checkpoint.txt")
def checkpoint_text():
    s = db.session()
    latest = cps.latest(s)
    return _text(cps.with_cosignatures(s, latest) if latest else None)


@bp.route("/village/<code>/roll/<roll>.pdf")
def roll_pdf(code: str, roll: str):
    """The printed payment roll of this village (reports/), with its QR, when it has been
    published as a notice and a cosigned checkpoint covers it."""
    from ledger.errors import LedgerError
    from ledger.notice_models import NoticeKind
    from reports.render import render_public
    settings = current_settings().ledger
    s = db.session()
    reading.village(s, code)
    subject = {"roll": roll, "village": code, "names": settings.name_display}
    try:
        pdf, _info = render_public(s, NoticeKind.ROLL, subject,
                                   load_policy(settings.policy_file), "a4", settings.font_file)
    except LedgerError:
        abort(404)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=roll-{roll}-{code}.pdf"})
