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

from ledger.reading import scoped as reading
from ledger.store.access import Action
from ledger.audit import checkpoints as cps
from ledger.audit.tlog import proofs
from ledger.audit.verify import verify
from ledger.core.errors import LedgerError
from web.settings import current_settings
from web import db
from web.views.auth import actor, requires
from web.forms import DecisionForm
from web.proofcheck import entry_proof, load_policy

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _state():
    s = db.session()
    reading.require_whole_log(s, actor())
    head = cps.head(s)
    latest = cps.latest(s)
    note = cps.with_cosignatures(s, latest) if latest else None
    policy = load_policy(current_settings().ledger.policy_file)
    quorum = None
    if note and policy:
        try:
            quorum = sorted(policy.verify_checkpoint(note).witnesses)
        except ValueError as exc:
            quorum = str(exc)
    return head, latest, note, policy, quorum


@bp.route("/")
@requires(Action.AUDIT)
def index():
    head, latest, note, policy, quorum = _state()
    return render_template("audit/index.html", head=head, latest=latest, note=note,
                           policy=policy, quorum=quorum, report=None, form=DecisionForm())


@bp.route("/verify", methods=["POST"])
@requires(Action.AUDIT)
def run_verify():
    form = DecisionForm()
    if not form.validate_on_submit():
        return redirect(url_for("audit.index"))
    head, latest, note, policy, quorum = _state()
    report = verify(db.session(), policy=policy)
    return render_template("audit/index.html", head=head, latest=latest, note=note,
                           policy=policy, quorum=quorum, report=report, form=form), \
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
    policy = load_policy(settings.policy_file)
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
    except LedgerError as exc:
        flash(str(exc), "error")
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
