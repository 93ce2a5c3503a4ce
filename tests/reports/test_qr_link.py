"""The printed QR is a link to the verify page that carries the whole proof, in a symbol a
phone reads at 52 mm on A4: rendered to PDF, rasterised with pdftoppm, read with zbarimg."""
from __future__ import annotations

import hashlib
import os

import pytest
import segno
from reportlab.lib.units import mm

from ledger.audit.tlog import merkle, proofs
from ledger.audit.tlog.checkpoint import (
    Checkpoint,
    CosignatureSigner,
    add_signatures,
    cosign,
    sign_checkpoint,
)
from ledger.audit.tlog.note import Ed25519Signer
from ledger.disclosure.notices import check_qr_payload
from ledger.models.disclosure import NoticeKind
from ledger.store.db import transaction
from reports.layout import PAPERS, QR_BORDER, qr_matrix, qr_segments, qr_side
from reports.render import render_public
from tests.reports import pdftools, scenario

PUBLIC_URL = "https://gongshi.example.gov.cn/fundtrail"
MIN_MODULE_MM = 0.33


@pytest.fixture
def sc(world, tmp_path):
    built = scenario.build(world, tmp_path, households=8)
    scenario.publish_all(built)
    return built


def _module_mm(link: str, paper: str = "a4") -> float:
    modules = len(qr_matrix(link)) + 2 * QR_BORDER
    return qr_side(link, PAPERS[paper]) / mm / modules


@pytest.mark.parametrize("kind, subject", [
    (NoticeKind.PROJECT, scenario.PROJECT_SUBJECT), (NoticeKind.ROLL, scenario.ROLL_SUBJECT)])
def test_the_scanned_qr_is_a_link_to_the_verify_page_with_the_whole_proof(sc, tmp_path, kind,
                                                                          subject):
    with transaction(sc.world.factory) as s:
        pdf, info = render_public(s, kind, subject, sc.policy, "a4", public_url=PUBLIC_URL)
    path = tmp_path / f"{kind.value}.pdf"
    path.write_bytes(pdf)
    link = pdftools.qr_text(pdftools.png(path, pdftools.pages(path), dpi=150))
    assert link.startswith(PUBLIC_URL + "/v#"), link[:80]
    # the whole proof is in the link: checked with nothing but the policy, and the rows too
    assert check_qr_payload(link, sc.policy).proof_verified
    with transaction(sc.world.factory) as s:
        assert check_qr_payload(link, sc.policy, session=s).ok
    # 52 mm on A4, modules of at least 0.33 mm (version 24-25 here: about 0.42 mm)
    version = segno.make_qr(qr_segments(link), error="M", boost_error=False).version
    assert qr_side(link, PAPERS["a4"]) == pytest.approx(52 * mm)
    assert _module_mm(link) >= 0.4, (version, _module_mm(link))
    assert version <= 26


def test_the_link_costs_about_one_version_over_bare_base45():
    """The address is a byte-mode segment and the proof an alphanumeric one: as one string,
    the '#' would put all of it in byte mode (six versions more)."""
    data = os.urandom(840)   # a notice's proof in the test log
    link = proofs.proof_link(PUBLIC_URL, data)
    bare = segno.make_qr(proofs.base45_encode(data), error="M", boost_error=False).version
    split = segno.make_qr(qr_segments(link), error="M", boost_error=False).version
    whole = segno.make_qr(link, error="M", boost_error=False).version
    assert split <= bare + 2 and whole >= split + 4, (bare, split, whole)


def test_a_big_log_grows_the_square_to_keep_modules_readable():
    """A million entries (20 path hashes), three cosigners with 35-character names and a
    340-byte notice entry: a 1,471-byte proof, version 36 (161 modules with the quiet zone),
    0.31 mm modules at 52 mm. The square grows (to about 56 mm) rather than the modules
    shrink below 0.33 mm."""
    origin = "ledger.example.gov.cn/610921/2026"
    names = ["village.example.gov.cn/610921001001", "township.example.gov.cn/61092110000",
             "county-audit.example.gov.cn/6109210"]
    log = Ed25519Signer(origin, hashlib.sha256(b"log").digest())
    size = 1_000_000
    h = merkle.leaf_hash(b"synthetic entry")
    levels = [h]
    for _ in range(20):
        h = merkle.node_hash(h, h)
        levels.append(h)
    note = sign_checkpoint(Checkpoint(origin, size, merkle.root_at(size, lambda lv, i:
                                                                     levels[lv])), log)
    note = add_signatures(note, [cosign(note, CosignatureSigner(n, hashlib.sha256(
        n.encode()).digest()), 1_767_225_600) for n in names])
    proof = proofs.build_proof(765_432, note, lambda lv, i: levels[lv], extra=b"e" * 340)
    link = proofs.proof_link(PUBLIC_URL, proofs.encode_compact(proof))
    version = segno.make_qr(qr_segments(link), error="M", boost_error=False).version
    assert version > 33 and _module_mm(link) >= MIN_MODULE_MM, (version, _module_mm(link))
    assert 52 * mm < qr_side(link, PAPERS["a4"]) <= 60 * mm
    assert _module_mm(link, "a3") >= MIN_MODULE_MM * 1.4
