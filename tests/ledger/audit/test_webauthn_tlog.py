"""ledger.audit.tlog.webauthn against assertions made by a software authenticator.

`SoftAuthenticator` is an authenticator in software following W3C WebAuthn §6.1 (authenticator
data), §6.3.3 (authenticatorGetAssertion: the signature over authenticatorData || SHA-256 of
the client data) and §5.8.1 (clientDataJSON as a browser serialises it), with real keys from
`cryptography`: its signatures are real signatures, not mocks. Every assertion is also given to
py_webauthn's verify_authentication_response, so the two implementations are held to agree.
No database.
"""
from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from webauthn import verify_authentication_response
from webauthn.helpers.exceptions import InvalidAuthenticationResponse

from ledger.audit.tlog import cbormin
from ledger.audit.tlog import webauthn as wa

RP_ID = "fundtrail.example.cn"
ORIGIN = "https://fundtrail.example.cn"


class SoftAuthenticator:
    def __init__(self, alg: int, credential_id: bytes = b"cred-0001"):
        self.alg, self.credential_id, self.count = alg, credential_id, 0
        if alg == wa.ALG_ES256:
            self.private = ec.generate_private_key(ec.SECP256R1())
            n = self.private.public_key().public_numbers()
            self.cose = cbormin.encode({1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"),
                                        -3: n.y.to_bytes(32, "big")})
        else:
            self.private = Ed25519PrivateKey.generate()
            raw = self.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                         serialization.PublicFormat.Raw)
            self.cose = cbormin.encode({1: 1, 3: -8, -1: 6, -2: raw})

    def get(self, challenge: bytes, *, rp_id=RP_ID, origin=ORIGIN, kind="webauthn.get",
            flags=wa.FLAG_UP | wa.FLAG_UV, extra_client: dict | None = None) -> dict:
        self.count += 1
        client = {"type": kind, "challenge": wa.b64url_encode(challenge), "origin": origin,
                  "crossOrigin": False, **(extra_client or {})}
        client_json = json.dumps(client, separators=(",", ":")).encode()
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) \
            + self.count.to_bytes(4, "big")
        signed = auth_data + hashlib.sha256(client_json).digest()
        if self.alg == wa.ALG_ES256:
            sig = self.private.sign(signed, ec.ECDSA(hashes.SHA256()))
        else:
            sig = self.private.sign(signed)
        return {"authenticator_data": auth_data, "client_data_json": client_json,
                "signature": sig}

    def as_browser_json(self, a: dict) -> dict:
        """The PublicKeyCredential.toJSON() a browser posts, for py_webauthn."""
        cid = wa.b64url_encode(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key", "clientExtensionResults": {},
                "response": {"authenticatorData": wa.b64url_encode(a["authenticator_data"]),
                             "clientDataJSON": wa.b64url_encode(a["client_data_json"]),
                             "signature": wa.b64url_encode(a["signature"])}}


def _ours(auth: SoftAuthenticator, a: dict, challenge: bytes, **kw):
    return wa.verify_assertion(auth.cose, a["authenticator_data"], a["client_data_json"],
                               a["signature"], challenge=challenge, rp_id=kw.pop("rp_id", RP_ID),
                               origins=kw.pop("origins", [ORIGIN]), **kw)


def _theirs(auth: SoftAuthenticator, a: dict, challenge: bytes, require_uv=False):
    return verify_authentication_response(
        credential=auth.as_browser_json(a), expected_challenge=challenge, expected_rp_id=RP_ID,
        expected_origin=ORIGIN, credential_public_key=auth.cose,
        credential_current_sign_count=0, require_user_verification=require_uv)


