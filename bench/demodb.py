"""Demo provinces for figures 4, 5 and 6: built once per size with `fundtrail demo`, reused.

Building a demo is slow (figure 7: tens of households a second), so the figures that read one
share it: `--demo-sqlite URL` / `--demo-pg URL` name one already built (with the same
FUNDTRAIL_PII_KEYS / FUNDTRAIL_PII_INDEX_KEY in the environment as when it was built, or the
identity rules cannot decrypt); otherwise one is built under the work directory (and, with
`--pg`, in a new PostgreSQL database) in a fresh interpreter, not timed.

Figures 5 and 6 also need what the public documents need: project details, every notice of one
county published, a log key, three cosigner keys, a policy, and a checkpoint signed and
cosigned. `prepared` does that on a copy of the SQLite demo (the demo itself stays as built,
for figure 4).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.harness import in_child
from ledger.core.config import DEMO_LOG_ORIGIN

DEMO_YEAR = 2024
AS_OF = dt.date(DEMO_YEAR, 12, 31)   # the day the demo's planted misuse is judged on
COUNTY = "520121"                    # 开阳县: 6 villages, its projects and rolls
PASSPHRASE = "bench passphrase, never a real key"
# The demo's log: what `fundtrail demo` writes with no [audit] log_origin, and what the web
# server reads (bench.web runs it with no log_origin in its configuration).
ORIGIN = DEMO_LOG_ORIGIN

BUILD = """
import os, time
from ledger.store import migrate
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker
from ledger.demo.province import build_demo
engine = make_engine({url!r})
migrate.upgrade(engine)
start = time.perf_counter()
summary = build_demo(make_sessionmaker(engine, LedgerContext({origin!r})), seed=7,
                     households={n})
result = {{"seconds": time.perf_counter() - start}}
"""


def households_for(ctx) -> int:
    return ctx.households or (60 if ctx.quick else 2000)


def _cache(ctx) -> dict:
    if not hasattr(ctx, "_demo_cache"):
        ctx._demo_cache = {}
    return ctx._demo_cache


def sqlite_demo(ctx) -> str:
    """URL of a SQLite demo province (`--demo-sqlite`, or built under the work directory)."""
    if ctx.demo_sqlite:
        return ctx.demo_sqlite
    n = households_for(ctx)
    path = Path(ctx.workdir) / f"demo_{n}.db"
    cache = _cache(ctx)
    if ("sqlite", n) not in cache:
        marker = Path(str(path) + ".built")
        # A demo left in --workdir by an earlier run is reused only if it was built with the
        # personal-data keys now set (each run makes new ones unless FUNDTRAIL_PII_* are set):
        # with others, the identity rules and the notices cannot decrypt it.
        if not (path.exists() and marker.exists()
                and _keys_line() in marker.read_text().splitlines()):
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            print(f"  building a {n:,}-household SQLite demo (not timed)…", flush=True)
            out = in_child(BUILD.format(url=f"sqlite:///{path}", origin=ORIGIN, n=n))
            marker.write_text(f"{out['seconds']:.1f} s\n{_keys_line()}\n")
        cache[("sqlite", n)] = f"sqlite:///{path}"
    return cache[("sqlite", n)]


def _keys_line() -> str:
    """A fingerprint of the personal-data keys in the environment (not the keys)."""
    keys = (os.environ.get("FUNDTRAIL_PII_KEYS", "") + "\n"
            + os.environ.get("FUNDTRAIL_PII_INDEX_KEY", ""))
    return "keys " + hashlib.sha256(keys.encode()).hexdigest()[:16]


def pg_demo(ctx) -> str | None:
    """URL of a PostgreSQL demo province (`--demo-pg`, or built with `--pg`), else None."""
    if ctx.demo_pg:
        return ctx.demo_pg
    if not ctx.pg_url:
        return None
    n = households_for(ctx)
    cache = _cache(ctx)
    if ("pg", n) not in cache:
        from bench.pg import create_database
        url = create_database(ctx.pg_url, f"demo{n}")
        print(f"  building a {n:,}-household PostgreSQL demo (not timed)…", flush=True)
        in_child(BUILD.format(url=url, origin=ORIGIN, n=n))
        cache[("pg", n)] = url
    return cache[("pg", n)]


@dataclass
class Prepared:
    url: str
    keys: Path
    county: str
    villages: list[str]

    @property
    def policy_file(self) -> Path:
        return self.keys / "policy.txt"


def prepared(ctx, villages: int | None = None) -> Prepared:
    """A copy of the SQLite demo with every notice of COUNTY published and a cosigned
    checkpoint covering them (the state in which a board prints its notices).

    With `villages` more than the demo county's 6, the county is grown to that many first:
    villages added through `regions.add_region` (logged, as an administrator would), each
    named in every project's details, so each gets every project's notice. They hold no
    households, so the county's rolls stay on its 6 demo villages (bench/notice.py reports
    the rolls' share a village from those)."""
    cache = _cache(ctx)
    key = ("prepared", villages)
    if key in cache:
        return cache[key]
    source = sqlite_demo(ctx)
    src = Path(source.removeprefix("sqlite:///"))
    import sqlite3
    with sqlite3.connect(src) as conn:   # fold the WAL in, so one file is the whole database
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    suffix = f"_{villages}v" if villages else ""
    dest = Path(ctx.workdir) / f"notices_{src.stem}{suffix}.db"
    keys = Path(ctx.workdir) / f"keys_{src.stem}{suffix}"
    for suffix in ("", "-wal", "-shm"):
        Path(str(dest) + suffix).unlink(missing_ok=True)
    shutil.rmtree(keys, ignore_errors=True)
    shutil.copyfile(src, dest)
    url = f"sqlite:///{dest}"
    codes = publish_county(url, keys, COUNTY, villages or 0)
    cache[key] = Prepared(url, keys, COUNTY, codes)
    return cache[key]


