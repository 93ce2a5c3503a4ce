"""python -m scenarios write|load|score|eval (docs/evaluation.md)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from scenarios.loader import load_province
from scenarios.province import write_province
from scenarios.scorer import score, table_text


def _db(folder: Path, url: str | None) -> str:
    return url or f"sqlite:///{folder / 'work' / 'fundtrail.db'}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scenarios")
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write", help="write a province's files, steps.json and manifest.json")
    w.add_argument("--seed", type=int, required=True)
    w.add_argument("--households", type=int, default=2000)
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--plants", type=int, default=5, help="planted cases per rule (default 5)")
    lo = sub.add_parser("load", help="load the files through the documented commands")
    lo.add_argument("folder", type=Path)
    lo.add_argument("--db", help="database URL (default: DIR/work/fundtrail.db, SQLite)")
    sc = sub.add_parser("score", help="score the scan against the manifest")
    sc.add_argument("folder", type=Path)
    sc.add_argument("--db")
    sc.add_argument("--json", action="store_true")
    ev = sub.add_parser("eval", help="write, load and score each seed on a fresh database")
    ev.add_argument("--seeds", default="1,2,3")
    ev.add_argument("--households", type=int, default=2000)
    ev.add_argument(
        "--db", help="a PostgreSQL URL to use instead of fresh SQLite files (emptied per seed)"
    )
    ev.add_argument(
        "--out", type=Path, help="keep the provinces here (default: a temporary folder)"
    )
    ev.add_argument("--plants", type=int, default=5)
    ev.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)

    def log(s: str) -> None:
        print(s, file=sys.stderr, flush=True)

    if a.cmd == "write":
        print(json.dumps(write_province(a.seed, a.households, a.out, a.plants)))
    elif a.cmd == "load":
        (a.folder / "work").mkdir(exist_ok=True)
        print(json.dumps(load_province(a.folder, _db(a.folder, a.db), log=log)))
    elif a.cmd == "score":
        res = score(a.folder, _db(a.folder, a.db))
        print(
            json.dumps(res, ensure_ascii=False, indent=1, default=str)
            if a.json
            else table_text([res])
        )
    else:
        base = a.out or Path(tempfile.mkdtemp(prefix="scenarios-"))
        results = []
        for seed in [int(s) for s in a.seeds.split(",") if s]:
            folder = base / f"seed-{seed}"
            if folder.exists():
                shutil.rmtree(folder)
            t = time.perf_counter()
            write_province(seed, a.households, folder, a.plants)
            (folder / "work").mkdir()
            if a.db:
                _reset_postgres(a.db)
            summary = load_province(folder, _db(folder, a.db), log=log)
            res = score(folder, _db(folder, a.db))
            res["load"] = summary
            res["seconds"] = round(time.perf_counter() - t, 1)
            results.append(res)
            log(f"seed {seed}: {summary} in {res['seconds']} s")
        (base / "eval.json").write_text(
            json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
        if a.json:
            print(json.dumps(results, ensure_ascii=False, indent=1, default=str))
        else:
            print(table_text(results))
            print(f"\n(files and per-seed scores: {base})")
    return 0


def _reset_postgres(url: str) -> None:
    """An empty schema for the next seed (the evaluation owns the database it is given)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1)
        if url.startswith("postgresql://")
        else url
    )
    with eng.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    eng.dispose()


if __name__ == "__main__":
    sys.exit(main())
