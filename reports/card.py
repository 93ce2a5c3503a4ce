"""The household card (明白卡): what the household received this year, for the household."""
from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from reports.layout import PAPERS, data_table, field_table, para, render, styles_for


def household_card_pdf(content: dict, paper: str = "a4", font_file: str = "") -> bytes:
    sheet = PAPERS[paper]
    styles = styles_for(sheet, font_file)
    w = sheet.frame_width
    payments, members = content["tables"]
    story = [para(content["title"], styles.title), field_table(content["fields"], styles, sheet),
             para(payments["heading"], styles.heading),
             data_table(payments["header"], payments["rows"], styles,
                        [0.18 * w, 0.30 * w, 0.16 * w, 0.18 * w, 0.18 * w], right={2, 3}),
             para(members["heading"], styles.heading),
             data_table(members["header"], members["rows"], styles,
                        [0.25 * w, 0.25 * w, 0.5 * w]),
             Spacer(1, 4 * mm),
             para("本卡由帮扶责任人送达本户，请妥善保管，不张贴、不外借。"
                  "如发现补助少发、未发或被代领，请拨打上面的监督电话。", styles.body)]
    return render(story, sheet, content["title"], "明白卡（本户留存，不公开）", styles)
