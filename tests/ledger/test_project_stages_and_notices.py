"""Projects as counties keep them (issue 17): a proposal with its date, rejection (不予立项),
adjustment (项目调整), document numbers on every step, and project notices (公示/公告) as data —
imported for the past from real files, and recorded when fundtrail publishes a village notice."""
from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from ledger.audit.verify import verify
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.disclosure.notices import project_notices, record_project_details
from ledger.funds import flows, projects
from ledger.models import ProjectEvent
from ledger.models import ProjectStatus as S
from ledger.models.disclosure import ProjectNotice, ProjectNoticeKind
from ledger.store import migrate
from ledger.store.db import make_engine, transaction
from tests.ledger.test_import_households import write
from tests.ledger.test_invariants import down_to_county, u
from tests.world import COUNTY, DAY, TOWNSHIP, VILLAGE, VILLAGE2


def events(s, code):
    return list(s.execute(select(ProjectEvent).where(ProjectEvent.project_code == code)
                          .order_by(ProjectEvent.id)).scalars())


def test_a_project_proposed_with_its_date_then_rejected(world, cli):
    code, _, err = cli("--as", "k_clerk", "project", "add", "P-010", "村级光伏", "--county",
                       COUNTY, "--function-code", "2130505", "--proposed-on", "2023-09-01",
                       "--doc-number", "星沙镇〔2023〕21号")
    assert code == 0, err
    code, _, err = cli("--as", "k_clerk", "project", "advance", "P-010", "--to", "rejected",
                       "--date", "2023-11-20", "--doc-number", "长县振〔2023〕8号",
                       "--comment", "选址不符合用地规划")
    assert code == 0, err
    with transaction(world.factory) as s:
        assert projects.project_stage(s, "P-010") is S.REJECTED
        steps = [(e.status, e.effective_date, e.doc_number, e.comment)
                 for e in events(s, "P-010")]
        assert steps == [(S.PROPOSED, dt.date(2023, 9, 1), "星沙镇〔2023〕21号", "申报"),
                         (S.REJECTED, dt.date(2023, 11, 20), "长县振〔2023〕8号",
                          "选址不符合用地规划")]
        with pytest.raises(LedgerError) as refused:  # a rejection is an end
            projects.advance_project(s, u(s, "k_clerk"), "P-010", S.IN_LIBRARY, DAY)
        assert refused.value.code == "project_stage_skipped"
        assert refused.value.params["next_stage"] is None
        assert refused.value.params["allowed"] == []
        with pytest.raises(LedgerError) as refused:
            flows.fund_project(s, u(s, "k_clerk"), lot_id=world.lot_id, project_code="P-010",
                               amount_fen=100, effective_date=DAY, key="f-rejected")
        assert refused.value.code == "project_stage"
        with pytest.raises(LedgerError) as refused:  # nothing to file (备案)
            projects.file_project(s, u(s, "c_clerk"), "P-010", DAY)
        assert refused.value.code == "project_not_approved"
        assert verify(s).intact


def test_a_project_in_library_can_be_rejected_and_the_default_proposal_date_is_today(world):
    with transaction(world.factory) as s:
        clerk = u(s, "k_clerk")
        projects.register_project(s, clerk, code="P-011", name="道路硬化", county_code=COUNTY,
                                  function_code="2130504")
        assert events(s, "P-011")[0].effective_date == dt.date.today()
        assert events(s, "P-011")[0].doc_number is None
        projects.advance_project(s, clerk, "P-011", S.IN_LIBRARY, DAY)
        projects.advance_project(s, clerk, "P-011", S.REJECTED, DAY, "未通过县级评审")
        assert projects.project_stage(s, "P-011") is S.REJECTED


