"""Page layout shared by every document: paper, type sizes, tables, the QR block, the footer.

Written for boards read outdoors by older people: large plain type (body 14 pt on A4, scaled
up on A3), black on white, ruled tables, nothing in colour that carries meaning. Output is
deterministic (reportlab invariant mode): the same data gives the same bytes, so a printed
notice can be reproduced and its SHA-256 compared.
"""
from __future__ import annotations

import functools
import io
import re
import threading
from dataclasses import dataclass
from itertools import groupby
from xml.sax.saxutils import escape

import segno
import segno.consts
import segno.encoder
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A3, A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from reports.fonts import register_font

MARGIN = 15 * mm
GRID = colors.black
HEADER_FILL = colors.HexColor("#DDDDDD")


@dataclass(frozen=True)
class Paper:
    name: str
    size: tuple[float, float]

    @property
    def scale(self) -> float:
        """Type grows with the sheet: an A3 board is read from further away."""
        return self.size[0] / A4[0]

    @property
    def frame_width(self) -> float:
        return self.size[0] - 2 * MARGIN

    @property
    def frame_height(self) -> float:
        return self.size[1] - 2 * MARGIN - self.footer_height

    @property
    def footer_height(self) -> float:
        return 14 * mm * self.scale


PAPERS = {"a4": Paper("a4", A4), "a3": Paper("a3", A3)}


class Styles:
    """Type sizes in points on A4 (title 24, body 14, table 12.5, footer 10), scaled by paper."""

    def __init__(self, font: str, paper: Paper):
        s = paper.scale
        self.font = font

        def style(name, size, **kw):
            return ParagraphStyle(name, fontName=font, fontSize=size * s,
                                  leading=size * s * 1.35, wordWrap="CJK", **kw)
        self.title = style("title", 24, alignment=TA_CENTER, spaceAfter=4 * mm * s)
        self.heading = style("heading", 16, spaceBefore=3 * mm * s, spaceAfter=2 * mm * s,
                             keepWithNext=1)
        self.body = style("body", 14)
        self.cell = style("cell", 12.5)
        self.cell_right = style("cell_right", 12.5, alignment=TA_RIGHT)
        self.small = style("small", 10)
        self.footer_size = 10 * s
        self.page_number_size = 12 * s


def para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


class _Cell(Paragraph):
    """A paragraph in a table cell, laid out once for each width it is given.

    A table asks every cell for its size when it is measured and again when it is drawn, and a
    roll measures its rows once more to paginate them: a village's roll broke the same lines
    four times. The layout depends on the text, the style and the width only, so it is kept
    (the paragraph is drawn from it unchanged; the bytes are the same)."""

    def wrap(self, availWidth, availHeight):
        laid_out = self.__dict__.setdefault("_laid_out", {})
        state = laid_out.get(availWidth)
        if state is None:
            size = super().wrap(availWidth, availHeight)
            if hasattr(self, "blPara"):   # not refused for want of width
                laid_out[availWidth] = (size, self.width, self.height, self.blPara,
                                        self._wrapWidths)
            return size
        size, self.width, self.height, self.blPara, self._wrapWidths = state
        return size


_cells = threading.local()


def cell(text: str, style: ParagraphStyle) -> Paragraph:
    """The paragraph of a table cell, one object for the same text in the same style: parsed
    once, laid out once a width (`_Cell`), in every table and document that shows it (a
    county's notices repeat most of their cells: labels, headers, amounts, statuses, a
    project's fields in each of its villages). A cell is drawn wherever it is placed, so one
    object may sit in several places of one document; but a paragraph holds the layout and
    the canvas of its last use, so each thread (the web server's) has its own cells. Styles
    are made once a paper and font (`styles_for`)."""
    made = getattr(_cells, "made", None)
    if made is None:
        made = _cells.made = functools.lru_cache(maxsize=8192)(_new_cell)
    return made(text, style)


def _new_cell(text: str, style: ParagraphStyle) -> Paragraph:
    return _Cell(escape(str(text)).replace("\n", "<br/>"), style)


def forget_cells() -> None:
    """Drop this thread's cells (a document measured as if printed alone)."""
    _cells.__dict__.pop("made", None)


def _ruled(extra=()) -> TableStyle:
    return TableStyle([("GRID", (0, 0), (-1, -1), 0.8, GRID),
                       ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                       ("TOPPADDING", (0, 0), (-1, -1), 3),
                       ("BOTTOMPADDING", (0, 0), (-1, -1), 4), *extra])


