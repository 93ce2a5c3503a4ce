"""`python -m bench.markdown RESULTS.json`: a results file as a Markdown table for the docs."""
from __future__ import annotations

import json
import sys

from bench.harness import fmt


def render(data: dict) -> str:
    meta = data["meta"]
    m = meta["machine"]
    lines = [f"Run of {meta['started']} ({meta['mode']}): {m['cpu']}, {m['cores']} cores, "
             f"{m['memory']}, {m['system']}, Python {m['python']}, SQLite {m['sqlite']}, "
             f"SQLAlchemy {m['sqlalchemy']}.",
             f"`uptime` at the start: {m['uptime']}; load at the end: {meta.get('load_end')}.",
             "",
             "| figure | project (median) | raw baseline (median) | ratio | target | met | notes |",
             "|---|---|---|---|---|---|---|"]
    for f in data["figures"]:
        met = {True: "yes", False: "**no**", None: "—"}[f["target_met"]]
        ratio = f"{f['ratio']:.1%}" if f["ratio"] is not None else "—"
        base = fmt(f["baseline_value"], f["unit"]) + (f" ({f['baseline']})" if f["baseline"]
                                                     else "")
        value = fmt(f["value"], f["unit"]) if f["value"] is not None else "—"
        lines.append(f"| {f['key']} | {value} | {base} | {ratio} | {f['target']} | {met} | "
                     f"{f['note']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as fh:
        print(render(json.load(fh)))