def grow_county(factory, county: str, villages: int) -> None:
    """Add villages to `county` (under its first township) until it has `villages`."""
    from sqlalchemy import select

    from ledger.funds.balances import descendants
    from ledger.models import Region, RegionLevel
    from ledger.org import regions
    from ledger.store.db import transaction
    with transaction(factory) as s:
        admin = regions.get_user(s, "admin")
        below = descendants(s, county)
        have = s.execute(select(Region.code).where(
            Region.code.in_(below), Region.level == RegionLevel.VILLAGE)).scalars().all()
        town = min(s.execute(select(Region.code).where(
            Region.code.in_(below), Region.level == RegionLevel.TOWNSHIP)).scalars())
        for n in range(len(have), villages):
            regions.add_region(s, admin, code=f"{town}{n + 101:03d}", name=f"新增{n + 1}村",
                               level=RegionLevel.VILLAGE, parent_code=town)


def publish_county(url: str, keys: Path, county: str, villages: int = 0) -> list[str]:
    """Record project details for the county's projects (posted in all its villages), publish
    every notice `fundtrail report publish county-batch` would, then sign and cosign. With
    `villages`, the county is first grown to that many (`grow_county`)."""
    from sqlalchemy import select

    from ledger.audit import checkpoints as cps
    from ledger.audit import keys as keyfiles
    from ledger.audit.tlog.policy import parse_policy
    from ledger.core.config import Settings
    from ledger.core.pii import PiiVault
    from ledger.disclosure import notices
    from ledger.funds.balances import descendants
    from ledger.models import Project, Region, RegionLevel
    from ledger.models.disclosure import NoticeKind
    from ledger.org import regions
    from ledger.rolls.lifecycle import get_roll, published_on
    from ledger.store.context import LedgerContext
    from ledger.store.db import make_engine, make_sessionmaker, transaction
    from reports.batch import county_targets

    settings = Settings(log_origin=ORIGIN)
    engine = make_engine(url)
    factory = make_sessionmaker(engine, LedgerContext.from_settings(settings))
    vault = PiiVault.from_env()
    start = dt.date(DEMO_YEAR, 3, 20)
    if villages:
        grow_county(factory, county, villages)
    with transaction(factory) as s:
        clerk = regions.get_user(s, f"{county}_clerk")
        below = descendants(s, county)
        villages = s.execute(select(Region.code).where(
            Region.code.in_(below), Region.level == RegionLevel.VILLAGE)
            .order_by(Region.code)).scalars().all()
        notices.record_contact(s, clerk, region_code=county, office="开阳县乡村振兴局",
                               phone="0851-8722 0000")
        for code in s.execute(select(Project.code).where(Project.county_code == county)
                              .order_by(Project.code)).scalars():
            notices.record_project_details(
                s, clerk, project_code=code, village_codes=list(villages),
                place="开阳县各村", content="新建标准化养殖圈舍 1200 平方米，配套粪污处理设施一套",
                subsidy_standard="每平方米补助 150 元，设施按实结算",
                start_date=dt.date(DEMO_YEAR, 4, 1), end_date=dt.date(DEMO_YEAR, 10, 31),
                implementer="开阳县养殖专业合作社", responsible_person="周建国",
                performance_targets="带动脱贫户 35 户年均增收 1500 元以上",
                benefit_mechanism="脱贫户以到户产业资金入股，按入股金额的 8% 保底分红",
                supervision_phone="0851-8722 0000", issuing_unit="开阳县乡村振兴局")
    with transaction(factory) as s:
        clerk = regions.get_user(s, f"{county}_clerk")
        for t in county_targets(s, county, None, settings.name_display):
            if t.kind is NoticeKind.ROLL:
                day = published_on(s, get_roll(s, t.subject["roll"])) or start
                end = notices.roll_window(day, settings.roll_publicity_working_days)
            else:
                day = start
                end = notices.project_window(day, settings.project_notice_days,
                                             settings.project_notice_days)
            notices.publish(s, clerk, t.kind, t.subject, day, end, vault)
    keys.mkdir(parents=True, exist_ok=True)
    log = keyfiles.generate_key(keys / "log.key", name=ORIGIN, kind="log",
                                passphrase=PASSPHRASE)
    lines = [f"log {log.vkey}"]
    for who in ("village", "township", "county"):
        signer = keyfiles.generate_key(keys / f"{who}.key", name=f"{who}.example",
                                       kind="cosigner", passphrase=PASSPHRASE)
        lines.append(f"witness {who} {signer.vkey}")
    lines += ["group sign-off 2 village township county", "quorum sign-off"]
    (keys / "policy.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    policy = parse_policy((keys / "policy.txt").read_bytes())
    with transaction(factory) as s:
        cps.sign(s, keyfiles.load_key(keys / "log.key", PASSPHRASE))
    for who in ("village", "county"):
        with transaction(factory) as s:
            cps.cosign_latest(s, keyfiles.load_key(keys / f"{who}.key", PASSPHRASE),
                              policy.logs_for_origin(ORIGIN), keys / f"{who}.state",
                              fresh=not (keys / f"{who}.state").exists())
    engine.dispose()
    return list(villages)
