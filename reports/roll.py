"""The household payment roll for the village board (公示清册), DOMAIN.md §2.

Long rolls run over several pages. Every page repeats the column headers and ends with its own
subtotal and the running total, so a page posted alone still adds up, and the last page's
running total is the village's total printed at the top. Rows are measured one by one and
packed into pages here (rather than letting the table split itself) so that the subtotal rows
know exactly which lines share their page.
"""
from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Spacer

from ledger.core.money import format_yuan, parse_yuan, to_daxie
from reports.layout import (
    PAPERS,
    data_table,
    field_table,
    para,
    qr_block,
    qr_block_height,
    render,
    styles_for,
)

# Content columns: 序号 户主姓名 身份证号 银行卡号 补助项目 标准 数量 金额 状态. On paper the
# two masked numbers share one cell (two lines), and item and standard, when the same on every
# line of the page, go into a caption row repeated above the headers of every page, so that the
# numbers are never broken across lines on A4 portrait. A roll of several items prints each
# line's item above its quantity (with the quantity's unit: 2.5 亩), and the standards in the
# caption.
WIDTHS = (0.06, 0.14, 0.30, 0.12, 0.155, 0.225)
HEADER = ["序号", "户主姓名", "身份证号\n银行卡号", "数量", "金额（元）", "状态"]
AMOUNT = 7  # index of 金额 in the content rows
SAFETY = 8  # points kept free on each page against rounding in measurement


def _paper_row(row: list[str], several: bool) -> list[str]:
    number, name, id_masked, card_masked, item, _standard, quantity, amount, status = row
    if several:
        quantity = f"{item}\n{quantity}"
    return [number, name, f"{id_masked}\n{card_masked}", quantity, amount, status]


def _several(rows) -> bool:
    return len({(r[4], r[5]) for r in rows}) > 1


def _caption(rows) -> str:
    if _several(rows):
        items = "、".join(dict.fromkeys(r[4] for r in rows))
        return f"补助项目：{items}（见各行）　　金额 = 标准 × 数量"
    item, standard = (rows[0][4], rows[0][5]) if rows else ("", "")
    return f"补助项目：{item}　　补助标准：{standard} 元（金额 = 标准 × 数量）"


def _table(rows, styles, widths, subtotal, running, last):
    several = _several(rows)
    body = [_paper_row(r, several) for r in rows]
    body.append(["", "本页小计", "", "", format_yuan(subtotal), ""])
    body.append(["", "本村合计" if last else "累计至本页", "", "", format_yuan(running), ""])
    table = data_table(HEADER, body, styles, widths, right={0, 3, 4},
                       caption=_caption(rows))
    table.setStyle([("SPAN", (1, -1), (3, -1)), ("SPAN", (1, -2), (3, -2)),
                    ("BACKGROUND", (0, -2), (-1, -1), "#DDDDDD")])
    return table


def _height(flowable, width) -> float:
    return flowable.wrap(width, 10**6)[1]


def paginate(rows, styles, widths, width, first_room, page_room, tail=0.0) -> list[list]:
    """Split rows into pages: each page's table (header, rows, two total rows) fits its room,
    and the last page keeps `tail` points free for what follows the table (the QR block)."""
    probe = data_table(HEADER, [["", "本页小计", "", "", "0", ""]] * 2, styles, widths,
                       caption=_caption(rows))
    fixed = _height(probe, width)
    # One table of every row, wrapped once, gives each row's height (reportlab keeps them).
    several = _several(rows)   # a page of one item is no taller than this measures
    whole = data_table(HEADER, [_paper_row(r, several) for r in rows], styles, widths)
    whole.wrap(width, 10**6)
    heights = list(whole._rowHeights[1:])
    pages, current, used, room = [], [], fixed, first_room
    for row, height in zip(rows, heights):
        if current and used + height > room:
            pages.append(current)
            current, used, room = [], fixed, page_room
        current.append(row)
        used += height
    moved = []
    while len(current) > 1 and used + tail > room:  # make room for the QR on the last page
        moved.insert(0, current.pop())
        used -= heights[rows.index(moved[0])]
    pages.append(current)
    if moved:
        pages.append(moved)
    return pages


def roll_pdf(printable, paper: str = "a4", font_file: str = "") -> bytes:
    sheet = PAPERS[paper]
    styles = styles_for(sheet, font_file)
    content = printable.content
    table = content["tables"][0]
    width = sheet.frame_width
    widths = [f * width for f in WIDTHS]
    head = [para(content["title"], styles.title), field_table(content["fields"], styles, sheet),
            para(table["heading"], styles.heading)]
    first_room = sheet.frame_height - sum(_height(f, width) + f.getSpaceBefore()
                                          + f.getSpaceAfter() for f in head) - SAFETY
    tail = _height(para("本村合计（大写）：" + to_daxie(0), styles.body), width) \
        + qr_block_height(printable.qr_text, sheet)
    pages = paginate(table["rows"], styles, widths, width, first_room,
                     sheet.frame_height - SAFETY, tail + 4 * mm)
    story, running = list(head), 0
    for n, rows in enumerate(pages):
        subtotal = sum(parse_yuan(r[AMOUNT]) for r in rows)
        running += subtotal
        last = n == len(pages) - 1
        story.append(_table(rows, styles, widths, subtotal, running, last))
        if not last:
            story.append(PageBreak())
    story += [Spacer(1, 2 * mm),
              para(f"本村合计（大写）：{to_daxie(running)}", styles.body),
              qr_block(printable, styles, sheet)]
    return render(story, sheet, content["title"], printable.fingerprint, styles)
