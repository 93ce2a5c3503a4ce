"""Red team, attack 1 (issue 19): with the database and the project's own code — services
called directly, no key — record a payment as the clerk and approve it as the approver. Both
hold keys, so `fundtrail verify` and the offline bundle verifier name the entries and the
people. The honest path (the command line with each person's key file) verifies clean; a
revoked key's later signature, a signature moved to another entry and another person's key
file are caught too; a policy requiring signatures makes key-less entries findings.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import func, select

from ledger.audit.log import install_signer
from ledger.audit.tlog import personal
from ledger.funds import lots, posting
from ledger.models import AuditEntry, SourceLevel
from ledger.org import personal_keys
from ledger.org.regions import get_user
from ledger.store.db import make_sessionmaker, transaction
from tests.conftest import TEST_CONTEXT, TEST_KEY_PASSPHRASE
from tests.reliability.conftest import bundle_findings

APPROPRIATION = ("--source-level", "central", "--year", "2025", "--title", "衔接资金",
                 "--function-code", "2130505", "--use", "industry")
REGION = {"p_clerk": "430000", "k_clerk": "430121"}   # tests/world.py



def _appropriate(ft, who, doc, *extra):
    code, out, err = ft("--as", who, *extra, "appropriate", "--doc", doc, "--amount", "1000",
                        *APPROPRIATION, "--region", REGION[who], "--json")
    return code, (json.loads(out)["id"] if code == 0 else None), err


def _entries(factory) -> int:
    with factory() as s:
        return s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()



def test_forged_recording_and_approval_are_found(ft, engine, factory, personal_key_dir,
                                                 tmp_path):
    # The honest path: each person signs with their own key file; verify is clean.
    code, honest, err = _appropriate(ft, "p_clerk", "财农〔2025〕1号")
    assert code == 0, err
    assert ft("--as", "p_approver", "approve", str(honest))[0] == 0
    code, out, _ = ft("verify")
    assert code == 0 and "personal signatures: 2 entries signed" in out, out
    assert "intact" in bundle_findings(ft, tmp_path, "clean")

    # Another person's key file is refused before anything is written.
    before = _entries(factory)
    code, _, err = _appropriate(ft, "p_clerk", "财农〔2025〕2号",
                                "--key-file", str(personal_key_dir / "p_approver.key"))
    assert code == 2 and "is not a valid key of p_clerk" in err
    assert _entries(factory) == before

    # The attack: database access and the project's code, no key.
    attacker = make_sessionmaker(engine, TEST_CONTEXT)
    with transaction(attacker) as s:
        clerk, approver = get_user(s, "p_clerk"), get_user(s, "p_approver")
        forged = lots.appropriate(s, clerk, doc_number="财农〔2025〕99号",
                                  source_level=SourceLevel.CENTRAL, year=2025, title="伪造",
                                  function_codes=["2130505"], allowed_uses=["industry"],
                                  amount_fen=500_000, region_code=REGION["p_clerk"],
                                  effective_date=dt.date.today())
        s.flush()
        posting.approve(s, approver, forged.id, "")
        forged_index = forged.log_index
    code, out, _ = ft("verify")
    assert code == 1, out
    assert f"entry {forged_index} (transfer.record) in the name of p_clerk: not signed" in out
    assert "in the name of p_approver: not signed" in out
    offline = bundle_findings(ft, tmp_path, "forged")
    assert "NOT INTACT" in offline
    assert f"entry {forged_index}" in offline and "in the name of p_clerk: not signed" in offline
    assert "in the name of p_approver: not signed" in offline


def test_revoked_key_and_moved_signature_are_found(ft, factory, personal_key_dir):
    code, first, err = _appropriate(ft, "k_clerk", "黔财〔2025〕1号")
    assert code == 0, err
    clerk_key = personal_keys.read_key_file(personal_key_dir / "k_clerk.key",
                                            TEST_KEY_PASSPHRASE)
    with factory() as s:
        first_index = s.execute(select(AuditEntry.idx).order_by(AuditEntry.idx.desc())
                                .limit(1)).scalar_one()
        first_entry = bytes(s.execute(select(AuditEntry.entry).where(
            AuditEntry.idx == first_index)).scalar_one())
    from ledger.audit.tlog import cbormin
    copied_auth = cbormin.decode(first_entry)[9]

    class MovedSignature:
        """Puts the clerk's signature of an earlier entry on a new one."""
        def speaks_for(self, actor):
            return actor == "k_clerk"

        def authorise(self, actor, kind, details, tbs):
            return copied_auth

    with transaction(factory) as s:
        install_signer(s, MovedSignature())
        moved = lots.appropriate(s, get_user(s, "k_clerk"), doc_number="黔财〔2025〕2号",
                                 source_level=SourceLevel.CENTRAL, year=2025, title="挪用签名",
                                 function_codes=["2130505"], allowed_uses=["industry"],
                                 amount_fen=1000, region_code=REGION["k_clerk"],
                                 effective_date=dt.date.today())
        s.flush()
        moved_index = moved.log_index

    # The clerk revokes their own key; a later entry signed with it is a finding.
    key_id = personal.ed25519_key_id(personal_keys.raw_public_key(clerk_key))
    code, _, err = ft("--as", "k_clerk", "key", "revoke", key_id, "--reason", "电脑丢失")
    assert code == 0, err
    with transaction(factory) as s:
        install_signer(s, personal_keys.KeyFileSigner("k_clerk", clerk_key))
        late = lots.appropriate(s, get_user(s, "k_clerk"), doc_number="黔财〔2025〕3号",
                                source_level=SourceLevel.CENTRAL, year=2025, title="吊销后",
                                function_codes=["2130505"], allowed_uses=["industry"],
                                amount_fen=1000, region_code=REGION["k_clerk"],
                                effective_date=dt.date.today())
        s.flush()
        late_index = late.log_index
    # and the command line refuses the revoked key outright
    code, _, err = _appropriate(ft, "k_clerk", "黔财〔2025〕4号")
    assert code == 2 and "is not a valid key of k_clerk" in err

    code, out, _ = ft("verify")
    assert code == 1
    assert f"entry {first_index} " not in out       # the honest entry still verifies
    assert f"entry {moved_index} (transfer.record) in the name of k_clerk: {key_id}: the " \
           "Ed25519 signature does not verify over this entry" in out
    assert f"entry {late_index} (transfer.record) in the name of k_clerk: signed with " \
           f"{key_id}, revoked at entry" in out


