"""The QR symbol: segno's modules against reportlab's encoder (the reference, kept here only),
and the drawn code read back from a rendered page."""
from __future__ import annotations

import random

import pytest
from reportlab.graphics.barcode import qrencoder
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate

from ledger.audit.tlog.proofs import base45_encode
from reports.layout import QR_BORDER, QrFlowable, qr_matrix
from tests.reports import pdftools


def _alphanumeric_bits(chars: int) -> int:
    """Mode, count (versions 10-26) and data bits of one alphanumeric segment."""
    return 4 + 11 + 11 * (chars // 2) + 6 * (chars % 2)


def _payload(size: int) -> str:
    rng = random.Random(size)
    return base45_encode(bytes(rng.randrange(256) for _ in range(size)))


def _reference(text: str):
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    return code


# Proof sizes around a real notice's (Base45 of 500-860 bytes); 777 bytes give 1,166 characters,
# whose segment and terminator end exactly on a codeword boundary (segno's padding bug).
SIZES = [12, 301, 502, 640, 777, 860]


def test_the_sizes_include_a_codeword_boundary():
    assert any((_alphanumeric_bits(len(_payload(n))) + 4) % 8 == 0 for n in SIZES)


@pytest.mark.parametrize("size", SIZES)
def test_the_modules_are_reportlabs(size):
    """Same version, level, mode, codewords (padding included) and, under the same mask, the
    same matrix. segno's penalty scoring picks another mask for some texts (any mask is valid:
    a reader takes it from the format information), so the mask is the reference's here."""
    text = _payload(size)
    reference = _reference(text)
    expected = [[1 if dark else 0 for dark in row] for row in reference.modules]
    got = [list(row) for row in qr_matrix(text, mask=reference.getBestMaskPattern())]
    assert got == expected


def test_a_sample_payload_gives_reportlabs_matrix_with_its_own_mask():
    text = _payload(640)
    reference = _reference(text)
    assert [list(row) for row in qr_matrix(text)] == \
        [[1 if dark else 0 for dark in row] for row in reference.modules]


@pytest.mark.parametrize("size", [777, 860])
def test_the_drawn_code_reads_back_at_its_printed_size(tmp_path, size):
    text = _payload(size)
    side = 52 * mm
    flowable = QrFlowable(text, side)
    assert flowable.wrap(500, 500) == (side, side)
    pdf = tmp_path / "qr.pdf"
    SimpleDocTemplate(str(pdf), invariant=1, pageCompression=0).build([flowable])
    assert pdftools.qr_text(pdftools.png(pdf, 1)) == text
    # one filled path of rectangles in module units, not a fill per rectangle
    stream = pdf.read_bytes()
    assert stream.count(b" re") > len(qr_matrix(text)) and stream.count(b"\nf") <= 2
    assert QR_BORDER == 4


@pytest.mark.parametrize("text", ["x", "HELLO WORLD", "https://example.org/v#" + "A" * 300,
                                  _payload(301), _payload(777), _payload(860)])
def test_masks_applied_by_rows_are_segnos(text, monkeypatch):
    """reports.layout applies segno's masks a row at a time; every mask, and the one segno
    picks, give the symbol segno's own apply_mask gives (micro symbols too)."""
    import segno

    from reports import layout
    ours = [segno.make_qr(text, error="M", boost_error=False, mask=m).matrix
            for m in range(8)] + [segno.make_qr(text, error="M", boost_error=False).matrix,
                                  segno.make_micro("12345").matrix]
    monkeypatch.setattr(segno.encoder, "apply_mask", layout.segno_apply_mask)
    theirs = [segno.make_qr(text, error="M", boost_error=False, mask=m).matrix
              for m in range(8)] + [segno.make_qr(text, error="M", boost_error=False).matrix,
                                    segno.make_micro("12345").matrix]
    assert ours == theirs


def testmask_scores_by_lines_are_segnos():
    """The penalties reports.layout computes a line at a time equal segno's own, on every mask
    of real symbols and on random and uniform matrices (runs, blocks, N3 at the edges)."""
    import segno

    from reports import layout
    rng = random.Random(7)
    matrices = [[bytearray(rng.randrange(2) for _ in range(n)) for _ in range(n)]
                for n in (21, 25, 57, 117) for _ in range(3)]
    matrices += [[bytearray([v] * 21) for _ in range(21)] for v in (0, 1)]
    matrices.append([bytearray(b"\x01\x00\x01\x01\x01\x00\x01" * 3) for _ in range(21)])
    for text in ("HELLO", _payload(640)):
        for mask in range(8):
            matrices.append([bytearray(r) for r in segno.make_qr(
                text, error="M", boost_error=False, mask=mask).matrix])
    for m in matrices:
        n = len(m)
        assert layout.mask_scores_by_lines(m, n, n) == layout.segno_mask_scores(m, n, n)
