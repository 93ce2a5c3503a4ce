"""The main refusals through the real services, on SQLite and PostgreSQL: each is asserted by its
code and parameters (docs/ledger.md, "Refusals"), never by its message text."""
from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError
from ledger.core.refusals import BY_CODE, render
from ledger.funds import flows, lots, periods, posting
from ledger.funds.accounts import account_for
from ledger.imports.csvfile import Column, ImportProblems, read
from ledger.models import AccountKind, Role, SourceLevel, TransferKind
from ledger.org.regions import add_user, get_user
from ledger.store.db import transaction
from tests.world import CITY, COUNTY, COUNTY2, DAY, PROVINCE

LOT_FEN = 1_000_000_00   # what tests/world.py appropriates to the province


def check(exc: LedgerError, code: str, expected: dict) -> None:
    """`exc` is refusal `code` with exactly its catalogued parameters, as plain values, and
    those of `expected` have the expected values."""
    assert exc.code == code, (exc.code, exc.params)
    entry = BY_CODE[code]
    assert set(entry.params) <= set(exc.params) <= set(entry.params) | set(entry.optional)
    assert {name: exc.params[name] for name in expected} == expected
    assert json.loads(json.dumps(exc.params)) == exc.params
    for name, value in exc.params.items():
        if name.endswith("_fen"):
            values = value.values() if isinstance(value, dict) else [value]
            assert all(type(v) is int for v in values), name
    render(code, exc.params)  # every template fills from its parameters


@contextmanager
def refusal(code: str, **expected):
    with pytest.raises(LedgerError) as info:
        yield info
    check(info.value, code, expected)


def allocate(s, user="p_clerk", *, world, amount=100_00, key="a-1", day=DAY, lot_id=None):
    return flows.allocate(s, get_user(s, user), lot_id=lot_id or world.lot_id,
                          from_region=PROVINCE, to_region=CITY, amount_fen=amount,
                          effective_date=day, key=key)


def pay(s, world, *, payee="H-001", use="household_subsidy", function_code="2130505",
        amount=100_00, key="p-1"):
    return flows.pay(s, get_user(s, "k_clerk"), lot_id=world.lot_id, payee_code=payee,
                     amount_fen=amount, function_code=function_code, use_code=use,
                     county_code=COUNTY, effective_date=DAY, key=key)


def second_lot(world) -> int:
    with transaction(world.factory) as s:
        t = lots.appropriate(
            s, get_user(s, "p_clerk"), doc_number="财农〔2024〕30号",
            source_level=SourceLevel.PROVINCE, year=2024, title="省级衔接资金",
            function_codes=["2130505"], allowed_uses=["industry"], amount_fen=50_000_00,
            region_code=PROVINCE, effective_date=DAY)
        posting.approve(s, get_user(s, "p_approver"), t.id)
        return t.lot_id


def test_an_amount_that_is_not_whole_fen(world):
    with transaction(world.factory) as s:
        with refusal("amount_not_fen", field="amount", value="12.5"):
            allocate(s, world=world, amount=12.5)
        with refusal("amount_not_positive", field="amount", amount_fen=-5):
            allocate(s, world=world, amount=-5, key="a-2")


def test_an_entry_dated_with_text(world):
    with transaction(world.factory) as s:
        with refusal("date_invalid", field="effective date", value="'2024-03-15'"):
            allocate(s, world=world, day="2024-03-15")


def test_overdraft_names_the_account_and_both_amounts(world):
    with transaction(world.factory) as s:
        with refusal("overdraft", account_kind="unit", holder=PROVINCE, lot=world.lot_id,
                     available_fen=LOT_FEN, requested_fen=LOT_FEN + 1):
            allocate(s, world=world, amount=LOT_FEN + 1)


def test_pending_outflows_count_in_an_overdraft(world):
    with transaction(world.factory) as s:
        allocate(s, world=world, amount=LOT_FEN - 10_00)
    with transaction(world.factory) as s:
        with refusal("overdraft", available_fen=10_00, requested_fen=20_00):
            allocate(s, world=world, amount=20_00, key="a-2")


def test_closed_period_names_the_period_and_the_date(world):
    with transaction(world.factory) as s:
        periods.close_period(s, get_user(s, "admin"), "2024-03")
    with transaction(world.factory) as s:
        with refusal("closed_period", period="2024-03", date="2024-03-15"):
            allocate(s, world=world)
        with refusal("period_already_closed", period="2024-03"):
            periods.close_period(s, get_user(s, "admin"), "2024-03")


def test_out_of_scope_names_the_action_and_the_region(world):
    with transaction(world.factory) as s:
        with refusal("out_of_scope", user="k2_clerk", user_region=COUNTY2, action="record",
                     region=PROVINCE):
            allocate(s, "k2_clerk", world=world)
        with refusal("role_forbidden", user="p_approver", role="approver", action="record",
                     region=PROVINCE):
            allocate(s, "p_approver", world=world)


def test_a_key_reused_with_other_content_names_the_transfer_and_the_fields(world):
    with transaction(world.factory) as s:
        first = allocate(s, world=world, amount=100_00, key="V-7")
    with transaction(world.factory) as s:
        assert allocate(s, world=world, amount=100_00, key="V-7").id == first.id  # a retry
        with refusal("key_reused", key="V-7", transfer_id=first.id, kind="allocate",
                     amount_fen=100_00, date="2024-03-15", fields=["amount_fen"],
                     recorded={"amount_fen": 100_00}, requested={"amount_fen": 200_00}):
            allocate(s, world=world, amount=200_00, key="V-7")