@pytest.mark.parametrize("alg", [wa.ALG_ES256, wa.ALG_EDDSA])
def test_assertions_verify_as_py_webauthn_verifies_them(alg):
    auth = SoftAuthenticator(alg)
    intent = {"v": 1, "actor": "cz_approver", "kind": "transfer.approve", "time": 1,
              "nonce": "0123456789abcdef", "bind": {"transfer_id": 12}}
    challenge = wa.intent_challenge(intent)
    assert challenge == hashlib.sha256(b"fundtrail intent v1\n"
                                       + cbormin.encode(intent)).digest()
    good = auth.get(challenge)
    checked = _ours(auth, good, challenge, require_user_verification=True)
    assert (checked.user_present, checked.user_verified, checked.sign_count) == (True, True, 1)
    assert _theirs(auth, good, challenge, require_uv=True).new_sign_count == 1
    # The offline verifier knows no origins, only the key's RP ID: the origin must fit it.
    assert _ours(auth, good, challenge, origins=None).origin == ORIGIN

    # Each failure is refused by both implementations (the same assertion, one thing wrong).
    other = wa.intent_challenge({**intent, "bind": {"transfer_id": 13}})
    flipped = bytearray(good["signature"])
    flipped[-1] ^= 1
    cases = {
        "challenge": (good, other, {}),
        "type": (auth.get(challenge, kind="webauthn.create"), challenge, {}),
        "origin": (auth.get(challenge, origin="https://evil.example"), challenge, {}),
        "rp_id": (auth.get(challenge, rp_id="evil.example"), challenge, {}),
        "user_present": (auth.get(challenge, flags=0), challenge, {}),
        "user_verified": (auth.get(challenge, flags=wa.FLAG_UP), challenge,
                          {"require_user_verification": True}),
        "signature": ({**good, "signature": bytes(flipped)}, challenge, {}),
    }
    for reason, (assertion, expected, kw) in cases.items():
        with pytest.raises(wa.AssertionInvalid) as refused:
            _ours(auth, assertion, expected, **kw)
        assert refused.value.reason == reason
        with pytest.raises(InvalidAuthenticationResponse):
            _theirs(auth, assertion, expected,
                    require_uv=kw.get("require_user_verification", False))

    # A signature by another authenticator's key, and a key of another algorithm.
    stranger = SoftAuthenticator(alg)
    with pytest.raises(wa.AssertionInvalid, match="does not verify"):
        _ours(auth, stranger.get(challenge), challenge)
    with pytest.raises(wa.AssertionInvalid) as refused:
        wa.parse_cose_key(cbormin.encode({1: 2, 3: -257, -1: 1}))
    assert refused.value.reason == "cose_key"


def test_client_data_and_origin_edge_cases():
    auth = SoftAuthenticator(wa.ALG_ES256)
    challenge = b"\x01" * 32
    # Framed on another site, a repeated member, trailing bytes after the authenticator data.
    framed = auth.get(challenge, extra_client={"crossOrigin": True})
    with pytest.raises(wa.AssertionInvalid, match="cross-origin"):
        _ours(auth, framed, challenge)
    good = auth.get(challenge)
    doubled = good["client_data_json"][:-1] + b',"challenge":"AAAA"}'
    with pytest.raises(wa.AssertionInvalid, match="repeats"):
        _ours(auth, {**good, "client_data_json": doubled}, challenge)
    with pytest.raises(wa.AssertionInvalid, match="trailing"):
        _ours(auth, {**good, "authenticator_data": good["authenticator_data"] + b"x"},
              challenge)
    # Origins a browser could use for an RP ID, without a list of expected ones.
    assert wa.origin_fits_rp_id("https://fundtrail.example.cn", RP_ID)
    assert wa.origin_fits_rp_id("https://xian.fundtrail.example.cn:8443", RP_ID)
    assert wa.origin_fits_rp_id("http://localhost:5000", "localhost")
    for origin in ("http://fundtrail.example.cn", "https://evilfundtrail.example.cn",
                   "https://fundtrail.example.cn/x", "https://example.cn",
                   "http://localhost.evil:80"):
        assert not wa.origin_fits_rp_id(origin, RP_ID if "localhost" not in origin
                                        else "localhost"), origin


