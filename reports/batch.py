"""Every public document of a county, for publishing or printing in one command."""
from __future__ import annotations

from dataclasses import dataclass

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


def _start_worker(database_url: str, policy: bytes | None, log_origin: str) -> None:
    """In each process of `print_targets`: its own engine and sessions (never a connection
    inherited from the parent) and the policy parsed from the bytes the parent read."""
    from ledger.audit.tlog.policy import parse_policy
    from ledger.store.db import make_engine, make_sessionmaker
    _worker.update(factory=make_sessionmaker(make_engine(database_url), LedgerContext(log_origin)),
                   policy=parse_policy(policy) if policy is not None else None,
                   log_origin=log_origin)


def _print_one(target: Target, paper: str, font_file: str, public_url: str):
    """(pdf, info), or (None, problem) when the notice cannot be printed yet."""
    from ledger.core.errors import LedgerError
    from ledger.store.db import transaction
    from reports.render import render_public
    with transaction(_worker["factory"]) as s:
        try:
            return render_public(s, target.kind, target.subject, _worker["policy"], paper,
                                 font_file, public_url=public_url)
        except LedgerError as exc:
            return None, str(exc)


def print_targets(targets: list[Target], jobs: int, database_url: str, policy: bytes | None,
                  log_origin: str, paper: str, font_file: str, public_url: str):
    """(target, pdf or None, info or problem) for every target, in order, rendered by `jobs`
    worker processes (spawned: a fresh interpreter, so no database connection or lock is
    shared with this one). The PDFs are the same bytes as printed one at a time."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker,
                             initargs=(database_url, policy, log_origin)) as pool:
        results = pool.map(_print_one, targets, [paper] * len(targets),
                           [font_file] * len(targets), [public_url] * len(targets))
        for target, (pdf, info) in zip(targets, results):
            yield target, pdf, info
