"""The QR's link (ledger.audit.tlog.proofs.proof_link): `<public URL>/v#<percent-encoded Base45
of the compact proof>`, read back by link_payload / decode_link (the offline verifier, the
server's fallback check) exactly as web/static/notice-check.js reads it in a browser."""
from __future__ import annotations

import hashlib
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.audit.tlog import merkle, proofs
from ledger.audit.tlog.checkpoint import Checkpoint, sign_checkpoint
from ledger.audit.tlog.note import Ed25519Signer
from ledger.core.config import ConfigError, Settings, check_public_url, load_settings

BASE = "https://gongshi.example.gov.cn"
# What may stand in the fragment: QR alphanumeric characters that a URL carries as they are
# (space and '%' of Base45 come percent-encoded, and '%' and hex digits are alphanumeric too).
ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


@given(st.binary(max_size=2000))
def test_any_bytes_round_trip_through_the_link(data):
    link = proofs.proof_link(BASE, data)
    head, fragment = link.split("#", 1)
    assert head == BASE + "/v"
    assert set(fragment) <= ALPHANUMERIC - {" "}
    # every '%' starts an escape of space or '%': the text decodes one way only
    assert all(fragment[i + 1:i + 3] in ("20", "25") for i, ch in enumerate(fragment)
               if ch == "%")
    assert urlsplit(link).fragment == fragment
    assert proofs.base45_decode(unquote(fragment)) == data
    assert proofs.base45_decode(proofs.link_payload(link)) == data


def _proof(index=5, size=11) -> proofs.TlogProof:
    leaves = [merkle.leaf_hash(b"entry %d" % i) for i in range(size)]
    frontier, nodes = merkle.Frontier(), {}
    for leaf in leaves:
        for node in frontier.append(leaf):
            nodes[(node.level, node.index)] = node.hash
    signer = Ed25519Signer("log.example/x", hashlib.sha256(b"k").digest())
    note = sign_checkpoint(Checkpoint("log.example/x", size, frontier.root()), signer)
    return proofs.build_proof(index, note, lambda lvl, i: nodes[(lvl, i)],
                              extra=b"entry %d" % index)


@pytest.mark.parametrize("base", [BASE, BASE + "/", "http://127.0.0.1:8080",
                                  "https://example.gov.cn/fundtrail"])
def test_a_proof_comes_back_from_its_link_and_from_older_forms(base):
    proof = _proof()
    compact = proofs.encode_compact(proof)
    link = proofs.proof_link(base, compact)
    assert link.startswith(base.rstrip("/") + "/v#")
    assert proofs.decode_link(link) == proof
    base45 = proofs.base45_encode(compact)
    # what zbar printed before the QR became a link, and the older /verify?p= link
    assert proofs.decode_link(base45) == proof
    assert proofs.decode_link(f"{base}/verify?p={quote(base45, safe='')}") == proof


def test_a_link_without_a_proof_or_with_a_changed_character_is_refused():
    link = proofs.proof_link(BASE, proofs.encode_compact(_proof()))
    with pytest.raises(proofs.ProofFormatError):
        proofs.decode_link(BASE + "/v#")
    cut = link[:-7]
    with pytest.raises(proofs.ProofFormatError):
        proofs.decode_link(cut)


def test_the_public_url_comes_from_the_web_section_and_must_be_an_address(tmp_path):
    assert Settings().public_url == "http://127.0.0.1:8080"   # `fundtrail serve`'s own
    good = tmp_path / "good.toml"
    good.write_text('[web]\npublic_url = "https://gongshi.example.gov.cn"\n', encoding="utf-8")
    assert load_settings(good).public_url == "https://gongshi.example.gov.cn"
    for bad in ("gongshi.example.gov.cn", "ftp://x.example", "https://x.example/#a",
                "https://x.example/?p=1", "https:// x.example"):
        path = tmp_path / "bad.toml"
        path.write_text(f'[web]\npublic_url = "{bad}"\n', encoding="utf-8")
        with pytest.raises(ConfigError):
            load_settings(path)
        with pytest.raises(ConfigError):
            check_public_url(bad)
