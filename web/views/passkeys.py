"""Passkeys and security keys (WebAuthn): registering one, its four-eyes enrolment, and the
confirmation that signs each recording and approval (docs/passkeys.md).

Registration ("我的安全密钥", /passkeys/): the signed-in person creates a passkey
(navigator.credentials.create, verified with py_webauthn) and proves possession of it with a
first assertion over the enrolment statement (tlog.webauthn.check_proof). The registration
waits in `passkey_registrations` until an administrator files the enrolment request
(ledger.org.personal_keys.request_enrolment: only an administrator asks for a person's first
key) and a second administrator approves it (/passkeys/admin).

Confirmation of each write (the page "用安全密钥确认" and the signer it installs): web/confirm.py,
which the write views call (`confirm.gate`).
"""
from __future__ import annotations

import json
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from webauthn import (
    generate_registration_options,
    options_to_json,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ledger.audit.log import log_origin
from ledger.audit.tlog import personal
from ledger.audit.tlog import webauthn as wa
from ledger.funds.balances import descendants
from ledger.models import User
from ledger.models.passkeys import PasskeyRegistration
from ledger.models.personal_keys import PersonalKeyRequest
from ledger.org import personal_keys
from ledger.store.access import Action
from web import confirm, db, unit
from web.access import actor, requires, signed_in

bp = Blueprint("passkeys", __name__, url_prefix="/passkeys")

# Registrations a person may have waiting for an administrator at once (the table is
# append-only: this bounds what one account can add to it).
MAX_WAITING = 3


# ----------------------------------------------------------------------------- my keys

class RegisterForm(FlaskForm):
    pass


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="passkey-register")


def _waiting(s, username: str | None = None) -> list[PasskeyRegistration]:
    """Registrations no request has been filed for yet."""
    requested = select(PersonalKeyRequest.key_id)
    query = select(PasskeyRegistration).where(PasskeyRegistration.key_id.not_in(requested))
    if username is not None:
        query = query.where(PasskeyRegistration.username == username)
    return list(s.execute(query.order_by(PasskeyRegistration.id)).scalars())


@bp.route("/", methods=["GET", "POST"])
@signed_in
def mine():
    """我的安全密钥: my keys, my waiting registrations, and registering a new passkey."""
    s, me = db.session(), actor()
    rp = confirm.relying_party()
    form = RegisterForm()
    if request.method == "POST" and rp is not None and form.validate_on_submit():
        if _register(s, me, rp):
            return redirect(url_for("passkeys.mine"))
    keys = personal_keys.keys_of(s, me.username)
    pending = [r for r in personal_keys.pending_requests(s) if r.username == me.username]
    options = token = statement = None
    if rp is not None:
        challenge = secrets.token_bytes(32)
        options = options_to_json(generate_registration_options(
            rp_id=rp.rp_id, rp_name="fundtrail 资金追踪", user_name=me.username,
            user_id=f"fundtrail-user-{me.id}".encode(), user_display_name=me.display_name,
            challenge=challenge,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=wa.b64url_decode(
                k.key_id.removeprefix("webauthn:"))) for k in keys if k.kind == "webauthn"],
            supported_pub_key_algs=[wa.ALG_ES256, wa.ALG_EDDSA]))
        # Inside <script type="application/json">: no "</" may close the element early (a
        # display name is typed by an administrator).
        options = options.replace("</", "<\\/")
        token = _serializer().dumps({"u": me.username, "c": wa.b64url_encode(challenge)})
        # The proof of possession signs this statement with the new key's id appended.
        statement = personal.ENROLMENT_CONTEXT.decode() + f"{log_origin(s)}\n{me.username}\n"
        confirm.allow_script()
    return render_template("passkeys/mine.html", keys=keys, pending=pending,
                           waiting=_waiting(s, me.username), rp=rp, options=options,
                           token=token, statement=statement, form=form)


