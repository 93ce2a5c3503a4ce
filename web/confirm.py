"""The passkey confirmation of a write (docs/passkeys.md): `gate`, which each write view calls
before it runs its service, and the signer it installs on the request's session.

A person without a key goes on unsigned (unless signatures are required: "请先登记安全密钥").
A person with a passkey first gets a confirmation page stating the intent in Chinese; their
browser signs challenge = SHA-256(b"fundtrail intent v1\\n" + canonical CBOR of the intent) and
posts the assertion back with the same form; the server consumes the nonce, checks the form
still says what was confirmed, verifies the assertion (py_webauthn: origin, RP ID, user
verification, signature counter; and the log's own check, tlog.webauthn) and installs
`IntentSigner`, which gives the one confirmed entry its `auth` map {"t": "webauthn", "key",
"intent", "authenticator_data", "client_data_json", "signature"}.

Registration and enrolment pages: web/views/passkeys.py.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import delete
from webauthn import verify_authentication_response
from webauthn.helpers.exceptions import InvalidAuthenticationResponse

from ledger.audit.log import install_signer
from ledger.audit.tlog import cbormin, personal
from ledger.audit.tlog import webauthn as wa
from ledger.core.errors import LedgerError
from ledger.models import User
from ledger.models.passkeys import PasskeyChallenge, PasskeyCounter
from ledger.org import personal_keys
from web import db
from web.access import actor
from web.proofcheck import load_policy
from web.settings import current_settings

INTENT = "intent"
PASSKEY_FIELDS = ("passkey_nonce", "passkey_assertion", "csrf_token")
# How long a confirmation page (and a registration form) stays valid.
CHALLENGE_TTL = dt.timedelta(minutes=10)
REFUSE_WITHOUT_KEY = "请先登记安全密钥"
# Entries the web writes in a person's name that no confirmation covers: sign-in events, and the
# record of a refused attempt (ledger.funds.refusals_log), written after the refused change
# rolled back. They stay unsigned (docs/passkeys.md, "Limits").
UNSIGNABLE_KINDS = frozenset(personal.EVENT_KINDS)


@dataclass
class UnconfirmedSigner:
    """Installed for every form post of a person holding a valid key, until `gate` replaces
    it with their confirmed signer: a change in their name that no confirmation covers (a page
    without a confirmation step) is refused, never written unsigned."""
    username: str

    def speaks_for(self, actor_name: str) -> bool:
        return actor_name == self.username

    def authorise(self, actor_name: str, kind: str, details: dict, tbs: bytes) -> None:
        if kind in UNSIGNABLE_KINDS:
            return None
        raise LedgerError(f"{actor_name} holds a signing key: this change ({kind}) must be "
                          "signed, and this page cannot confirm it with a passkey yet; use the "
                          "command line (fundtrail, with your key file)",
                          code="personal_key_required", username=actor_name)


def install(app) -> None:
    """Before each form post by a signed-in person who holds a valid key: the refusing
    signer above (web.app calls this once)."""
    from flask_login import current_user

    @app.before_request
    def refuse_unconfirmed_changes():
        if request.method in ("GET", "HEAD", "OPTIONS") or not current_user.is_authenticated:
            return
        username = current_user.user.username
        if personal_keys.holds_key(db.session(), username):
            install_signer(db.session(), UnconfirmedSigner(username))


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


def allow_script() -> None:
    """This page runs web/static/passkey.js: web.app's CSP allows same-origin scripts on it."""
    g.csp_script_self = True


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _micros(when: dt.datetime) -> int:
    return int((when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
               / dt.timedelta(microseconds=1))


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

    def authorise(self, actor_name: str, kind: str, details: dict, tbs: bytes) -> dict | None:
        if kind in UNSIGNABLE_KINDS:
            return None
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
    intent = {**wanted, "nonce": nonce, "time": _micros(now())}
    s.add(PasskeyChallenge(nonce=nonce, username=me.username, purpose=INTENT,
                           payload=cbormin.encode(intent), created_at=now()))
    db.commit()
    allow_script()
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
                                             PasskeyChallenge.created_at < now()
                                             - CHALLENGE_TTL))
    db.commit()  # consumed even if what follows fails: a nonce is never accepted twice
    return intent if now() - created <= CHALLENGE_TTL else None


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
        s.add(PasskeyCounter(key_id=key_id, sign_count=checked.new_sign_count, used_at=now()))
    else:
        counter.sign_count, counter.used_at = checked.new_sign_count, now()
    # The counter moves with the change: committed by the change's unit of work.
    install_signer(s, IntentSigner(me.username, intent, key_id, assertion))
    return None
