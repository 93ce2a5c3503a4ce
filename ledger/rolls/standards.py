"""The policy standards table (补助标准): record a county's standards and find the one in force.

A standard is per county, item, tier (一般户 / 监测户) and year: so many fen per unit of its basis
(亩, 头, 人, 月, 学期, 万元·年 …), paid per household or per person, under a function code.
The table is append-only: a correction is a new row for the same key, and the row with the
highest id is in force (later id supersedes; the effective date is kept as the document says,
not used to choose). Roll lines keep the id of the row they were priced from.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError
from ledger.funds.posting import check_amount
from ledger.models import RegionLevel, User
from ledger.models.rolls import PolicyStandard, StandardPer, StandardTier
from ledger.org.regions import get_region
from ledger.store.access import Action, require

# What a clerk writes for each tier and basis kind (Chinese first; English accepted).
TIER_WORDS = {"一般户": StandardTier.BASIC, "一般": StandardTier.BASIC,
              "basic": StandardTier.BASIC, "监测户": StandardTier.MONITORED,
              "监测对象": StandardTier.MONITORED, "监测": StandardTier.MONITORED,
              "monitored": StandardTier.MONITORED}
PER_WORDS = {"按户": StandardPer.HOUSEHOLD, "户": StandardPer.HOUSEHOLD,
             "household": StandardPer.HOUSEHOLD, "per_household": StandardPer.HOUSEHOLD,
             "按人": StandardPer.PERSON, "人": StandardPer.PERSON, "person": StandardPer.PERSON,
             "per_person": StandardPer.PERSON}
TIER_LABELS = {StandardTier.BASIC: "一般户", StandardTier.MONITORED: "监测户"}


def tier_of(text: str) -> StandardTier:
    word = text.strip().lower()
    if word not in TIER_WORDS:
        raise ValueError(f"{text!r} is not one of 一般户、监测户")
    return TIER_WORDS[word]


def per_of(text: str) -> StandardPer:
    word = text.strip().lower()
    if word not in PER_WORDS:
        raise ValueError(f"{text!r} is not one of 按户、按人")
    return PER_WORDS[word]


@dataclass(frozen=True)
class StandardSpec:
    county_code: str
    item: str
    tier: StandardTier
    year: int
    standard_fen: int
    basis: str
    per: StandardPer
    function_code: str
    effective_date: dt.date | None = None
    doc_number: str = ""

    def same_as(self, row: PolicyStandard) -> bool:
        return (row.standard_fen, row.basis, row.per, row.function_code, row.effective_date,
                row.doc_number) == (self.standard_fen, self.basis, self.per, self.function_code,
                                    self.effective_date, self.doc_number)


def check_county(session: Session, county_code: str) -> None:
    region = get_region(session, county_code)
    if region.level is not RegionLevel.COUNTY:
        raise LedgerError(f"standards are set by a county; {county_code} is not one",
                          code="not_a_county", region=county_code, level=region.level)


def record_standards(session: Session, actor: User, specs: list[StandardSpec]) -> tuple[int, int]:
    """Record the standards that are new or differ from the one in force for their key, in
    one log entry; return (added, unchanged). A spec equal to the one in force is unchanged
    (the same file imported again changes nothing)."""
    for county in sorted({s.county_code for s in specs}):
        check_county(session, county)
        require(session, actor, Action.RECORD, county)
    for spec in specs:
        check_amount(spec.standard_fen, "standard")
    in_force = {}
    for county in {s.county_code for s in specs}:
        in_force.update({(county, *key): row for key, row in
                         standards_in_force(session, county).items()})
    new = [s for s in specs
           if (row := in_force.get((s.county_code, s.item, s.tier, s.year))) is None
           or not s.same_as(row)]
    if new:
        with record_change(session, actor.username, "standards.record") as change:
            for s in new:
                change.add(PolicyStandard(
                    county_code=s.county_code, item=s.item, tier=s.tier, year=s.year,
                    standard_fen=s.standard_fen, basis=s.basis, per=s.per,
                    function_code=s.function_code, effective_date=s.effective_date,
                    doc_number=s.doc_number, recorded_by=actor.id))
    return len(new), len(specs) - len(new)


def standards_in_force(session: Session, county_code: str) -> dict[tuple, PolicyStandard]:
    """(item, tier, year) → the row in force (the highest id of its key) for one county."""
    out: dict[tuple, PolicyStandard] = {}
    for row in session.execute(select(PolicyStandard)
                               .where(PolicyStandard.county_code == county_code)
                               .order_by(PolicyStandard.id)).scalars():
        out[(row.item, row.tier, row.year)] = row   # a later id replaces an earlier one
    return out


def standards_by_id(session: Session, ids) -> dict[int, PolicyStandard]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    return {row.id: row for row in session.execute(
        select(PolicyStandard).where(PolicyStandard.id.in_(ids))).scalars()}
