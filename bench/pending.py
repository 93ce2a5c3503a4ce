"""Figures whose code is being built elsewhere: a row that says so, never a made-up number."""
from __future__ import annotations

import importlib.util

from bench.harness import Figure


def run(ctx) -> list[Figure]:
    alerts = Figure("4 alert scan", "all rules over the province", "s", target="(issue 5)",
                    lower_is_better=True)
    if importlib.util.find_spec("ledger.alerts") is None:
        alerts.note = "not measured: alerts not merged"
    else:
        alerts.note = "not measured: alerts merged after this suite; add it to bench/pending.py"
    web = Figure("6 web", "public page requests/s (wrk → waitress, loopback)", "req/s",
                 target="(issue 6)",
                 note="pending: web not merged; see docs/performance.md for the wrk method")
    return [alerts, web]
