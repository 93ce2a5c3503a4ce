"""Figure 5: village notice PDFs, one and a whole county's.

The project: `reports.render.render_public` — what `fundtrail report village-notice`,
`report payment-roll`, `report county-batch` and the web's roll PDF call — in a new session per
document: find the published notice, rebuild its rows from the ledger and check their digest,
prove it against the cosigned checkpoint, lay it out with its QR. On a copy of the demo
province with every notice of one county published and cosigned (bench/demodb.py).

Baseline, interleaved in the same run: reportlab alone, a CJK TrueType font (WenQuanYi Micro
Hei) drawing the text of a typical notice (title, 30 household lines, totals) on one page.

The county: every document `report county-batch` prints for the county (each project's notice
for each village it is posted in, each roll's board roll for each village on it), one process
as the command does by default; then the same list split over two forked processes by hand
(what `report county-batch --jobs 2` does, less the start of its two spawned interpreters), to
show what both cores give. Per village and extrapolated to 300 villages.
"""
from __future__ import annotations

import io
import multiprocessing
import re
import time
from pathlib import Path

from bench.demodb import ORIGIN, prepared
from bench.harness import CpuClock, Figure, median, timed

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
LINES = [f"{n:>3}  H52012100{n:04d}  张{'三四五六七'[n % 5]}{'明华建国'[n % 4]}  产业奖补  "
         f"{500 + n * 10:,}.00 元  伍佰元整" for n in range(1, 31)]


def raw_notice() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas
    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", str(FONT), subfontIndex=0))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.setFont("WQY", 16)
    c.drawString(60, 800, "开阳县永温镇丰和村 2024 年产业奖补资金公示")
    c.setFont("WQY", 10)
    y = 770
    for line in LINES:
        c.drawString(60, y, line)
        y -= 18
    c.drawString(60, y - 10, "合计：30 户  人民币 壹万玖仟陆佰伍拾元整  "
                             "公示期 2024-03-15 至 2024-03-25")
    c.showPage()
    c.save()
    return out.getvalue()


def _setup(prep):
    from ledger.audit.tlog.policy import parse_policy
    from ledger.store.context import LedgerContext
    from ledger.store.db import make_engine, make_sessionmaker
    from reports.batch import county_targets
    engine = make_engine(prep.url)
    factory = make_sessionmaker(engine, LedgerContext(ORIGIN))   # the demo's log
    policy = parse_policy(prep.policy_file.read_bytes())
    with factory() as s:
        targets = county_targets(s, prep.county, None, "full")
    return engine, factory, policy, targets


def render_one(factory, policy, target) -> bytes:
    from reports.render import render_public
    with factory() as s:
        pdf, _info = render_public(s, target.kind, target.subject, policy)
    return pdf


def _render_share(args) -> int:
    url, policy_file, county, share, parts = args
    from bench.demodb import Prepared
    prep = Prepared(url, policy_file.parent, county, [])
    engine, factory, policy, targets = _setup(prep)
    for target in targets[share::parts]:
        render_one(factory, policy, target)
    engine.dispose()
    return len(targets[share::parts])


def render_county(prep, processes: int) -> float:
    """Wall seconds to render every document of the county in `processes` processes."""
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(_render_share, [(prep.url, prep.policy_file, prep.county, i, processes)
                                 for i in range(processes)])
    return time.perf_counter() - start


def _single(kind_name, label, factory, policy, targets, runs) -> Figure:
    target = next(t for t in targets if t.kind.value == kind_name)
    render_one(factory, policy, target)  # warm: font, statement caches
    raws, times, cpus = [], [], []
    for _ in range(runs):
        raws.append(timed(raw_notice)[0])
        with CpuClock() as cpu:
            elapsed, pdf = timed(lambda: render_one(factory, policy, target))
        times.append(elapsed)
        cpus.append(cpu.seconds)
    fig = Figure(f"5 notice PDF ({label})", f"render_public {target.filename}", "s",
                 median(times), times, "reportlab + CJK TTF", median(raws), raws,
                 target="≤0.2 s", lower_is_better=True)
    fig.target_met = fig.value <= 0.2
    pages = len(re.findall(rb"/Type /Page[^s]", pdf))
    fig.note = (f"{target.filename}: {pages} pages, {len(pdf) / 1024:.0f} kB, "
                f"CPU {median(cpus):.3f} s (the baseline is one page of 30 lines)")
    fig.extra = {"cpu_runs": cpus, "bytes": len(pdf), "pages": pages}
    return fig


def run(ctx) -> list[Figure]:
    if not FONT.exists():
        return [Figure("5 notice PDF", "one village notice", "s", note=f"{FONT} missing")]
    raw_notice()  # font loading once, as a running server would have done
    prep = prepared(ctx)
    engine, factory, policy, targets = _setup(prep)
    runs = ctx.runs if ctx.quick else ctx.runs * 3
    figures = [_single("project", "project", factory, policy, targets, runs),
               _single("roll", "roll", factory, policy, targets, runs)]
    # the county, one process (as `report county-batch`) and two, beside the raw drawing of
    # as many one-page notices
    one, two, raws, cpus = [], [], [], []
    for _ in range(1 if ctx.quick else min(ctx.runs, 3)):
        raws.append(timed(lambda: [raw_notice() for _ in targets])[0])
        with CpuClock() as cpu:
            elapsed, _ = timed(lambda: [render_one(factory, policy, t) for t in targets])
        one.append(elapsed)
        cpus.append(cpu.seconds)
        if not ctx.quick:   # the smoke run: one process only
            two.append(render_county(prep, 2))
    engine.dispose()
    villages = len(prep.villages)
    per_village = median(one) / villages
    per_village_two = median(two) / villages if two else per_village
    fig = Figure("5 county notices", f"{len(targets)} documents of county {prep.county} "
                 f"({villages} villages), one process", "s", median(one), one,
                 "reportlab + CJK TTF ×" + str(len(targets)), median(raws), raws,
                 target="300 villages ≤60 s (2 cores)", lower_is_better=True)
    fig.target_met = per_village_two * 300 <= 60
    fig.note = (f"{len(targets)} documents for {villages} villages ({len(targets) / villages:.0f} "
                f"a village); one process {per_village:.2f} s a village, CPU "
                f"{median(cpus):.1f} s; two processes (split by hand, as --jobs 2) "
                + (f"{median(two):.1f} s = {per_village_two:.2f} s a village" if two else
                   "not run (--quick)") + "; EXTRAPOLATED to "
                f"300 villages: {per_village * 300:,.0f} s in one process, "
                f"{per_village_two * 300:,.0f} s in two")
    fig.extra = {"two_process_runs": two, "cpu_runs": cpus, "documents": len(targets),
                 "villages": villages, "per_village_s": per_village,
                 "per_village_two_processes_s": per_village_two}
    figures.append(fig)
    return figures
