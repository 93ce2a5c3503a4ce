"""Passkeys and security keys (WebAuthn): registering one, its four-eyes enrolment, and the
confirmation that signs each recording and approval (docs/passkeys.md).

Registration ("我的安全密钥", /passkeys/): the signed-in person creates a passkey
(navigator.credentials.create, verified with py_webauthn) and proves possession of it with a
first assertion over the enrolment statement (tlog.webauthn.check_proof). The registration
waits in `passkey_registrations` until an administrator files the enrolment request
(ledger.org.personal_keys.request_enrolment: only an administrator asks for a person's first
key) and a second administrator approves it (/passkeys/admin).

Confirmation (`gate`): a write view calls `gate(...)` with the intent of the change — entry
kind, what the person reads, the details and row values the entry will hold. A person without
a key goes on unsigned (unless the deployment requires signatures: "请先登记安全密钥"). A person
with a passkey first gets a confirmation page stating the intent in Chinese; their browser signs
challenge = SHA-256(b"fundtrail intent v1\\n" + canonical CBOR of the intent) and posts the
assertion back with the same form; the server checks it (py_webauthn: origin, RP ID, user
verification, signature counter; and the log's own check, tlog.webauthn), consumes the nonce
and installs a signer on the request's session that gives the entry its `auth` map
{"t": "webauthn", "key", "intent", "authenticator_data", "client_data_json", "signature"}.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from webauthn import (
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ledger.audit.log import install_signer, log_origin
from ledger.audit.tlog import cbormin, personal
from ledger.audit.tlog import webauthn as wa
from ledger.core.errors import LedgerError
from ledger.models import User
from ledger.models.passkeys import PasskeyChallenge, PasskeyCounter, PasskeyRegistration
from ledger.models.personal_keys import PersonalKeyRequest
from ledger.org import personal_keys
from ledger.store.access import Action
from web import db, unit
from web.access import actor, requires, signed_in
from web.proofcheck import load_policy
from web.settings import current_settings

bp = Blueprint("passkeys", __name__, url_prefix="/passkeys")

INTENT = "intent"
PASSKEY_FIELDS = ("passkey_nonce", "passkey_assertion", "csrf_token")
# How long a confirmation page (and a registration form) stays valid.
CHALLENGE_TTL = dt.timedelta(minutes=10)
REFUSE_WITHOUT_KEY = "请先登记安全密钥"


# ----------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origins: tuple[str, ...]
    required: bool = False      # signatures required: a person without a key may not write


def relying_party() -> RelyingParty | None:
    """The deployment's WebAuthn relying party: [web] passkey_rp_id, passkey_origins and
    passkeys_required in the configuration (or WebSettings.extra["passkeys"]); None when
    passkeys are not configured."""
    settings = current_settings()
    conf = settings.extra.get("passkeys") if isinstance(settings.extra, dict) else None
    if conf is None:
        web = settings.ledger.extra.get("web", {}) if isinstance(settings.ledger.extra,
                                                                  dict) else {}
        conf = {"rp_id": web.get("passkey_rp_id"), "origins": web.get("passkey_origins"),
                "required": web.get("passkeys_required", False)}
    if not conf.get("rp_id") or not conf.get("origins"):
        return None
    origins = conf["origins"]
    return RelyingParty(str(conf["rp_id"]), tuple([origins] if isinstance(origins, str)
                                                  else origins), bool(conf.get("required")))


def _signatures_required(rp: RelyingParty | None) -> bool:
    """Whether a person without a key may not write: the deployment says so, or the log's
    policy carries "#fundtrail signatures required" (then `verify` reports every unsigned
    entry, so the web refuses to write one)."""
    if rp is not None and rp.required:
        return True
    path = current_settings().ledger.policy_file
    policy = load_policy(path) if path else None
    return bool(policy is not None and policy.signatures_required)


def _allow_script() -> None:
    """This page runs web/static/passkey.js: web.app's CSP allows same-origin scripts on it."""
    g.csp_script_self = True


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _micros(when: dt.datetime) -> int:
    return int((when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
               / dt.timedelta(microseconds=1))


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
    rp = relying_party()
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
        _allow_script()
    return render_template("passkeys/mine.html", keys=keys, pending=pending,
                           waiting=_waiting(s, me.username), rp=rp, options=options,
                           token=token, statement=statement, form=form)


def _register(s, me: User, rp: RelyingParty) -> bool:
    """Check a posted registration and its proof of possession; keep it for an
    administrator. False (with a flashed reason) when anything is wrong."""
    try:
        held = _serializer().loads(request.form.get("token", ""),
                                   max_age=int(CHALLENGE_TTL.total_seconds()))
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
    if s.execute(select(PasskeyRegistration.id).where(
            PasskeyRegistration.key_id == key_id)).first() is not None:
        flash("这个安全密钥已经登记过 (this passkey is already registered)", "error")
        return False
    s.add(PasskeyRegistration(user_id=me.id, username=me.username, key_id=key_id,
                              public_key=verified.credential_public_key, rp_id=rp.rp_id,
                              proof=proof, sign_count=verified.sign_count, created_at=_now()))
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
    s = db.session()
    return render_template("passkeys/admin.html", waiting=_waiting(s),
                           pending=personal_keys.pending_requests(s), form=DecideForm(),
                           short=_short)


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
    page = gate("key.request", f"申请启用 {reg.username} 的安全密钥 {_short(reg.key_id)}",
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
    page = gate("key.approve", f"批准启用 {req.username} 的安全密钥 {_short(req.key_id)}"
                               f"（申请 #{req.id}，申请人 {req.requested_by}）",
                bind={"username": req.username, "key_id": req.key_id, "request": req.id})
    if page is not None:
        return page
    unit.run(lambda: personal_keys.approve_enrolment(s, me, request_id),
             done="已批准，该安全密钥即时生效")
    return redirect(url_for("passkeys.admin"))


# ----------------------------------------------------------------------------- confirmation

@dataclass
class IntentSigner:
    """The web's signer for one request (ledger.audit.log.Signer): the one entry of the
    confirmed kind in the confirming person's name gets the assertion as its `auth`."""
    username: str
    intent: dict
    key_id: str
    assertion: dict
    used: bool = field(default=False)

    def speaks_for(self, actor_name: str) -> bool:
        return actor_name == self.username

    def authorise(self, actor_name: str, kind: str, details: dict, tbs: bytes) -> dict:
        bind = self.intent.get("bind", {})
        if self.used or kind != self.intent["kind"] \
                or any(details.get(k) != v for k, v in bind.items()):
            # The change is not what the person confirmed: it is not written at all.
            raise LedgerError(f"{actor_name} confirmed {self.intent['kind']}, not this "
                              f"{kind}", code="personal_key_required", username=actor_name)
        self.used = True
        return {"t": personal.WEBAUTHN, "key": self.key_id, "intent": self.intent,
                **self.assertion}


def gate(kind: str, text: str, *, bind: dict | None = None, rows: dict | None = None):
    """Before a write in the actor's name: None to go on (unsigned, or with a verified
    signer installed on the request's session), or the response to return instead (the
    confirmation page, or a refusal)."""
    s, me = db.session(), actor()
    keys = [k for k in personal_keys.keys_of(s, me.username) if k.valid]
    rp = relying_party()
    if not keys:
        if _signatures_required(rp):
            flash(REFUSE_WITHOUT_KEY + " (register a passkey first: signatures are required)",
                  "error")
            return redirect(url_for("passkeys.mine"))
        return None
    passkeys = [k for k in keys if k.kind == personal.WEBAUTHN]
    if not passkeys or rp is None:
        flash("您的签名密钥不是本网站的安全密钥：请用命令行办理此项操作，或登记安全密钥 "
              "(your signing key cannot sign here: use the command line, or register a "
              "passkey)", "error")
        return redirect(url_for("passkeys.mine"))
    wanted = {"v": wa.INTENT_VERSION, "actor": me.username, "kind": kind, "text": text,
              "bind": bind or {}, "rows": rows or {}}
    if request.form.get("passkey_assertion"):
        problem = _accept(s, me, wanted, passkeys, rp)
        if problem is None:
            return None
        flash(problem, "error")
    return _confirmation_page(s, me, wanted, passkeys, rp)


def _confirmation_page(s, me: User, wanted: dict, passkeys, rp: RelyingParty):
    nonce = secrets.token_hex(16)
    intent = {**wanted, "nonce": nonce, "time": _micros(_now())}
    s.add(PasskeyChallenge(nonce=nonce, username=me.username, purpose=INTENT,
                           payload=cbormin.encode(intent), created_at=_now()))
    db.commit()
    _allow_script()
    echoed = [(name, value) for name, value in request.form.items(multi=True)
              if name not in PASSKEY_FIELDS]
    return render_template(
        "passkeys/confirm.html", intent=intent, echoed=echoed, action=request.path,
        nonce=nonce, challenge=wa.b64url_encode(wa.intent_challenge(intent)), rp=rp,
        credentials=[k.key_id.removeprefix("webauthn:") for k in passkeys]), 200


def _take_challenge(s, me: User, nonce: str) -> dict | None:
    """The intent a confirmation page asked `me` to sign, removed so that it is used once."""
    row = s.get(PasskeyChallenge, nonce) if isinstance(nonce, str) and len(nonce) <= 64 \
        else None
    if row is None or row.username != me.username or row.purpose != INTENT:
        return None
    intent = cbormin.decode(bytes(row.payload))
    created = row.created_at if row.created_at.tzinfo else \
        row.created_at.replace(tzinfo=dt.timezone.utc)
    s.execute(delete(PasskeyChallenge).where(PasskeyChallenge.nonce == nonce))
    # Also sweep the person's stale confirmations.
    s.execute(delete(PasskeyChallenge).where(PasskeyChallenge.username == me.username,
                                             PasskeyChallenge.created_at < _now()
                                             - CHALLENGE_TTL))
    db.commit()  # consumed even if what follows fails: a nonce is never accepted twice
    return intent if _now() - created <= CHALLENGE_TTL else None


def _accept(s, me: User, wanted: dict, passkeys, rp: RelyingParty) -> str | None:
    """Check the posted assertion against the intent of the posted nonce; install the signer.
    The problem, in Chinese, when it does not hold."""
    intent = _take_challenge(s, me, request.form.get("passkey_nonce"))
    if intent is None:
        return "确认已失效或已使用，请重新确认 (the confirmation expired or was used)"
    if {k: v for k, v in intent.items() if k not in ("nonce", "time")} != wanted:
        return "确认的内容与提交的不一致，请重新确认 (the form differs from what was confirmed)"
    try:
        posted = json.loads(request.form["passkey_assertion"])
        key_id = wa.key_id_for_credential(wa.b64url_decode(posted["rawId"]))
        key = next((k for k in passkeys if k.key_id == key_id), None)
        if key is None:
            return "这个安全密钥不是您已启用的密钥 (not one of your enrolled passkeys)"
        counter = s.get(PasskeyCounter, key_id)
        challenge = wa.intent_challenge(intent)
        checked = verify_authentication_response(
            credential=posted, expected_challenge=challenge, expected_rp_id=key.rp_id,
            expected_origin=list(rp.origins), credential_public_key=key.public_key,
            credential_current_sign_count=counter.sign_count if counter else 0,
            require_user_verification=True)
        response = posted["response"]
        assertion = {"authenticator_data": wa.b64url_decode(response["authenticatorData"]),
                     "client_data_json": wa.b64url_decode(response["clientDataJSON"]),
                     "signature": wa.b64url_decode(response["signature"])}
        # The log's own check, as `fundtrail verify` and the offline verifier will run it.
        wa.verify_assertion(key.public_key, **assertion, challenge=challenge,
                            rp_id=key.rp_id, origins=rp.origins,
                            require_user_verification=True)
    except (InvalidAuthenticationResponse, wa.AssertionInvalid, ValueError, KeyError,
            TypeError):
        return "安全密钥确认未通过校验 (the passkey assertion did not verify)"
    if counter is None:
        s.add(PasskeyCounter(key_id=key_id, sign_count=checked.new_sign_count, used_at=_now()))
    else:
        counter.sign_count, counter.used_at = checked.new_sign_count, _now()
    # The counter moves with the change: committed by the change's unit of work.
    install_signer(s, IntentSigner(me.username, intent, key_id, assertion))
    return None
