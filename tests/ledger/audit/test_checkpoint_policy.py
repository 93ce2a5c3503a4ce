"""Checkpoint bodies, cosignature/v1 and tlog-policy."""

from __future__ import annotations

import base64
import hashlib
import itertools

import pytest

from ledger.audit.tlog import checkpoint as cpmod
from ledger.audit.tlog import merkle
from ledger.audit.tlog.checkpoint import (
    Checkpoint,
    CheckpointError,
    CosignatureSigner,
    add_signatures,
    cosign,
    open_checkpoint,
    sign_checkpoint,
)
from ledger.audit.tlog.note import Ed25519Signer, NoteError, parse_note
from ledger.audit.tlog.policy import PolicyError, QuorumError, parse_policy

# sigsum-go pkg/checkpoint/checkpoint_test.go (BSD-2-Clause): private key {17, 0, ...},
# log "example.org/log" at size 10 with root 1c0e47 00.., cosigned at time 1234.
SIGSUM_SEED = bytes([17]) + bytes(31)
SIGSUM_BODY = "example.org/log\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
SIGSUM_COSIG = (
    "\u2014 example.org/witness ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNq"
    "bofIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n"
)
# Same file, TestCheckpointSigned: the same key as a log (type 0x01) over a sigsum tree head.
SIGSUM_LOG_NOTE = (
    "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69\n10\n"
    "HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"
    "\u2014 sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69 "
    "gJ2ho0n8F8olcerUF1FFdv235A/5as/coWrpLrtE7ovMeP5whgwouYExowG/lTznxu6OUGjjt5yJQ6bXtTcf718MqAQ=\n"
)

GO_SUM_BODY = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"


# --------------------------------------------------------------------------- checkpoint body


def test_body_round_trip() -> None:
    cp = Checkpoint.from_text(GO_SUM_BODY)
    assert (cp.origin, cp.size) == ("go.sum database tree", 6476701)
    assert cp.to_text() == GO_SUM_BODY
    with_ext = Checkpoint("example.com/log", 3, bytes(32), ("Timestamp: 1", "x"))
    assert Checkpoint.from_text(with_ext.to_text()) == with_ext


def test_empty_tree_checkpoint() -> None:
    cp = Checkpoint("example.com/log", 0, merkle.EMPTY_ROOT)
    assert cp.to_text().splitlines()[1] == "0"
    with pytest.raises(CheckpointError, match="empty-tree root"):
        Checkpoint("example.com/log", 0, bytes(32))


