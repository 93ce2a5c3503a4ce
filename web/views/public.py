"""Public pages (no sign-in): each village's notices and payment rolls as on the board, the
verification page the notice's QR code opens, and the published keys, policy and checkpoint."""
from __future__ import annotations

import base64
import re
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from ledger.audit import checkpoints as cps
from ledger.audit.tlog.proofs import encode_text
from ledger.reading import scoped as reading
from web import db
from web.forms import ProofForm
from web.i18n import current_language
from web.pagecache import RenderedPage, RenderedPages, ledger_state
from web.proofcheck import check, check_roll_entry, entry_proof_at, load_policy, public_roll
from web.settings import current_settings

bp = Blueprint("public", __name__)


@bp.route("/")
def index():
    """Counties; each county's page lists its townships and their villages."""
    return render_template("public/index.html", counties=reading.counties(db.session()))


@bp.route("/county/<county_code>")
def county(county_code: str):
    from ledger.models import RegionLevel
    s = db.session()
    region = reading.public_region(s, county_code, RegionLevel.COUNTY)
    return render_template("public/region.html", region=region, county=None,
                           towns=reading.townships_with_villages(s, county_code))


@bp.route("/township/<township_code>")
def township(township_code: str):
    from ledger.models import RegionLevel
    s = db.session()
    region = reading.public_region(s, township_code, RegionLevel.TOWNSHIP)
    county_row = reading.public_region(s, region.parent_code, RegionLevel.COUNTY)
    villages = dict(reading.townships_with_villages(s, county_row.code)).get(region, [])
    return render_template("public/region.html", region=region, county=county_row,
                           towns=[(region, villages)])


# A province's villages in both languages fit (a demo county has six; a real province a few
# thousand, of which the few hundred being looked at stay); a page is ≈ 15–20 kB.
VILLAGE_PAGES_KEPT = 512
# Seconds a browser or proxy may show the page without asking again. The server itself never
# serves a page older than the ledger (see web.pagecache); this is the only lag a visitor sees.
PUBLIC_MAX_AGE = 10


@bp.route("/village/<village_code>")
def village(village_code: str):
    if current_user.is_authenticated or "_flashes" in session:
        # The header names the signed-in user and holds their sign-out form's CSRF token, and
        # flashed messages are one visitor's: such a page is drawn for this request only.
        return _village_html(village_code)
    # Read before the page is drawn (whose session starts after): whatever is drawn is then
    # at least as new as the state it is filed under, never older than a state it is served
    # for.
    state = ledger_state(db.engine(), current_settings().ledger.log_origin)
    pages = village_pages(current_app)
    key = (village_code, current_language(), request.script_root)
    page = pages.get(key, state)
    if page is None:
        page = pages.put(key, state, _village_html(village_code).encode())
    return _anonymous_page(page)


def village_pages(app) -> RenderedPages:
    """This app's rendered village pages: one store per app, so per database (the state they
    are filed under names a log, not which database holds it)."""
    # dict.setdefault is atomic: threads racing on the first request share one store
    return app.extensions.setdefault("fundtrail_village_pages",
                                     RenderedPages(VILLAGE_PAGES_KEPT))


def _village_html(code: str) -> str:
    from ledger.disclosure.content import SUPERVISION_HOTLINE, display_name
    from ledger.disclosure.notices import project_notices, supervision_contacts
    s = db.session()
    region, town, county_row = reading.village_path(s, code)
    rolls = reading.village_rolls(s, code)
    latest = cps.latest(s)
    # A roll whose creation a signed checkpoint covers links to its check by entry number and
    # checkpoint size: the server builds the proof when the link is opened (docs/web.md).
    checked_at = {view.roll.code: latest.size for view, _lines in rolls
                  if latest is not None and view.roll.log_index < latest.size}
    names = current_settings().ledger.name_display
    projects = reading.village_projects(s, code)
    project_names = {p.code: p.name for p, _stage in projects}
    notices = [(n, project_names.get(n.project_code) or _project_name(s, n.project_code))
               for n in reversed(project_notices(s, region_code=code))]
    return render_template("public/village.html", village=region, town=town,
                           county=county_row, rolls=rolls,
                           notices=_published_rolls(s, code, rolls),
                           checked_at=checked_at, projects=projects,
                           publicity=_publicity(s, rolls), project_notices=notices,
                           contacts=supervision_contacts(s, code),
                           hotline=SUPERVISION_HOTLINE,
                           # names as the printed roll shows them ([reports] name_display)
                           board_name=lambda name: display_name(name, names))


def _project_name(s, code: str) -> str:
    from ledger.models import Project
    project = s.get(Project, code)
    return project.name if project else code


