"""A fund-flow picture (Sankey) of a lot, drawn on the server as SVG: no script, so the page
keeps its Content-Security-Policy without 'unsafe-inline'.

Columns are the levels of the trace tree (source → province → city → county → project →
payee). Each holder is a bar as tall as the money it received (or issued, for the source);
each flow is a band as wide as the money that moved. Beyond `max_payees` per holder, payees
are drawn as one bar "其他 N 户" so that a lot with ten thousand households stays readable.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from ledger.core.money import format_yuan
from ledger.funds.trace import Holder, Trace

WIDTH, COLUMN_GAP, BAR, GAP, HEIGHT = 980, 190, 14, 8, 520
COLOURS = {"appropriation": "#8c564b", "integration_in": "#8c564b", "unit": "#1f77b4",
           "project": "#2ca02c", "payee": "#ff7f0e", "other": "#aaaaaa"}


@dataclass
class Node:
    label: str
    kind: str
    value: int
    depth: int
    y: float = 0.0
    h: float = 0.0


def _value(h: Holder) -> int:
    return h.passed_on if h.kind in ("appropriation", "integration_in") else h.received


def _collect(trace: Trace, max_payees: int):
    nodes: list[Node] = []
    links: list[tuple[int, int, int]] = []

    def walk(h: Holder, depth: int) -> int:
        index = len(nodes)
        nodes.append(Node(f"{h.name or h.holder}", h.kind, _value(h), depth))
        payees = sorted((c for c in h.children if c.kind == "payee"), key=lambda c: -c.received)
        others = [c for c in h.children if c.kind != "payee"]
        for child in others + payees[:max_payees]:
            links.append((index, walk(child, depth + 1), child.received))
        rest = payees[max_payees:]
        if rest:
            amount = sum(c.received for c in rest)
            nodes.append(Node(f"其他 {len(rest)} 户", "other", amount, depth + 1))
            links.append((index, len(nodes) - 1, amount))
        return index
    for root in trace.roots:
        walk(root, 0)
    return nodes, links


def _layout(nodes: list[Node]) -> float:
    columns: dict[int, list[Node]] = {}
    for n in nodes:
        columns.setdefault(n.depth, []).append(n)
    usable = max(HEIGHT - GAP * max(len(c) for c in columns.values()), 40)
    scale = min(usable / max(sum(max(n.value, 1) for n in c) for c in columns.values()), 1e9)
    for column in columns.values():
        y = 10.0
        for n in column:
            n.h = max(n.value * scale, 2.0)
            n.y = y
            y += n.h + GAP
    return max(n.y + n.h for n in nodes) + 10


def sankey_svg(trace: Trace, max_payees: int = 8) -> Markup:
    nodes, links = _collect(trace, max_payees)
    if not nodes:
        return Markup("")
    height = _layout(nodes)
    depth = max(n.depth for n in nodes)
    x = lambda d: 10 + d * COLUMN_GAP  # noqa: E731
    width = max(WIDTH, x(depth) + BAR + 180)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sankey" role="img" '
             f'viewBox="0 0 {width} {height:.0f}" aria-label="{escape(trace.lot_label)}">']
    out_used = [0.0] * len(nodes)
    in_used = [0.0] * len(nodes)
    for src, dst, amount in links:
        s, d = nodes[src], nodes[dst]
        w = max(s.h * amount / max(s.value, 1), 1.0)
        y0 = s.y + out_used[src] + w / 2
        y1 = d.y + in_used[dst] + w / 2
        out_used[src] += w
        in_used[dst] += w
        x0, x1 = x(s.depth) + BAR, x(d.depth)
        mid = (x0 + x1) / 2
        parts.append(f'<path d="M{x0},{y0:.1f} C{mid},{y0:.1f} {mid},{y1:.1f} {x1},{y1:.1f}" '
                     f'fill="none" stroke="{COLOURS.get(d.kind, "#999")}" stroke-opacity="0.35" '
                     f'stroke-width="{w:.1f}"><title>{escape(s.label)} → {escape(d.label)}: '
                     f'{format_yuan(amount)}</title></path>')
    for n in nodes:
        parts.append(f'<rect x="{x(n.depth)}" y="{n.y:.1f}" width="{BAR}" height="{n.h:.1f}" '
                     f'fill="{COLOURS.get(n.kind, "#999")}"><title>{escape(n.label)}: '
                     f'{format_yuan(n.value)}</title></rect>')
        parts.append(f'<text x="{x(n.depth) + BAR + 4}" y="{n.y + n.h / 2 + 4:.1f}" '
                     f'font-size="12">{escape(n.label[:16])} {format_yuan(n.value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
