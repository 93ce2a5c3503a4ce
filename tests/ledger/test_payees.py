"""Payees of kind business, person and unit (issue 17): the unified social credit code's check
character (GB 32100), the `payees` import from real files, and a payee of another county
recorded and found, not refused."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.audit.verify import verify
from ledger.core import creditcode
from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.funds import flows, posting, projects
from ledger.imports.csvfile import ImportProblems
from ledger.imports.payees import import_payees
from ledger.models import Payee, PayeeKind
from ledger.store.db import transaction
from tests.ledger.test_import_households import idn, run, write
from tests.ledger.test_import_xlsx import workbook
from tests.ledger.test_invariants import down_to_county
from tests.ledger.test_projects import fund
from tests.world import COUNTY, DAY, VILLAGE


def ucc(body17: str) -> str:
    return body17 + creditcode.check_character(body17)


# Published codes (business licences shown on the companies' own sites).
REAL = ["91330100799655058B", "9144030071526726XG", "91110108551385082Q"]
OWN = ucc("91430121MA4L00001")        # registered in this county (430121)
NEIGHBOUR = ucc("92430122MA4L00002")  # an individual business of the next county
TOWNSHIP_GOV = ucc("11430121006000123")  # a township government (机构编制)


@pytest.mark.parametrize("code", REAL + [OWN, NEIGHBOUR, TOWNSHIP_GOV])
def test_real_codes_pass_and_every_single_typing_error_is_caught(code):
    assert creditcode.read_credit_code(code.lower()) == code
    for i in range(18):
        for ch in creditcode.CHARSET:
            typo = code[:i] + ch + code[i + 1:]
            if typo == code:
                continue
            with pytest.raises(creditcode.CreditCodeError):
                creditcode.read_credit_code(typo)
    swapped = code[:9] + code[10] + code[9] + code[11:]
    if swapped != code:
        with pytest.raises(creditcode.CreditCodeError):
            creditcode.read_credit_code(swapped)


@pytest.mark.parametrize("text,problem", [
    ("9133010079965505", "length"), ("91330100799655O58B", "characters"),
    ("Z1330100799655058B", "characters"), ("B1330100799655058B", "department"),
    ("9133A100799655058B", "division"), ("91330100799655058C", "check_character"),
])
def test_a_wrong_code_names_its_fault(text, problem):
    with pytest.raises(creditcode.CreditCodeError) as caught:
        creditcode.read_credit_code(text)
    assert caught.value.problem == problem


@pytest.mark.parametrize("text,read", [("A0111", "A0111"), ("0111", "A0111"), ("E48", "E48"),
                                       ("c3011", "C3011"), ("K", "K"), ("7010", "K7010")])
def test_industry_codes(text, read):
    assert str(creditcode.read_industry_code(text)) == read


@pytest.mark.parametrize("text", ["A48", "U01", "99", "4", "A01111", "E4８", ""])
def test_industry_codes_refused(text):
    with pytest.raises(ValueError):
        creditcode.read_industry_code(text)


HEADER = "收款人编码,收款人名称,收款人类型,所在区划,统一社会信用代码,身份证号,注册地县代码\n"


def payees_file(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


GOOD = payees_file(
    f"B-001,星沙农业开发有限公司,企业,{COUNTY},{OWN},,",
    f"B-002,邻县个体工程队,个体工商户,{COUNTY},{NEIGHBOUR},,",
    f"P-001,刘劳务,个人,{VILLAGE},,{idn(31)},",
    f"U-001,某镇人民政府,单位,{COUNTY},{TOWNSHIP_GOV},,",
    f"B-003,长沙某公司,企业,{COUNTY},{REAL[0]},,430121",
)


def test_payees_import_once_with_identity_and_home_county(world, tmp_path):
    path = write(tmp_path, "payees.csv", GOOD, "gb18030")
    result = run(world, import_payees, path)
    assert (result.added, result.unchanged) == (5, 0)
    assert run(world, import_payees, path).unchanged == 5
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        rows = {p.code: p for p in s.execute(select(Payee)).scalars()}
        assert rows["B-001"].kind is PayeeKind.BUSINESS and rows["B-001"].credit_code == OWN
        assert rows["B-001"].home_county == COUNTY        # from the code's division
        assert rows["B-002"].home_county == "430122"
        assert rows["B-003"].home_county == COUNTY        # as the file says, not 330100
        person = rows["P-001"]
        assert person.kind is PayeeKind.PERSON and idn(31) not in person.id_number
        assert vault.decrypt(person.id_number) == idn(31)
        assert person.id_digest == vault.digest(idn(31)) and person.home_county == "430121"
        assert rows["U-001"].kind is PayeeKind.UNIT
        outside = projects.payees_from_other_counties(s, COUNTY)
        assert [(o.payee, o.county, o.home_county) for o in outside] == \
            [("B-002", COUNTY, "430122")]
        assert projects.payees_from_other_counties(s, "430122") == []
        assert verify(s).intact


def test_a_payee_of_another_county_is_paid_like_any_other(world, tmp_path):
    run(world, import_payees, write(tmp_path, "p.csv", GOOD))
    down_to_county(world)
    with transaction(world.factory) as s:
        t = fund(s, world, "P-001")
        posting.approve(s, world.user(s, "k_approver"), t.id)
        paid = flows.pay(s, world.user(s, "k_clerk"), lot_id=world.lot_id, payee_code="B-002",
                         amount_fen=100_00, function_code="2130505", use_code="industry",
                         project_code="P-001", effective_date=DAY, key="V-B002")
        assert paid.id


def test_the_same_file_as_xlsx(world, tmp_path):
    rows = [line.split(",") for line in GOOD.splitlines()[1:]]
    path = workbook(tmp_path / "payees.xlsx", HEADER.strip().split(","), rows)
    assert run(world, import_payees, path).added == 5


@pytest.mark.parametrize("line,column,code", [
    (f"B-009,某公司,企业,{COUNTY},{OWN[:-1]}{'1' if OWN[-1] != '1' else '2'},,",
     "统一社会信用代码", "credit_code_invalid"),
    (f"P-009,某人,个人,{VILLAGE},,{idn(9)[:-1]}{'1' if idn(9)[-1] != '1' else '2'},",
     "身份证号", "id_number_invalid"),
    (f"X-009,某户,农户,{VILLAGE},,,", "收款人类型", "cell_not_one_of"),
])
def test_a_bad_cell_imports_nothing_and_names_file_line_column(world, tmp_path, line, column,
                                                                code):
    path = write(tmp_path, "bad.csv", GOOD + line + "\n")
    with pytest.raises(ImportProblems) as caught:
        run(world, import_payees, path)
    problem, = caught.value.problems
    assert (problem.file, problem.line, problem.column, problem.code) == \
        ("bad.csv", 7, column, code)
    with transaction(world.factory) as s:
        assert s.get(Payee, "B-001") is None


@pytest.mark.parametrize("line,code", [
    (f"B-009,某镇政府,企业,{COUNTY},{ucc('11430121006000456')},,", "credit_code_department"),
    (f"U-009,某公司,单位,{COUNTY},{ucc('91430121MA4L00009')},,", "credit_code_department"),
    (f"B-009,无代码公司,企业,{COUNTY},,,", "required"),
    (f"P-009,某人,个人,{VILLAGE},{REAL[1]},{idn(9)},", "payee_identity_mismatch"),
    (f"B-009,某公司,企业,{COUNTY},{REAL[1]},,4301", "home_county_format"),
])
def test_a_refused_line_imports_nothing(world, tmp_path, line, code):
    path = write(tmp_path, "bad.csv", GOOD + line + "\n")
    with pytest.raises(ImportProblems) as caught:
        run(world, import_payees, path)
    problem, = caught.value.problems
    assert (problem.line, problem.code) == (7, code)
    with transaction(world.factory) as s:
        assert s.get(Payee, "B-001") is None


def test_one_business_under_two_codes_in_a_county_is_refused(world, tmp_path):
    run(world, import_payees, write(tmp_path, "p.csv", GOOD))
    again = payees_file(f"B-101,星沙农业,企业,{COUNTY},{OWN},,")
    with pytest.raises(ImportProblems) as caught:
        run(world, import_payees, write(tmp_path, "again.csv", again))
    assert caught.value.problems[0].code == "payee_identity_taken"
    assert caught.value.problems[0].params == {"payee": "B-001"}
    # the same file twice names both lines before anything is written
    twice = payees_file(f"B-201,甲,企业,{COUNTY},{REAL[2]},,", f"B-202,乙,企业,{COUNTY},"
                        f"{REAL[2]},,")
    with pytest.raises(ImportProblems) as caught:
        run(world, import_payees, write(tmp_path, "twice.csv", twice))
    assert [(p.line, p.code) for p in caught.value.problems] == [(3, "line_repeated")]


def test_another_clerk_changing_a_payee_is_refused(world, tmp_path):
    run(world, import_payees, write(tmp_path, "p.csv", GOOD))
    changed = GOOD.replace("星沙农业开发有限公司", "星沙农业公司")
    with pytest.raises(ImportProblems) as caught:
        run(world, import_payees, write(tmp_path, "changed.csv", changed))
    assert caught.value.problems[0].code == "already_exists"


def test_services_refuse_without_keys_and_households_take_no_identity(world):
    with transaction(world.factory) as s:
        clerk = world.user(s, "k_clerk")
        with pytest.raises(LedgerError) as caught:
            projects.register_payee(s, clerk, code="P-777", kind=PayeeKind.PERSON, name="某",
                                    region_code=VILLAGE, id_number=idn(77))
        assert caught.value.code == "pii_key_missing"
        with pytest.raises(LedgerError) as caught:
            projects.register_payee(s, clerk, code="H-777", kind=PayeeKind.HOUSEHOLD,
                                    name="某", region_code=VILLAGE, credit_code=OWN)
        assert caught.value.code == "payee_identity_mismatch"


def test_cli_payee_add_business_from_another_county(cli, world):
    code, out, err = cli("--as", "k_clerk", "payee", "add", "B-500", "邻县建筑公司",
                         "--kind", "business", "--region", COUNTY,
                         "--credit-code", NEIGHBOUR)
    assert code == 0, err
    assert "home county 430122, not this county" in out
    code, _, err = cli("--as", "k_clerk", "payee", "add", "B-501", "错码公司",
                       "--kind", "business", "--region", COUNTY,
                       "--credit-code", NEIGHBOUR[:-1] + ("1" if NEIGHBOUR[-1] != "1" else "2"))
    assert code != 0 and "check character" in err
    with transaction(world.factory) as s:
        assert s.get(Payee, "B-500").home_county == "430122"
        assert s.get(Payee, "B-501") is None