def _publicity(s, rolls) -> dict:
    """Each roll's publication as the ledger recorded it: a backdated one (补记公示) is marked on
    the village page with the day it was recorded and its reason."""
    from ledger.rolls.lifecycle import publicity
    days = current_settings().ledger.roll_publicity_working_days
    return {view.roll.code: publicity(s, view.roll, days) for view, _ in rolls}


def _anonymous_page(page: RenderedPage) -> Response:
    """The page every anonymous visitor gets, with its ETag; 304 when the visitor has it."""
    if request.if_none_match.contains_weak(page.etag):
        response = Response(status=304)
    else:
        response = Response(page.body, mimetype="text/html")
    response.set_etag(page.etag)
    # Shared caches may keep it only when this response sets no cookie: a visitor whose
    # session is being rewritten (Flask-Login clearing a stale one) gets the same bytes, but
    # their Set-Cookie must not be stored and handed to others.
    if current_app.session_interface.should_set_cookie(current_app, session):
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    response.vary.add("Cookie")   # the language is a cookie
    return response


MAX_PAYLOAD = 20_000   # characters of `p`: a printed QR carries about 1,250


@bp.route("/verify", methods=["GET", "POST"])
def verify_page():
    form = ProofForm()
    outcome = None
    proof_link = None
    # A policy file that is there but unusable raises PolicyUnreadable (503, app's handler):
    # nothing is checked, and nothing is said to be valid.
    policy = load_policy(current_settings().ledger.policy_file)
    if request.method == "GET" and request.args.get("entry"):
        s = db.session()
        index, size = _entry_args()
        roll = public_roll(s, index)
        proof = entry_proof_at(s, index, size) if roll is not None else None
        if proof is None:
            abort(404)
        village_code = request.args.get("village") or None
        if village_code is not None:
            reading.village(s, village_code)
        outcome = check_roll_entry(s, roll, proof, policy, village_code)
        proof_link = url_for("public.verify_proof_file", entry=index, size=proof.checkpoint.size)
    elif request.method == "GET" and request.args.get("p"):
        if len(request.args["p"]) > MAX_PAYLOAD:
            abort(400)
        outcome = check(request.args["p"], policy, db.session())
    elif form.validate_on_submit():
        outcome = check(form.proof.data, policy, db.session())
    status = 200 if outcome is None or outcome.ok else 422
    return render_template("public/verify.html", form=form, outcome=outcome,
                           proof_link=proof_link), status


@bp.route("/verify/proof.txt")
def verify_proof_file():
    """The proof the village page's link is checked with, as a C2SP tlog-proof file with the
    entry bytes: what `python -m ledger.audit.tlog.verify_proof` checks offline."""
    s = db.session()
    index, size = _entry_args()
    proof = entry_proof_at(s, index, size) if public_roll(s, index) is not None else None
    if proof is None:
        abort(404)
    return Response(encode_text(proof), mimetype="text/plain; charset=utf-8",
                    headers={"Content-Disposition":
                             f"attachment; filename=entry-{index}-size-{proof.checkpoint.size}"
                             ".proof.txt"})


def _entry_args() -> tuple[int, int | None]:
    """`entry` and `size` as ASCII digits (int() would also take "١", " 1" or "1_0")."""
    entry, size = request.args.get("entry", ""), request.args.get("size", "")
    if not _NUMBER.fullmatch(entry) or (size and not _NUMBER.fullmatch(size)):
        abort(404)
    index, size_ = int(entry), int(size) if size else None
    if index > MAX_INDEX or (size_ is not None and not 0 < size_ <= MAX_INDEX):
        abort(404)
    return index, size_


_NUMBER = re.compile(r"[0-9]{1,19}")
MAX_INDEX = 2**63 - 1


def _published_rolls(s, code: str, rolls) -> set[str]:
    """Codes of the rolls that have a published notice for this village (so a PDF exists)."""
    from ledger.disclosure.notices import latest_notice, subject_text
    from ledger.models.disclosure import NoticeKind
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
    policy = load_policy(current_settings().ledger.policy_file)  # unusable: 503, never a guess
    if policy is None:
        abort(404)
    return _text(policy.keys_text())


@bp.route("/checkpoint.txt")
def checkpoint_text():
    s = db.session()
    latest = cps.latest(s)
    return _text(cps.with_cosignatures(s, latest) if latest else None)


MAX_PROOF_SIZE = 2**63 - 1
MAX_COSIGNED_NOTE = 16_384   # bytes: a checkpoint with a few dozen signature lines