def test_approved_then_adjusted_then_implemented_with_document_numbers(world, cli):
    down_to_county(world)
    with transaction(world.factory) as s:
        clerk, approver = u(s, "k_clerk"), u(s, "k_approver")
        with pytest.raises(PermissionDenied):  # an adjustment is the approver's
            projects.advance_project(s, clerk, "P-001", S.ADJUSTED, DAY, "规模调整")
        with pytest.raises(LedgerError) as refused:
            projects.advance_project(s, approver, "P-001", S.ADJUSTED, DAY)
        assert refused.value.code == "project_adjustment_unexplained"
    code, _, err = cli("--as", "k_approver", "project", "advance", "P-001", "--to", "adjusted",
                       "--date", "2024-04-02", "--doc-number", "长县振〔2024〕15号",
                       "--comment", "圈舍由 1200 平方米调整为 1000 平方米，补助标准不变")
    assert code == 0, err
    with transaction(world.factory) as s:
        clerk, approver = u(s, "k_clerk"), u(s, "k_approver")
        assert projects.project_stage(s, "P-001") is S.ADJUSTED
        # an adjusted approved project continues: money may go behind it, and it goes on to
        # implementing (not straight to acceptance)
        flows.fund_project(s, clerk, lot_id=world.lot_id, project_code="P-001",
                           amount_fen=1_000_00, effective_date=DAY, key="f-adjusted")
        with pytest.raises(LedgerError) as refused:
            projects.advance_project(s, approver, "P-001", S.ACCEPTED, DAY)
        assert refused.value.code == "project_stage_skipped"
        assert refused.value.params["next_stage"] == "implementing"
        assert refused.value.params["allowed"] == ["implementing", "adjusted"]
    code, _, err = cli("--as", "k_clerk", "project", "advance", "P-001", "--to", "implementing",
                       "--date", "2024-04-10", "--doc-number", "开工报告 2024-07")
    assert code == 0, err
    with transaction(world.factory) as s:
        clerk, approver = u(s, "k_clerk"), u(s, "k_approver")
        projects.advance_project(s, approver, "P-001", S.ADJUSTED, dt.date(2024, 6, 1),
                                 "工期延长至 11 月", doc_number="长县振〔2024〕30号")
        with pytest.raises(LedgerError):  # adjusted while implementing: on to acceptance
            projects.advance_project(s, clerk, "P-001", S.IMPLEMENTING, DAY)
        projects.advance_project(s, approver, "P-001", S.ACCEPTED, dt.date(2024, 11, 20),
                                 "验收合格", doc_number="长县验〔2024〕3号")
        steps = [(e.status, e.doc_number) for e in events(s, "P-001")]
        assert steps[-5:] == [(S.APPROVED, None), (S.ADJUSTED, "长县振〔2024〕15号"),
                              (S.IMPLEMENTING, "开工报告 2024-07"),
                              (S.ADJUSTED, "长县振〔2024〕30号"), (S.ACCEPTED, "长县验〔2024〕3号")]
        assert verify(s).intact


PROJECTS = ("项目编码,项目名称,县代码,功能科目,状态,入库日期,文号,申报日期,申报文号,备注\n"
            "XM-2023-01,蔬菜大棚,430121,2130505,入库,2023-03-10,长县振〔2023〕2号,2023-01-05,"
            "星沙镇〔2023〕1号,\n"
            "XM-2023-02,村道硬化,430121,2130504,申报,,,2023/2/1,星沙镇〔2023〕4号,\n"
            "XM-2023-03,养殖小区,430121,2130505,不予立项,2023-04-01,长县振〔2023〕6号,"
            "2023-02-20,,用地未落实\n")


def test_the_projects_import_keeps_proposal_dates_rejections_and_numbers(world, cli, tmp_path):
    path = write(tmp_path, "projects.csv", PROJECTS, "gb18030")
    code, out, err = cli("--as", "k_clerk", "import", "projects", path)
    assert code == 0 and out.startswith("projects: 3 added"), err
    assert "0 added, 3 already present" in cli("--as", "k_clerk", "import", "projects", path)[1]
    with transaction(world.factory) as s:
        assert projects.project_stage(s, "XM-2023-01") is S.IN_LIBRARY
        assert projects.project_stage(s, "XM-2023-02") is S.PROPOSED
        assert projects.project_stage(s, "XM-2023-03") is S.REJECTED
        steps = {code: [(e.status, e.effective_date, e.doc_number) for e in events(s, code)]
                 for code in ("XM-2023-01", "XM-2023-02", "XM-2023-03")}
        assert steps["XM-2023-01"] == [
            (S.PROPOSED, dt.date(2023, 1, 5), "星沙镇〔2023〕1号"),
            (S.IN_LIBRARY, dt.date(2023, 3, 10), "长县振〔2023〕2号")]
        assert steps["XM-2023-02"] == [(S.PROPOSED, dt.date(2023, 2, 1), "星沙镇〔2023〕4号")]
        assert steps["XM-2023-03"] == [(S.PROPOSED, dt.date(2023, 2, 20), None),
                                       (S.REJECTED, dt.date(2023, 4, 1), "长县振〔2023〕6号")]
        assert events(s, "XM-2023-03")[-1].comment == "用地未落实"
        assert verify(s).intact
    # the same project with another proposal date is refused, naming line and column
    other = write(tmp_path, "again.csv", PROJECTS.replace("2023/2/1", "2023/2/2"))
    code, _, err = cli("--as", "k_clerk", "import", "projects", other)
    assert code == 2 and "again.csv, line 3, column 申报日期" in err, err