def test_intent_binds_actor_kind_time_details_and_rows():
    t = 1_800_000_000_000_000
    request = json.dumps({"kind": "pay", "payee": "P001", "amount_fen": 1234500})
    rows = [["transfers", [7], 1, None, {"kind": "pay", "amount_fen": 1234500,
                                         "idempotency_key": "V-1", "request": request}]]
    intent = {"v": 1, "actor": "cz_clerk", "kind": "transfer.record", "time": t - 60_000_000,
              "nonce": "a" * 32, "text": "支付 12,345.00 元", "bind": {},
              "rows": {"transfers": {"kind": "pay", "amount_fen": 1234500,
                                     "request": {"payee": "P001"}}}}
    entry = {"actor": "cz_clerk", "kind": "transfer.record", "time_us": t, "details": {},
             "rows": rows}
    assert wa.check_intent(intent, **entry) == []
    # Another payee than the one confirmed, another actor, a stale intent, a lost detail.
    redirected = json.dumps({"kind": "pay", "payee": "P666", "amount_fen": 1234500})
    wrong_rows = [["transfers", [7], 1, None, {**rows[0][4], "request": redirected}]]
    assert wa.check_intent(intent, **{**entry, "rows": wrong_rows}) \
        == ["no row of transfers in the entry is as confirmed"]
    assert "actor" in wa.check_intent(intent, **{**entry, "actor": "cz_approver"})[0]
    assert "10 minutes" in wa.check_intent(intent, **{**entry, "time_us": t + 11 * 60 * 10**6})[0]
    bound = {**intent, "bind": {"transfer_id": 7}}
    assert wa.check_intent(bound, **{**entry, "details": {"transfer_id": 8}}) \
        == ["details['transfer_id'] is not 7 as confirmed"]

    # The whole auth of an entry: assertion and intent together.
    auth = SoftAuthenticator(wa.ALG_EDDSA)
    signed = auth.get(wa.intent_challenge(intent))
    record = {"t": "webauthn", "key": wa.key_id_for_credential(auth.credential_id),
              "intent": intent, **signed}
    assert wa.verify_entry_auth(record, cose_key=auth.cose, rp_id=RP_ID, **entry) == []
    replayed = {**record, "intent": {**intent, "nonce": "b" * 32}}
    assert any(p.startswith("assertion:") for p in
               wa.verify_entry_auth(replayed, cose_key=auth.cose, rp_id=RP_ID, **entry))


def test_log_hooks_entry_auth_nonce_replay_and_proof_of_possession():
    """What ledger.audit.tlog.personal calls: the entry check (with the log-wide nonce set)
    and the enrolment's proof of possession."""
    from types import SimpleNamespace
    auth = SoftAuthenticator(wa.ALG_ES256, credential_id=b"\x07" * 16)
    key_id = wa.key_id_for_credential(auth.credential_id)
    key = SimpleNamespace(key_id=key_id, kind="webauthn", public_key=auth.cose, rp_id=RP_ID)
    t = 1_800_000_000_000_000
    intent = {"v": 1, "actor": "cz_approver", "kind": "transfer.approve", "time": t - 10**6,
              "nonce": "n" * 32, "text": "批准 转账 #12", "bind": {"transfer_id": 12}}
    record = {"t": "webauthn", "key": key_id, "intent": intent,
              **auth.get(wa.intent_challenge(intent))}
    body = [1, "origin", 5, b"\0" * 32, t, "cz_approver", "transfer.approve", [],
            {"transfer_id": 12}, record]
    audit = SimpleNamespace(seen_nonces=set())
    assert wa.check_entry_auth(key, record, body, b"", audit) is None
    # The same signed intent on a second entry: a replay.
    assert "used by an earlier entry" in wa.check_entry_auth(key, record, body, b"", audit)
    # An approval of another transfer under that assertion does not bind.
    other = body[:8] + [{"transfer_id": 13}, record]
    assert "details['transfer_id']" in wa.check_entry_auth(key, record, other, b"",
                                                            SimpleNamespace(seen_nonces=set()))

    statement = b"fundtrail key enrolment v1\nxian\ncz_clerk\n" + key_id.encode() + b"\n"
    proof = wa.encode_proof(**auth.get(wa.proof_challenge(statement)))
    assert wa.check_proof(auth.cose, proof, statement, RP_ID, key_id)
    assert not wa.check_proof(auth.cose, proof, statement.replace(b"cz_clerk", b"cz_boss"),
                              RP_ID, key_id)
    assert not wa.check_proof(SoftAuthenticator(wa.ALG_ES256).cose, proof, statement, RP_ID,
                              key_id)
    no_uv = wa.encode_proof(**auth.get(wa.proof_challenge(statement), flags=wa.FLAG_UP))
    assert not wa.check_proof(auth.cose, no_uv, statement, RP_ID, key_id)
