"""The process rules on the records a county keeps (issue 18): BLK-01 on a contract awarded
and a project approved while the contractor or implementing unit (实施单位) was blacklisted;
E2 on the project notices' display dates (`project_notices`), the approval date only where a
county records no notice; FLW-01 from the receiving unit's recorded receipt (到账); STA-05 on
the voucher's date. True positives and hard negatives, SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from ledger.alerts.settings import AlertSettings
from ledger.disclosure.notices import ProjectNoticeLine, record_project_notices
from ledger.funds import flows, periods, posting, projects, receipts
from ledger.models import ProjectStatus
from ledger.models.disclosure import ProjectNoticeKind
from ledger.org.regions import get_user
from ledger.registers.external import ListKind, ListRecord
from ledger.registers.payees import ApprovedPayeeLine, RegisterKind, record_register
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town
from tests.world import CITY, COUNTY, COUNTY2, DAY, PROVINCE, VILLAGE

D = dt.date
USERS = {COUNTY: ("k_clerk", "k_approver"), COUNTY2: ("k2_clerk", "k2_approver")}


@pytest.fixture
def town(world):
    return Town(world)


def _project(town, code, approved_on, county=COUNTY, unit=None, fund=True):
    clerk_name, approver_name = USERS[county]
    with transaction(town.world.factory) as s:
        clerk = get_user(s, clerk_name)
        projects.register_project(s, clerk, code=code, name="道路", county_code=county,
                                  function_code="2130504", implementing_unit=unit,
                                  proposed_on=approved_on - dt.timedelta(days=30))
        projects.advance_project(s, clerk, code, ProjectStatus.IN_LIBRARY, approved_on)
        projects.advance_project(s, get_user(s, approver_name), code, ProjectStatus.APPROVED,
                                 approved_on)
        if fund:
            t = flows.fund_project(s, clerk, lot_id=town.world.lot_id, project_code=code,
                                   amount_fen=20_000_00, effective_date=approved_on,
                                   key=f"fund:{code}")
            posting.approve(s, get_user(s, approver_name), t.id)


def _pay(town, project, day, county=COUNTY, payee=None, amount=5_000_00):
    clerk_name, approver_name = USERS[county]
    town.keys += 1
    with transaction(town.world.factory) as s:
        t = flows.pay(s, get_user(s, clerk_name), lot_id=town.world.lot_id,
                      payee_code=payee or ("C-001" if county == COUNTY else "H-201"),
                      amount_fen=amount, function_code="2130504", use_code="infrastructure",
                      project_code=project, effective_date=day, key=f"p{town.keys}",
                      memo="工程款")
        posting.approve(s, get_user(s, approver_name), t.id)
        return t.id


def _notice(town, project, start, end, region=VILLAGE, clerk="k_clerk",
            kind=ProjectNoticeKind.PUBLICITY):
    with transaction(town.world.factory) as s:
        record_project_notices(s, get_user(s, clerk), [ProjectNoticeLine(
            project, region, kind, start, end, "村务公开栏", "村民委员会")])


def test_blk01_contract_awarded_or_project_approved_while_blacklisted(town):
    town.listing(ListKind.BLACKLIST, [
        ListRecord(2, "黑石建筑公司", org="围标串标", date_from=D(2024, 1, 1),
                   date_to=D(2024, 12, 31)),
        ListRecord(3, "旧账建筑公司", org="拖欠工资", date_from=D(2021, 1, 1),
                   date_to=D(2022, 12, 31))])
    _project(town, "PA", D(2024, 4, 1))
    _project(town, "PI", D(2024, 7, 1), unit="黑石建筑公司")      # approved while listed
    _project(town, "PJ", D(2024, 7, 1), unit="旧账建筑公司")      # listing long expired
    _project(town, "PK", D(2023, 11, 1), unit="黑石建筑公司")     # approved before the listing
    paid = _pay(town, "PI", D(2024, 8, 1))
    with transaction(town.world.factory) as s:
        record_register(s, get_user(s, "k_clerk"), town.vault,
                        kind=RegisterKind.APPROVED_PAYEES, source="县公共资源交易中心",
                        snapshot_date=D(2024, 12, 1), lines=[
                            ApprovedPayeeLine(2, "PA", "黑石建筑公司", D(2024, 5, 1),
                                              contract_number="HT-7",
                                              contract_amount_fen=9_000_00),
                            ApprovedPayeeLine(3, "PA", "旧账建筑公司", D(2024, 5, 1)),
                            ApprovedPayeeLine(4, "PK", "黑石建筑公司", D(2023, 11, 20))])
    fired = town.fired("BLK-01")
    assert set(fired) == {"award:PA:黑石建筑公司", "project:PI"}
    award = fired["award:PA:黑石建筑公司"]
    assert award.amount_at_risk_fen == 9_000_00
    assert award.evidence["register"]["source"] == "县公共资源交易中心"
    assert award.evidence["list"]["reason"] == "围标串标"
    approval = fired["project:PI"]
    assert approval.evidence["implementing_unit"] == "黑石建筑公司"
    assert approval.evidence["approved_on"] == "2024-07-01"
    assert [t["transfer_id"] for t in approval.evidence["transfers"]] == [paid]


def test_e2_reads_the_notices_display_dates(town):
    # 长沙县 records its notices.
    for code, approved in (("PA", D(2024, 7, 1)), ("PB", D(2024, 7, 1)), ("PC", D(2024, 7, 1)),
                           ("PD", D(2024, 7, 1)), ("PE", D(2024, 7, 12))):
        _project(town, code, approved)
    _notice(town, "PA", D(2024, 7, 1), D(2024, 7, 10))   # full window, paid after: quiet
    _notice(town, "PB", D(2024, 7, 5), D(2024, 7, 14))   # went up late: paid 7 days into it
    _notice(town, "PC", D(2024, 7, 1), D(2024, 7, 5))    # displayed 5 days only
    _notice(town, "PE", D(2024, 6, 20), D(2024, 6, 29))  # displayed before approval: quiet
    _notice(town, "PD", D(2024, 12, 1), D(2024, 12, 10),  # only the 公告 after acceptance
            kind=ProjectNoticeKind.ANNOUNCEMENT)
    _pay(town, "PA", D(2024, 7, 15))
    _pay(town, "PB", D(2024, 7, 12))       # the approval date would say 11 days: fine
    _pay(town, "PC", D(2024, 7, 20))
    _pay(town, "PD", D(2024, 7, 20))       # never noticed before work
    _pay(town, "PE", D(2024, 7, 15))       # 3 days after approval: the approximation fired
    # 望城县 records none: the approval date stands in for the notice.
    with transaction(town.world.factory) as s:
        for clerk, approver, frm, to, key in (("p_clerk", "p_approver", PROVINCE, CITY, "x1"),
                                              ("c_clerk", "c_approver", CITY, COUNTY2, "x2")):
            t = flows.allocate(s, get_user(s, clerk), lot_id=town.world.lot_id,
                               from_region=frm, to_region=to, amount_fen=100_000_00,
                               effective_date=DAY, key=key)
            posting.approve(s, get_user(s, approver), t.id)
    _project(town, "PF", D(2024, 7, 1), county=COUNTY2)
    _project(town, "PG", D(2024, 7, 1), county=COUNTY2)
    _pay(town, "PF", D(2024, 7, 5), county=COUNTY2)
    _pay(town, "PG", D(2024, 7, 20), county=COUNTY2)
    fired = town.fired("E2")
    assert set(fired) == {"project:PB", "project:PC", "project:PD", "project:PF"}
    assert fired["project:PB"].evidence["basis"] == "project notices as recorded (display dates)"
    assert fired["project:PB"].evidence["window_ends"] == "2024-07-15"
    assert fired["project:PC"].evidence["notices"][0]["days"] == 5
    assert fired["project:PD"].evidence["basis"].startswith("never noticed")
    assert fired["project:PF"].evidence["basis"].startswith("approximation")
    # The window is a setting: at 5 days PB's and PC's notices were whole when paid; PF was
    # paid 4 days after its approval.
    five = town.fired("E2", AlertSettings(e2_notice_days=5))
    assert set(five) == {"project:PD", "project:PF"}
    # A notice on the township's board counts as well as the village's.
    _notice(town, "PD", D(2024, 7, 2), D(2024, 7, 11), region=VILLAGE[:9])
    assert "project:PD" not in town.fired("E2")


def test_flw01_counts_from_the_receipt_the_unit_recorded(world):
    with transaction(world.factory) as s:
        t = flows.allocate(s, get_user(s, "p_clerk"), lot_id=world.lot_id,
                           from_region=PROVINCE, to_region=CITY, amount_fen=400_000_00,
                           effective_date=DAY, key="down-1")
        posting.approve(s, get_user(s, "p_approver"), t.id)
        down = flows.allocate(s, get_user(s, "c_clerk"), lot_id=world.lot_id,
                              from_region=CITY, to_region=COUNTY, amount_fen=400_000_00,
                              effective_date=D(2024, 4, 25), key="down-2")
        posting.approve(s, get_user(s, "c_approver"), down.id)
    town = Town.__new__(Town)
    town.world, town.vault, town.keys = world, None, 0
    cfg = AlertSettings(flw01_lower_days=30)
    key = f"lot_unit:{world.lot_id}:{CITY}"
    # Posted on 3/15, passed down 41 days later: late by the posting date.
    assert key in town.fired("FLW-01", cfg)
    # The city records that the money reached it on 4/1: passed down within 24 days.
    with transaction(world.factory) as s:
        receipts.record_receipt(s, get_user(s, "c_clerk"), t.id, received_date=D(2024, 4, 1))
    quiet = town.fired("FLW-01", cfg)
    assert key not in quiet
    # Still late when the receipt is earlier than the deadline allows.
    late = town.fired("FLW-01", AlertSettings(flw01_lower_days=20))[key]
    assert late.evidence["received_on"] == "2024-04-01"
    assert late.evidence["received_by"].startswith("the unit's recorded receipt")


def test_sta05_reads_the_voucher_date(town):
    town.pay("H-001", 100_00, D(2024, 9, 2), memo="a")
    with transaction(town.world.factory) as s:
        periods.close_period(s, get_user(s, "admin"), "2024-07", COUNTY)
    with transaction(town.world.factory) as s:
        def late(day, key):
            t = flows.pay(s, get_user(s, "k_clerk"), lot_id=town.world.lot_id,
                          payee_code="H-001", amount_fen=200_00, function_code="2130505",
                          use_code="household_subsidy", county_code=COUNTY, key=key,
                          voucher_date=day, memo=key)
            posting.approve(s, get_user(s, "k_approver"), t.id)
            return t
        old = late(D(2024, 7, 1), "late-voucher")           # a July voucher, posted today
        recent = late(D(2024, 8, 20), "recent-voucher")     # 13 days before: fine
    assert old.effective_date != old.voucher_date
    fired = town.fired("STA-05")
    assert set(fired) == {f"transfer:{old.id}"}
    evidence = fired[f"transfer:{old.id}"].evidence
    assert evidence["dated_by"] == "voucher date" and evidence["voucher_date"] == "2024-07-01"
    assert recent.voucher_date == D(2024, 8, 20)


def test_e2_judges_older_projects_by_approval_when_the_notice_book_begins_later(town):
    """A county whose notice book begins in late 2024, or that records only its 公告, does not
    turn every older project into "never noticed" (found by the review of issue 18); a project
    approved after its book began, with no 公示 in it, still is."""
    _project(town, "OLD", D(2024, 1, 2))
    _pay(town, "OLD", D(2024, 3, 1))                      # two months after approval
    _project(town, "NEW", D(2024, 9, 1))
    _notice(town, "NEW", D(2024, 12, 1), D(2024, 12, 10), kind=ProjectNoticeKind.ANNOUNCEMENT)
    assert "project:OLD" not in town.fired("E2")          # only a 公告: no book of 公示
    _project(town, "BOOK", D(2024, 10, 1))
    _notice(town, "BOOK", D(2024, 10, 2), D(2024, 10, 12))
    _project(town, "LATE", D(2024, 10, 20))
    _pay(town, "LATE", D(2024, 11, 25))
    fired = town.fired("E2")
    assert "project:OLD" not in fired                     # approved before the book began
    assert fired["project:LATE"].evidence["notice_book_from"] == "2024-10-02"
