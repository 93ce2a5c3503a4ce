"""Figure 9: a county moving in, file by file (issue 17: ≥ 10,000 lines/s for the bulk kinds).

Project: `ledger.imports.kinds.run_import` on a UTF-8 CSV file, what `fundtrail import KIND FILE`
runs, committed in one transaction: `households` and `members` (the registers, written in bulk
with one entry per chunk), `allocations` and `payments` (the money: one transfer, postings and
audit entry per line through `ledger.funds.flows`, as a clerk's command records it). Roll lines
and bank results are figure 2 (2a roll create, 2c bank results), on the same reader.
Baseline: SQLAlchemy Core executemany of the same number of rows, in one transaction
(bench.roll.core_executemany_rate), measured in the same run.
"""
from __future__ import annotations

import datetime as dt

from bench import province as prov
from bench.harness import CpuClock, Figure, median, timed
from bench.roll import core_executemany_rate
from ledger.core.idcard import check_character
from ledger.core.pii import PiiVault
from ledger.funds import lots, posting
from ledger.imports.kinds import run_import
from ledger.models import SourceLevel
from ledger.org import regions
from ledger.store.db import transaction

TARGET = 10_000


def _households_csv(path, prefix: str, count: int) -> None:
    path.write_text("户编码,村代码,户主姓名,户状态,识别日期\n" + "".join(
        f"{prefix}{n:07d},{prov.VILLAGE},张三,建档立卡,2014-10-01\n" for n in range(count)),
        encoding="utf-8")


def _id_number(serial: int) -> str:
    first17 = f"520121{1950 + serial % 50:04d}0101{serial % 1000:03d}"
    return first17 + check_character(first17)


def _members_csv(path, prefix: str, count: int, start: int) -> None:
    path.write_text("户编码,姓名,与户主关系,身份证号\n" + "".join(
        f"{prefix}{n:07d},张三,户主,{_id_number(start + n)}\n" for n in range(count)),
        encoding="utf-8")


def _allocations_csv(path, lot_id: int, prefix: str, count: int) -> None:
    path.write_text("资金批次,拨出区划,拨入区划,金额,下达日期,凭证号\n" + "".join(
        f"{lot_id},{prov.PROVINCE},{prov.CITY},1.00,{prov.DAY},{prefix}-{n}\n"
        for n in range(count)), encoding="utf-8")


def _payments_csv(path, lot_id: int, codes: list[str], prefix: str) -> None:
    path.write_text("资金批次,县代码,收款人编码,金额,功能科目,用途,支付日期,凭证号\n" + "".join(
        f"{lot_id},{prov.COUNTY},{code},100.00,2130505,household_subsidy,{prov.DAY},"
        f"{prefix}-{n}\n" for n, code in enumerate(codes)), encoding="utf-8")


def _import(p, user: str, kind: str, path) -> int:
    vault = PiiVault.from_env() if kind in ("households", "members") else None
    with transaction(p.factory) as s:
        result = run_import(s, regions.get_user(s, user), kind, path, vault=vault)
    return result.added


def _second_lot(p) -> int:
    """A lot left at the province, for allocations (the bench province passes its own down)."""
    with transaction(p.factory) as s:
        t = lots.appropriate(
            s, regions.get_user(s, "p_clerk"), doc_number="财农〔2024〕2号",
            source_level=SourceLevel.CENTRAL, year=2024, title="中央衔接资金（二）",
            function_codes=["2130505"], allowed_uses=["household_subsidy"],
            amount_fen=prov.LOT_FEN, region_code=prov.PROVINCE, effective_date=prov.DAY)
        posting.approve(s, regions.get_user(s, "p_approver"), t.id)
        return t.lot_id


def run(ctx) -> list[Figure]:
    bulk = ctx.lines or (300 if ctx.quick else 50_000)
    money = min(bulk, 60 if ctx.quick else 5_000)
    url = prov.new_database(ctx.workdir, "imports", None)
    p = prov.build(url)
    province_lot = _second_lot(p)
    rates: dict[str, list] = {k: [] for k in ("households", "members", "allocations",
                                              "payments")}
    cpu: dict[str, list] = {k: [] for k in rates}
    raws: dict[int, list] = {bulk: [], money: []}
    for r in range(ctx.runs):
        work = ctx.workdir
        plans = [
            ("households", "k_clerk", bulk, lambda r=r: _households_csv(
                work / f"h{r}.csv", f"B{r}", bulk) or work / f"h{r}.csv"),
            ("members", "k_clerk", bulk, lambda r=r: _members_csv(
                work / f"m{r}.csv", f"B{r}", bulk, r * bulk) or work / f"m{r}.csv"),
            ("allocations", "p_clerk", money, lambda r=r: _allocations_csv(
                work / f"a{r}.csv", province_lot, f"A{r}", money) or work / f"a{r}.csv"),
            ("payments", "k_clerk", money, lambda r=r: _payments_csv(
                work / f"p{r}.csv", p.lot_id, [f"B{r}{n:07d}" for n in range(money)],
                f"P{r}") or work / f"p{r}.csv"),
        ]
        for kind, user, count, write in plans:
            path = write()
            with CpuClock() as clock:
                seconds, added = timed(lambda: _import(p, user, kind, path))
            assert added == count, (kind, added, count)
            rates[kind].append(count / seconds)
            cpu[kind].append(clock.seconds / count * 1000)
        for size in raws:
            raws[size].append(core_executemany_rate(
                prov.sqlite_url(ctx.workdir, "raw_imports.db"), size))
    p.dispose()
    figures = []
    for key, kind, count, what in (
            ("9a import households", "households", bulk, "households registered in bulk"),
            ("9b import members", "members", bulk, "members (ID numbers encrypted)"),
            ("9c import allocations", "allocations", money, "one transfer and entry per line"),
            ("9d import payments", "payments", money, "one transfer and entry per line")):
        fig = Figure(key, f"{count:,} lines: {what}", "lines/s", median(rates[kind]),
                     rates[kind], "Core executemany", median(raws[count]), raws[count],
                     target=f"≥{TARGET:,} lines/s")
        fig.target_met = fig.value >= TARGET
        fig.note = f"{median(cpu[kind]):.3f} ms CPU per line; {count:,} lines per run"
        fig.extra = {"lines": count, "cpu_ms_per_line": cpu[kind],
                     "date": dt.date.today().isoformat()}
        figures.append(fig)
    return figures
