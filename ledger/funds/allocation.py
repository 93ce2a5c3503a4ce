"""Factor allocation (因素法): splitting a lot among counties by need, with the evidence kept.

Each factor has a weight and a direction. For a "need" factor (poor population, poverty depth)
a county's share of the factor is its value over the sum of values; for a "capacity" factor
(rural income per head, fiscal capacity per head) it is the inverse of its value over the sum of
inverses, so poorer counties get more. A county's score is the weighted sum of its shares; the
amount is split by largest remainder on the scores, so the parts sum exactly to the whole.
All arithmetic is exact (Fractions): the same inputs always give the same fen.

The plan (factors, weights, inputs, scores, result) is stored with the transfers it produced,
so an auditor can recompute it.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.money import split_largest_remainder
from ledger.funds.flows import allocate
from ledger.models import Transfer, User
from ledger.org.regions import get_region


@dataclass(frozen=True)
class Factor:
    name: str          # e.g. "poor_population"
    weight: int        # relative weight, e.g. per mille
    need: bool = True  # True: more of it → more money; False: more of it → less money


def scores(factors: list[Factor], inputs: dict[str, dict[str, int]]) -> dict[str, Fraction]:
    """Each county's weighted score (exact). `inputs[county][factor]` are positive integers."""
    if not factors or sum(f.weight for f in factors) <= 0:
        raise LedgerError("factor allocation needs at least one factor with a positive weight",
                          code="factors_missing")
    if not inputs:
        raise LedgerError("factor allocation needs at least one county",
                          code="factor_counties_missing")
    total_weight = sum(f.weight for f in factors)
    result = {county: Fraction(0) for county in inputs}
    for factor in factors:
        if factor.weight < 0:
            raise LedgerError(f"factor {factor.name}: weight must not be negative",
                              code="factor_weight_negative", factor=factor.name,
                              weight=factor.weight)
        values = {}
        for county, row in inputs.items():
            value = row.get(factor.name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise LedgerError(f"county {county}: factor {factor.name} must be a positive "
                                  f"whole number, got {value!r}", code="factor_value_invalid",
                                  county=county, factor=factor.name, value=repr(value))
            values[county] = Fraction(value) if factor.need else Fraction(1, value)
        denominator = sum(values.values())
        for county, v in values.items():
            result[county] += Fraction(factor.weight, total_weight) * v / denominator
    return result


def split(amount_fen: int, factors: list[Factor],
          inputs: dict[str, dict[str, int]]) -> dict[str, int]:
    """The fen each county gets; sums exactly to `amount_fen`."""
    s = scores(factors, inputs)
    counties = sorted(s)
    parts = split_largest_remainder(amount_fen, [s[c] for c in counties])
    return dict(zip(counties, parts))


def allocate_by_factors(session: Session, actor: User, *, lot_id: int, province_code: str,
                        amount_fen: int, factors: list[Factor],
                        inputs: dict[str, dict[str, int]], effective_date: dt.date,
                        key: str) -> dict:
    """Step 1: the province records the plan and passes each city its counties' total.

    The whole plan (factors, inputs, scores, result) is stored in each transfer's memo as
    evidence. Once a city's transfer is approved, the city passes the shares down with
    `pass_down_by_plan`.
    """
    result = split(amount_fen, factors, inputs)
    by_city: dict[str, dict[str, int]] = {}
    for county, fen in result.items():
        city = get_region(session, county).parent_code
        if city is None or get_region(session, city).parent_code != province_code:
            raise LedgerError(f"county {county} is not in province {province_code}",
                              code="county_outside_province", county=county,
                              province=province_code)
        by_city.setdefault(city, {})[county] = fen
    plan = {"key": key, "amount_fen": amount_fen,
            "factors": [f.__dict__ for f in factors], "inputs": inputs,
            "scores": {c: str(v) for c, v in scores(factors, inputs).items()},
            "result_fen": result}
    memo = PLAN_PREFIX + json.dumps(plan, ensure_ascii=False, sort_keys=True)
    plan["transfers"] = [
        allocate(session, actor, lot_id=lot_id, from_region=province_code, to_region=city,
                 amount_fen=sum(counties.values()), effective_date=effective_date,
                 key=f"{key}:{city}", memo=memo).id
        for city, counties in sorted(by_city.items())]
    return plan


PLAN_PREFIX = "因素法分配 "


def stored_plan(session: Session, key: str, city_code: str) -> dict:
    transfer = session.execute(select(Transfer).where(
        Transfer.idempotency_key == f"{key}:{city_code}")).scalar_one_or_none()
    if transfer is None or not transfer.memo.startswith(PLAN_PREFIX):
        raise LedgerError(f"no factor plan {key!r} passes money to city {city_code}",
                          code="factor_plan_missing", plan=key, city=city_code)
    return json.loads(transfer.memo[len(PLAN_PREFIX):])


def pass_down_by_plan(session: Session, actor: User, *, lot_id: int, key: str,
                      city_code: str, effective_date: dt.date) -> list[Transfer]:
    """Step 2: a city passes each of its counties the share the plan gave it."""
    plan = stored_plan(session, key, city_code)
    memo = PLAN_PREFIX + json.dumps(plan, ensure_ascii=False, sort_keys=True)
    return [allocate(session, actor, lot_id=lot_id, from_region=city_code, to_region=county,
                     amount_fen=fen, effective_date=effective_date, key=f"{key}:{county}",
                     memo=memo)
            for county, fen in sorted(plan["result_fen"].items())
            if fen and get_region(session, county).parent_code == city_code]
