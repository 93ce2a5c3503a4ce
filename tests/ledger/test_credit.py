"""Micro-credit (扶贫小额信贷): the loan is a record, the interest subsidy (贴息) is fund money."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from ledger.funds import flows, lots, posting
from ledger.households import credit
from ledger.models import SourceLevel
from ledger.store.db import transaction
from tests.ledger.test_import_households import HOUSEHOLDS, write
from tests.ledger.test_invariants import u
from tests.world import CITY, COUNTY, DAY, PROVINCE, VILLAGE


@pytest.fixture
def ft(cli, db_url, world, monkeypatch, tmp_path):
    """The CLI on a world with a credit-subsidy lot at the county and registered households."""
    with transaction(world.factory) as s:
        t = lots.appropriate(s, u(s, "p_clerk"), doc_number="财农〔2024〕30号",
                             source_level=SourceLevel.CENTRAL, year=2024, title="小额信贷贴息资金",
                             function_codes=["2130507"], allowed_uses=["credit_subsidy"],
                             amount_fen=50_000_00, region_code=PROVINCE, effective_date=DAY)
        posting.approve(s, u(s, "p_approver"), t.id)
        for n, (who, frm, to) in enumerate([("p", PROVINCE, CITY), ("c", CITY, COUNTY)]):
            a = flows.allocate(s, u(s, f"{who}_clerk"), lot_id=t.lot_id, from_region=frm,
                               to_region=to, amount_fen=50_000_00, effective_date=DAY,
                               key=f"credit-{n}")
            posting.approve(s, u(s, f"{who}_approver"), a.id)

    run = cli
    run.lot = t.lot_id
    assert run("--as", "k_clerk", "import", "households",
               write(tmp_path, "h.csv",
                     HOUSEHOLDS + f"H-103,{VILLAGE},李四,清退,2019-05-01,,\n"))[0] == 0
    return run


def test_a_loan_and_its_interest_subsidy_from_the_command_line(ft):
    code, out, err = ft("--as", "k_clerk", "loan", "add", "农商行-2024-001", "--household",
                        "H-100", "--bank", "农商银行", "--principal", "50,000.00", "--rate",
                        "4.35", "--start", "2024-01-01", "--months", "36")
    assert code == 0, err
    assert "until 2026-12-31" in out
    code, out, err = ft("--as", "k_clerk", "loan", "subsidy", "农商行-2024-001", "--lot", ft.lot,
                        "--from", "2024-01-01", "--to", "2024-03-31", "--date", "2024-04-05",
                        "--json")
    assert code == 0, err
    paid = json.loads(out)
    # 50,000 yuan × 4.35% × 91 days / 365 = 542.26 yuan, rounded down to the fen
    assert paid["amount_fen"] == 5_000_000 * 435 * 91 // (10_000 * 365) == 54226
    assert ft("--as", "k_approver", "approve", paid["id"])[0] == 0
    # the same period again is the same payment, not a second one
    again = ft("--as", "k_clerk", "loan", "subsidy", "农商行-2024-001", "--lot", ft.lot,
               "--from", "2024-01-01", "--to", "2024-03-31", "--date", "2024-04-05", "--json")
    assert json.loads(again[1])["id"] == paid["id"]
    code, _, err = ft("--as", "k_clerk", "loan", "subsidy", "农商行-2024-001", "--lot", ft.lot,
                      "--from", "2024-03-01", "--to", "2024-04-30", "--date", "2024-05-05")
    assert code == 2 and "overlaps the period 2024-01-01–2024-03-31" in err
    assert ft("--as", "k_clerk", "loan", "event", "农商行-2024-001", "misused", "--date",
              "2024-05-10", "--comment", "贷款用于建房")[0] == 0
    code, _, err = ft("--as", "k_clerk", "loan", "subsidy", "农商行-2024-001", "--lot", ft.lot,
                      "--from", "2024-04-01", "--to", "2024-06-30", "--date", "2024-07-05")
    assert code == 2 and "no subsidy from 2024-05-10 (misused on 2024-05-10)" in err
    code, out, _ = ft("--as", "k_clerk", "loan", "list", "--household", "H-100", "--json")
    (loan,) = json.loads(out)
    assert loan["subsidy_until"] == "2024-05-10"
    assert [s["amount_fen"] for s in loan["subsidies"]] == [54226]


@pytest.mark.parametrize("args, message", [
    (["--principal", "50,000.01"], "above the micro-credit limit of 50,000.00 yuan"),
    (["--months", "37"], "term must be 1–36 months"),
    (["--rate", "4.355"], "is not a rate like 4.35"),
    (["--household", "H-999"], "household 'H-999' does not exist"),
])
def test_loans_outside_the_rules_are_refused_with_the_reason(ft, args, message):
    base = {"--household": "H-100", "--bank": "农商银行", "--principal": "30000",
            "--rate": "4.35", "--start": "2024-01-01", "--months": "36"}
    base.update(dict(zip(args[::2], args[1::2])))
    code, _, err = ft("--as", "k_clerk", "loan", "add", "L-1",
                      *[x for kv in base.items() for x in kv])
    assert code == 2 and message in err


def test_a_removed_household_gets_no_loan_and_another_county_cannot_record_one(ft, world):
    with transaction(world.factory) as s:
        with pytest.raises(Exception, match="removed and not eligible"):
            credit.register_loan(s, u(s, "k_clerk"), code="L-2", household_code="H-103",
                                 bank="b", principal_fen=1_000_00, annual_rate_bp=435,
                                 start_date=DAY, term_months=12)
        with pytest.raises(Exception, match="may not record in region"):
            credit.register_loan(s, u(s, "k2_clerk"), code="L-3", household_code="H-100",
                                 bank="b", principal_fen=1_000_00, annual_rate_bp=435,
                                 start_date=DAY, term_months=12)


def test_no_subsidy_past_the_term_or_before_the_start(ft, world):
    with transaction(world.factory) as s:
        loan = credit.register_loan(s, u(s, "k_clerk"), code="L-4", household_code="H-100",
                                    bank="b", principal_fen=10_000_00, annual_rate_bp=435,
                                    start_date=dt.date(2024, 1, 31), term_months=1)
        assert credit.term_end(loan) == dt.date(2024, 2, 28)  # 31 Jan + 1 month, clamped
        for start, end, match in [(dt.date(2024, 1, 30), dt.date(2024, 2, 10), "started on"),
                                  (dt.date(2024, 2, 1), dt.date(2024, 2, 29), "term ended"),
                                  (dt.date(2024, 2, 9), dt.date(2024, 2, 1), "before it starts")]:
            with pytest.raises(Exception, match=match):
                credit.pay_interest_subsidy(s, u(s, "k_clerk"), code="L-4", lot_id=ft.lot,
                                            period_start=start, period_end=end,
                                            effective_date=DAY)


def test_add_months_clamps_to_the_end_of_the_month():
    assert credit.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert credit.add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
    assert credit.add_months(dt.date(2024, 11, 15), 3) == dt.date(2025, 2, 15)
    assert credit.add_months(dt.date(2024, 3, 31), 36) == dt.date(2027, 3, 31)


def test_the_ceiling_is_per_household_and_a_removed_household_gets_no_more_subsidy(ft, world):
    from ledger.households import changes as household_changes
    from ledger.models import HouseholdStatus
    with transaction(world.factory) as s:
        clerk = u(s, "k_clerk")
        credit.register_loan(s, clerk, code="L-A", household_code="H-100", bank="b",
                             principal_fen=30_000_00, annual_rate_bp=435,
                             start_date=dt.date(2024, 1, 1), term_months=36)
        with pytest.raises(Exception, match="already has L-A running"):
            credit.register_loan(s, clerk, code="L-B", household_code="H-100", bank="b",
                                 principal_fen=20_000_01, annual_rate_bp=435,
                                 start_date=dt.date(2025, 1, 1), term_months=12)
        credit.register_loan(s, clerk, code="L-C", household_code="H-100", bank="b",
                             principal_fen=20_000_00, annual_rate_bp=435,
                             start_date=dt.date(2025, 1, 1), term_months=12)
        # after L-A is repaid, a new loan fits again
        credit.record_loan_event(s, clerk, "L-A", credit.LoanEventKind.REPAID,
                                 dt.date(2025, 6, 30))
        credit.register_loan(s, clerk, code="L-D", household_code="H-100", bank="b",
                             principal_fen=30_000_00, annual_rate_bp=435,
                             start_date=dt.date(2026, 1, 1), term_months=12)
        household_changes.change_status(s, clerk, "H-100", HouseholdStatus.REMOVED,
                                        dt.date(2025, 3, 1), "识别不精准")
        with pytest.raises(Exception, match="removed by 2025-03-31 and no longer eligible"):
            credit.pay_interest_subsidy(s, clerk, code="L-C", lot_id=ft.lot,
                                        period_start=dt.date(2025, 1, 1),
                                        period_end=dt.date(2025, 3, 31), effective_date=DAY)
