"""The county annual fund-use report: sources against uses by function code, township and
project type, with a pie of sources and a bar chart of uses, and the list of alerts."""
from __future__ import annotations

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from ledger.core.money import format_yuan, parse_yuan
from reports.alerts_source import LISTED
from reports.layout import PAPERS, data_table, field_table, para, qr_block, render, styles_for

# Greys and black only: the board copy is often a black-and-white photocopy.
SHADES = [colors.HexColor(c) for c in ("#555555", "#AAAAAA", "#222222", "#DDDDDD", "#888888",
                                       "#333333")]


def _totals(table: dict) -> list[tuple[str, int]]:
    """(name, fen) of a content table, without its 合计 row; whole yuan for the charts."""
    return [(r[0], parse_yuan(r[1])) for r in table["rows"] if r[0] != "合计"]


def pie_chart(items, styles, width) -> Drawing:
    height = width * 0.3
    drawing = Drawing(width, height)
    items = [(n, f) for n, f in items if f > 0] or [("无", 1)]
    pie = Pie()
    pie.x, pie.y = 10, 10
    pie.width = pie.height = height - 20
    pie.data = [f // 100 or 1 for _, f in items]
    pie.labels = None
    pie.slices.strokeColor = colors.white
    for i in range(len(items)):
        pie.slices[i].fillColor = SHADES[i % len(SHADES)]
    drawing.add(pie)
    x, y = height + 10, height - 24
    for i, (name, fen) in enumerate(items):
        drawing.add(_swatch(x, y, SHADES[i % len(SHADES)]))
        drawing.add(String(x + 18, y, f"{name}  {format_yuan(fen)} 元", fontName=styles.font,
                           fontSize=styles.cell.fontSize))
        y -= styles.cell.fontSize * 1.6
    return drawing


def _swatch(x, y, fill):
    from reportlab.graphics.shapes import Rect
    return Rect(x, y - 2, 12, 12, fillColor=fill, strokeColor=colors.black, strokeWidth=0.5)


def bar_chart(items, styles, width) -> Drawing:
    """Horizontal bars (long Chinese names read well on the left), values in 万元."""
    size = styles.cell.fontSize
    rows = max(1, len(items))
    height = rows * size * 2.4 + 50
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = width * 0.34, 20
    chart.width, chart.height = width * 0.6, height - 45
    chart.data = [[f // 100 for _, f in items] or [0]]
    chart.bars[0].fillColor = SHADES[0]
    chart.categoryAxis.categoryNames = [n for n, _ in items] or ["无"]
    chart.categoryAxis.labels.fontName = styles.font
    chart.categoryAxis.labels.fontSize = size
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = styles.font
    chart.valueAxis.labels.fontSize = size * 0.85
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda v: f"{v / 10000:g}万"
    drawing.add(chart)
    drawing.add(String(chart.x + chart.width, height - size, "单位：万元", fontName=styles.font,
                       fontSize=size * 0.85, textAnchor="end"))
    return drawing


def _alert_rows(alerts) -> list[list[str]]:
    rows = []
    for a in alerts:
        amount = a.get("amount_fen")
        rows.append([str(a.get("rule_id", "")), str(a.get("title", "")),
                     LISTED.get(str(a.get("status", "open")), str(a.get("status", ""))),
                     str(a.get("subject", "")),
                     format_yuan(amount) if isinstance(amount, int) else "—"])
    return rows


def alerts_section(alerts, styles, sheet) -> list:
    heading = para("预警线索（未结及已确认）", styles.heading)
    if alerts is None:
        return [heading, para("暂无预警数据", styles.body)]
    if not alerts:
        return [heading, para("本年度没有未结或已确认的预警线索。", styles.body)]
    w = sheet.frame_width
    table = data_table(["规则", "名称", "状态", "对象", "涉及金额（元）"], _alert_rows(alerts),
                       styles, [0.12 * w, 0.34 * w, 0.12 * w, 0.22 * w, 0.20 * w], right={4})
    note = para("预警是需要核实的风险线索，不是结论。", styles.small)
    return [heading, table, note]


COMPLAINT_ROWS = [("received", "受理投诉"), ("answered_on_time", "按期答复"),
                  ("closed", "办结"), ("closed_on_time", "按期办结"),
                  ("substantiated", "查实"), ("open_overdue", "超期未结")]


def complaints_section(stats, styles, sheet) -> list:
    """Complaint handling in the year (ledger.oversight.complaints.complaint_stats), if there
    are any."""
    heading = para("信访投诉处理情况", styles.heading)
    if stats is None:
        return [heading, para("暂无投诉数据", styles.body)]
    w = sheet.frame_width
    rows = [[label, f"{stats.get(key, 0)} 件"] for key, label in COMPLAINT_ROWS]
    return [heading, data_table(["项目", "件数"], rows, styles, [0.65 * w, 0.35 * w],
                                right={1})]


def county_annual_pdf(printable, alerts, paper: str = "a4", font_file: str = "",
                      complaints: dict | None = None) -> bytes:
    sheet = PAPERS[paper]
    styles = styles_for(sheet, font_file)
    content = printable.content
    w = sheet.frame_width
    story = [para(content["title"], styles.title), field_table(content["fields"], styles, sheet)]
    sources, _, by_town, _ = content["tables"]
    for table in content["tables"]:
        story += [para(table["heading"], styles.heading),
                  data_table(table["header"], table["rows"], styles, [0.65 * w, 0.35 * w],
                             right={1}, bold_last=True)]
        if table is sources:
            story.append(KeepTogether([Spacer(1, 2 * mm), para("资金来源构成", styles.body),
                                       pie_chart(_totals(sources), styles, w)]))
        if table is by_town:
            story.append(KeepTogether([Spacer(1, 2 * mm), para("各乡镇资金使用", styles.body),
                                       bar_chart(_totals(by_town), styles, w)]))
    story += alerts_section(alerts, styles, sheet)
    story += complaints_section(complaints, styles, sheet)
    story += [Spacer(1, 3 * mm), qr_block(printable, styles, sheet)]
    return render(story, sheet, content["title"], printable.fingerprint, styles)