def test_policy_requiring_signatures_finds_keyless_entries(ft, tmp_path):
    # tests/world.py built the province with services and no keys: counted, not findings...
    code, out, _ = ft("verify")
    assert code == 0 and "unsigned by people holding no key" in out
    # ...until the auditors' policy requires signatures (a C2SP comment line: see policy.py)
    policy = tmp_path / "keys" / "policy.txt"
    policy.write_text(policy.read_text() + "#fundtrail signatures required\n")
    code, out, _ = ft("verify")
    assert code == 1 and "the policy requires signatures (admin holds no key)" in out
    assert Path(policy).read_text().count("quorum none") == 1


def test_forgeries_dressed_as_sign_in_events_or_by_invented_administrators_are_found(
        ft, engine, factory, tmp_path, monkeypatch):
    """Found by the red-team review of this issue: (1) a payment and its approval written
    through the services, their entries named "auth.login" — a kind recorded about a person,
    which needs no signature — passed `verify` and the offline verifier; (2) a key enrolled
    for the approver by administrators invented in the log (a user row in the name of someone
    who is not an administrator) made the forger's key look valid."""
    import ledger.audit.log as log

    code, honest, err = _appropriate(ft, "p_clerk", "财农〔2025〕1号")   # keys enrolled
    assert code == 0, err
    assert ft("--as", "p_approver", "approve", str(honest))[0] == 0
    attacker = make_sessionmaker(engine, TEST_CONTEXT)
    original = log._append

    def as_sign_in(change, part):
        change.kind = "auth.login"
        return original(change, part)

    monkeypatch.setattr(log, "_append", as_sign_in)
    with transaction(attacker) as s:
        forged = lots.appropriate(s, get_user(s, "p_clerk"), doc_number="财农〔2025〕98号",
                                  source_level=SourceLevel.CENTRAL, year=2025, title="伪造",
                                  function_codes=["2130505"], allowed_uses=["industry"],
                                  amount_fen=500_000, region_code=REGION["p_clerk"],
                                  effective_date=dt.date.today())
        s.flush()
        posting.approve(s, get_user(s, "p_approver"), forged.id, "")
        dressed = forged.log_index
    monkeypatch.setattr(log, "_append", original)
    code, out, _ = ft("verify")
    assert code == 1, out
    assert f"entry {dressed} (auth.login) in the name of p_clerk: not signed" in out
    assert "(auth.login) in the name of p_approver: not signed" in out
    assert f"entry {dressed}" in bundle_findings(ft, tmp_path, "dressed")

    # (2) An invented administrator, written in the name of a person who is not one (a
    # clerk holding no key, so the entry itself is not unsigned-by-a-key-holder), enrols a
    # key of the forger's for the approver.
    from ledger.audit.log import record_change
    from ledger.models import Role, User
    forger_key = personal_keys.new_private_key()
    with transaction(attacker) as s:
        with record_change(s, "k2_clerk", "user.add") as change:
            change.add(User(username="ghost", display_name="ghost", role=Role.ADMIN,
                            region_code="430000"))
        s.flush()
        ghost = get_user(s, "ghost")
        public, key_id, proof = personal_keys.proof_of_possession(s, forger_key, "p_approver")
        request = personal_keys.request_enrolment(s, ghost, "p_approver", "ed25519", public,
                                                  proof)
        with record_change(s, "k2_clerk", "user.add") as change:
            change.add(User(username="ghost2", display_name="ghost2", role=Role.ADMIN,
                            region_code="430000"))
        s.flush()
        personal_keys.approve_enrolment(s, get_user(s, "ghost2"), request)
    code, out, _ = ft("verify")
    assert code == 1, out
    assert "makes ghost an administrator, but k2_clerk is not one" in out
    assert "in the name of ghost:" in out or "is neither an administrator" in out, out
