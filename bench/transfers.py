"""Figure 1: one durable disbursement per transaction through the public service API.

Project: `ledger.funds.flows.pay` from a county's own share to a household (actor loaded, scope and
purpose checks, balance check counting pending, transfer and two postings, audit entry, tree
update), committed one transaction per payment: what a clerk's click or a bank callback costs.
Baseline: plain sqlite3 (or psycopg) on the same kind of database file or server, committing one
two-row transfer per transaction with the same durability (WAL, synchronous=FULL).

Figure 1b: the same payments arriving together, `flows.pay_many` recording 100 in one
transaction (group commit), against the raw driver writing 100 two-row transfers per transaction.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from bench import province as prov
from bench.harness import CpuClock, Figure, median, timed
from ledger.funds import flows
from ledger.org import regions
from ledger.store.db import transaction


def service_rate(p: prov.Province, codes: list[str], start: int, count: int,
                 cpu: list | None = None) -> float:
    def run():
        for i in range(start, start + count):
            with transaction(p.factory) as s:   # the province's log (its LedgerContext)
                flows.pay(s, regions.get_user(s, "k_clerk"), lot_id=p.lot_id,
                          payee_code=codes[i], amount_fen=100_00, function_code="2130505",
                          use_code="household_subsidy", county_code=prov.COUNTY,
                          effective_date=prov.DAY, key=f"bench:{codes[i]}")
    with CpuClock() as clock:
        elapsed, _ = timed(run)
    if cpu is not None:
        cpu.append(clock.seconds / count * 1000)
    return count / elapsed


def batch_rate(p: prov.Province, codes: list[str], start: int, count: int, batch: int,
               cpu: list | None = None) -> float:
    """`flows.pay_many`: `batch` payments per transaction (group commit), each its own
    transfer and audit entry."""
    def run():
        for first in range(start, start + count, batch):
            with transaction(p.factory) as s:
                flows.pay_many(s, regions.get_user(s, "k_clerk"), [
                    dict(lot_id=p.lot_id, payee_code=codes[i], amount_fen=100_00,
                         function_code="2130505", use_code="household_subsidy",
                         county_code=prov.COUNTY, effective_date=prov.DAY,
                         key=f"bench:{codes[i]}")
                    for i in range(first, min(first + batch, start + count))])
    with CpuClock() as clock:
        elapsed, _ = timed(run)
    if cpu is not None:
        cpu.append(clock.seconds / count * 1000)
    return count / elapsed


def raw_sqlite_rate(path: Path, count: int, batch: int = 1) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS postings (id INTEGER PRIMARY KEY, "
                 "transfer_id INTEGER, account_id INTEGER, amount_fen INTEGER)")

    def run():
        for first in range(0, count, batch):
            conn.execute("BEGIN IMMEDIATE")
            for i in range(first, min(first + batch, count)):
                conn.execute("INSERT INTO postings (transfer_id, account_id, amount_fen) "
                             "VALUES (?, ?, ?)", (i, 1, -100_00))
                conn.execute("INSERT INTO postings (transfer_id, account_id, amount_fen) "
                             "VALUES (?, ?, ?)", (i, 2, 100_00))
            conn.execute("COMMIT")
    elapsed, _ = timed(run)
    conn.close()
    return count / elapsed


def raw_pg_rate(url: str, count: int, batch: int = 1) -> float:
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS raw_postings (id bigserial PRIMARY KEY, "
                     "transfer_id bigint, account_id bigint, amount_fen bigint)")
        conn.commit()

        def run():
            for first in range(0, count, batch):
                with conn.transaction():
                    for i in range(first, min(first + batch, count)):
                        conn.execute("INSERT INTO raw_postings (transfer_id, account_id, "
                                     "amount_fen) VALUES (%s, %s, %s)", (i, 1, -100_00))
                        conn.execute("INSERT INTO raw_postings (transfer_id, account_id, "
                                     "amount_fen) VALUES (%s, %s, %s)", (i, 2, 100_00))
        elapsed, _ = timed(run)
    return count / elapsed


# Payments per transaction of figure 1b (`flows.pay_many`: a bank's batch, an import).
BATCH = 100


def run(ctx) -> list[Figure]:
    count = 40 if ctx.quick else 1_000
    figures = _measure(ctx, count, None)
    if ctx.pg_url:
        figures += _measure(ctx, count, ctx.pg_url)
    return figures


def _measure(ctx, count: int, pg_url: str | None) -> list[Figure]:
    name = "pg" if pg_url else "sqlite"
    url = prov.new_database(ctx.workdir, f"transfers_{name}", pg_url)
    p = prov.build(url)
    codes = prov.add_payees(p, 2 * count * ctx.runs)
    batch = min(BATCH, count)
    service, raw, cpu = [], [], []
    batched, raw_batched, batch_cpu = [], [], []

    def raw_rate(size):
        if pg_url:
            return raw_pg_rate(url, count, size)
        return raw_sqlite_rate(ctx.workdir / "raw_transfers.db", count, size)
    for r in range(ctx.runs):  # interleaved, so both see the same moments of a noisy machine
        service.append(service_rate(p, codes, 2 * r * count, count, cpu))
        raw.append(raw_rate(1))
        batched.append(batch_rate(p, codes, (2 * r + 1) * count, count, batch, batch_cpu))
        raw_batched.append(raw_rate(batch))
    p.dispose()
    driver = "psycopg" if pg_url else "sqlite3"
    fig = Figure(f"1 transfer ({name})", "one durable disbursement per transaction",
                 "transfers/s", median(service), service,
                 f"raw {driver} 2-row txn", median(raw), raw,
                 target="≥2,000/s and ≥25% of raw")
    fig.target_met = fig.value >= 2000 and fig.ratio >= 0.25
    fig.extra = {"transfers_per_run": count, "cpu_ms_per_transfer": cpu}
    fig.note = (f"{median(cpu):.2f} ms CPU per transfer (CPU-bound rate "
                f"{1000 / median(cpu):,.0f}/s); {count} transfers per run")
    group = Figure(f"1b transfers batched ({name})",
                   f"{batch} disbursements per transaction (flows.pay_many: group commit), "
                   "each its own transfer and audit entry", "transfers/s",
                   median(batched), batched, f"raw {driver} {batch}×2 rows per txn",
                   median(raw_batched), raw_batched, target="—")
    group.extra = {"transfers_per_run": count, "batch": batch,
                   "cpu_ms_per_transfer": batch_cpu}
    group.note = (f"{median(batch_cpu):.2f} ms CPU per transfer (CPU-bound rate "
                  f"{1000 / median(batch_cpu):,.0f}/s); {count} transfers per run")
    return [fig, group]