def test_a_key_taken_in_another_region_says_nothing_about_its_transfer(world):
    with transaction(world.factory) as s:
        allocate(s, world=world, key="V-8")
    with transaction(world.factory) as s:
        with refusal("key_taken", key="V-8") as info:
            flows.pay(s, get_user(s, "k2_clerk"), lot_id=world.lot_id, payee_code="H-201",
                      amount_fen=1, function_code="2130505", use_code="household_subsidy",
                      county_code=COUNTY2, effective_date=DAY, key="V-8")
        assert set(info.value.params) == {"key"}


def test_an_unknown_payee_or_lot_says_what_and_which(world):
    with transaction(world.factory) as s:
        with refusal("not_found", what="payee", key="NOPE"):
            pay(s, world, payee="NOPE")
        with refusal("not_found", what="lot", key=999):
            allocate(s, world=world, lot_id=999)
        with refusal("not_found", what="transfer", key=999):
            posting.approve(s, get_user(s, "p_approver"), 999)


def test_the_purpose_lock(world):
    with transaction(world.factory) as s:
        with refusal("use_prohibited", use="bonuses"):
            pay(s, world, use="bonuses")
        with refusal("function_outside_lot", lot=world.lot_id, function_code="2130506",
                     allowed=["2130504", "2130505"]):
            pay(s, world, function_code="2130506")
        with refusal("use_outside_lot", lot=world.lot_id, use="training",
                     allowed=["household_subsidy", "industry", "infrastructure"]):
            pay(s, world, use="training")
        with refusal("payee_outside_county", payee="H-201", county=COUNTY):
            pay(s, world, payee="H-201")


def test_maker_checker(world):
    with transaction(world.factory) as s:
        add_user(s, get_user(s, "admin"), username="both", display_name="both",
                 role=Role.APPROVER, region_code=PROVINCE)
    with transaction(world.factory) as s:
        both, lot = get_user(s, "both"), lots.get_lot(s, world.lot_id)
        # recorded through the engine directly, as an import job acting for "both" would
        with record_change(s, "both", "transfer.record") as change:
            src = account_for(change, lot, AccountKind.UNIT, PROVINCE, PROVINCE)
            dst = account_for(change, lot, AccountKind.UNIT, CITY, CITY)
            t = posting.record(change, both, kind=TransferKind.ALLOCATE, lot_id=lot.id,
                               legs=[posting.Leg(src, -1), posting.Leg(dst, 1)], key="self",
                               request={}, effective_date=DAY, region_code=PROVINCE)
        with refusal("maker_checker", user="both", what="transfer", key=t.id):
            posting.approve(s, both, t.id)


def test_money_crossing_lots(world):
    other = second_lot(world)
    with transaction(world.factory) as s:
        one, two = lots.get_lot(s, world.lot_id), lots.get_lot(s, other)
        with record_change(s, "p_clerk", "transfer.record") as change:
            legs = [posting.Leg(account_for(change, lot, AccountKind.UNIT, region, region),
                                amount)
                    for lot in (one, two)
                    for region, amount in ((PROVINCE, -1), (CITY, 1))]
            with refusal("lot_mismatch", kind="allocate", lot=one.id, lots=[one.id, other]):
                posting.record(change, get_user(s, "p_clerk"), kind=TransferKind.ALLOCATE,
                               lot_id=one.id, legs=legs, key="cross", request={},
                               effective_date=DAY, region_code=PROVINCE)
    with transaction(world.factory) as s:
        with refusal("integration_lot_repeated", lots=[other]):
            lots.integrate(s, get_user(s, "k_clerk"), county_code=COUNTY, doc_number="整合1号",
                           year=2024, title="整合", function_codes=["2130505"],
                           allowed_uses=["industry"], sources=[(other, 1), (other, 1)],
                           effective_date=DAY)


def test_an_approved_transfer_is_decided_once(world):
    with transaction(world.factory) as s:
        t = allocate(s, world=world)
        posting.approve(s, get_user(s, "p_approver"), t.id)
        with refusal("already_decided", transfer_id=t.id, decision="approved"):
            posting.reject(s, get_user(s, "p_approver"), t.id, "late")
        with refusal("required", field="comment"):
            posting.reject(s, get_user(s, "p_approver"), t.id, " ")


def test_an_import_problem_carries_its_code(tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("区划代码,名称\n430121,长沙县\n", encoding="utf-8")
    columns = [Column("code", ("区划代码", "code")), Column("name", ("名称", "name")),
               Column("parent", ("上级代码", "parent"))]
    with pytest.raises(ImportProblems) as info:
        read(path, columns)
    check(info.value, "import_problems", {"count": 1})
    problem = info.value.params["problems"][0]
    assert (problem["code"], problem["params"]) == ("column_missing",
                                                    {"headers": ["上级代码", "parent"]})
    assert problem["line"] == 1 and problem["column"] == "上级代码"


def test_a_service_refusal_at_an_import_line_keeps_its_code():
    from ledger.imports.csvfile import at_line

    def refuse():
        raise LedgerError("no", code="not_found", what="region", key="4301")
    with pytest.raises(ImportProblems) as info:
        at_line("regions.csv", 7, refuse)
    [problem] = info.value.params["problems"]
    assert (problem["line"], problem["code"], problem["params"]) == \
        (7, "not_found", {"what": "region", "key": "4301"})


def test_a_period_not_written_as_a_month(world):
    with transaction(world.factory) as s:
        with refusal("period_format", value="'2024-13'"):
            periods.close_period(s, get_user(s, "admin"), "2024-13")
