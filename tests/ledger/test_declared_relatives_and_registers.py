"""External lists as offices keep them (issue 17): officials' relatives declared by name and birth
date without an ID number, a vehicle's status, a business's industry code (GB/T 4754), and the
property register (不动产登记). Real files, every line checked, nothing written on a problem."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ledger.audit.verify import verify
from ledger.core.pii import PiiVault
from ledger.imports.csvfile import ImportProblems
from ledger.imports.external import import_list
from ledger.models.registers import ExternalList, ExternalRecord, ListKind
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import idn
from tests.ledger.test_import_households import write
from tests.ledger.test_import_xlsx import workbook

SNAPSHOT = dict(source="县纪委监委", snapshot=dt.date(2024, 12, 1))

OFFICIALS = ("身份证号,姓名,关系,出生日期,干部身份证号,职务,辖区代码,任职起,任职止,亲等\n"
             f"{idn(7)},吴书记,本人,,,镇党委书记,430121001,2021-01-01,,\n"
             f"{idn(8)},吴九,兄弟,,{idn(7)},,,,,2\n"
             f",吴老太,配偶的母亲,1948年3月2日,{idn(7)},,,,,1\n")


def load(world, kind, path):
    with transaction(world.factory) as s:
        return import_list(kind, s, world.user(s, "k_clerk"), PiiVault.from_env(), path,
                           **SNAPSHOT)


def records(world, kind):
    with transaction(world.factory) as s:
        return s.execute(select(ExternalRecord).join(ExternalList).where(
            ExternalList.kind == kind).order_by(ExternalRecord.line_no)).scalars().all()


def test_a_relative_declared_by_name_and_birth_date_goes_in(world, tmp_path):
    path = write(tmp_path, "officials.csv", OFFICIALS, "gb18030")
    assert load(world, ListKind.OFFICIALS, path).added == 3
    assert load(world, ListKind.OFFICIALS, path).unchanged
    official, brother, mother_in_law = records(world, ListKind.OFFICIALS)
    vault = PiiVault.from_env()
    assert official.birth_date is None and brother.id_digest == vault.digest(idn(8))
    assert mother_in_law.id_number is None and mother_in_law.id_digest is None
    assert (mother_in_law.name, mother_in_law.birth_date) == ("吴老太", dt.date(1948, 3, 2))
    assert mother_in_law.related_digest == vault.digest(idn(7))
    with transaction(world.factory) as s:
        assert verify(s).intact


@pytest.mark.parametrize("line,column,code", [
    (f",吴十,子,,{idn(7)},,,,,1", "出生日期", "relative_unidentified"),
    (",吴书记二,本人,1970-01-01,,镇长,430121001,,,", "身份证号", "required"),
    (f",吴十,子,2001-13-01,{idn(7)},,,,,1", "出生日期", "cell_not_a_date"),
])
def test_a_relative_nobody_can_find_is_refused(world, tmp_path, line, column, code):
    path = write(tmp_path, "officials.csv", OFFICIALS + line + "\n")
    with pytest.raises(ImportProblems) as caught:
        load(world, ListKind.OFFICIALS, path)
    problem, = caught.value.problems
    assert (problem.file, problem.line, problem.column, problem.code) == \
        ("officials.csv", 5, column, code)
    assert records(world, ListKind.OFFICIALS) == []


VEHICLES = ("身份证号,姓名,车辆类型,号牌号码,登记日期,车辆状态\n"
            f"{idn(4)},孙七,小型轿车,湘A12345,2012-01-05,报废\n"
            f"{idn(5)},钱八,重型货车,湘A54321,2022-01-05,A\n"
            f"{idn(6)},李九,小型轿车,湘A00001,2020-01-05,\n")


def test_vehicle_status_as_the_office_writes_it(world, tmp_path):
    load(world, ListKind.VEHICLES, write(tmp_path, "vehicles.csv", VEHICLES))
    assert [r.status for r in records(world, ListKind.VEHICLES)] == ["scrapped", "active", None]
    with pytest.raises(ImportProblems) as caught:
        load(world, ListKind.VEHICLES,
             write(tmp_path, "v2.csv", VEHICLES.replace(",A\n", ",在用?\n")))
    assert [(p.line, p.column) for p in caught.value.problems] == [(3, "车辆状态")]


BUSINESSES = ("企业名称,统一社会信用代码,身份证号,姓名,角色,成立日期,注销日期,行业代码\n"
              f"星沙建筑公司,91430121MA4L000000,{idn(6)},周八,法定代表人,2018-05-01,,E4810\n"
              f"星沙建筑公司,91430121MA4L000000,{idn(9)},周九,股东,2018-05-01,,4810\n"
              f"某农业合作社,93430121MA4L000011,{idn(10)},郑十,法定代表人,2019-05-01,,A\n")


def test_business_industry_codes_are_checked_and_kept_with_their_section(world, tmp_path):
    load(world, ListKind.BUSINESSES, write(tmp_path, "b.csv", BUSINESSES))
    assert [r.industry_code for r in records(world, ListKind.BUSINESSES)] == \
        ["E4810", "E4810", "A"]
    with pytest.raises(ImportProblems) as caught:
        load(world, ListKind.BUSINESSES,
             write(tmp_path, "b2.csv", BUSINESSES.replace(",E4810\n", ",A4810\n")))
    assert [(p.line, p.column) for p in caught.value.problems] == [(2, "行业代码")]


def test_a_list_imported_before_the_new_columns_keeps_its_digest(world, tmp_path):
    """A file without the new columns reads into the same records, with the same snapshot
    digest, as before migration 0020: imported again, it is unchanged, not a reused snapshot."""
    from ledger.registers.external import ListRecord, content_digest
    old = ListRecord(2, "孙七", idn(4), None, dt.date(2012, 1, 5), None, "小型轿车", "",
                     "湘A12345")
    assert repr(old) == (f"ListRecord(line_no=2, name='孙七', id_number='{idn(4)}', "
                         "region_code=None, date_from=datetime.date(2012, 1, 5), date_to=None, "
                         "category='小型轿车', org='', org_code='湘A12345', "
                         "related_id_number=None, degree=None)")
    assert content_digest([old]) != content_digest([ListRecord(**{**old.__dict__,
                                                                  "status": "active"})])


def test_the_property_register_from_a_workbook(world, tmp_path):
    header = ["身份证号", "姓名", "房屋类型", "坐落", "不动产权证号", "所在区划", "登记日期",
              "注销日期"]
    rows = [[idn(11), "王十一", "城镇住宅", "株洲市芦淞区建设路12号3栋402", "湘(2021)株洲市不动产权"
             "第0012345号", "430203", dt.datetime(2021, 6, 1), None],
            [idn(12), "王十二", "商铺", "县城解放路8号", "", "430121", dt.datetime(2015, 3, 1),
             dt.datetime(2020, 3, 1)]]
    path = workbook(tmp_path / "properties.xlsx", header, rows)
    assert load(world, ListKind.PROPERTIES, path).added == 2
    flat, shop = records(world, ListKind.PROPERTIES)
    assert (flat.category, flat.region_code, flat.date_to) == ("城镇住宅", "430203", None)
    assert shop.date_to == dt.date(2020, 3, 1) and idn(12) not in shop.id_number
