"""Table cells are made once per text and style (reports.layout.cell), per thread."""
from __future__ import annotations

import threading

from reports.layout import PAPERS, cell, forget_cells, styles_for


def test_a_cell_is_made_once_a_thread():
    style = styles_for(PAPERS["a4"]).cell
    first = cell("已发放 2024-03-29", style)
    assert cell("已发放 2024-03-29", style) is first
    # laid out once a width: the second wrap gives the same size from what the first kept
    assert first.wrap(100, 1000) == first.wrap(100, 1000)
    assert first.wrap(40, 1000)[1] > first.wrap(100, 1000)[1]   # narrower: more lines
    # a paragraph keeps its layout and canvas while drawn: another thread has its own
    other = []
    thread = threading.Thread(target=lambda: other.append(cell("已发放 2024-03-29", style)))
    thread.start()
    thread.join()
    assert other[0] is not first
    forget_cells()
    assert cell("已发放 2024-03-29", style) is not first