def field_table(fields: list[list[str]], styles: Styles, paper: Paper) -> Table:
    """Label | value rows, the body of a notice."""
    label_width = 46 * mm * paper.scale
    data = [[cell(label, styles.body), cell(value, styles.body)] for label, value in fields]
    return Table(data, colWidths=[label_width, paper.frame_width - label_width],
                 style=_ruled([("BACKGROUND", (0, 0), (0, -1), HEADER_FILL)]))


def data_table(header: list[str], rows: list[list], styles: Styles, widths: list[float],
               right: set[int] = frozenset(), bold_last: bool = False,
               caption: str | None = None) -> Table:
    """A ruled table whose header (and caption row, if any) repeats on every page; `right`
    columns are figures."""
    def one(value, col):
        if not isinstance(value, str):
            return value
        return cell(value, styles.cell_right if col in right else styles.cell)
    data = [[cell(h, styles.cell) for h in header]]
    extra = [("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL)]
    if caption is not None:
        data.insert(0, [cell(caption, styles.cell)] + [""] * (len(header) - 1))
        extra = [("SPAN", (0, 0), (-1, 0)), ("BACKGROUND", (0, 1), (-1, 1), HEADER_FILL)]
    data += [[one(v, c) for c, v in enumerate(row)] for row in rows]
    if bold_last:
        extra.append(("BACKGROUND", (0, -1), (-1, -1), HEADER_FILL))
    return Table(data, colWidths=widths, repeatRows=2 if caption is not None else 1,
                 style=_ruled(extra))


QR_LEVEL = "M"  # error correction 15%: boards get dirty and wet
QR_BORDER = 4   # quiet zone, in modules (the minimum ISO/IEC 18004 asks for)


def _pad_to_codeword(buff, version, length):
    """ISO/IEC 18004 7.4.10: zero bits up to the next codeword boundary, none if already on it.
    segno 1.6.6 adds a whole zero codeword in that case (heuer/segno issues 123 and 148): the
    text still decodes, but the pad codewords are shifted, which a strict reader (BoofCV)
    rejects, and the symbol differs from reportlab's. About one Base45 length in eight hits it."""
    if version not in (segno.consts.VERSION_M1, segno.consts.VERSION_M3):
        buff.extend([0] * (-length % 8))


def _segno_pads_a_whole_codeword() -> bool:
    try:
        buff = segno.encoder.Buffer()
        segno.encoder.write_padding_bits(buff, 1, 8)
    except (AttributeError, TypeError):
        return False  # segno's internals changed: tests/reports/test_qr.py says if it is right
    return len(buff) != 0


if _segno_pads_a_whole_codeword():  # only while segno has the bug; a later segno is left alone
    segno.encoder.write_padding_bits = _pad_to_codeword


segno_apply_mask = segno.encoder.apply_mask
_MASK_ROWS: dict[tuple, tuple[int, ...]] = {}


def _apply_mask_by_rows(matrix, mask_pattern, width, height, is_encoding_region):
    """segno's `apply_mask`, the same modules flipped, a row at a time. segno asks two Python
    functions about every module of the symbol for each of the eight masks it tries (≈ 100,000
    calls for a version 24 symbol: most of a notice's QR time, which was most of a county's
    batch). Which modules a mask flips depends only on the symbol's size and the mask, so they
    are worked out once per (size, mask), as one integer a row, and each row is XORed whole
    (its modules are bytes 0 and 1). The mask functions are made anew on every call, so they
    are known by name (fn0 … fn7, micro symbols having sizes of their own);
    tests/reports/test_qr.py compares the result with segno's own on many texts."""
    key = (width, height, getattr(mask_pattern, "__name__", None))
    rows = _MASK_ROWS.get(key) if key[2] else None
    if rows is None:
        rows = tuple(int.from_bytes(bytes(
            1 if is_encoding_region(i, j) and mask_pattern(i, j) else 0
            for j in range(width)), "big") for i in range(height))
        if key[2]:
            _MASK_ROWS[key] = rows
    for i in range(height):
        row = matrix[i]
        row[:] = (int.from_bytes(row, "big") ^ rows[i]).to_bytes(width, "big")


segno.encoder.apply_mask = _apply_mask_by_rows

segno_mask_scores = segno.encoder.mask_scores
_RUN_OF_FIVE = re.compile(rb"\x00{5,}|\x01{5,}")
_N3 = b"\x01\x00\x01\x01\x01\x00\x01"


def mask_scores_by_lines(matrix, width, height):
    """segno's `mask_scores` (the penalties N1-N4 by which it picks the mask), the same four
    numbers, with whole rows and columns instead of a Python step per module: runs by a
    regular expression, 2×2 blocks by XOR of rows as integers (modules are bytes 0 and 1, so
    no carries), N3 by segno's own search, copied. After the masks themselves this was most
    of a notice's QR time. tests/reports/test_qr.py compares it with segno's on many
    symbols."""
    size = width
    rows = [bytes(row) for row in matrix]
    # every row and every column in one string, each ended by a byte that is neither module
    # (no run or pattern crosses it), so that each rule is one search, not one a line
    stride = size + 1
    lines = b"\x02".join(rows + [bytes(column) for column in zip(*rows)])
    runs = _RUN_OF_FIVE.findall(lines)
    n1 = sum(map(len, runs)) - 2 * len(runs)
    n2 = 0
    numbers = [int.from_bytes(row, "big") for row in rows]
    for above, below in zip(numbers, numbers[1:]):
        # byte j of each term is 0 where module j equals module j-1 (in the row above, in the
        # row below) and where the two rows agree at j
        differ = (above ^ (above >> 8)) | (below ^ (below >> 8)) | (above ^ below)
        n2 += 3 * differ.to_bytes(size, "big").count(0, 1)
    # N3 as segno 1.6.6 counts it in each line (its conditions, and where it searches on
    # from), with positions in the line worked out from those in the string
    n3 = 0
    found = lines.find(_N3)
    while found != -1:
        start = found - found % stride
        idx = found - start
        offset = idx + 7
        if idx in (0, size - 7) \
                or 1 not in lines[start + max(idx - 4, 0):start + idx] \
                or 1 not in lines[start + offset:start + min(offset + 4, size)]:
            n3 += 40
        else:
            offset = idx + 4
        found = lines.find(_N3, start + offset)
    dark = sum(row.count(1) for row in rows)
    percent = float(dark) / (size ** 2)
    n4 = 10 * int(abs(percent * 100 - 50) / 5)
    return n1, n2, n3, n4


segno.encoder.mask_scores = mask_scores_by_lines


def qr_segments(text: str) -> str | list[str]:
    """The QR's content as segments: a verify link is split after its '#', so the address is
    one byte-mode segment and the proof (percent-encoded Base45, ledger.audit.tlog.proofs
    .proof_link) one alphanumeric segment. As one string the '#' (not alphanumeric) would put
    the whole link in byte mode: version 30 instead of 24 for a 1,300-character link."""
    head, sep, payload = text.partition("#")
    return [head + sep, payload] if sep and payload else text


@functools.lru_cache(maxsize=32)   # a notice asks for its symbol's size, then draws it
def qr_matrix(text: str, mask: int | None = None) -> tuple[bytearray, ...]:
    """The QR's modules, row by row from the top, 1 dark, without the quiet zone.

    segno, not reportlab's encoder, for speed (about half the time, and the encoding was most
    of a notice's CPU): the smallest version that holds the text at level M (no
    `boost_error`); a bare Base45 text is one segment in the same mode and codewords as
    reportlab's (tests/reports compares the matrices), a link two (`qr_segments`). The mask
    may differ: both score the eight masks, but their penalty rules differ and pick another
    mask for about four texts in ten; any mask is valid (a reader takes it from the format
    bits), and `mask` pins one."""
    return segno.make_qr(qr_segments(text), error=QR_LEVEL, boost_error=False,
                         mask=mask).matrix


def qr_modules(text: str) -> int:
    """Modules across the symbol, quiet zone included."""
    return len(qr_matrix(text)) + 2 * QR_BORDER


class QrFlowable(Flowable):
    """A QR code `side` points square, quiet zone included. Encoded once, when made; drawn as
    one filled path of one rectangle per run of dark modules in a row, in module units, so the
    page stream stays small and the edges fall exactly on module boundaries."""

    def __init__(self, text: str, side: float):
        super().__init__()
        self.matrix = qr_matrix(text)
        self.width = self.height = side

    def wrap(self, avail_width, avail_height):
        return self.width, self.height

    def draw(self):
        count = len(self.matrix)
        total = count + 2 * QR_BORDER
        module = self.width / total
        canv = self.canv
        canv.saveState()
        canv.setFillColor(colors.black)
        # origin at the top left of the symbol, y downward, one unit a module
        canv.transform(module, 0, 0, -module, 0, self.height)
        # The path written out directly: whole numbers need none of the float formatting
        # (reportlab's pure-Python fp_str) that Path.rect spends most of the drawing time in.
        rects = []
        for r, row in enumerate(self.matrix, start=QR_BORDER):
            c = QR_BORDER
            for dark, run in groupby(row):
                n = len(list(run))
                if dark:
                    rects.append(f"{c} {r} {n} 1 re")
                c += n
        canv.addLiteral("\n".join(rects) + "\nf")
        canv.restoreState()


def qr_drawing(text: str, side: float) -> QrFlowable:
    return QrFlowable(text, side)


QR_SIDE = 52 * mm      # the printed square on A4, quiet zone included
QR_MIN_MODULE = 0.33 * mm   # smaller modules and a phone at arm's length misreads the code
QR_MAX_SIDE = 80 * mm


def qr_side(text: str, paper: Paper) -> float:
    """52 mm on A4 while the modules stay ≥ 0.33 mm (a symbol of up to 157 modules with its
    quiet zone: version 33); a bigger symbol (a big log, many cosigners) grows the square so
    its modules keep 0.33 mm, up to 80 mm. A3 scales it with the sheet."""
    side = max(QR_SIDE, qr_modules(text) * QR_MIN_MODULE)
    return min(side, QR_MAX_SIDE) * paper.scale


def qr_block_height(text: str, paper: Paper) -> float:
    """Height of `qr_block` on the page: the QR square, its spacer and cell padding (the text
    beside it is shorter than the square)."""
    return qr_side(text, paper) + 2 * mm * paper.scale + 12


def qr_block(printable, styles: Styles, paper: Paper) -> KeepTogether:
    """The QR (inclusion proof + cosigned checkpoint) with how to check it, kept together."""
    side = qr_side(printable.qr_text, paper)
    text_width = paper.frame_width - side - 4 * mm
    witnesses = "、".join(printable.witnesses) or "无"
    lines = [cell("扫码核验", styles.heading),
             cell("用手机扫描左侧二维码，可核对本公示的内容是否与资金账本的记录完全一致、"
                  "是否经过各级联合签名。", styles.body),
             Spacer(1, 2 * mm),
             cell(f"账本指纹：{printable.fingerprint}", styles.small),
             cell(f"联合签名：{witnesses}", styles.small),
             cell(f"公钥指纹：{printable.keys_fingerprint}", styles.small),
             cell(f"内容摘要：{printable.notice.rows_digest[:16]}", styles.small)]
    table = Table([[qr_drawing(printable.qr_text, side), lines]],
                  colWidths=[side + 4 * mm, text_width],
                  style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                    ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    return KeepTogether([Spacer(1, 2 * mm), table])


def _numbered_canvas(footer_text: str, styles: Styles, paper: Paper):
    """A canvas that knows the page count when it draws each footer (第 N 页 共 M 页)."""
    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total):
            width = paper.size[0]
            y = MARGIN
            self.setFillColor(colors.black)
            self.setFont(styles.font, styles.page_number_size)
            self.drawCentredString(width / 2, y + styles.footer_size * 1.6,
                                   f"第 {self._pageNumber} 页  共 {total} 页")
            if footer_text:
                self.setFont(styles.font, styles.footer_size)
                self.drawCentredString(width / 2, y, footer_text)
    return NumberedCanvas


def _tables_in_font(flowables, font: str) -> None:
    """Give every table and chart of the story (nested ones too) our font as the font it
    starts in. A table selects its cells' font before drawing them even when every cell is a
    paragraph with its own, and a chart (a reportlab Drawing) sets its initial font before its
    first shape; left alone both are reportlab's default, Helvetica, which is then listed in
    the page's fonts without being embedded."""
    for flowable in flowables:
        if isinstance(flowable, Drawing):
            flowable.initialFontName = font
        if isinstance(flowable, Table):
            flowable.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font)]))
            for row in flowable._cellvalues:
                for cell in row:
                    _tables_in_font(cell if isinstance(cell, (list, tuple)) else [cell], font)
        inner = getattr(flowable, "_content", None)   # KeepTogether and its kind
        if isinstance(inner, (list, tuple)):
            _tables_in_font(inner, font)


def render(story: list, paper: Paper, title: str, footer_text: str, styles: Styles) -> bytes:
    """Lay out the story and return the PDF bytes (identical for identical input)."""
    _tables_in_font(story, styles.font)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=paper.size, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN + paper.footer_height,
                            title=title, author="fundtrail", creator="fundtrail",
                            subject=title, invariant=1,
                            # reportlab starts every page in Helvetica, one of the 14 fonts a
                            # PDF may name without embedding; the page's preamble then lists
                            # it in the page's fonts, unembedded, even where no text uses it.
                            # Starting in our embedded TrueType keeps every font embedded
                            # (tests/reports/test_fonts_embedded.py reads it with pdffonts).
                            initialFontName=styles.font)
    doc.build(story, canvasmaker=_numbered_canvas(footer_text, styles, paper))
    return buffer.getvalue()


def styles_for(paper: Paper, font_file: str = "") -> Styles:
    return _styles(register_font(font_file), paper)


@functools.lru_cache(maxsize=None)
def _styles(font: str, paper: Paper) -> Styles:
    """One set of styles a font and paper (never changed once made), so that `cell` finds the
    cells of earlier documents."""
    return Styles(font, paper)
