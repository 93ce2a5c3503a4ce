"""Every public document of a county, for publishing or printing in one command."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Household, PaymentRoll, Project, RollLine
from ledger.notice_content import latest_details
from ledger.notice_models import NoticeKind


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
