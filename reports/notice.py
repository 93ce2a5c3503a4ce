"""The village project notice (公示 before work, 公告 after acceptance), DOMAIN.md §2."""
from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from reports.layout import PAPERS, data_table, field_table, para, qr_block, render, styles_for


def project_notice_pdf(printable, paper: str = "a4", font_file: str = "") -> bytes:
    sheet = PAPERS[paper]
    styles = styles_for(sheet, font_file)
    content = printable.content
    story = [para(content["title"], styles.title), field_table(content["fields"], styles, sheet)]
    for table in content["tables"]:
        w = sheet.frame_width
        story += [para(table["heading"], styles.heading),
                  data_table(table["header"], table["rows"], styles,
                             [0.22 * w, 0.48 * w, 0.30 * w], right={2}, bold_last=True)]
    story += [Spacer(1, 3 * mm), qr_block(printable, styles, sheet)]
    return render(story, sheet, content["title"], printable.fingerprint, styles)
