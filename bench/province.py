"""A bench province: one county with a funded lot, built through the public services.

Small on purpose (the figures are about the work per transfer, not about set-up): province →
city → county → township → village, clerks and approvers at province and county, one lot of
money allocated down to the county, and as many household payees as a figure needs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ledger.audit.log import record_change
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.funds import flows, lots, posting
from ledger.models import Payee, PayeeKind, RegionLevel, Role, SourceLevel
from ledger.org import regions
from ledger.store import migrate
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker, transaction

DAY = dt.date(2024, 3, 15)
PROVINCE, CITY, COUNTY = "520000", "520100", "520121"
TOWNSHIP, VILLAGE = "520121001", "520121001001"
LOT_FEN = 10**14  # a trillion yuan: never the limit of a benchmark
# Every bench province writes the demo province's log: sessions carry it explicitly
# (ledger.store.context), and the synthetic writer (bench.synthlog) appends to the same log.
ORIGIN = DEMO_LOG_ORIGIN
CONTEXT = LedgerContext(ORIGIN)


@dataclass
class Province:
    url: str
    engine: object
    factory: object
    lot_id: int

    def dispose(self) -> None:
        self.engine.dispose()


def sqlite_url(workdir: Path, name: str) -> str:
    return f"sqlite:///{workdir / name}"


def new_database(workdir: Path, name: str, pg_url: str | None = None) -> str:
    """A fresh empty database: a SQLite file under workdir, or a new PostgreSQL database."""
    if pg_url is None:
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from bench.pg import create_database
    return create_database(pg_url, name)


def build(url: str) -> Province:
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine, CONTEXT)
    with transaction(factory) as s:
        admin = regions.bootstrap(s, province_code=PROVINCE, province_name="贵州省",
                                  admin_username="admin", admin_name="管理员")
        for code, name, level, parent in [
                (CITY, "贵阳市", RegionLevel.CITY, PROVINCE),
                (COUNTY, "开阳县", RegionLevel.COUNTY, CITY),
                (TOWNSHIP, "永温镇", RegionLevel.TOWNSHIP, COUNTY),
                (VILLAGE, "丰和村", RegionLevel.VILLAGE, TOWNSHIP)]:
            regions.add_region(s, admin, code=code, name=name, level=level, parent_code=parent)
        for username, role, region in [
                ("p_clerk", Role.CLERK, PROVINCE), ("p_approver", Role.APPROVER, PROVINCE),
                ("c_clerk", Role.CLERK, CITY), ("c_approver", Role.APPROVER, CITY),
                ("k_clerk", Role.CLERK, COUNTY), ("k_approver", Role.APPROVER, COUNTY)]:
            regions.add_user(s, admin, username=username, display_name=username, role=role,
                             region_code=region)
    with transaction(factory) as s:
        t = lots.appropriate(
            s, regions.get_user(s, "p_clerk"), doc_number="财农〔2024〕1号",
            source_level=SourceLevel.CENTRAL, year=2024, title="中央衔接推进乡村振兴补助资金",
            function_codes=["2130505"], allowed_uses=["household_subsidy", "industry"],
            amount_fen=LOT_FEN, region_code=PROVINCE, effective_date=DAY)
        posting.approve(s, regions.get_user(s, "p_approver"), t.id)
        lot_id = t.lot_id
    for frm, to, clerk, approver in [(PROVINCE, CITY, "p_clerk", "p_approver"),
                                     (CITY, COUNTY, "c_clerk", "c_approver")]:
        with transaction(factory) as s:
            t = flows.allocate(s, regions.get_user(s, clerk), lot_id=lot_id, from_region=frm,
                               to_region=to, amount_fen=LOT_FEN, effective_date=DAY,
                               key=f"alloc:{to}")
            posting.approve(s, regions.get_user(s, approver), t.id)
    return Province(url, engine, factory, lot_id)


def add_payees(province: Province, count: int, prefix: str = "H") -> list[str]:
    """Household payees in the village, registered in one logged change (one entry)."""
    codes = [f"{prefix}{n:07d}" for n in range(count)]
    with transaction(province.factory) as s:
        clerk = regions.get_user(s, "k_clerk")
        with record_change(s, clerk.username, "payee.register") as change:
            for code in codes:
                change.add(Payee(code=code, kind=PayeeKind.HOUSEHOLD, name="张三",
                                 region_code=VILLAGE))
    return codes