ROOT = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "text, message",
    [
        (f"o\n1\n{ROOT}", "ending in a newline"),
        ("o\n1\n", "at least 3"),
        (f"o\n01\n{ROOT}\n", "leading zeros"),
        (f"o\n-1\n{ROOT}\n", "decimal"),
        (f"o\n+1\n{ROOT}\n", "decimal"),
        (f"o\n 1\n{ROOT}\n", "decimal"),
        (f"o\n{2**64}\n{ROOT}\n", "outside"),
        ("o\n1\nAAAA\n", "32 bytes"),
        ("o\n1\n" + ROOT[:-2] + "B=\n", "canonical"),
        (f"\n1\n{ROOT}\n", "origin"),
        (f"o\n1\n{ROOT}\n\n", "empty"),
        (f"o\t\n1\n{ROOT}\n", "control"),
    ],
)
def test_bad_bodies(text: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        Checkpoint.from_text(text)


# --------------------------------------------------------------------------- cosignature/v1


def test_sigsum_cosignature_is_byte_exact() -> None:
    witness = CosignatureSigner("example.org/witness", SIGSUM_SEED)
    assert cosign(SIGSUM_BODY, witness, 1234) == SIGSUM_COSIG
    assert witness.key_id.hex() == "cacf2e50"


def test_sigsum_log_signature_is_byte_exact() -> None:
    origin = "sigsum.org/v1/tree/" + hashlib.sha256(
        Ed25519Signer("x", SIGSUM_SEED).public_key).hexdigest()
    log = Ed25519Signer(origin, SIGSUM_SEED)
    cp = Checkpoint(origin, 10, bytes([28, 14, 71]) + bytes(29))
    assert sign_checkpoint(cp, log) == SIGSUM_LOG_NOTE


def test_cosignature_message_layout() -> None:
    assert cpmod.cosignature_message(SIGSUM_BODY, 1234) == (
        b"cosignature/v1\ntime 1234\n" + SIGSUM_BODY.encode())
    line = base64.b64decode(SIGSUM_COSIG.split(" ")[2])
    assert len(line) == 4 + 8 + 64
    assert int.from_bytes(line[4:12], "big") == 1234


def _sigsum_log() -> Ed25519Signer:
    return Ed25519Signer("example.org/log", hashlib.sha256(b"log seed").digest())


def test_sigsum_cosignature_lines_verify_by_key() -> None:
    """sigsum-go TestCheckpointVerifyCosignatureByKey: only the line with the right name and ID
    counts. Its 4th line (right name and ID, wrong signature size) is ignored by sigsum-go; per
    signed-note a failing signature from a known key SHOULD reject the note, and we do."""
    log = _sigsum_log()
    witness = CosignatureSigner("example.org/witness", SIGSUM_SEED).verifier()
    good = [
        SIGSUM_COSIG.replace("ys8uU", "yX8uU"),  # other key ID
        SIGSUM_COSIG,
        SIGSUM_COSIG.replace("witness ", "witness-2 "),  # other name
    ]
    note = add_signatures(sign_checkpoint(Checkpoint.from_text(SIGSUM_BODY), log), good)
    result = open_checkpoint(note, [log.verifier()], [witness])
    assert result.cosignatures == [cpmod.Cosignature("example.org/witness", witness.key_id, 1234)]
    assert len(result.unknown) == 2
    wrong_size = SIGSUM_COSIG.replace("Cg==", "CgXX")
    bad_note = sign_checkpoint(Checkpoint.from_text(SIGSUM_BODY), log) + wrong_size
    with pytest.raises(CheckpointError, match="invalid signature by known key"):
        open_checkpoint(bad_note, [log.verifier()], [witness])
    with pytest.raises(CheckpointError, match="twice"):
        open_checkpoint(note + wrong_size, [log.verifier()], [witness])


def test_tampered_timestamp_fails() -> None:
    raw = bytearray(base64.b64decode(SIGSUM_COSIG.split(" ")[2]))
    raw[11] ^= 1  # 1234 -> 1235
    bad = f"\u2014 example.org/witness {base64.b64encode(raw).decode()}\n"
    log = _sigsum_log()
    note = add_signatures(sign_checkpoint(Checkpoint.from_text(SIGSUM_BODY), log), [bad])
    witness = CosignatureSigner("example.org/witness", SIGSUM_SEED).verifier()
    with pytest.raises(CheckpointError, match="invalid signature"):
        open_checkpoint(note, [log.verifier()], [witness])


def test_same_key_as_log_and_cosigner_has_distinct_ids() -> None:
    as_log = Ed25519Signer("example.org/witness", SIGSUM_SEED)
    as_cosigner = CosignatureSigner("example.org/witness", SIGSUM_SEED)
    assert as_log.key_id != as_cosigner.key_id
    assert as_cosigner.vkey.split("+")[2].startswith("BG")  # 0x04 type byte
    assert type(cpmod.verifier_from_vkey(as_cosigner.vkey)) is cpmod.CosignatureVerifier
    assert type(cpmod.verifier_from_vkey(as_log.vkey)) is cpmod.Ed25519Verifier
    assert cpmod.parse_cosigner_key(as_cosigner.skey) == as_cosigner


def test_cosign_accepts_note_or_body_and_rejects_non_checkpoints() -> None:
    log = _sigsum_log()
    witness = cpmod.generate_cosigner("w.example")
    note = sign_checkpoint(Checkpoint.from_text(SIGSUM_BODY), log)
    assert cosign(note, witness, 5) == cosign(SIGSUM_BODY, witness, 5)
    with pytest.raises(CheckpointError):
        cosign("hello\n", witness, 5)
    for bad_time in (-1, 2**63):
        with pytest.raises(CheckpointError, match="timestamp"):
            cosign(SIGSUM_BODY, witness, bad_time)


def test_open_checkpoint_requires_a_log_signature_for_the_origin() -> None:
    other_log = Ed25519Signer("example.org/other", SIGSUM_SEED)
    witness = cpmod.generate_cosigner("w.example")
    with pytest.raises(CheckpointError, match="differs from origin"):
        sign_checkpoint(Checkpoint.from_text(SIGSUM_BODY), other_log)
    from ledger.audit.tlog.note import sign_note

    note = sign_note(SIGSUM_BODY, [other_log])
    with pytest.raises(CheckpointError, match="no valid signature from a known log key"):
        open_checkpoint(note, [other_log.verifier()])
    only_cosigned = SIGSUM_BODY + "\n" + cosign(SIGSUM_BODY, witness, 1)
    with pytest.raises(CheckpointError):
        open_checkpoint(only_cosigned, [_sigsum_log().verifier()], [witness.verifier()])
    with pytest.raises(CheckpointError, match="0x04"):
        open_checkpoint(note, [other_log.verifier()], [other_log.verifier()])


def test_add_signatures_does_not_duplicate() -> None:
    log = _sigsum_log()
    witness = cpmod.generate_cosigner("w.example")
    note = sign_checkpoint(Checkpoint.from_text(SIGSUM_BODY), log)
    line = cosign(note, witness, 7)
    once = add_signatures(note, [line])
    assert add_signatures(once, [line, line.rstrip("\n")]) == once
    assert len(parse_note(once).signatures) == 2
    with pytest.raises(NoteError):
        add_signatures(note, ["not a signature line"])


# --------------------------------------------------------------------------- policy


def _keys():
    log = Ed25519Signer("ledger.example.gov.cn/610921/2026", hashlib.sha256(b"log").digest())
    names = ["village.example/1", "township.example/1", "audit.example/1", "finance.example/1"]
    cosigners = [CosignatureSigner(n, hashlib.sha256(n.encode()).digest()) for n in names]
    return log, cosigners


def _policy_text() -> str:
    log, (v, t, ca, cf) = _keys()
    return (
        "# fundtrail sign-off policy\n"
        f"log      {log.vkey} https://ledger.example.gov.cn/610921/2026\n"
        "\n"
        f"witness  V-1  {v.vkey}\n"
        f"witness\tT-1\t{t.vkey}\n"
        f"witness  C-audit   {ca.vkey}\n"
        f"witness  C-finance {cf.vkey}   \n"
        "group    village   any V-1\n"
        "group    township  all T-1\n"
        "group    county    1   C-audit C-finance\n"
        "   # indented comment\n"
        "group    signoff   all village township county\n"
        "quorum   signoff\n"
    )


def test_policy_parses_and_evaluates() -> None:
    policy = parse_policy(_policy_text())
    assert [log.name for log in policy.logs] == ["ledger.example.gov.cn/610921/2026"]
    assert policy.log_urls == ("https://ledger.example.gov.cn/610921/2026",)
    assert policy.groups["county"].threshold == 1
    names = ["V-1", "T-1", "C-audit", "C-finance"]
    for r in range(len(names) + 1):
        for subset in itertools.combinations(names, r):
            expected = "V-1" in subset and "T-1" in subset and (
                "C-audit" in subset or "C-finance" in subset)
            assert policy.quorum_met(subset) == expected, subset
    with pytest.raises(ValueError, match="not witnesses"):
        policy.quorum_met(["nobody"])


def test_spec_example_thresholds() -> None:
    keys = [CosignatureSigner(f"w{i}.example", bytes([i]) * 32) for i in range(6)]
    lines = [f"witness {n} {k.vkey}" for n, k in zip(["X1", "X2", "X3", "Y1", "Y2", "Y3"], keys)]
    text = "\n".join(lines[:3] + ["group X-witnesses 2 X1 X2 X3"] + lines[3:] +
                     ["group Y-witnesses any Y1 Y2 Y3", "group X-and-Y all X-witnesses Y-witnesses",
                      "quorum X-and-Y"])  # no final newline: accepted
    policy = parse_policy(text)
    assert policy.quorum_met({"X1", "X3", "Y2"})
    assert not policy.quorum_met({"X1", "Y1", "Y2", "Y3"})
    assert not policy.quorum_met({"X1", "X2", "X3"})


def test_quorum_none_and_bytes_input() -> None:
    policy = parse_policy(b"quorum none\n")
    assert policy.quorum_met(set())
    # Names are opaque octets: a non-UTF-8 name is allowed and stays distinct.
    k = CosignatureSigner("w.example", bytes(32))
    policy = parse_policy(b"witness \xff\xfe " + k.vkey.encode() + b"\nquorum \xff\xfe\n")
    assert not policy.quorum_met(set())
    assert len(policy.witnesses) == 1


def _bad(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "build, line, message",
    [
        (lambda L, W: ["frobnicate x"], 1, "unknown keyword"),
        (lambda L, W: [f"witness A {W[0].vkey}", "group G any A B", "quorum G"], 2, "not defined"),
        (lambda L, W: [f"witness A {W[0].vkey}", f"witness A {W[1].vkey}"], 2, "already defined"),
        (lambda L, W: [f"witness A {W[0].vkey}", f"witness B {W[0].vkey}"], 2, "already listed"),
        (lambda L, W: [f"log {L.vkey}", f"log {L.vkey}"], 2, "already listed"),
        (lambda L, W: [f"witness A {W[0].vkey}", "group G 0 A"], 2, "threshold"),
        (lambda L, W: [f"witness A {W[0].vkey}", "group G 2 A"], 2, "larger than"),
        (lambda L, W: [f"witness A {W[0].vkey}", f"witness B {W[1].vkey}", "group G 02 A B"],
         3, "threshold"),
        (lambda L, W: [f"witness none {W[0].vkey}"], 1, "reserved"),
        (lambda L, W: [f"witness A {W[0].vkey}", "group G any A none"], 2, "not defined"),
        (lambda L, W: [f"witness A {W[0].vkey}", "group G any A A"], 2, "more than once"),
        (lambda L, W: ["quorum none", "quorum none"], 2, "second quorum"),
        (lambda L, W: ["quorum G"], 1, "not a witness or group"),
        (lambda L, W: [f"log {L.vkey}\r", "quorum none"], 1, "CRLF"),
        (lambda L, W: [f"log {W[0].vkey}"], 1, "signature type"),
        (lambda L, W: [f"witness A {L.vkey}"], 1, "signature type"),
        (lambda L, W: [f"witness A {W[0].vkey} url extra"], 1, "expected 'witness"),
        (lambda L, W: ["group G any"], 1, "expected 'group"),
        (lambda L, W: [f"log {L.vkey[:-3]}xyz"], 1, "does not match its key"),
        (lambda L, W: [f"log {L.vkey[:-4]}"], 1, "32 bytes"),
    ],
)
def test_bad_policies_name_the_line(build, line: int, message: str) -> None:
    log, cosigners = _keys()
    with pytest.raises(PolicyError, match=f"policy line {line}: .*({message})"):
        parse_policy(_bad(build(log, cosigners)))


def test_policy_without_quorum_is_rejected() -> None:
    log, _ = _keys()
    with pytest.raises(PolicyError, match="no quorum"):
        parse_policy(f"log {log.vkey}\n")


def test_verify_checkpoint_under_policy() -> None:
    policy = parse_policy(_policy_text())
    log, (v, t, ca, cf) = _keys()
    leaves = [merkle.leaf_hash(b"entry %d" % i) for i in range(5)]
    cp = Checkpoint(log.name, 5, merkle.root_from_leaves(leaves))
    note = sign_checkpoint(cp, log)
    stranger = cpmod.generate_cosigner("stranger.example")
    partial = add_signatures(note, [cosign(note, s, 1_700_000_000) for s in (v, t, stranger)])
    with pytest.raises(QuorumError, match="T-1, V-1"):
        policy.verify_checkpoint(partial)
    full = add_signatures(partial, [cosign(note, cf, 1_700_000_100)])
    result = policy.verify_checkpoint(full)
    assert result.witnesses == {"V-1", "T-1", "C-finance"}
    assert result.verified.checkpoint == cp
    assert [s.name for s in result.verified.unknown] == ["stranger.example"]
    foreign = Ed25519Signer("other.example/log", bytes(32))
    with pytest.raises(CheckpointError):
        policy.verify_checkpoint(sign_checkpoint(Checkpoint("other.example/log", 5, cp.root_hash),
                                                 foreign))
