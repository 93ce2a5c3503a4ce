"""Every public document of a county, for publishing or printing in one command."""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.disclosure.content import latest_details
from ledger.models import Household, PaymentRoll, Project, RollLine
from ledger.models.disclosure import NoticeKind
from ledger.store.context import LedgerContext


@dataclass(frozen=True)
class Target:
    kind: NoticeKind
    subject: dict
    filename: str


def county_targets(session: Session, county: str, year: int | None,
                   name_style: str) -> list[Target]:
    """Project notices for every village each project is posted in, the board roll of every
    payment roll for every village on it, and the annual report if a year is given."""
    targets = []
    projects = session.execute(select(Project.code).where(Project.county_code == county)
                               .order_by(Project.code)).scalars().all()
    for code in projects:
        details = latest_details(session, code, 2**62)
        for village in (details.village_codes if details else []):
            targets.append(Target(NoticeKind.PROJECT, {"project": code, "village": village},
                                  f"notice-{code}-{village}.pdf"))
    rolls = session.execute(select(PaymentRoll.code).where(PaymentRoll.county_code == county)
                            .order_by(PaymentRoll.code)).scalars().all()
    for code in rolls:
        villages = session.execute(
            select(Household.village_code).distinct()
            .join(RollLine, RollLine.household_code == Household.code)
            .join(PaymentRoll, PaymentRoll.id == RollLine.roll_id)
            .where(PaymentRoll.code == code).order_by(Household.village_code)).scalars().all()
        for village in villages:
            targets.append(Target(NoticeKind.ROLL,
                                  {"roll": code, "village": village, "names": name_style},
                                  f"roll-{code}-{village}.pdf"))
    if year is not None:
        targets.append(Target(NoticeKind.COUNTY_ANNUAL, {"county": county, "year": str(year)},
                              f"annual-{county}-{year}.pdf"))
    return targets


# ----------------------------------------------------------------------------- printing

_worker: dict = {}


def file_name(target: Target) -> str:
    return re.sub(r"[^\w.-]", "_", target.filename)


def write_whole(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder renamed over it, so
    that a batch stopped halfway (killed, a full disk) leaves whole files or none: never half a
    PDF that a clerk might print. A public notice, so the usual mode (not owner-only)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _start_worker(database_url: str, policy: bytes | None, log_origin: str, paper: str,
                  font_file: str, public_url: str, out: str) -> None:
    """In each process of `print_targets` (and in the command's own when it prints alone): its
    own engine, never a connection inherited from the parent, and read-only transactions (on
    SQLite a plain BEGIN: the workers and any clerk writing meanwhile do not queue on the
    write lock, which made two processes slower than one); the policy parsed from the bytes
    the parent read."""
    from ledger.audit.tlog.policy import parse_policy
    from ledger.store.db import make_engine, make_sessionmaker, reading_engine
    from reports.fonts import register_font
    engine = make_engine(database_url)
    register_font(font_file)   # once per process (inherited when forked from a warm parent)
    _worker.update(engine=engine,
                   factory=make_sessionmaker(reading_engine(engine), LedgerContext(log_origin)),
                   policy=parse_policy(policy) if policy is not None else None,
                   paper=paper, font_file=font_file, public_url=public_url, out=Path(out))


def _print_one(target: Target) -> dict:
    """Render `target` and write it whole into the output folder: {"file", "sha256", facts},
    or {"file", "problem"} when the notice cannot be printed yet."""
    from ledger.core.errors import LedgerError
    from reports.render import render_public
    name = file_name(target)
    with _worker["factory"]() as s:
        try:
            pdf, info = render_public(s, target.kind, target.subject, _worker["policy"],
                                      _worker["paper"], _worker["font_file"],
                                      public_url=_worker["public_url"])
        except LedgerError as exc:
            return {"file": name, "problem": str(exc)}
    write_whole(_worker["out"] / name, pdf)
    return {"file": name, "sha256": hashlib.sha256(pdf).hexdigest(), **info}


def default_jobs() -> int:
    """The cores this process may run on, at most 4: past that the printing waits on the
    database more than on the cores, and a large server is not flooded with readers."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def sweep_leftovers(folder: Path) -> None:
    """Remove the temporary files of `write_whole` that an earlier batch killed outright
    (SIGKILL, out of memory: its `finally` never ran) left in `folder`."""
    for stray in folder.glob(".*.*.tmp"):
        if stray.is_file():
            stray.unlink(missing_ok=True)


@contextmanager
def print_targets(targets: list[Target], jobs: int, database_url: str, policy: bytes | None,
                  log_origin: str, paper: str, font_file: str, public_url: str,
                  out: Path) -> Iterator[Iterator[dict]]:
    """Print every target into `out` by `jobs` worker processes: `with print_targets(...) as
    results:` gives what `_print_one` says of each, in the targets' order. Each file is the
    same bytes however many processes print it (the PDF depends on the ledger and the
    checkpoint only).

    Workers are forked where the system can (Linux): a fork starts in milliseconds with the
    modules and the font already loaded, where a spawned interpreter spent about a second
    importing them. They are started on entering, before the caller starts a progress bar's
    thread. The caller has closed its own database connections first (a forked child must
    not use them); each worker opens its own."""
    setup = (database_url, policy, log_origin, paper, font_file, public_url, str(out))
    jobs = max(1, min(jobs, len(targets)))
    if jobs == 1:
        _start_worker(*setup)
        try:
            yield (_print_one(target) for target in targets)
        finally:
            _worker.pop("engine").dispose()
            _worker.clear()
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from reports.fonts import register_font
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    register_font(font_file)   # before forking: every worker inherits it
    # Chunks of neighbouring targets (one project's or roll's villages) keep each worker's
    # statement and page caches warm, and several a worker even out their lengths.
    chunk = max(1, min(16, len(targets) // (jobs * 4)))
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method),
                             initializer=_start_worker, initargs=setup) as pool:
        yield pool.map(_print_one, targets, chunksize=chunk)