@pytest.mark.parametrize("text,where", [
    (PROJECTS.replace(",入库,", ",已批复,"), "projects.csv, line 2, column 状态"),
    (PROJECTS.replace("2023-04-01", ""), "projects.csv, line 4, column 入库日期"),
    (PROJECTS.replace("2023-04-01", "2023-01-01"), "projects.csv, line 4, column 入库日期"),
])
def test_a_bad_project_line_imports_nothing(world, cli, tmp_path, text, where):
    code, _, err = cli("--as", "k_clerk", "import", "projects",
                       write(tmp_path, "projects.csv", text))
    assert code == 2 and where in err, err
    with transaction(world.factory) as s:
        assert s.get(projects.Project, "XM-2023-01") is None


NOTICES = ("项目编码,区划代码,类型,开始日期,结束日期,公示地点,发布单位,文号,标题\n"
           "P-001,430121001001,公示,2022-03-01,2022-03-10,松雅村村务公开栏,松雅村村民委员会,"
           ",松雅村2022年扶贫项目公示\n"
           "P-001,430121001,公示,2022-03-01,2022-03-10,星沙镇政务公开栏,星沙镇人民政府,"
           "星政公〔2022〕3号,\n"
           "P-001,430121001001,公告,2022-12-05,2022-12-14,松雅村村务公开栏,松雅村村民委员会,"
           ",验收结果公告\n")


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_project_notices_of_a_past_year_import_idempotently(world, cli, tmp_path, encoding):
    path = write(tmp_path, "notices.csv", NOTICES, encoding)
    code, out, err = cli("--as", "k_clerk", "import", "project_notices", path)
    assert code == 0 and out.startswith("project_notices: 3 added"), err
    code, out, _ = cli("--as", "k_clerk", "import", "project_notices", path)
    assert code == 0 and "0 added, 3 already present" in out
    with transaction(world.factory) as s:
        rows = project_notices(s, "P-001")
        assert [(r.region_code, r.kind, r.display_from, r.display_to, r.doc_number)
                for r in rows] == [
            (VILLAGE, ProjectNoticeKind.PUBLICITY, dt.date(2022, 3, 1), dt.date(2022, 3, 10),
             None),
            (TOWNSHIP, ProjectNoticeKind.PUBLICITY, dt.date(2022, 3, 1), dt.date(2022, 3, 10),
             "星政公〔2022〕3号"),
            (VILLAGE, ProjectNoticeKind.ANNOUNCEMENT, dt.date(2022, 12, 5),
             dt.date(2022, 12, 14), None)]
        assert rows[0].issuer == "松雅村村民委员会" and rows[0].notice_id is None
        assert len({r.log_index for r in rows}) == 1  # one file, one entry
        assert verify(s).intact
    # the same notice with another end date is refused, naming the earlier entry
    changed = write(tmp_path, "changed.csv", NOTICES.replace("2022-12-14", "2022-12-15"))
    code, _, err = cli("--as", "k_clerk", "import", "project_notices", changed)
    assert code == 2 and "changed.csv, line 4" in err and "log entry" in err, err


@pytest.mark.parametrize("text,where", [
    (NOTICES.replace(",公告,", ",通知,"), "notices.csv, line 4, column 类型"),
    (NOTICES.replace("P-001,430121001,", "P-001,430122001001,"),
     "notices.csv, line 3, column 区划代码"),
    (NOTICES.replace("2022-12-14", "2022-12-01"), "notices.csv, line 4, column 结束日期"),
    (NOTICES.replace("2022-03-10,星沙镇", "2022-03-32,星沙镇"),
     "notices.csv, line 3, column 结束日期"),
    (NOTICES.replace("P-001,430121001,", "P-404,430121001,"),
     "notices.csv, line 3, column 项目编码"),
    (NOTICES.replace("星沙镇政务公开栏", ""), "notices.csv, line 3, column 公示地点"),
    (NOTICES + NOTICES.splitlines()[1] + "\n", "notices.csv, line 5, column 开始日期"),
])
def test_a_bad_notice_line_imports_nothing(world, cli, tmp_path, text, where):
    code, _, err = cli("--as", "k_clerk", "import", "project_notices",
                       write(tmp_path, "notices.csv", text, "gb18030"))
    assert code == 2 and where in err, err
    with transaction(world.factory) as s:
        assert s.execute(select(ProjectNotice)).first() is None


