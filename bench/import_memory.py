"""`python -m bench.import_memory [--mb 200] [--kind households|members] [--phase read|import]`:
peak memory (RSS) of importing a large file, measured in a child process.

The red-team review found a 50 MB file took 755 MB. This writes a file of the size asked
(households: a county registry's columns; members: with ID numbers), then runs, in a fresh
Python process, either the reading and checking of every cell (`read`: ledger.imports.csvfile
.read, what every kind does before it touches the database) or the whole import into a new
SQLite database (`import`), and prints the child's peak RSS (VmHWM). Results are in
docs/formats.md, "Large files".
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HOUSEHOLD_HEADER = "户编码,村代码,户主姓名,户状态,识别日期,银行卡号,联系电话\n"
MEMBER_HEADER = "户编码,姓名,与户主关系,身份证号,死亡日期\n"


def _id_number(seq: int) -> str:
    from ledger.core.idcard import check_character
    first = f"430121{1950 + seq % 50}0101{seq % 1000:03d}"
    return first + check_character(first)


def write_file(path: Path, kind: str, megabytes: float, village: str, encoding: str) -> int:
    """A file of about `megabytes` MB; returns its number of lines."""
    target = int(megabytes * 1024 * 1024)
    lines = 0
    with path.open("w", encoding=encoding, newline="") as f:
        f.write(HOUSEHOLD_HEADER if kind == "households" else MEMBER_HEADER)
        while f.tell() < target:
            block = []
            for _ in range(10_000):
                lines += 1
                if kind == "households":
                    block.append(f"H-{lines:08d},{village},赵大{lines % 97},建档立卡,2019-05-01,"
                                 f"62220212{lines:011d},1380000{lines % 10000:04d}\n")
                else:
                    block.append(f"H-{lines:08d},赵大{lines % 97},户主,{_id_number(lines)},\n")
            f.write("".join(block))
    return lines


CHILD = r"""
import resource, sys, time
from pathlib import Path
phase, kind, path, db = sys.argv[1:5]
start = time.perf_counter()
if phase == "read":
    from ledger.imports import csvfile, households
    columns = households.HOUSEHOLD_COLUMNS if kind == "households" else households.MEMBER_COLUMNS
    try:
        rows = csvfile.read(path, columns)
        count = sum(1 for _ in rows)
    except csvfile.ImportProblems as exc:
        count = f"refused: {len(exc.problems)} problem(s)"
else:
    from ledger.core.pii import PiiVault
    from ledger.imports.households import import_households, import_members
    from ledger.org.regions import get_user
    from ledger.store.db import make_engine, make_sessionmaker, transaction
    from ledger.store.context import LedgerContext
    from ledger.core.config import DEMO_LOG_ORIGIN
    factory = make_sessionmaker(make_engine(f"sqlite:///{db}"), LedgerContext(DEMO_LOG_ORIGIN))
    with transaction(factory) as s:
        result = (import_households if kind == "households" else import_members)(
            s, get_user(s, "k_clerk"), PiiVault.from_env(), path)
    count = result.added
# VmHWM: this process's own high-water mark (ru_maxrss may carry the forking parent's, the
# test runner's, across exec).
try:
    status = Path("/proc/self/status").read_text()
    peak = int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM"))) // 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"{count}\t{peak}\t{time.perf_counter() - start:.1f}")
"""


def measure(phase: str, kind: str, path: Path, db: Path) -> tuple[str, int, float]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    from ledger.core.pii import new_key
    env.setdefault("FUNDTRAIL_PII_KEYS", new_key())
    env.setdefault("FUNDTRAIL_PII_INDEX_KEY", "bench-index-key-" + "x" * 32)
    out = subprocess.run([sys.executable, "-c", CHILD, phase, kind, str(path), str(db)],
                         env=env, capture_output=True, text=True, check=True).stdout
    count, peak, seconds = out.strip().split("\t")
    return count, int(peak), float(seconds)


def _world_db(workdir: Path) -> tuple[Path, str]:
    """A migrated SQLite database with the test world's regions and users (for `import`)."""
    from ledger.core.config import DEMO_LOG_ORIGIN
    from ledger.store import migrate
    from ledger.store.context import LedgerContext
    from ledger.store.db import make_engine, make_sessionmaker
    from tests.world import VILLAGE, build_world
    db = workdir / "bench.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    build_world(make_sessionmaker(engine, LedgerContext(DEMO_LOG_ORIGIN)))
    engine.dispose()
    return db, VILLAGE


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_memory",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[200])
    parser.add_argument("--kind", choices=("households", "members"), default="households")
    parser.add_argument("--phase", choices=("read", "import"), default="read")
    parser.add_argument("--encoding", default="gb18030")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db, village = _world_db(workdir)
        print("kind\tphase\tMB\tlines\tresult\tpeak RSS MB\tseconds")
        for mb in args.mb:
            path = workdir / f"{args.kind}.csv"
            lines = write_file(path, args.kind, mb, village, args.encoding)
            size = path.stat().st_size / 1024 / 1024
            fresh = workdir / "fresh.db"      # each size on the world alone
            shutil.copy(db, fresh)
            count, peak, seconds = measure(args.phase, args.kind, path, fresh)
            print(f"{args.kind}\t{args.phase}\t{size:.0f}\t{lines}\t{count}\t{peak}\t{seconds}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
