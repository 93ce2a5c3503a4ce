"""Auditor pages: the log's size and root, the latest checkpoint with its cosignatures, full
verification on demand (ledger.audit.verify), the offline bundle, proofs of single entries,
and the alert inbox when ledger.alerts is installed."""
from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

from flask import Blueprint, Response, flash, redirect, render_template, send_file, url_for

from ledger.audit import checkpoints as cps
from ledger.audit.tlog import proofs
from ledger.audit.verify import seal_interval_setting, verify
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.reading import scoped as reading
from ledger.store.access import Action
from web import db, unit
from web.access import actor, requires
from web.forms import DecisionForm
from web.i18n import gettext
from web.proofcheck import PolicyUnreadable, entry_proof, load_policy
from web.settings import current_settings

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _state() -> dict:
    """What the audit page shows: the log's head, the newest checkpoint with its
    cosignatures, the policy (None if no file is configured; `policy_problem` if the file is
    there but unusable) and whether the checkpoint meets the policy's quorum."""
    s = db.session()
    reading.require_whole_log(s, actor())
    latest = cps.latest(s)
    note = cps.with_cosignatures(s, latest) if latest else None
    policy = problem = quorum = None
    try:
        policy = load_policy(current_settings().ledger.policy_file)
    except PolicyUnreadable as exc:
        problem = exc
    if note and policy:
        try:
            quorum = sorted(policy.verify_checkpoint(note).witnesses)
        except ValueError as exc:
            quorum = str(exc)
    return {"head": cps.head(s), "latest": latest, "note": note, "policy": policy,
            "policy_problem": problem, "quorum": quorum,
            "policy_file": current_settings().ledger.policy_file}


@bp.route("/")
@requires(Action.AUDIT)
def index():
    return render_template("audit/index.html", report=None, form=DecisionForm(), **_state())


@bp.route("/verify", methods=["POST"])
@requires(Action.AUDIT)
def run_verify():
    form = DecisionForm()
    if not form.validate_on_submit():
        return redirect(url_for("audit.index"))
    state = _state()
    if state["policy_problem"] is not None:
        # Fail closed, as `fundtrail verify` exits 2: without the policy no signature or
        # quorum can be checked, so the log is not reported intact (nor verified at all).
        return render_template("audit/index.html", report=None, form=form, not_verified=True,
                               **state), 409
    # The sealing deadline of the deployment: past it, an unsealed log fails as on the CLI.
    report = verify(db.session(), policy=state["policy"],
                    seal_interval=seal_interval_setting(current_settings().ledger))
    return render_template("audit/index.html", report=report, form=form, **state), \
        (200 if report.intact else 409)


@bp.route("/bundle", methods=["POST"])
@requires(Action.AUDIT)
def bundle():
    from ledger.audit.export import export_bundle
    form = DecisionForm()
    if not form.validate_on_submit():
        return redirect(url_for("audit.index"))
    reading.require_whole_log(db.session(), actor())
    settings = current_settings().ledger
    try:
        policy = load_policy(settings.policy_file)
    except PolicyUnreadable as exc:
        flash(f"{gettext('策略文件无法使用')}: {exc}", "error")
        return redirect(url_for("audit.index"))
    if policy is None:
        flash(f"no policy file at {settings.policy_file}", "error")
        return redirect(url_for("audit.index"))
    work = Path(tempfile.mkdtemp(prefix="fundtrail-bundle-"))
    try:
        out, _size, _count = export_bundle(db.session(), work / "bundle",
                                           origin=settings.log_origin, policy=policy,
                                           policy_path=settings.policy_file)
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(out).rglob("*")):
                if path.is_file():
                    archive.write(path, Path("bundle") / path.relative_to(out))
    except PermissionDenied:
        raise  # the app's 403 page, never a flash that looks like a form error
    except LedgerError as exc:
        unit.show(exc)
        return redirect(url_for("audit.index"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    data.seek(0)
    return send_file(data, as_attachment=True, download_name="fundtrail-bundle.zip",
                     mimetype="application/zip")


@bp.route("/proof/<int:index>.txt")
@requires(Action.AUDIT)
def proof(index: int):
    s = db.session()
    reading.require_whole_log(s, actor())
    built = entry_proof(s, index)
    if built is None:
        flash(f"entry {index} is not covered by a signed checkpoint yet", "error")
        return redirect(url_for("audit.index"))
    return Response(proofs.encode_text(built), mimetype="text/plain; charset=utf-8")
