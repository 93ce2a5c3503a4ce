"""Refused attempts (issue 18): a movement the ledger refuses as a control against misuse
leaves no transfer, but one refused-attempt row and one audit entry of its own, written after
the refused change rolled back; auditors list them, the rule statistics count them, and
FLW-02 names them where the money they would have spent sits idle. SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from ledger.alerts.base import ScanContext
from ledger.alerts.rules import CHECKS
from ledger.alerts.service import rule_outcomes
from ledger.alerts.settings import AlertSettings
from ledger.audit.entries import decode_entry
from ledger.audit.log import record_change
from ledger.core.errors import LedgerError, MakerChecker, Overdraft, PurposeViolation
from ledger.funds import flows, lots, periods, posting
from ledger.funds.accounts import account_for
from ledger.funds.refusals_log import PREVENTED, _masked, list_refused, recording
from ledger.models import AccountKind, AuditEntry, AuditHead, Role, Transfer, TransferKind
from ledger.models.refusals import RefusedAttempt
from ledger.org.regions import add_user
from ledger.store.db import transaction
from tests.conftest import enrol_test_keys
from tests.ledger.test_import_households import write
from tests.ledger.test_invariants import down_to_county, u
from tests.world import COUNTY, COUNTY2, DAY, PROVINCE


@pytest.fixture
def ft(cli, world):
    down_to_county(world, 1_000_00)   # ¥1,000 at the county
    return cli


def _count(world, what, *where):
    with transaction(world.factory) as s:
        return s.execute(select(func.count()).select_from(what).where(*where)).scalar_one()


def _attempts(world) -> list[RefusedAttempt]:
    with transaction(world.factory) as s:
        return list(s.execute(select(RefusedAttempt).order_by(RefusedAttempt.id)).scalars())


def _log_size(world) -> int:
    with transaction(world.factory) as s:
        return s.execute(select(func.max(AuditHead.size))).scalar_one()


def _last_entry(world) -> dict:
    with transaction(world.factory) as s:
        data = s.execute(select(AuditEntry.entry).order_by(AuditEntry.idx.desc())
                         .limit(1)).scalar_one()
    return decode_entry(bytes(data))


def _pay(ft, *extra, amount="2000", key="长县付〔2024〕9号", use="household_subsidy"):
    return ft("--as", "k_clerk", "pay", "--lot", ft.lot_id, "--payee", "H-001", "--amount",
              amount, "--function-code", "2130505", "--use", use, "--county", COUNTY,
              "--key", key, "--date", DAY.isoformat(), *extra)


@pytest.fixture
def books(ft, world):
    ft.lot_id = world.lot_id   # what _pay pays from
    return ft


def test_a_refused_payment_leaves_no_transfer_but_one_attempt_and_one_entry(books, world,
                                                                           personal_key_dir):
    enrol_test_keys(world.factory, ["k_clerk"], personal_key_dir)  # before counting entries
    before = _log_size(world)
    code, out, err = _pay(books)                 # ¥2,000 from a county holding ¥1,000
    assert code == 2 and "100000 fen available" in err, (out, err)
    assert _count(world, Transfer, Transfer.idempotency_key == "长县付〔2024〕9号") == 0
    [row] = _attempts(world)
    assert (row.username, row.kind, row.code, row.region_code) == \
        ("k_clerk", "pay", "overdraft", COUNTY)
    assert (row.lot_id, row.source_kind, row.source_holder, row.target) == \
        (world.lot_id, "unit", COUNTY, "H-001")
    assert (row.amount_fen, row.day, row.idempotency_key) == (2_000_00, DAY, "长县付〔2024〕9号")
    assert row.params["available_fen"] == 1_000_00 and row.params["requested_fen"] == 2_000_00
    assert row.attempted_at is not None and row.file_name is None
    # exactly one entry more in the log: the attempt's own, which logs its row
    assert _log_size(world) == before + 1 == row.log_index + 1
    entry = _last_entry(world)
    assert entry["kind"] == "refusal.record" and entry["actor"] == "k_clerk"
    assert [r[0] for r in entry["rows"]] == ["refused_attempts"]
    assert entry["details"] == {"code": "overdraft", "tried": "pay"}
    code, out, err = books("--as", "auditor", "verify", "--json")
    assert code == 0 and json.loads(out)["intact"] is True, (out, err)


def test_refusals_that_prevent_nothing_are_not_recorded(books, world):
    assert _pay(books, amount="0")[0] == 2                         # not a positive amount
    assert _pay(books, use="no_such_use")[0] == 2                   # an unknown use: a typo
    assert books("--as", "k2_clerk", "pay", "--lot", world.lot_id, "--payee", "H-001",
                 "--amount", "1", "--function-code", "2130505", "--use",
                 "household_subsidy", "--county", COUNTY, "--key", "x")[0] == 2   # scope
    assert _attempts(world) == []


def test_purpose_lock_and_closed_period_are_recorded(books, world):
    assert _pay(books, amount="10", use="bonuses")[0] == 2    # on the negative list (负面清单)
    with transaction(world.factory) as s:
        periods.close_period(s, u(s, "admin"), "2024-03")
    assert _pay(books, amount="10", key="late")[0] == 2       # dated into a closed month
    rows = _attempts(world)
    assert [(r.kind, r.code) for r in rows] == [("pay", "use_prohibited"),
                                                ("pay", "closed_period")]
    assert rows[0].params == {"use": "bonuses"}
    assert rows[1].params["period"] == "2024-03" and rows[1].day == DAY


def _recorded_by_both(world) -> int:
    """A transfer whose recorder may also approve (an approver recording through the engine,
    as an import job acting for them would; see test_refusals_services.test_maker_checker)."""
    with transaction(world.factory) as s:
        add_user(s, u(s, "admin"), username="both", display_name="both", role=Role.APPROVER,
                 region_code=PROVINCE)
    with transaction(world.factory) as s:
        both, lot = u(s, "both"), lots.get_lot(s, world.lot_id)
        with record_change(s, "both", "transfer.record") as change:
            src = account_for(change, lot, AccountKind.UNIT, PROVINCE, PROVINCE)
            dst = account_for(change, lot, AccountKind.UNIT, "430100", "430100")
            t = posting.record(change, both, kind=TransferKind.ALLOCATE, lot_id=lot.id,
                               legs=[posting.Leg(src, -1), posting.Leg(dst, 1)], key="self",
                               request={}, effective_date=DAY, region_code=PROVINCE)
        return t.id


def test_the_recorder_approving_their_own_entry_is_recorded(books, world):
    transfer_id = _recorded_by_both(world)
    code, _, err = books("--as", "both", "approve", transfer_id)
    assert code == 2 and "cannot also approve" in err, err
    [row] = _attempts(world)
    assert (row.kind, row.code, row.transfer_id, row.idempotency_key, row.region_code) == \
        ("approve", "maker_checker", transfer_id, "self", PROVINCE)


def test_a_project_payment_refused_before_its_county_is_read_names_the_projects_county(
        world):
    down_to_county(world, 1_000_00)
    with pytest.raises(PurposeViolation):
        with recording(world.factory) as s:
            flows.pay(s, u(s, "k_clerk"), lot_id=world.lot_id, payee_code="H-001",
                      amount_fen=5_00, function_code="2130599", use_code="industry",
                      project_code="P-001", effective_date=DAY, key="p-1")
    [row] = _attempts(world)
    assert (row.code, row.region_code, row.source_kind, row.source_holder) == \
        ("function_outside_lot", COUNTY, "project", "P-001")
    assert PREVENTED[row.code] == "DIV-01"


def test_an_allocation_beyond_the_units_money_is_recorded_for_the_unit(world):
    with pytest.raises(Overdraft):
        with recording(world.factory) as s:
            flows.allocate(s, u(s, "c_clerk"), lot_id=world.lot_id, from_region="430100",
                           to_region=COUNTY2, amount_fen=1_00, effective_date=DAY, key="a-1")
    [row] = _attempts(world)
    assert (row.kind, row.region_code, row.source_holder, row.target) == \
        ("allocate", "430100", "430100", COUNTY2)


PAYMENTS = ("lot,project,county,payee,amount,function_code,use,date,voucher,memo\n"
            "{lot},,430121,H-001,100,2130505,household_subsidy,2024-03-20,长县付〔2024〕21号,\n"
            "{lot},,430121,H-002,5000,2130505,household_subsidy,2024-03-21,长县付〔2024〕22号,\n")


def test_a_refused_import_file_records_one_attempt_naming_file_line_and_column(books, world,
                                                                               tmp_path):
    path = write(tmp_path, "付款.csv", PAYMENTS.format(lot=world.lot_id), "gb18030")
    code, out, err = books("--as", "k_clerk", "import", "payments", path)
    assert code == 2 and "line 3" in err, (out, err)
    assert _count(world, Transfer, Transfer.idempotency_key.like("长县付%")) == 0
    [row] = _attempts(world)
    assert (row.file_name, row.file_line, row.file_column) == ("付款.csv", 3, "金额")
    assert (row.code, row.kind, row.target, row.amount_fen, row.idempotency_key) == \
        ("overdraft", "pay", "H-002", 5_000_00, "长县付〔2024〕22号")


def test_auditors_list_refused_attempts_in_their_scope(books, world):
    _pay(books)
    code, out, err = books("--as", "auditor", "refusals", "list")
    assert code == 0, err
    assert "k_clerk" in out and "余额不足" in out and "¥2,000.00" in out and "430121" in out
    code, out, _ = books("--as", "auditor", "refusals", "list", "--json")
    [row] = json.loads(out)
    assert (row["code"], row["amount"], row["rule_id"], row["key"]) == \
        ("overdraft", "2,000.00", None, "长县付〔2024〕9号")
    assert json.loads(books("--as", "auditor", "refusals", "list", "--region", COUNTY2,
                            "--json")[1]) == []
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert json.loads(books("--as", "auditor", "refusals", "list", "--since", tomorrow,
                            "--json")[1]) == []
    code, _, err = books("--as", "k_clerk", "refusals", "list")   # a clerk does not audit
    assert code == 2 and "may not audit" in err


def test_rule_statistics_count_prevented_attempts(books, world):
    _pay(books, amount="10", use="bonuses", key="a")
    _pay(books, amount="10", use="bonuses", key="b")
    _pay(books, key="c")                                   # overdraft: no rule scans for it
    with transaction(world.factory) as s:
        outcomes = rule_outcomes(s)
    assert outcomes["DIV-01"].get("prevented") == 2
    assert not outcomes["BLK-01"].get("prevented")
    code, out, _ = books("--as", "auditor", "alerts", "rules", "--json")
    rules = {r["id"]: r for r in json.loads(out)}
    assert rules["DIV-01"]["prevented"] == 2 and rules["FLW-02"]["prevented"] == 0
    text = books("--as", "auditor", "alerts", "rules")[1]
    assert "prevented    2" in next(line for line in text.splitlines()
                                    if line.startswith("DIV-01"))
    assert text.splitlines()[-1].endswith("prevented 1")


def test_every_prevented_code_is_catalogued_and_maps_to_a_rule_of_the_catalogue():
    from ledger.alerts.catalogue import RULES
    from ledger.core.refusals import CATALOGUE
    codes = {r.code for r in CATALOGUE}
    assert set(PREVENTED) <= codes
    assert {rule for rule in PREVENTED.values() if rule} <= set(RULES)


def test_flw02_names_the_refused_payment_that_left_the_money_idle(world):
    down_to_county(world, 1_000_00)
    with pytest.raises(LedgerError):
        with recording(world.factory) as s:     # a use on the negative list, on 2024-06-01
            flows.pay(s, u(s, "k_clerk"), lot_id=world.lot_id, payee_code="H-001",
                      amount_fen=800_00, function_code="2130505", use_code="bonuses",
                      county_code=COUNTY, effective_date=dt.date(2024, 6, 1), key="工资-1")
    with transaction(world.factory) as s:
        found = {f.entity_key: f for f in CHECKS["FLW-02"](ScanContext(
            s, AlertSettings(), dt.date(2025, 3, 20), None))}
    county = found[f"{world.lot_id}:unit:{COUNTY}"]
    [refused] = county.evidence["refused_attempts"]
    assert (refused["date"], refused["code"], refused["amount_fen"], refused["key"]) == \
        ("2024-06-01", "use_prohibited", 800_00, "工资-1")
    assert "2024-06-01 use_prohibited ¥800.00" in county.observed
    # the province's idle balance had no refused spending: nothing named
    assert "refused_attempts" not in found[f"{world.lot_id}:unit:430000"].evidence


def test_a_rejection_by_the_recorder_is_recorded_once(world):
    transfer_id = _recorded_by_both(world)
    with pytest.raises(MakerChecker):
        with recording(world.factory) as s:
            posting.reject(s, u(s, "both"), transfer_id, "自己退回")
    with transaction(world.factory) as s:
        [row] = list_refused(s, u(s, "auditor"))
    assert (row["kind"], row["code"], row["transfer_id"]) == ("reject", "maker_checker",
                                                              transfer_id)
    assert row["kind_label"].startswith("退回") and row["code_label"] == "录入人自审"
    assert _count(world, RefusedAttempt) == 1


def test_no_id_or_card_number_is_kept_in_clear():
    from tests.ledger.alerts.helpers import idn
    number = idn(7)
    params = _masked({"payee": "H-001", "name": f"张三（{number}）", "note": number,
                      "bank_account": "6222021234567890", "items": [number], "lot": 3})
    assert number not in json.dumps(params, ensure_ascii=False)
    assert params["name"] == f"张三（{number[:4]}{'*' * 10}{number[-4:]}）"
    assert params["bank_account"] == "6222********7890"
    assert (params["payee"], params["lot"]) == ("H-001", 3)   # codes and numbers stay
    # a legacy 15-digit number and a card in free text, under a name that says nothing
    free = _masked({"reason": "卡号6222021234567890123，旧证430121800101013", "key": "B2024-01"})
    assert "6222021234567890123" not in free["reason"] and "430121800101013" not in \
        free["reason"] and free["key"] == "B2024-01"


def test_a_refused_attempt_row_is_append_only(world):
    with pytest.raises(Overdraft):
        with recording(world.factory) as s:
            flows.allocate(s, u(s, "c_clerk"), lot_id=world.lot_id, from_region="430100",
                           to_region=COUNTY, amount_fen=1_00, effective_date=DAY, key="a-2")
    from sqlalchemy.exc import DBAPIError
    with pytest.raises(DBAPIError):
        with transaction(world.factory) as s:
            s.execute(RefusedAttempt.__table__.update().values(amount_fen=0))
    with pytest.raises(DBAPIError):
        with transaction(world.factory) as s:
            s.execute(RefusedAttempt.__table__.delete())
    assert _count(world, RefusedAttempt) == 1



def test_a_roll_refused_whole_for_a_blacklisted_household_counts_for_blk01(world):
    from ledger.core.errors import PaymentRefused
    from ledger.registers.external import ListKind, ListRecord
    from ledger.rolls import lifecycle as rolls
    from ledger.store.context import LedgerContext
    from tests.conftest import TEST_CONTEXT
    from tests.ledger.alerts.helpers import Town
    from tests.ledger.test_roll_payments import APPROVED, approved_roll, people
    town = Town(world)
    approved_roll(world, people(town, 3))
    town.listing(ListKind.BLACKLIST, [ListRecord(2, "户主2", org="冒领",
                                                 date_from=dt.date(2024, 1, 1))])
    world.factory.configure(info=LedgerContext(TEST_CONTEXT.log_origin,
                                               refuse_blacklisted_payees=True).as_info())
    try:
        with pytest.raises(PaymentRefused):
            with recording(world.factory) as s:
                rolls.send(s, u(s, "k_clerk"), "R-1", APPROVED)
    finally:
        world.factory.configure(info=TEST_CONTEXT.as_info())
    [row] = _attempts(world)
    assert (row.kind, row.code, row.roll_code, row.region_code, row.source_holder) == \
        ("roll_send", "payment_refused", "R-1", COUNTY, COUNTY)
    assert row.params["payee"] == "HH-002" and row.params["name"] == "户主2"
    assert _count(world, Transfer, Transfer.idempotency_key.like("roll:%")) == 0
    with transaction(world.factory) as s:
        assert rule_outcomes(s)["BLK-01"]["prevented"] == 1


def test_a_clerk_of_another_county_leaves_no_attempt_in_this_one(books, world):
    """The purpose lock is checked before the payer's scope: a clerk of another county refused
    by it has prevented nothing here, and must not be able to write attempts into this county's
    record or its FLW-02 evidence (found by the review of issue 18)."""
    code = books("--as", "k2_clerk", "pay", "--lot", world.lot_id, "--payee", "H-001",
                 "--amount", "1", "--function-code", "2130505", "--use", "bonuses",
                 "--county", COUNTY, "--key", "x")[0]
    assert code == 2
    assert _attempts(world) == []
