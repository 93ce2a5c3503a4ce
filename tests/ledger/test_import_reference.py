"""Importing regions and appropriation documents from real files."""
from __future__ import annotations

import json

import pytest

from ledger.funds.lots import find_lot
from ledger.models import Region, SourceLevel
from ledger.store.db import transaction
from tests.ledger.test_import_households import write

REGIONS = ("区划代码,名称,级别,上级代码\n"
           "430200,株洲市,市,430000\n430221,株洲县,县,430200\n430221001,渌口镇,镇,430221\n"
           "430221001001,朱亭村,村,430221001\n")
DOCS = ("文号,资金级次,年度,资金名称,功能科目,用途,金额,下达区划,下达日期\n"
        "财农〔2025〕3号,中央,2025,衔接资金,2130505;2130504,industry;infrastructure,"
        "\"1,200,000.00\",430000,2025-02-01\n"
        "湘财农〔2025〕9号,省级,2025,省级衔接资金,2130505,household_subsidy,300000,430000,"
        "2025/2/10\n")


@pytest.fixture
def ft(cli, db_url, world, monkeypatch, tmp_path):

    run = cli
    return run


def test_regions_then_appropriations_import_idempotently(ft, world, tmp_path):
    regions = write(tmp_path, "regions.csv", REGIONS, "gb18030")
    assert ft("--as", "admin", "import", "regions", regions)[1].startswith("regions: 4 added")
    assert "0 added, 4 already present" in ft("--as", "admin", "import", "regions", regions)[1]
    docs = write(tmp_path, "docs.csv", DOCS)
    code, out, err = ft("--as", "p_clerk", "import", "appropriations", docs)
    assert code == 0 and "2 added" in out, err
    assert "0 added, 2 already" in ft("--as", "p_clerk", "import", "appropriations", docs)[1]
    with transaction(world.factory) as s:
        assert s.get(Region, "430221001001").name == "朱亭村"
        lot = find_lot(s, "财农〔2025〕3号", SourceLevel.CENTRAL, 2025)
        assert lot.amount_fen == 1_200_000_00 and lot.function_codes == ["2130504", "2130505"]


@pytest.mark.parametrize("text,where", [
    (DOCS.replace("2130505;2130504", "2130501"),
     "docs.csv, line 2, column 功能科目 (no. 5): function code 2130501"),
    (DOCS.replace("300000", "300000.001"), "docs.csv, line 3, column 金额"),
    (DOCS.replace("中央", "国际"), "docs.csv, line 2, column 资金级次"),
])
def test_a_bad_document_imports_nothing(ft, world, tmp_path, text, where):
    code, _, err = ft("--as", "p_clerk", "import", "appropriations",
                      write(tmp_path, "docs.csv", text))
    assert code == 2 and where in err
    with transaction(world.factory) as s:
        assert find_lot(s, "湘财农〔2025〕9号", SourceLevel.PROVINCE, 2025) is None


def test_a_region_under_a_missing_parent_names_the_line(ft, tmp_path):
    text = REGIONS.replace("430221001,渌口镇,镇,430221", "430221001,渌口镇,镇,439999")
    code, _, err = ft("--as", "admin", "import", "regions", write(tmp_path, "r.csv", text))
    assert code == 2 and "r.csv, line 4" in err and "region '439999' does not exist" in err


PROJECTS = ("项目编码,项目名称,县代码,功能科目,状态,入库日期\n"
            "XM-2025-01,蔬菜大棚,430121,2130505,入库,2025-01-10\n"
            "XM-2025-02,通组公路,430121,2130504,申报,\n")


def test_project_library_entries_import_idempotently_and_never_approved(ft, world, tmp_path):
    from ledger.funds.projects import project_stage
    from ledger.models import ProjectStatus
    path = write(tmp_path, "projects.csv", PROJECTS, "gb18030")
    code, out, err = ft("--as", "k_clerk", "import", "projects", path)
    assert code == 0 and out.startswith("projects: 2 added"), err
    assert "0 added, 2 already present" in ft("--as", "k_clerk", "import", "projects", path)[1]
    with transaction(world.factory) as s:
        assert project_stage(s, "XM-2025-01") is ProjectStatus.IN_LIBRARY
        assert project_stage(s, "XM-2025-02") is ProjectStatus.PROPOSED
    # the second file moves XM-2025-02 into the library; nothing else changes
    again = write(tmp_path, "p2.csv", PROJECTS.replace("申报,", "入库,2025-02-01"))
    assert ft("--as", "k_clerk", "import", "projects", again)[1].startswith("projects: 1 added")
    with transaction(world.factory) as s:
        assert project_stage(s, "XM-2025-02") is ProjectStatus.IN_LIBRARY


@pytest.mark.parametrize("text,where", [
    (PROJECTS.replace(",入库,", ",已批复,"), "projects.csv, line 2, column 状态"),
    (PROJECTS.replace("2025-01-10", ""), "projects.csv, line 2, column 入库日期"),
    (PROJECTS.replace("2130504", "2130501"), "projects.csv, line 3, column 功能科目 (no. 4): "
     "project XM-2025-02: function code '2130501' is not allowed"),
    (PROJECTS.replace(",430121,2130504", ",430122,2130504"), "projects.csv, line 3, column "
     "县代码 (no. 3): k_clerk works for region"),
])
def test_a_bad_project_file_imports_nothing(ft, world, tmp_path, text, where):
    from ledger.models import Project
    code, _, err = ft("--as", "k_clerk", "import", "projects", write(tmp_path, "projects.csv",
                                                                      text))
    assert code == 2 and where in err, err
    with transaction(world.factory) as s:
        assert s.get(Project, "XM-2025-01") is None


def test_a_project_code_with_other_content_is_refused(ft, world, tmp_path):
    ft("--as", "k_clerk", "import", "projects", write(tmp_path, "a.csv", PROJECTS))
    code, _, err = ft("--as", "k_clerk", "import", "projects",
                      write(tmp_path, "b.csv", PROJECTS.replace("蔬菜大棚", "食用菌")))
    assert code == 2 and \
        "line 2, column 项目编码 (no. 1): project XM-2025-01 exists as 蔬菜大棚" in err


def test_a_column_the_kind_does_not_read_is_named_in_the_report(ft, world, tmp_path):
    """Nothing a county's file holds is dropped without a line in the report (regions,
    appropriations and projects pass on what the reader noted, as households do)."""
    text = REGIONS.replace("上级代码\n", "上级代码,备注\n", 1)
    code, out, err = ft("--as", "admin", "import", "regions",
                        write(tmp_path, "regions.csv", text), "--json")
    assert code == 0, err
    report = json.loads(out)["report"]
    assert [(r["column"], r["code"]) for r in report] == [("备注", "column_ignored")]