def test_a_clerk_of_another_county_cannot_import_its_notices(world, cli, tmp_path):
    code, _, err = cli("--as", "k2_clerk", "import", "project_notices",
                       write(tmp_path, "notices.csv", NOTICES))
    assert code == 2 and "notices.csv, line 2" in err, err


def test_project_notices_import_from_a_workbook(world, cli, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["project_code", "village_code", "kind", "display_from", "display_to",
                  "place", "issuer", "doc_number"])
    sheet.append(["P-001", VILLAGE, "公示", dt.date(2023, 5, 4), dt.date(2023, 5, 13),
                  "松雅村村务公开栏", "松雅村村民委员会", None])
    sheet.append(["P-001", int(VILLAGE), "announcement", "2023年12月1日", dt.date(2023, 12, 10),
                  "松雅村村务公开栏", "松雅村村民委员会", "松村公〔2023〕9号"])
    path = tmp_path / "公示台账.xlsx"
    book.save(path)
    code, out, err = cli("--as", "k_clerk", "import", "project_notices", path)
    assert code == 0 and out.startswith("project_notices: 2 added"), err
    with transaction(world.factory) as s:
        rows = project_notices(s, "P-001", VILLAGE)
        assert [(r.kind, r.display_from, r.display_to) for r in rows] == [
            (ProjectNoticeKind.PUBLICITY, dt.date(2023, 5, 4), dt.date(2023, 5, 13)),
            (ProjectNoticeKind.ANNOUNCEMENT, dt.date(2023, 12, 1), dt.date(2023, 12, 10))]
        assert verify(s).intact
    assert "0 added, 2 already present" in cli("--as", "k_clerk", "import", "project_notices",
                                               path)[1]


def test_publishing_a_village_notice_records_its_display_window(world, cli):
    with transaction(world.factory) as s:
        record_project_details(
            s, u(s, "k_clerk"), project_code="P-001", village_codes=[VILLAGE],
            place="松雅村三组", content="生猪圈舍 1200 平方米", subsidy_standard="每平方米 150 元",
            start_date=dt.date(2024, 4, 1), end_date=dt.date(2024, 10, 31),
            implementer="松雅生猪合作社", responsible_person="周建国",
            performance_targets="带动脱贫户 35 户", benefit_mechanism="入股分红",
            supervision_phone="0731-8400 0000", issuing_unit="松雅村村民委员会")
    args = ("--as", "k_clerk", "report", "publish", "village-notice", "--village", VILLAGE,
            "--project", "P-001", "--from", "2024-03-20", "--days", "10")
    code, _, err = cli(*args)
    assert code == 0, err
    assert cli(*args)[0] == 0  # the same notice again records nothing new
    with transaction(world.factory) as s:
        rows = project_notices(s, "P-001")
        assert len(rows) == 1
        row = rows[0]
        assert (row.region_code, row.kind, row.display_from, row.display_to) == (
            VILLAGE, ProjectNoticeKind.PUBLICITY, dt.date(2024, 3, 20), dt.date(2024, 3, 29))
        assert row.issuer == "松雅村村民委员会" and row.notice_id is not None
        assert row.place.endswith("村务公开栏") and "公示" in row.title
        assert verify(s).intact


def test_a_notice_is_displayed_inside_the_projects_county(world, cli, tmp_path):
    text = NOTICES.replace("430121001001,公告", f"{VILLAGE2},公告")
    code, _, err = cli("--as", "k_clerk", "import", "project_notices",
                       write(tmp_path, "notices.csv", text))
    assert code == 2 and "notices.csv, line 4, column 区划代码" in err, err


def test_rows_logged_before_0017_still_equal_their_images(world, db_url):
    """doc_number is a late column: down to 0016 (the column gone) and up again, the world's
    project events (logged without it) still verify."""
    engine = make_engine(db_url)
    migrate.downgrade(engine, "0016")
    migrate.upgrade(engine)
    engine.dispose()
    with transaction(world.factory) as s:
        assert all(e.doc_number is None for e in events(s, "P-001"))
        assert verify(s).intact