def _register(s, me: User, rp: confirm.RelyingParty) -> bool:
    """Check a posted registration and its proof of possession; keep it for an
    administrator. False (with a flashed reason) when anything is wrong."""
    try:
        held = _serializer().loads(request.form.get("token", ""),
                                   max_age=int(confirm.CHALLENGE_TTL.total_seconds()))
        if held.get("u") != me.username:
            raise BadSignature("another person's form")
        verified = verify_registration_response(
            credential=request.form.get("registration", ""),
            expected_challenge=wa.b64url_decode(held["c"]), expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins), require_user_verification=True,
            supported_pub_key_algs=[wa.ALG_ES256, wa.ALG_EDDSA])
        key_id = wa.key_id_for_credential(verified.credential_id)
        proof_json = json.loads(request.form.get("proof", ""))
        response = proof_json["response"]
        proof = wa.encode_proof(wa.b64url_decode(response["authenticatorData"]),
                                wa.b64url_decode(response["clientDataJSON"]),
                                wa.b64url_decode(response["signature"]))
        statement = personal.enrolment_statement(log_origin(s), me.username, key_id)
        if not wa.check_proof(verified.credential_public_key, proof, statement, rp.rp_id,
                              key_id):
            raise ValueError("proof of possession")
    except (BadSignature, InvalidRegistrationResponse, wa.AssertionInvalid, ValueError,
            KeyError, TypeError):
        flash("安全密钥登记未通过校验，请重试 (the passkey registration did not verify)",
              "error")
        return False
    if len(_waiting(s, me.username)) >= MAX_WAITING:
        flash(f"已有 {MAX_WAITING} 把安全密钥等待办理，请先请管理员办理 (too many waiting)",
              "error")
        return False
    if s.execute(select(PasskeyRegistration.id).where(
            PasskeyRegistration.key_id == key_id)).first() is not None:
        flash("这个安全密钥已经登记过 (this passkey is already registered)", "error")
        return False
    s.add(PasskeyRegistration(user_id=me.id, username=me.username, key_id=key_id,
                              public_key=verified.credential_public_key, rp_id=rp.rp_id,
                              proof=proof, sign_count=verified.sign_count,
                              created_at=confirm.now()))
    db.commit()
    flash(f"安全密钥已登记，等待管理员办理启用：{_short(key_id)}", "ok")
    return True


def _short(key_id: str) -> str:
    """The few characters a person and an administrator compare aloud."""
    return key_id.removeprefix("webauthn:")[:12]


# ----------------------------------------------------------------------------- administrators

class DecideForm(FlaskForm):
    pass


@bp.route("/admin", methods=["GET"])
@requires(Action.ADMINISTER)
def admin():
    """Registrations and requests of people in the administrator's region and below."""
    s, me = db.session(), actor()
    in_scope = set(s.execute(select(User.id).where(
        User.region_code.in_(descendants(s, me.region_code)))).scalars())
    return render_template(
        "passkeys/admin.html", waiting=[r for r in _waiting(s) if r.user_id in in_scope],
        pending=[r for r in personal_keys.pending_requests(s) if r.user_id in in_scope],
        form=DecideForm(), short=_short)


@bp.route("/admin/registrations/<int:registration_id>/file", methods=["POST"])
@requires(Action.ADMINISTER)
def file_request(registration_id: int):
    """The first administrator files the enrolment request of a waiting registration."""
    s, me = db.session(), actor()
    if not DecideForm().validate_on_submit():
        abort(400)
    reg = s.get(PasskeyRegistration, registration_id)
    if reg is None:
        abort(404)
    page = confirm.gate("key.request", f"申请启用 {reg.username} 的安全密钥 {_short(reg.key_id)}",
                bind={"username": reg.username, "key_id": reg.key_id})
    if page is not None:
        return page
    unit.run(lambda: personal_keys.request_enrolment(
        s, me, reg.username, "webauthn", bytes(reg.public_key), bytes(reg.proof),
        rp_id=reg.rp_id, credential_id=reg.key_id), done="已提交，等待另一名管理员批准")
    return redirect(url_for("passkeys.admin"))


@bp.route("/admin/requests/<int:request_id>/approve", methods=["POST"])
@requires(Action.ADMINISTER)
def approve_request(request_id: int):
    """A second administrator approves an enrolment request: the key is valid from then."""
    s, me = db.session(), actor()
    if not DecideForm().validate_on_submit():
        abort(400)
    found = [r for r in personal_keys.pending_requests(s) if r.id == request_id]
    if not found or found[0].action != personal_keys.ENROL:
        abort(404)
    req = found[0]
    page = confirm.gate("key.approve", f"批准启用 {req.username} 的安全密钥 {_short(req.key_id)}"
                               f"（申请 #{req.id}，申请人 {req.requested_by}）",
                bind={"username": req.username, "key_id": req.key_id, "request": req.id})
    if page is not None:
        return page
    unit.run(lambda: personal_keys.approve_enrolment(s, me, request_id),
             done="已批准，该安全密钥即时生效")
    return redirect(url_for("passkeys.admin"))