@bp.route("/log/consistency")
def consistency_proof():
    """RFC 9162 consistency proof between two sizes of the log, one base64 hash a line (the
    proof lines of C2SP tlog-witness add-checkpoint): what a witness on another machine checks
    before it cosigns. Read-only; `new` may not exceed the newest signed checkpoint."""
    from ledger.audit.tlog import merkle
    old, new = request.args.get("old", ""), request.args.get("new", "")
    if not (_NUMBER.fullmatch(old) and _NUMBER.fullmatch(new)):
        abort(400)
    old_size, new_size = int(old), int(new)
    s = db.session()
    latest = cps.latest(s)
    if latest is None or not 0 <= old_size <= new_size <= latest.size:
        abort(404)
    proof = merkle.consistency_proof(old_size, new_size, cps.node_reader(s)) \
        if 0 < old_size < new_size else []
    response = _text("".join(base64.b64encode(h).decode("ascii") + "\n" for h in proof))
    response.headers["Cache-Control"] = "public, max-age=3600"  # a proof never changes
    return response


@bp.route("/log/cosignature", methods=["POST"])
def witness_cosignature():
    """A witness publishes its cosignature: the checkpoint note with its cosignature/v1 line,
    as the form field `note`.
    Kept only when the line verifies against a witness key of the server's policy and the
    checkpoint is one this log signed; anything else is refused and nothing is written."""
    from ledger.core.errors import LedgerError
    policy = load_policy(current_settings().ledger.policy_file)
    if policy is None:
        abort(404)
    # A form post (field `note`), as every POST this app takes (web.app refuses other types).
    note = request.form.get("note", "")
    if not note:
        abort(400)
    if len(note) > MAX_COSIGNED_NOTE:
        abort(413)
    from sqlalchemy.exc import IntegrityError
    s = db.session()
    try:
        added = cps.add_cosignatures(s, note, policy)
        db.commit()
    except LedgerError as exc:
        db.rollback()
        status = {"checkpoint_unknown": 404, "cosignature_unverified": 403}.get(exc.code, 400)
        return Response(f"{exc.code}\n", status=status, mimetype="text/plain")
    except IntegrityError:
        db.rollback()  # the same witness's line, posted twice at once: the other one won
        added = []
    return Response("".join(f"{name}\n" for name in added) or "already held\n",
                    mimetype="text/plain; charset=utf-8")


@bp.record_once
def _witness_posts_carry_no_session(state) -> None:
    # A witness is a program on another machine with no session and no form: its POST is
    # authenticated by its signature alone (checked against the policy), so the CSRF token,
    # which protects a signed-in browser's session, does not apply to it.
    csrf = state.app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt("web.views.public.witness_cosignature")


@bp.route("/village/<village_code>/project/<project_code>.pdf")
def project_pdf(village_code: str, project_code: str):
    """The village's project notice (公示/公告) as printed, with its QR, when it has been
    published for this village and a cosigned checkpoint covers it."""
    from ledger.core.errors import LedgerError
    from ledger.models.disclosure import NoticeKind
    from reports.render import render_public
    settings = current_settings().ledger
    s = db.session()
    reading.village(s, village_code)
    subject = {"project": project_code, "village": village_code}
    policy = load_policy(settings.policy_file)   # unusable: 503, as for a roll
    try:
        pdf, _info = render_public(s, NoticeKind.PROJECT, subject, policy, "a4",
                                   settings.font_file, public_url=settings.public_url)
    except LedgerError:
        abort(404)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition":
                             f"inline; filename=project-{project_code}-{village_code}.pdf"})


@bp.route("/village/<village_code>/roll/<roll_code>.pdf")
def roll_pdf(village_code: str, roll_code: str):
    """The printed payment roll of this village (reports/), with its QR, when it has been
    published as a notice and a cosigned checkpoint covers it."""
    from ledger.core.errors import LedgerError
    from ledger.models.disclosure import NoticeKind
    from reports.render import render_public
    settings = current_settings().ledger
    s = db.session()
    reading.village(s, village_code)
    subject = {"roll": roll_code, "village": village_code, "names": settings.name_display}
    # The notice's QR is checked against the policy before it is printed: an unusable policy
    # file is a 503 (PolicyUnreadable), no policy file a 404 (LedgerError: nothing to print).
    policy = load_policy(settings.policy_file)
    try:
        pdf, _info = render_public(s, NoticeKind.ROLL, subject, policy, "a4", settings.font_file,
                                   public_url=settings.public_url)
    except LedgerError:
        abort(404)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition":
                             f"inline; filename=roll-{roll_code}-{village_code}.pdf"})
