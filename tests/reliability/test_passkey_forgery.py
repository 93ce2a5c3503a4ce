"""Attack: approvals in an approver's name without their passkey (issue 19, attack 1; the web's
half). Before issue 19 an approval written with database access and the project's own service
in the approver's name was indistinguishable from theirs; `verify` said "intact".

The approver holds a WebAuthn key (a software authenticator following the spec, with real
P-256 keys: tests/ledger/audit/test_webauthn_tlog.py), enrolled four-eyes. One genuine approval
carries their assertion over its intent. With only the database and the project's code an
attacker then (1) approves another transfer in their name with no signature, (2) copies the
genuine `auth` onto a forged approval of another transfer, (3) has the web's signer sign an
entry other than the one confirmed. `verify` and the offline bundle verifier report (1) and
(2); the signer refuses (3), so nothing is written. Runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import secrets

import pytest
from sqlalchemy import select

from ledger.audit.log import install_signer, log_origin
from ledger.audit.tlog import personal
from ledger.audit.tlog import webauthn as wa
from ledger.audit.verify import verify
from ledger.core.errors import LedgerError
from ledger.funds import flows, posting
from ledger.models import Approval, Role
from ledger.org import personal_keys, regions
from ledger.store.db import transaction
from tests.ledger.audit.test_webauthn_tlog import RP_ID, SoftAuthenticator
from tests.reliability.conftest import bundle_findings
from tests.world import CITY, DAY, PROVINCE
from web.confirm import IntentSigner


def _pay(s, world, key: str) -> int:
    """A pending allocation from the province, for the province's approver to decide."""
    return flows.allocate(s, world.user(s, "p_clerk"), lot_id=world.lot_id,
                          from_region=PROVINCE, to_region=CITY, amount_fen=50_00,
                          effective_date=DAY, key=key).id


def _approval_intent(transfer_id: int) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    return {"v": wa.INTENT_VERSION, "actor": "p_approver", "kind": "transfer.approved",
            "text": f"批准 转账 #{transfer_id}", "bind": {"transfer_id": transfer_id},
            "rows": {"approvals": {"transfer_id": transfer_id, "decision": "approved"}},
            "nonce": secrets.token_hex(16),
            "time": (now - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
            // dt.timedelta(microseconds=1)}


def _signature_findings(world) -> list[str]:
    with world.factory() as s:
        return [f.message for f in verify(s).findings if f.kind == "signature"]


def test_forged_approvals_in_a_passkey_holders_name_are_found(world, ft, tmp_path):
    authenticator = SoftAuthenticator(wa.ALG_ES256, credential_id=secrets.token_bytes(16))
    key_id = wa.key_id_for_credential(authenticator.credential_id)
    with transaction(world.factory) as s:
        admin = world.user(s, "admin")
        second = regions.add_user(s, admin, username="admin2", display_name="副管理员",
                                  role=Role.ADMIN, region_code=admin.region_code)
        statement = personal.enrolment_statement(log_origin(s), "p_approver", key_id)
        proof = wa.encode_proof(**authenticator.get(wa.proof_challenge(statement)))
        request = personal_keys.request_enrolment(
            s, admin, "p_approver", "webauthn", authenticator.cose, proof, rp_id=RP_ID,
            credential_id=key_id)
        s.flush()
        personal_keys.approve_enrolment(s, second, request)
        genuine, other, third = (_pay(s, world, f"PK-{n}") for n in range(3))

    # The approver confirms the genuine approval with their passkey.
    intent = _approval_intent(genuine)
    signed = authenticator.get(wa.intent_challenge(intent))
    with transaction(world.factory) as s:
        install_signer(s, IntentSigner("p_approver", intent, key_id, signed))
        posting.approve(s, world.user(s, "p_approver"), genuine)
    assert _signature_findings(world) == []
    assert "NOT INTACT" not in bundle_findings(ft, tmp_path, "clean")

    # (1) With database access: approve in their name, unsigned.
    with transaction(world.factory) as s:
        posting.approve(s, world.user(s, "p_approver"), other)
    # (2) The genuine assertion copied onto a forged approval of another transfer.
    with transaction(world.factory) as s:
        stolen = IntentSigner("p_approver", {**intent, "bind": {"transfer_id": third}},
                              key_id, signed)
        install_signer(s, stolen)
        posting.approve(s, world.user(s, "p_approver"), third)
    findings = _signature_findings(world)
    assert len(findings) == 2, findings
    assert "not signed, though p_approver holds key" in findings[0]
    assert key_id in findings[1] and "assertion" in findings[1]
    offline = bundle_findings(ft, tmp_path, "forged")
    assert "NOT INTACT" in offline and "in the name of p_approver: not signed" in offline
    assert f"{key_id}: assertion" in offline and "used by an earlier entry" in offline

    # (3) The web's signer signs only what was confirmed: a rejection under an approval's
    # confirmation is refused, and nothing of it is written.
    fourth = None
    with transaction(world.factory) as s:
        fourth = _pay(s, world, "PK-4")
    with pytest.raises(LedgerError) as refused, transaction(world.factory) as s:
        install_signer(s, IntentSigner("p_approver", _approval_intent(fourth), key_id,
                                       authenticator.get(b"\0" * 32)))
        posting.reject(s, world.user(s, "p_approver"), fourth, "退回")
    assert refused.value.code == "personal_key_required"
    with world.factory() as s:
        assert s.execute(select(Approval).where(Approval.transfer_id == fourth)).first() \
            is None
