"""An auditor's day from the command line: keys, checkpoint, cosign, verify, export, offline
check."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from ledger.cli.root import main

ORIGIN = "fundtrail.example/demo-province"


@pytest.fixture
def ft(db_url, world, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    monkeypatch.setenv("FUNDTRAIL_SIGNING_PASSPHRASE", "correct horse battery staple")
    monkeypatch.chdir(tmp_path)

    def run(*args):
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def make_keys(ft, tmp_path):
    code, log_vkey, err = ft("keygen", "--kind", "log", "--out", "keys/log.key")
    assert code == 0, err
    lines = [f"log {log_vkey.strip()}"]
    for who in ("village", "township", "county"):
        code, vkey, _ = ft("keygen", "--kind", "cosigner", "--name", f"{who}.example",
                           "--out", f"keys/{who}.key")
        assert code == 0
        lines.append(f"witness {who} {vkey.strip()}")
    lines += ["group sign-off 2 village township county", "quorum sign-off"]
    (tmp_path / "keys" / "policy.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_sign_cosign_verify_export_and_check_offline(ft, tmp_path):
    make_keys(ft, tmp_path)
    assert "BEGIN ENCRYPTED PRIVATE KEY" in (tmp_path / "keys/log.key").read_text()
    code, note, _ = ft("checkpoint", "sign")
    assert code == 0 and note.startswith(ORIGIN + "\n")
    code, out, _ = ft("verify", "--json")
    assert code == 0 and list(json.loads(out)["quorum"].values()) == [False]
    for who in ("village", "county"):
        code, _, err = ft("checkpoint", "cosign", "--key", f"keys/{who}.key",
                          "--state", f"keys/{who}.state", "--fresh")
        assert code == 0, err
    code, out, _ = ft("verify")
    assert code == 0 and "quorum met for checkpoints" in out and "NOT met" not in out
    (tmp_path / "kept.txt").write_text(ft("checkpoint", "show")[1], encoding="utf-8")
    assert ft("verify", "--trusted", "kept.txt")[0] == 0

    code, out, err = ft("export-bundle", "bundle")
    assert code == 0, err
    check = [sys.executable, "-m", "ledger.audit.tlog.verify_bundle", str(tmp_path / "bundle"),
             "--policy", str(tmp_path / "keys/policy.txt")]
    result = subprocess.run(check, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("intact"), result.stdout

    # one byte of one entry changes in the auditor's copy: the offline check finds it
    bundle_file = next(p for p in (tmp_path / "bundle/tile/entries").rglob("*") if p.is_file())
    data = bytearray(bundle_file.read_bytes())
    data[40] ^= 0x01
    bundle_file.write_bytes(bytes(data))
    result = subprocess.run(check, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout


def test_wrong_passphrase_is_a_clear_error(ft, tmp_path, monkeypatch):
    make_keys(ft, tmp_path)
    monkeypatch.setenv("FUNDTRAIL_SIGNING_PASSPHRASE", "not the passphrase at all")
    code, _, err = ft("checkpoint", "sign")
    assert code == 2 and "wrong passphrase" in err


def test_proof_of_an_entry_verifies_against_the_cosigned_checkpoint(ft, tmp_path):
    from ledger.audit.tlog import proofs
    from ledger.audit.tlog.policy import parse_policy
    make_keys(ft, tmp_path)
    ft("checkpoint", "sign")
    for who in ("village", "township"):
        ft("checkpoint", "cosign", "--key", f"keys/{who}.key", "--state", f"keys/{who}.state",
           "--fresh")
    code, out, err = ft("proof", "7", "--format", "compact", "-o", "p.bin")
    assert code == 0, err
    proof = proofs.decode_compact((tmp_path / "p.bin").read_bytes())
    policy = parse_policy((tmp_path / "keys/policy.txt").read_bytes())
    verified = proofs.verify_entry_proof(proof, policy)
    assert proof.index == 7 and verified is not None
    assert ft("proof", "100000")[0] == 2


@pytest.mark.parametrize("fmt", ["text", "compact"])
def test_standalone_proof_checker(ft, tmp_path, fmt):
    make_keys(ft, tmp_path)
    ft("checkpoint", "sign")
    for who in ("township", "county"):
        ft("checkpoint", "cosign", "--key", f"keys/{who}.key", "--state", f"keys/{who}.state",
           "--fresh")
    assert ft("proof", "3", "--format", fmt, "-o", "p")[0] == 0
    check = [sys.executable, "-m", "ledger.audit.tlog.verify_proof", str(tmp_path / "p"),
             "--policy", str(tmp_path / "keys/policy.txt")]
    ok = subprocess.run(check, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "cosigned by: county, township" in ok.stdout, ok.stdout
    # a proof for a different entry than the one it carries must fail
    from ledger.audit.tlog import proofs
    raw = (tmp_path / "p").read_bytes()
    proof = proofs.decode_compact(raw) if fmt == "compact" else proofs.decode_text(raw.decode())
    forged = dataclasses.replace(proof, extra=proof.extra.replace(b"4301", b"4302", 1))
    assert forged.extra != proof.extra
    (tmp_path / "p").write_bytes(proofs.encode_compact(forged))
    bad = subprocess.run(check, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "NOT VERIFIED" in bad.stdout


def test_export_leaves_out_checkpoints_without_quorum(ft, tmp_path):
    make_keys(ft, tmp_path)
    ft("checkpoint", "sign")
    code, _, err = ft("export-bundle", "b0")
    assert code == 2 and "quorum" in err
    for who in ("village", "township"):
        ft("checkpoint", "cosign", "--key", f"keys/{who}.key", "--state", f"keys/{who}.state",
           "--fresh")
    ft("--as", "admin", "region-add", "430121002", "新镇", "--level", "township",
       "--parent", "430121")
    ft("checkpoint", "sign")  # newer, not yet cosigned
    code, out, err = ft("export-bundle", "b1")
    assert code == 0 and "1 checkpoints" in out, err
    result = subprocess.run([sys.executable, "-m", "ledger.audit.tlog.verify_bundle",
                             str(tmp_path / "b1")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_rotating_the_log_key_keeps_old_checkpoints_valid(ft, tmp_path):
    make_keys(ft, tmp_path)
    ft("checkpoint", "sign")
    code, out, err = ft("rotate-key", "--out", "keys/log-2.key")
    assert code == 0, err
    policy = (tmp_path / "keys/policy.txt").read_text()
    assert policy.count("\nlog ") + policy.startswith("log ") == 2
    ft("--as", "admin", "region-add", "430121002", "新镇", "--level", "township",
       "--parent", "430121")
    code, _, err = ft("checkpoint", "sign", "--key", "keys/log-2.key")
    assert code == 0, err
    code, out, _ = ft("verify", "--json")
    report = json.loads(out)
    assert code == 0 and report["checkpoints_checked"] == 2 and not report["findings"]


def test_cosigning_keeps_working_across_a_log_key_rotation(ft, tmp_path):
    make_keys(ft, tmp_path)
    ft("checkpoint", "sign")
    assert ft("checkpoint", "cosign", "--key", "keys/village.key", "--state",
              "keys/village.state", "--fresh")[0] == 0
    ft("rotate-key", "--out", "keys/log-2.key")
    ft("--as", "admin", "region-add", "430121002", "新镇", "--level", "township",
       "--parent", "430121")
    ft("checkpoint", "sign", "--key", "keys/log-2.key")
    code, _, err = ft("checkpoint", "cosign", "--key", "keys/village.key", "--state",
                      "keys/village.state")
    assert code == 0, err


def test_incremental_verification_from_a_kept_checkpoint(ft, tmp_path, world):
    from ledger.funds import posting
    from ledger.store.db import transaction
    from tests.ledger.test_invariants import down_to_county, pay_household, u
    make_keys(ft, tmp_path)
    assert ft("checkpoint", "sign")[0] == 0
    for who in ("village", "county"):
        assert ft("checkpoint", "cosign", "--key", f"keys/{who}.key",
                  "--state", f"keys/{who}.state", "--fresh")[0] == 0
    (tmp_path / "kept.txt").write_text(ft("checkpoint", "show")[1], encoding="utf-8")
    down_to_county(world, 10_000_00)
    with transaction(world.factory) as s:
        posting.approve(s, u(s, "k_approver"), pay_household(s, world, 100_00, "v1").id)
    assert ft("checkpoint", "sign")[0] == 0
    code, out, err = ft("verify", "--since", "kept.txt", "--json")
    assert code == 0 and json.loads(out)["intact"], err
    (tmp_path / "forged.txt").write_text(
        ft("checkpoint", "show")[1].replace("\n", "\n", 1)[:-30] + "x" * 30, encoding="utf-8")
    code, _, err = ft("verify", "--since", "forged.txt")
    assert code == 2 and "--since: not a checkpoint note this log signed" in err
