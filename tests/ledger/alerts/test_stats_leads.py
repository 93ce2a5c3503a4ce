"""The statistical screens as ranked leads (ledger/alerts/rules_stats.py): "STA-01" first digits,
"STA-02" round amounts, "STA-03" non-working-day entries.

Three layers: the tests and the false-discovery control on generated provinces (pure Python,
many seeds: honest ones give almost no lead, a planted fabricated unit is ranked first);
Benjamini–Hochberg's invariants under Hypothesis; and the screens on a database (SQLite and
PostgreSQL) through the scan, the lists and the command line.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.alerts import rules_stats as rs
from ledger.alerts.service import list_alerts, list_leads
from ledger.alerts.settings import AlertSettings
from ledger.funds import flows, posting, projects
from ledger.models import PayeeKind, RegionLevel, Role
from ledger.org import regions
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town
from tests.world import CITY, COUNTY, DAY, PROVINCE

YEAR = 2024
DAYS = [dt.date(YEAR, 1, 1) + dt.timedelta(days=i) for i in range(366)]
WORKING = [d for d in DAYS if rs.is_working_day(d)]
OFF = [d for d in DAYS if not rs.is_working_day(d)]
SUNDAYS = [d for d in OFF if d.weekday() == 6]   # 调休 Sundays are working days


# ----------------------------------------------------------------------------- generated data

def honest_amount(rng: random.Random, round_share: float) -> int:
    """A contractor payment in fen: log-uniform over ¥1,000–¥1,000,000 (whole decades of a
    scale-free spread follow Benford's law); at `round_share` a round contract's amount, a
    multiple of ¥1,000 from ¥10,000 up (nobody rounds ¥1,500 to ¥2,000)."""
    if rng.random() < round_share:
        return round(int(10 ** rng.uniform(6, 8)), -5)
    return int(10 ** rng.uniform(5, 8))


def fabricated_amount(rng: random.Random) -> int:
    """An invented amount: first digit uniform, the rest made up."""
    return rng.randint(1, 9) * 10 ** rng.randint(5, 7) + rng.randint(0, 99_999)


def province(rng: random.Random, units=12, years=(2023, 2024), plant=None):
    """Counts a scan would read for `units` counties: {screen: {(unit, year): counts}}.
    Honest units differ from each other (their round shares between 10% and 35%, their
    weekend shares between 1% and 5%) as real counties do; `plant` = (unit, kind) fabricates
    one unit-year of 2024: "digits", "round" or "sunday"."""
    digits, rounds, entries = {}, {}, {}
    for i in range(units):
        unit = f"52{i:04d}"
        round_share, off_share = rng.uniform(0.10, 0.35), rng.uniform(0.01, 0.05)
        for year in years:
            kind = plant[1] if plant and plant[0] == unit and year == 2024 else None
            n_pay, n_entries = rng.randint(300, 700), rng.randint(1500, 3000)
            amounts = [fabricated_amount(rng) if kind == "digits" else
                       (rng.randint(1, 300) * 100_000 if kind == "round" and rng.random() < 0.8
                        else honest_amount(rng, round_share)) for _ in range(n_pay)]
            by_digit = {}
            for a in amounts:
                by_digit[int(str(a)[0])] = by_digit.get(int(str(a)[0]), 0) + 1
            digits[(unit, year)] = by_digit
            rounds[(unit, year)] = (sum(a % 100_000 == 0 for a in amounts), n_pay)
            share = 0.5 if kind == "sunday" else off_share
            entries[(unit, year)] = (sum(rng.random() < share for _ in range(n_entries)),
                                     n_entries)
    return digits, rounds, entries


def screen(digits, rounds, entries, cfg: AlertSettings | None = None):
    """Every test of a scan over generated counts, and the leads chosen from them."""
    cfg = cfg or AlertSettings()
    tests = (rs.benford_tests(digits, cfg.sta01_min_payments,
                              cfg.sta01_mad_limit_millionths / 1e6)
             + rs.share_tests("STA-02", rounds, cfg.sta02_min_payments,
                              cfg.sta02_min_ratio_percent / 100, "round", calendar=None)
             + rs.share_tests("STA-03", entries, cfg.sta03_min_entries,
                              cfg.sta03_min_ratio_percent / 100, "off",
                              calendar=rs.calendar_share))
    leads = rs.choose_leads(tests, cfg.sta_leads_fdr_permille / 1000,
                            cfg.sta_leads_per_county_year, lambda unit: unit)
    return tests, leads


# ----------------------------------------------------------------------------- honest, planted

def test_honest_provinces_give_almost_no_lead_and_never_more_than_the_cap():
    """Eight honest provinces of 12 counties × 2 years (576 tests): heterogeneous counties, so
    the binomial tests alone would reject some; BH and the effect floors keep the leads at
    (nearly) none, and never more than the cap a county-year."""
    false_leads = 0
    for seed in range(8):
        tests, leads = screen(*province(random.Random(seed)))
        assert len(tests) == 12 * 2 * 3
        per_county_year = {}
        for lead in leads:
            key = (lead.county, lead.year)
            per_county_year[key] = per_county_year.get(key, 0) + 1
        assert max(per_county_year.values(), default=0) <= 3
        false_leads += len(leads)
    assert false_leads <= 2, false_leads


def test_without_the_floors_heterogeneity_alone_would_make_leads():
    """Why the effect floors are there: counties differ more than binomial chance allows,
    and with the floors at 1× the same honest provinces give leads — capped all the same."""
    cfg = AlertSettings(sta02_min_ratio_percent=100, sta03_min_ratio_percent=100)
    counts = [len(screen(*province(random.Random(seed)), cfg)[1]) for seed in range(5)]
    assert sum(counts) > 5
    cfg = AlertSettings(sta02_min_ratio_percent=100, sta03_min_ratio_percent=100,
                        sta_leads_per_county_year=1)
    for seed in range(5):
        leads = screen(*province(random.Random(seed)), cfg)[1]
        keys = [(lead.county, lead.year) for lead in leads]
        assert len(keys) == len(set(keys))


@pytest.mark.parametrize("kind, rule_id", [("digits", "STA-01"), ("round", "STA-02"),
                                           ("sunday", "STA-03")])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_fabricated_unit_is_ranked_first(kind, rule_id, seed):
    planted = "520005"
    tests, leads = screen(*province(random.Random(seed), plant=(planted, kind)))
    mine = sorted((t for t in leads if t.rule_id == rule_id), key=lambda t: t.q_value)
    assert mine and (mine[0].unit, mine[0].year, mine[0].rank) == (planted, 2024, 1)
    ranked = sorted((t for t in tests if t.rule_id == rule_id), key=lambda t: t.p_value)
    assert (ranked[0].unit, ranked[0].year) == (planted, 2024)
    lead = mine[0].as_lead()
    for key in ("test", "reference", "statistic", "p_value", "q_value", "rank", "observed",
                "expected", "sample_size"):
        assert lead[key] is not None, key
    assert float(lead["p_value"]) <= float(lead["q_value"]) <= 0.05


def test_a_lead_says_its_test_and_reference():
    digits, rounds, entries = province(random.Random(4), plant=("520003", "sunday"))
    lead = next(t for t in screen(digits, rounds, entries)[1] if t.rule_id == "STA-03")
    assert lead.test == "one-sided exact binomial test"
    assert lead.expected["source"] == "peers" and "peers' pooled share" in lead.reference
    assert lead.observed["share"] > 0.4 and lead.expected["share"] < 0.05
    assert lead.sample_size == entries[("520003", 2024)][1]


def test_a_unit_without_peers_is_tested_against_the_calendar():
    """Alone in the scan, a unit's non-working-day share is compared with the calendar's
    (about 115 of 366 days in 2024): a few percent is no lead, three quarters is."""
    assert 0.28 < rs.calendar_share(2024) < 0.35
    (quiet,) = rs.share_tests("STA-03", {("520001", 2024): (30, 1000)}, 20, 2.0, "off",
                              calendar=rs.calendar_share)
    assert quiet.expected["source"] == "calendar" and quiet.p_value > 0.99
    (loud,) = rs.share_tests("STA-03", {("520001", 2024): (750, 1000)}, 20, 2.0, "off",
                             calendar=rs.calendar_share)
    assert loud.p_value < 1e-10 and loud.passes_floor
    # STA-02 has no calendar: a unit without peers is not tested
    assert rs.share_tests("STA-02", {("520001", 2024): (30, 100)}, 20, 2.0, "round",
                          calendar=None) == []


def test_benford_conforming_digits_pass_and_uniform_digits_do_not():
    n = 1000
    conform = {d: round(n * p) for d, p in rs.BENFORD.items()}
    uniform = dict.fromkeys(range(1, 10), n // 9)
    ok, bad = rs.benford_tests({("a", 2024): conform, ("b", 2024): uniform}, 300, 0.015)
    assert ok.p_value > 0.99 and not ok.passes_floor
    assert bad.p_value < 1e-50 and bad.passes_floor
    assert bad.test.startswith("χ²")
    assert bad.expected["1"] == pytest.approx(999 * math.log10(2), abs=0.1)
    assert rs.benford_tests({("c", 2024): uniform}, 1001, 0.015) == []   # too few payments


# ----------------------------------------------------------------------------- BH invariants

def _step_up_rejections(p_values, alpha) -> int:
    """The Benjamini–Hochberg step-up procedure as its paper states it: the largest k with
    p_(k) ≤ k·α/m."""
    ordered, m = sorted(p_values), len(p_values)
    return max((k for k in range(1, m + 1) if ordered[k - 1] <= k * alpha / m), default=0)


p_values = st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1,
                    max_size=60)


@settings(max_examples=150, deadline=None)
@given(p_values, st.floats(min_value=0.001, max_value=0.5))
def test_bh_q_values_are_monotone_bounded_and_reject_as_the_step_up_procedure(ps, alpha):
    qs = rs.benjamini_hochberg(ps)
    assert len(qs) == len(ps)
    # q-values are never below their p-value, never above 1
    assert all(p - 1e-12 <= q <= 1.0 + 1e-12 for p, q in zip(ps, qs))
    # monotone: a smaller p-value never gets a larger q-value
    pairs = sorted(zip(ps, qs))
    assert all(a[1] <= b[1] + 1e-12 for a, b in zip(pairs, pairs[1:]))
    # q ≤ α rejects exactly the step-up procedure's tests — never more
    rejected = sum(q <= alpha for q in qs)
    expected = _step_up_rejections(ps, alpha)
    if not any(math.isclose(q, alpha, rel_tol=1e-9) for q in qs):  # a q-value on α: rounding
        assert rejected == expected
    assert rejected <= expected + sum(math.isclose(q, alpha, rel_tol=1e-9) for q in qs)


@settings(max_examples=100, deadline=None)
@given(p_values, st.integers(min_value=0, max_value=4))
def test_the_cap_and_the_floor_only_take_leads_away(ps, cap):
    """choose_leads keeps a subset of BH's rejections: at most `cap` a county-year, each with
    q ≤ rate and its effect over the floor, ranked 1, 2, … by q-value."""
    tests = [rs.ScreenTest("STA-03", f"u{i % 3}", 2024 + i % 2, "t", "r", 0.0, p, 50, {}, {},
                           effect=2.0 + (i % 2), effect_floor=2.5) for i, p in enumerate(ps)]
    leads = rs.choose_leads(tests, 0.05, cap, lambda unit: "c" if unit != "u2" else "d")
    assert sum(t.q_value <= 0.05 for t in tests) >= len(leads)
    groups = {}
    for lead in leads:
        assert lead.q_value <= 0.05 and lead.effect > 2.5
        groups.setdefault((lead.county, lead.year), []).append(lead)
    for group in groups.values():
        assert [t.rank for t in group] == list(range(1, len(group) + 1)) and len(group) <= cap
        assert [t.q_value for t in group] == sorted(t.q_value for t in group)


def test_bh_of_nothing_is_nothing():
    assert rs.benjamini_hochberg([]) == []
    assert rs.choose_leads([], 0.05, 3, str) == []


# ----------------------------------------------------------------------------- on a database

PEERS = ["430123", "430124"]
DB_CFG = AlertSettings(sta01_min_payments=60, sta02_round_fen=100_00)


def _counties(town) -> None:
    """Counties beside COUNTY, each with ¥100,000, a clerk and an approver named after it and
    a contractor `C-<code>`; COUNTY's contractor is C-001."""
    with transaction(town.world.factory) as s:
        admin = get_user(s, "admin")
        for code in PEERS:
            regions.add_region(s, admin, code=code, name=f"{code}县", level=RegionLevel.COUNTY,
                               parent_code=CITY)
            for role in (Role.CLERK, Role.APPROVER):
                regions.add_user(s, admin, username=f"{code}_{role.value}",
                                 display_name=code, role=role, region_code=code)
    for code in PEERS:
        with transaction(town.world.factory) as s:
            projects.register_payee(s, get_user(s, f"{code}_clerk"), code=f"C-{code}",
                                    kind=PayeeKind.CONTRACTOR, name=f"{code}建筑公司",
                                    region_code=code)
            for frm, to, level in ((PROVINCE, CITY, "p"), (CITY, code, "c")):
                t = flows.allocate(s, get_user(s, f"{level}_clerk"), lot_id=town.world.lot_id,
                                   from_region=frm, to_region=to, amount_fen=100_000_00,
                                   effective_date=DAY, key=f"alloc:{code}:{level}")
                posting.approve(s, get_user(s, f"{level}_approver"), t.id)


def _pay_many(town, county, payments) -> None:
    """Contractor payments (amount, date) of one county, in one transaction, left pending
    (the screens read pending payments as the other rules do; approving doubles the time)."""
    payee, clerk = ("C-001", "k_clerk") if county == COUNTY else \
        (f"C-{county}", f"{county}_clerk")
    with transaction(town.world.factory) as s:
        who = get_user(s, clerk)
        for amount, day in payments:
            town.keys += 1
            flows.pay(s, who, lot_id=town.world.lot_id, payee_code=payee, amount_fen=amount,
                      function_code="2130505", use_code="industry", county_code=county,
                      effective_date=day, key=f"{county}:{town.keys}", memo=f"工程款{town.keys}")


@pytest.fixture
def fabricated(world):
    """COUNTY invents its 60 contractor payments (first digits uniform, all in ¥100s, half of
    them on Sundays); two peer counties pay as honest ones do: amounts spread log-uniform
    from ¥10 to ¥1,500, one in twenty in ¥100s, a few percent on a non-working day."""
    town = Town(world)
    _counties(town)
    rng = random.Random(7)
    _pay_many(town, COUNTY, [
        (d * 100_00, SUNDAYS[i % len(SUNDAYS)] if i % 2 else WORKING[i * 3])
        for i, d in enumerate((list(range(1, 10)) * 7)[:60])])
    for code in PEERS:
        honest = []
        for _ in range(60):
            fen = int(10 ** rng.uniform(3, 5.18))
            fen = max(100_00, round(fen, -4)) if rng.random() < 0.05 else fen
            honest.append((fen, rng.choice(OFF if rng.random() < 0.03 else WORKING)))
        _pay_many(town, code, honest)
    return town


def test_the_fabricated_county_is_ranked_and_leads_are_not_alerts(fabricated, cli, tmp_path):
    unit = f"unit:{COUNTY}:{YEAR}"
    found = {rid: fabricated.fired(rid, DB_CFG) for rid in ("STA-01", "STA-02", "STA-03")}
    for rid, by_entity in found.items():
        assert set(by_entity) == {unit}, rid   # the honest peers give none
        finding = by_entity[unit]
        lead = finding.evidence["lead"]
        assert lead["county"] == COUNTY and lead["year"] == YEAR and lead["rank"] in (1, 2, 3)
        assert lead["tests_in_scan"] == 9 and float(lead["q_value"]) <= 0.05
        assert lead["sample_size"] == 60 and finding.amount_at_risk_fen == 0
        # the vouchers to start from, as the county knows them
        vouchers = finding.evidence["sample_vouchers"]
        assert vouchers and all(v["key"].startswith(f"{COUNTY}:") for v in vouchers)
    sunday = found["STA-03"][unit]
    assert {v["weekday"] for v in sunday.evidence["sample_vouchers"]} <= {"Sunday", "Saturday"}
    assert sunday.evidence["lead"]["observed"]["count"] == 30
    assert all(v["amount_fen"] % 100_00 == 0
               for v in found["STA-02"][unit].evidence["sample_vouchers"])
    # the cap keeps the smallest q-value
    capped = AlertSettings(sta01_min_payments=60, sta02_round_fen=100_00,
                           sta_leads_per_county_year=1)
    kept = [rid for rid in found if fabricated.fired(rid, capped)]
    best = min(found, key=lambda rid: float(found[rid][unit].evidence["lead"]["q_value"]))
    assert kept == [best]
    # by default 60 payments are too few for Benford (300), ¥100s are not ¥1,000s: only the
    # Sundays are left
    assert [rid for rid in found if fabricated.fired(rid)] == ["STA-03"]

    # the command line: leads apart from alerts, Chinese first
    (tmp_path / "fundtrail.toml").write_text(
        "[alerts]\nsta01_min_payments = 60\nsta02_round_fen = 10000\n", encoding="utf-8")
    code, out, _ = cli("--as", "auditor", "alerts", "scan", "--as-of", "2024-12-31",
                       "--rule", "STA-01", "--rule", "STA-02", "--rule", "STA-03")
    assert code == 0, out   # leads are not open alerts
    assert "3 raised" in out and "3 statistical leads" in out
    code, out, _ = cli("--as", "auditor", "alerts", "list")
    assert code == 0 and out.strip() == "no alerts"
    code, out, _ = cli("--as", "auditor", "alerts", "leads")
    assert code == 0 and out.index("第1名") < out.index("第2名") < out.index("第3名")
    assert "one-sided exact binomial test" in out and "χ²" in out
    code, out, _ = cli("--as", "auditor", "alerts", "leads", "--json")
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == [1, 2, 3] and rows[0]["rule_id"] == best
    assert {r["rule_id"] for r in rows} == {"STA-01", "STA-02", "STA-03"}
    for r in rows:
        assert r["county"] == COUNTY and r["year"] == YEAR and r["sample_size"] == 60
        assert float(r["p_value"]) <= float(r["q_value"]) <= 0.05
        assert r["observed_values"] and r["expected_values"] and r["severity"] == "low"
    with transaction(fabricated.world.factory) as s:
        auditor = get_user(s, "auditor")
        assert list_alerts(s, auditor) == [] and len(list_leads(s, auditor)) == 3


def test_one_holiday_entry_is_no_lead(world):
    """What STA-03 used to raise an alert for: a payment on National Day in an otherwise
    ordinary year of a unit."""
    town = Town(world)
    _counties(town)
    for code in [COUNTY, *PEERS]:
        days = WORKING[::12][:20] + ([dt.date(YEAR, 10, 2)] if code == COUNTY else [])
        _pay_many(town, code, [(1_234_00, d) for d in days])
    assert town.fired("STA-03") == {}
    # and a unit that books most of its entries on days off is one
    _pay_many(town, COUNTY, [(1_234_00, d) for d in OFF[:40:2]])
    assert set(town.fired("STA-03")) == {f"unit:{COUNTY}:{YEAR}"}
