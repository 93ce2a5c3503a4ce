"""Invariants of the board roll's pagination, for any rows (Hypothesis; no database needed)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.money import format_yuan
from reports.layout import PAPERS, styles_for
from reports.roll import WIDTHS, _height, _table, paginate

NAME = st.text(alphabet="赵钱孙李周吴郑王欧阳秀英建国明华", min_size=2, max_size=6)
STATUS = st.sampled_from(["待发放", "已发放 2024-03-29", "银行退票，待重发", "有异议，暂缓发放",
                          "异议成立，已撤销"])


@st.composite
def rows(draw):
    count = draw(st.integers(1, 45))
    out = []
    for n in range(count):
        quantity = draw(st.integers(1, 9))
        out.append([str(n + 1), draw(NAME), "4301**********1234", "622202*********0000",
                    "产业奖补", "500.00", str(quantity), format_yuan(50_000 * quantity),
                    draw(STATUS)])
    return out


@settings(max_examples=25, deadline=None)
@given(rows(), st.sampled_from(["a4", "a3"]), st.integers(0, 400))
def test_pages_keep_every_row_once_in_order_and_fit(lines, paper, taken):
    sheet = PAPERS[paper]
    styles = styles_for(sheet)
    width = sheet.frame_width
    widths = [f * width for f in WIDTHS]
    first_room = sheet.frame_height - taken  # what the title and fields took on page 1
    pages = paginate(lines, styles, widths, width, first_room, sheet.frame_height, tail=150)
    assert [r for page in pages for r in page] == lines
    assert all(pages)
    running = 0
    for n, page in enumerate(pages):
        subtotal = sum(int(r[7].replace(",", "").replace(".", "")) for r in page)
        running += subtotal
        table = _table(page, styles, widths, subtotal, running, n == len(pages) - 1)
        room = first_room if n == 0 else sheet.frame_height
        last = n == len(pages) - 1
        assert _height(table, width) + (150 if last else 0) <= room or len(page) == 1
    assert running == sum(int(r[7].replace(",", "").replace(".", "")) for r in lines)
