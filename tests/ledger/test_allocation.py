"""Factor allocation: exact sums, monotone in need, evidence kept, recorded as transfers."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core.errors import LedgerError
from ledger.funds import balances, posting
from ledger.funds.allocation import Factor, allocate_by_factors, pass_down_by_plan, split
from ledger.store.db import transaction
from tests.ledger.test_invariants import u
from tests.world import CITY, COUNTY, COUNTY2, DAY, PROVINCE

FACTORS = [Factor("poor_population", 50), Factor("poverty_depth", 20),
           Factor("income_per_head", 20, need=False), Factor("fiscal_capacity", 10, need=False)]

county_inputs = st.fixed_dictionaries({
    "poor_population": st.integers(1, 200_000), "poverty_depth": st.integers(1, 100),
    "income_per_head": st.integers(1_000, 30_000), "fiscal_capacity": st.integers(100, 10_000)})
inputs_st = st.dictionaries(st.from_regex(r"[0-9]{6}", fullmatch=True), county_inputs,
                            min_size=1, max_size=12)


@given(st.integers(0, 10**12), inputs_st)
def test_parts_sum_exactly_to_the_whole(amount, inputs):
    assert sum(split(amount, FACTORS, inputs).values()) == amount


@given(st.integers(10**6, 10**12), inputs_st, st.data())
def test_more_need_never_means_less_money(amount, inputs, data):
    county = data.draw(st.sampled_from(sorted(inputs)))
    factor = data.draw(st.sampled_from(FACTORS))
    needier = {c: dict(v) for c, v in inputs.items()}
    row = needier[county]
    if factor.need:
        row[factor.name] += data.draw(st.integers(1, 10_000))
    elif row[factor.name] > 1:
        row[factor.name] = data.draw(st.integers(1, row[factor.name] - 1))
    assert split(amount, FACTORS, needier)[county] >= split(amount, FACTORS, inputs)[county]


def test_bad_inputs_are_named():
    with pytest.raises(LedgerError, match="county 430121: factor poverty_depth"):
        split(100, FACTORS, {"430121": {"poor_population": 5, "poverty_depth": 0,
                                        "income_per_head": 1, "fiscal_capacity": 1}})


def test_allocation_is_recorded_with_its_evidence(world):
    inputs = {COUNTY: {"poor_population": 30_000, "poverty_depth": 40,
                       "income_per_head": 9_000, "fiscal_capacity": 1_200},
              COUNTY2: {"poor_population": 10_000, "poverty_depth": 20,
                        "income_per_head": 14_000, "fiscal_capacity": 3_000}}
    with transaction(world.factory) as s:
        plan = allocate_by_factors(s, u(s, "p_clerk"), lot_id=world.lot_id,
                                   province_code=PROVINCE, amount_fen=600_000_00,
                                   factors=FACTORS, inputs=inputs, effective_date=DAY,
                                   key="湘财农〔2024〕20号")
        assert sum(plan["result_fen"].values()) == 600_000_00
        assert plan["result_fen"][COUNTY] > plan["result_fen"][COUNTY2]
        (city_transfer,) = plan["transfers"]
        posting.approve(s, u(s, "p_approver"), city_transfer)
        down = pass_down_by_plan(s, u(s, "c_clerk"), lot_id=world.lot_id,
                                 key="湘财农〔2024〕20号", city_code=CITY, effective_date=DAY)
        for t in down:
            posting.approve(s, u(s, "c_approver"), t.id)
        held = {r.holder: r.balance for r in balances.account_balances(
            s, lot_id=world.lot_id, kinds=["unit"])}
        assert {c: held[c] for c in inputs} == plan["result_fen"]
        evidence = json.loads(down[0].memo.split(" ", 1)[1])
        assert evidence["inputs"] == inputs and evidence["result_fen"] == plan["result_fen"]
    with transaction(world.factory) as s:  # replaying the same plan changes nothing
        again = allocate_by_factors(s, u(s, "p_clerk"), lot_id=world.lot_id,
                                    province_code=PROVINCE, amount_fen=600_000_00,
                                    factors=FACTORS, inputs=inputs, effective_date=DAY,
                                    key="湘财农〔2024〕20号")
        assert again["transfers"] == plan["transfers"]


def test_factor_allocation_from_the_command_line(world, db_url, tmp_path, monkeypatch, capsys):
    from ledger.cli.root import main
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    inputs = tmp_path / "factors.csv"
    inputs.write_text("县代码,poor_population,income_per_head\n"
                      f"{COUNTY},30000,9000\n{COUNTY2},10000,14000\n", encoding="gb18030")
    args = ["--as", "p_clerk", "allocate-factors", "--lot", str(world.lot_id), "--province",
            PROVINCE, "--amount", "100,000.00", "--factor", "poor_population=60",
            "--factor", "income_per_head=40:capacity", "--inputs", str(inputs), "--key",
            "湘财农〔2024〕21号", "--date", "2024-03-20", "--json"]
    assert main(args) == 0
    plan = json.loads(capsys.readouterr().out)
    assert sum(plan["result_fen"].values()) == 100_000_00
    bad = tmp_path / "bad.csv"
    bad.write_text(f"county_code,poor_population,income_per_head\n{COUNTY},many,9000\n")
    args[args.index(str(inputs))] = str(bad)
    assert main(args) == 2
    assert "bad.csv, line 2, column poor_population" in capsys.readouterr().err
