"""ledger.audit.tlog.note against signed-note vectors (golang/mod, transparency-dev/formats,
C2SP)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ledger.audit.tlog import note
from ledger.audit.tlog.note import NoteError, open_note, parse_verifier_key, sign_note

VECTORS = Path(__file__).resolve().parents[3].parent / "shared" / "vectors"
NOTE_VECTORS = VECTORS / "signed-note" / "vectors.json"

if not NOTE_VECTORS.is_file():
    pytest.skip(f"shared test vectors not found at {NOTE_VECTORS}", allow_module_level=True)

DATA = json.loads(NOTE_VECTORS.read_text(encoding="utf-8"))
PETER_SKEY = DATA["sign"][0]["private_key"]
PETER_VKEY = DATA["sign"][0]["verifier_key"]
PETER_TEXT = DATA["sign"][0]["text"]

# The worked example in C2SP signed-note.md.
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZ"
    "XsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


@pytest.mark.parametrize("case", DATA["sign"], ids=lambda c: c["name"])
def test_sign_is_byte_exact(case: dict) -> None:
    signer = note.parse_signer_key(case["private_key"])
    assert signer.skey == case["private_key"]
    assert signer.vkey == case["verifier_key"]
    assert sign_note(case["text"], [signer]) == case["signed"]


@pytest.mark.parametrize("case", DATA["verify"], ids=lambda c: c["name"])
def test_verify_vectors(case: dict) -> None:
    verifiers = [parse_verifier_key(k) for k in case["verifier_keys"]]
    if not case["valid"]:
        with pytest.raises(NoteError):
            open_note(case["note"], verifiers)
        return
    opened = open_note(case["note"], verifiers)
    assert {s.name for s in opened.verified} == {v.name for v in verifiers}
    assert opened.unknown == []
    assert opened.text + "\n" == case["note"][: len(opened.text) + 1]


def test_real_sum_golang_org_checkpoint() -> None:
    case = next(c for c in DATA["verify"] if c["name"] == "real sum.golang.org checkpoint")
    opened = open_note(case["note"], [parse_verifier_key(case["verifier_keys"][0])])
    origin, size, root = opened.text.splitlines()
    assert origin == case["checkpoint"]["origin"]
    assert int(size) == case["checkpoint"]["size"]
    assert root == case["checkpoint"]["root_base64"]
    assert parse_verifier_key(case["verifier_keys"][0]).key_id.hex() == "033de0ae"


def test_c2sp_spec_example() -> None:
    opened = open_note(C2SP_NOTE, [parse_verifier_key(C2SP_VKEY)])
    assert opened.text == "This is an example message.\n"
    assert opened.verified[0].key_id.hex() == "530d903a"


def test_bytes_input_is_accepted() -> None:
    assert open_note(C2SP_NOTE.encode("utf-8"), [parse_verifier_key(C2SP_VKEY)]).verified


# --------------------------------------------------------------------------- keys


def test_key_id_formula() -> None:
    verifier = parse_verifier_key(PETER_VKEY)
    assert note.key_id("PeterNeumann", 0x01, verifier.public_key).hex() == "c74f20a3"


def test_generated_signer_round_trips() -> None:
    signer = note.generate_signer("fundtrail.example/log")
    assert note.parse_signer_key(signer.skey) == signer
    assert parse_verifier_key(signer.vkey) == signer.verifier()
    signed = sign_note("hello\n", [signer])
    assert open_note(signed, [signer.verifier()]).verified[0].name == signer.name


def test_seed_never_appears_in_repr() -> None:
    signer = note.parse_signer_key(PETER_SKEY)
    assert signer.seed.hex() not in repr(signer)
    assert "PRIVATE" not in repr(signer)


@pytest.mark.parametrize(
    "vkey, message",
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase hex"),
        ("PeterNeumann+c74f20a3", "not <name>"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "spaces"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "non-empty"),
        ("PeterNeumann+c74f20a3+Alpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "type"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy", "32 bytes"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=", "base64"),
    ],
)
def test_bad_verifier_keys(vkey: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        parse_verifier_key(vkey)


def test_bad_signer_keys() -> None:
    with pytest.raises(NoteError, match="PRIVATE"):
        note.parse_signer_key(PETER_SKEY[len("PRIVATE+KEY+") :])
    with pytest.raises(NoteError, match="does not match"):
        note.parse_signer_key(PETER_SKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(NoteError, match="name"):
        note.generate_signer("bad+name")


# --------------------------------------------------------------------------- note rejection


SIGNED = DATA["sign"][0]["signed"]
PETER = [parse_verifier_key(PETER_VKEY)]
SIG_LINE = SIGNED[SIGNED.index("\u2014") :]


@pytest.mark.parametrize(
    "bad, message",
    [
        (SIGNED[:-1], "end with a newline"),
        (PETER_TEXT, "no blank line"),
        (PETER_TEXT + "\n", "no signature lines"),
        (SIGNED.replace("\u2014 ", "- "), "em dash"),
        (SIGNED.replace("\u2014 PeterNeumann ", "\u2014 PeterNeumann  "), "not '"),
        (SIGNED.replace("PeterNeumann", "Peter+Neumann"), "'\\+'"),
        (SIGNED.replace("If you", "If\tyou"), "U\\+0009"),
        (SIGNED.replace("\n", "\r\n"), "U\\+000D"),
        (PETER_TEXT + "\n\u2014 PeterNeumann AAAA\n", "shorter than a key ID"),
        (PETER_TEXT + "\n" + SIG_LINE * 2, "twice"),
        (PETER_TEXT + "\n" + SIG_LINE * 65, "at most 64"),
        # Changing only the unused low bits of the last base64 character keeps the bytes the
        # same; strict decoding refuses it so that one signature has exactly one spelling.
        (SIGNED.replace("AM=\n", "AN=\n"), "not canonical"),
    ],
)
def test_malformed_notes_are_rejected(bad: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        open_note(bad, PETER)


def test_invalid_utf8_is_rejected() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(SIGNED.encode("utf-8").replace(b"cryptography", b"crypt\xffgraphy"), PETER)


def test_unknown_keys_are_ignored_but_reported() -> None:
    other = note.generate_signer("someone.example/else")
    two = sign_note(PETER_TEXT, [note.parse_signer_key(PETER_SKEY), other])
    opened = open_note(two, PETER)
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [s.name for s in opened.unknown] == ["someone.example/else"]
    with pytest.raises(NoteError, match="no valid signature from a known key"):
        open_note(two, [other.verifier().__class__("nobody", other.public_key)])


def test_same_name_other_key_is_unknown_not_failure() -> None:
    # Key name and ID together identify a key: a signer sharing only the name is unknown.
    impostor = note.generate_signer("PeterNeumann")
    signed = sign_note(PETER_TEXT, [impostor, note.parse_signer_key(PETER_SKEY)])
    opened = open_note(signed, PETER)
    assert len(opened.verified) == 1 and len(opened.unknown) == 1


def test_bad_signature_from_known_key_rejects_note() -> None:
    raw = base64.b64decode(SIG_LINE.split(" ")[2])
    forged = raw[:4] + bytes(64)
    line = f"\u2014 PeterNeumann {base64.b64encode(forged).decode()}\n"
    with pytest.raises(NoteError, match="invalid signature by known key"):
        open_note(PETER_TEXT + "\n" + line, PETER)


def test_text_with_blank_lines_round_trips() -> None:
    signer = note.generate_signer("poet.example")
    text = "Ognuno sta solo sul cuor della terra\n\ned è subito sera.\n"
    opened = open_note(sign_note(text, [signer]), [signer.verifier()])
    assert opened.text == text


@pytest.mark.parametrize("text", ["no newline", "tab\there\n", ""])
def test_sign_rejects_bad_text(text: str) -> None:
    with pytest.raises(NoteError):
        sign_note(text, [note.parse_signer_key(PETER_SKEY)])


def test_sign_needs_a_signer_and_verifiers_must_be_distinct() -> None:
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note("x\n", [])
    with pytest.raises(NoteError, match="share name"):
        open_note(SIGNED, PETER * 2)
