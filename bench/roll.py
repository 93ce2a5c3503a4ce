"""Figure 2: a county pays a roll of household lines in one go.

Project, in two timed stages through the code a clerk runs (`fundtrail roll create` and
`fundtrail roll send`): parse the CSV with the import framework and create the roll
(`ledger.rolls.create_roll`: every line validated, the roll and its lines logged in one entry,
committed); then send it (`ledger.rolls.send`: one pending payment per line, each with its own
entry, committed). Baseline: SQLAlchemy Core executemany of the same number of rows into a table
of the same shape, in one transaction.

Sending is measured on a sample of lines and extrapolated to the roll (stated in the note): at
the rates found here a full-size send would run for many minutes on a shared machine.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, insert

from ledger import regions, rolls
from ledger.cli_rolls import LINE_COLUMNS
from ledger.db import make_engine, transaction
from ledger.imports.csvfile import read

from bench import province as prov
from bench import synthlog
from bench.harness import CpuClock, Figure, median, timed

ORIGIN = "fundtrail.example/demo-province"


def _write_csv(path, codes) -> None:
    path.write_text("户编码,数量\n" + "".join(f"{c},1\n" for c in codes), encoding="utf-8")


def create(p, path, code: str) -> int:
    rows = read(str(path), LINE_COLUMNS)
    lines = [(r.values["household"], r.values["quantity"] or 1) for r in rows]
    with transaction(p.factory) as s:
        s.info["log_origin"] = ORIGIN
        rolls.create_roll(s, regions.get_user(s, "k_clerk"), code=code, lot_id=p.lot_id,
                          county_code=prov.COUNTY, item="产业奖补", function_code="2130505",
                          use_code="household_subsidy", standard_fen=500_00, lines=lines,
                          as_of=prov.DAY)
    return len(lines)


def approve(p, code: str) -> None:
    day = dt.date.today() - dt.timedelta(days=30)
    with transaction(p.factory) as s:
        s.info["log_origin"] = ORIGIN
        rolls.publish(s, regions.get_user(s, "k_clerk"), code, day)
    with transaction(p.factory) as s:
        s.info["log_origin"] = ORIGIN
        rolls.approve_roll(s, regions.get_user(s, "k_approver"), code,
                           day + dt.timedelta(days=20), 7)


def send(p, code: str) -> int:
    with transaction(p.factory) as s:
        s.info["log_origin"] = ORIGIN
        return len(rolls.send(s, regions.get_user(s, "k_clerk"), code, dt.date.today()))


def core_executemany_rate(url: str, count: int) -> float:
    engine = make_engine(url)
    meta = MetaData()
    table = Table("raw_roll_lines", meta, Column("id", Integer, primary_key=True),
                  Column("roll_id", Integer), Column("line_no", Integer),
                  Column("household_code", String(40)), Column("quantity", Integer),
                  Column("amount_fen", BigInteger), Column("log_index", BigInteger))
    meta.drop_all(engine)
    meta.create_all(engine)
    rows = [{"roll_id": 1, "line_no": i, "household_code": f"R{i:08d}", "quantity": 1,
             "amount_fen": 500_00, "log_index": 0} for i in range(count)]

    def run():
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
    elapsed, _ = timed(run)
    engine.dispose()
    return count / elapsed


def run(ctx) -> list[Figure]:
    lines = ctx.lines or (2_000 if ctx.quick else 100_000)
    sample = 200 if ctx.quick else 1_000
    url = prov.new_database(ctx.workdir, "roll", None)
    p = prov.build(url)
    creates, raws, sends, create_cpu, send_cpu = [], [], [], [], []
    codes = synthlog.households(p, lines)
    for r in range(ctx.runs):
        path = ctx.workdir / f"roll{r}.csv"
        _write_csv(path, codes)
        with CpuClock() as clock:
            elapsed, n = timed(lambda: create(p, path, f"R-{r}"))
        creates.append(n / elapsed)
        create_cpu.append(clock.seconds / n * 1000)
        raws.append(core_executemany_rate(prov.sqlite_url(ctx.workdir, "raw_roll.db"), lines))
    small = synthlog.households(p, sample, prefix="Q")
    for r in range(min(ctx.runs, 3)):
        code = f"S-{r}"
        _write_csv(ctx.workdir / "sample.csv", small)
        create(p, ctx.workdir / "sample.csv", code)
        approve(p, code)
        with CpuClock() as clock:
            elapsed, n = timed(lambda: send(p, code))
        sends.append(n / elapsed)
        send_cpu.append(clock.seconds / n * 1000)
        # Only the first send pays; later rolls pay the same households again from new keys.
    p.dispose()
    create_fig = Figure("2a roll create", f"{lines:,} lines parsed, validated, logged, committed",
                        "lines/s", median(creates), creates, "Core executemany",
                        median(raws), raws, target="≥10,000 lines/s, ≥30% of raw")
    create_fig.target_met = create_fig.value >= 10_000 and create_fig.ratio >= 0.30
    create_fig.note = f"{median(create_cpu):.2f} ms CPU per line"
    create_fig.extra = {"cpu_ms_per_line": create_cpu}
    send_rate = median(sends)
    send_fig = Figure("2b roll send", f"posting: one pending payment per line ({sample:,}-line "
                      "sample)", "lines/s", send_rate, sends, "Core executemany", median(raws),
                      raws, target="≥10,000 lines/s, ≥30% of raw")
    send_fig.target_met = send_rate >= 10_000 and send_fig.ratio >= 0.30
    whole = lines / create_fig.value + lines / send_rate
    send_fig.note = (f"{median(send_cpu):.2f} ms CPU per line; extrapolated: a {lines:,}-line roll takes {lines / create_fig.value:,.1f} s "
                     f"to create and {lines / send_rate:,.0f} s to send ({whole:,.0f} s in all; "
                     "target 10 s)")
    send_fig.extra = {"whole_roll_seconds_extrapolated": whole, "cpu_ms_per_line": send_cpu}
    return [create_fig, send_fig]
