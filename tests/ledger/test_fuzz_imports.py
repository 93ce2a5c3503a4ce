"""Every importer against hostile files (Hypothesis): malformed CSV, wrong encodings, huge
fields, formula injection, invalid ID numbers, dates out of range.

The promise under test (docs/formats.md): a file either imports completely or raises
`ImportProblems` naming file, line and column, with nothing written; no other exception type
ever reaches the caller; a file that imported imports again as 'unchanged'. And every CSV the
ledger writes (the bank file) neutralises cells a spreadsheet would run as formulas.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger.core import clock
from ledger.core.errors import LedgerError
from ledger.core.idcard import check_character
from ledger.core.money import format_yuan_plain
from ledger.core.pii import PiiVault
from ledger.households import registry as household_service
from ledger.imports import bank
from ledger.imports.csvfile import Column, ImportProblems, parse_date, read
from ledger.imports.factors import positive_whole
from ledger.imports.households import (
    HOUSEHOLD_COLUMNS,
    MEMBER_COLUMNS,
    import_households,
    import_members,
)
from ledger.imports.reference import (
    APPROPRIATION_COLUMNS,
    REGION_COLUMNS,
    import_appropriations,
    import_regions,
)
from ledger.imports.roll_lines import LINE_COLUMNS
from ledger.models import AuditEntry, HouseholdStatus
from ledger.org.regions import get_user
from ledger.rolls import lifecycle as rolls
from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county
from tests.world import COUNTY, DAY, PROVINCE, TOWNSHIP, VILLAGE, VILLAGE2

# FUNDTRAIL_FUZZ_SCALE=20 runs twenty times as many cases (the figures in docs/reliability.md)
SCALE = int(os.environ.get("FUNDTRAIL_FUZZ_SCALE", "1"))
FUZZ = settings(max_examples=300 * SCALE, deadline=None)
FUZZ_DB = settings(max_examples=30 * SCALE, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HOSTILE = st.sampled_from([
    "=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\")", "+1+1", "@SUM(A1:A9)", "-2+3", "-",
    "\t=1", "\r=1", "", " ", "\x00", "a\x00b", "'", '"', '""', "\n", "a,b", "x" * 10_001,
    "名" * 101, "x" * 41, "９９", "١٢٣٤", "²⁰²⁴", "2024-02-30", "99999999999999999999-1-1",
    "0000-00-00", "1899-12-31", "2101-01-01", "20240230", "1e400", "NaN", "-0", "0.001",
    "¥1,000.001", "1,000.00", "‮evil", "\ufeff", "\u3000", "None", "null", "成功", "失败",
    "建档立卡", "清退", "县", "村", "中央", "0", "1", "12", "007",
])


def _text(alphabet_extra: str = ""):
    return st.text(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(
        list(",\"'\n\r=+-@" + alphabet_extra)), max_size=25)


def _id_number():
    def build(birth: dt.date, seq: int, variant: int) -> str:
        first = f"430121{birth:%Y%m%d}{seq:03d}"
        number = first + check_character(first)
        return [number, number[:-1] + ("0" if number[-1] != "0" else "1"), number[:6] +
                number[8:17], number[:17], number + "1", number.lower(), " " + number,
                f"430121{birth:%Y}0230{seq:03d}X"][variant]
    return st.builds(build, st.dates(dt.date(1900, 1, 1), dt.date(2030, 1, 1)),
                     st.integers(0, 999), st.integers(0, 7))


def cells(*valid):
    return st.one_of(HOSTILE, _text(), *(st.sampled_from(v) if isinstance(v, list) else v
                                         for v in valid))


def csv_bytes(headers: list[str], cell: st.SearchStrategy, max_rows: int = 6,
              good: list[list[str]] | None = None):
    """A CSV file: a real, shuffled, partial or garbage header; rows of hostile or valid
    cells of any width; written in UTF-8, GB18030, UTF-16 or as broken bytes. With `good`
    (valid values per column), also well-formed rows, some with one cell spoiled, so that
    the success path is taken too."""
    header = st.one_of(st.just(headers), st.permutations(headers),
                       st.lists(st.sampled_from(headers), max_size=len(headers)),
                       st.lists(_text(), max_size=4))
    rows = st.lists(st.lists(cell, min_size=0, max_size=len(headers) + 2), max_size=max_rows)
    if good:
        row = st.tuples(*(st.sampled_from(v) for v in good)).map(list)
        spoiled = st.tuples(row, st.integers(0, len(good) - 1), cell).map(
            lambda t: t[0][:t[1]] + [t[2]] + t[0][t[1] + 1:])
        fine = st.lists(row, min_size=1, max_size=max_rows)
        return st.one_of(
            st.builds(lambda body, enc: _render(headers, body, enc, b""), fine,
                      st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])),
            st.builds(lambda body, enc: _render(headers, body, enc, b""),
                      st.lists(st.one_of(row, spoiled), min_size=1, max_size=max_rows),
                      st.sampled_from(["utf-8", "gb18030"])),
            csv_bytes(headers, cell, max_rows))

    return st.builds(_render, header, rows,
                     st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]),
                     st.sampled_from([b"", b"\xff\xfe", b"\x81", b'"unterminated', b"\x00"]))


def _render(head, body, encoding, tail) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(head)
    writer.writerows(body)
    text = buffer.getvalue()
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return data + tail


def _file(data: bytes, name: str = "input.csv") -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    path = folder / name
    path.write_bytes(data)
    return path


def _check_problems(exc: ImportProblems, name: str) -> None:
    assert exc.problems, "ImportProblems without a problem"
    for p in exc.problems:
        assert p.file == name and p.line >= 0 and p.reason
    assert name in str(exc) and "nothing was imported" in str(exc)


HOUSEHOLD_HEADERS = ["户编码", "村代码", "户主姓名", "户状态", "识别日期", "银行卡号", "联系电话"]
MEMBER_HEADERS = ["household_code", "name", "relation", "id_number", "death_date"]
REGION_HEADERS = ["区划代码", "名称", "级别", "上级代码"]
APPROPRIATION_HEADERS = ["文号", "资金级次", "年度", "资金名称", "功能科目", "用途", "金额",
                         "下达区划", "下达日期"]
RESULT_HEADERS = ["序号", "户编码", "金额", "结果", "失败原因", "银行流水号"]
VALID = [f"H-{n}" for n in range(5)] + [VILLAGE, VILLAGE2, COUNTY, TOWNSHIP, "赵大", "钱二",
                                        "户主", "子", "2019-05-01", "2024/3/15",
                                        "6222021234567890123", "13800001111"]


# ----------------------------------------------------------------------------- the reader

@FUZZ
@given(data=st.one_of(
    csv_bytes(HOUSEHOLD_HEADERS, cells(VALID)), st.binary(max_size=300)),
    columns=st.sampled_from([HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, REGION_COLUMNS,
                             APPROPRIATION_COLUMNS, bank.RESULT_COLUMNS, LINE_COLUMNS,
                             [Column("county", ("县代码",)), Column("f", ("f",), positive_whole)]]))
def test_the_reader_returns_parsed_rows_or_names_every_problem(data, columns):
    path = _file(data)
    try:
        rows = read(path, columns)
    except ImportProblems as exc:
        _check_problems(exc, path.name)
        return
    for row in rows:
        assert row.line >= 2
        for column in columns:
            value = row.values[column.key]
            assert value is not None or not column.required
            if isinstance(value, str):  # what passed the guards is safe to echo into a sheet
                assert value[:1] not in ("=", "+", "@") and len(value) <= 10_000


@FUZZ
@given(text=st.one_of(HOSTILE, _text("年月日/.0123456789"), st.dates().map(str),
                      st.from_regex(r"[0-9]{1,25}[-/.][0-9]{1,25}[-/.][0-9]{1,25}",
                                    fullmatch=True)))
@example("99999999999999999999-1-1")  # found by this test: OverflowError, not ValueError
@example("١٢٣٤-01-01")                # Arabic-Indic digits were read as the year 1234
def test_dates_parse_or_say_why(text):
    try:
        day = parse_date(text)
    except ValueError as exc:
        assert repr(text)[:20] in str(exc) or text[:20] in str(exc)
        return
    assert 1900 <= day.year <= 2100


# ----------------------------------------------------------------------------- into the ledger

def _audit_size(world) -> int:
    with transaction(world.factory) as s:
        return s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


OUTCOMES: dict[str, int] = {}  # imported / refused per importer, printed with -s for the docs


def _tally(what: str) -> None:
    OUTCOMES[what] = OUTCOMES.get(what, 0) + 1


def _import_all_or_nothing(world, importer, username, data):
    """Import; on ImportProblems nothing was written; on success a second import adds nothing."""
    path = _file(data)
    before = _audit_size(world)
    try:
        with transaction(world.factory) as s:
            result = importer(s, get_user(s, username), PiiVault.from_env(), path)
    except ImportProblems as exc:
        _check_problems(exc, path.name)
        assert _audit_size(world) == before, "a refused import wrote something"
        _tally(f"{importer.__name__} refused")
        return
    with transaction(world.factory) as s:
        again = importer(s, get_user(s, username), PiiVault.from_env(), path)
    assert again.added == 0 and again.unchanged == result.added + result.unchanged
    _tally(f"{importer.__name__} imported")


CODES = [f"H-{n}" for n in range(7)]
STATUS = ["建档立卡", "已脱贫", "监测对象", "清退", "registered"]
GOOD_HOUSEHOLD = [CODES, [VILLAGE, VILLAGE2], ["赵大", "钱二", "孙三"], STATUS,
                  ["2019-05-01", "2019/5/1", "2021年6月1日"],
                  ["6222021234567890123", "6222 0212 3456 7890 456", ""], ["13800001111", ""]]


def _valid_id(seq: int, birth: str = "19800101") -> str:
    first = f"430121{birth}{seq:03d}"
    return first + check_character(first)


GOOD_MEMBER = [CODES[:3], ["赵大", "赵小"], ["户主", "子", "配偶"],
               [_valid_id(n) for n in range(4)] + [_valid_id(9)[:6] + _valid_id(9)[8:17]],
               ["", "2023-11-02"]]


def test_household_and_member_imports_all_or_nothing(world):
    with transaction(world.factory) as s:  # households members can belong to
        for code in CODES[:2]:
            household_service.register_household(
                s, get_user(s, "k_clerk"), PiiVault.from_env(), code=code,
                village_code=VILLAGE, head_name="赵大", status=HouseholdStatus.REGISTERED,
                registered_on=dt.date(2019, 5, 1))

    @FUZZ_DB
    @given(households=csv_bytes(HOUSEHOLD_HEADERS, cells(VALID, STATUS), good=GOOD_HOUSEHOLD),
           members=csv_bytes(MEMBER_HEADERS, cells(VALID, _id_number()), good=GOOD_MEMBER))
    def check(households, members):
        _import_all_or_nothing(world, import_households, "k_clerk", households)
        _import_all_or_nothing(world, import_members, "k_clerk", members)
    check()
    print(f"\nhousehold/member import outcomes: {OUTCOMES}")


GOOD_REGION = [[f"{TOWNSHIP}{n:03d}" for n in range(3)], ["新村", "老村"], ["村", "village"],
               [TOWNSHIP]]
GOOD_LOT = [["财农〔2024〕1号", "财农〔2024〕2号"], ["中央", "省级"], ["2024"], ["衔接资金"],
            ["2130505", "2130505;2130504"], ["industry", "household_subsidy;industry"],
            ["1,000.00", "0.01"], [PROVINCE], ["2024-03-15"]]


def test_region_and_appropriation_imports_all_or_nothing(world):
    @FUZZ_DB
    @given(regions=csv_bytes(REGION_HEADERS, cells(
               [TOWNSHIP, COUNTY, PROVINCE], ["村", "乡镇", "县", "city"]), good=GOOD_REGION),
           lots=csv_bytes(APPROPRIATION_HEADERS, cells(
               ["2025", "1999", "2101"], ["2130501"], ["office_building"],
               ["0", "-5", "1000000000000000"], [COUNTY], ["2024-02-30"]), good=GOOD_LOT))
    def check(regions, lots):
        _import_all_or_nothing(world, import_regions, "admin", regions)
        _import_all_or_nothing(world, import_appropriations, "p_clerk", lots)
    check()
    print(f"\nregion/appropriation import outcomes: {OUTCOMES}")


def test_bank_results_import_all_or_nothing(world):
    down_to_county(world, 100_000_00)
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        for n in range(4):
            household_service.register_household(
                s, clerk, vault, code=f"H-{n}", village_code=VILLAGE, head_name=f"户{n}",
                status=HouseholdStatus.REGISTERED, registered_on=DAY,
                bank_card=f"622202123456789{n:04d}")
        rolls.create_roll(s, clerk, code="R-F", lot_id=world.lot_id, county_code=COUNTY,
                          item="产业奖补", function_code="2130505", use_code="household_subsidy",
                          standard_fen=500_00, lines=[(f"H-{n}", 1) for n in range(4)],
                          as_of=DAY)
        with clock.at(DAY):   # each step recorded on its day (ledger.core.clock)
            rolls.publish(s, clerk, "R-F", DAY)
        with clock.at(DAY + dt.timedelta(days=14)):
            rolls.approve_roll(s, get_user(s, "k_approver"), "R-F", DAY + dt.timedelta(days=14),
                               7)
        rolls.send(s, clerk, "R-F", DAY + dt.timedelta(days=14))

    @FUZZ_DB
    @given(csv_bytes(RESULT_HEADERS, cells(
        ["1", "2", "3", "4", "5"], [f"H-{n}" for n in range(5)], ["500.00", "500", "50.00"],
        ["成功", "失败", "paid", "退票"], ["卡号已注销"], ["B001"])))
    def check(data):
        path = _file(data)
        before = _audit_size(world)
        try:
            with transaction(world.factory) as s:
                bank.import_bank_results(s, get_user(s, "k_approver"), "R-F", path)
        except ImportProblems as exc:
            _check_problems(exc, path.name)
            assert _audit_size(world) == before
            return
        with transaction(world.factory) as s:  # the same file again changes nothing
            again = bank.import_bank_results(s, get_user(s, "k_approver"), "R-F", path)
        assert again["posted"] == again["returned"] == 0
    check()


# ----------------------------------------------------------------------------- what we write

class _Line:
    def __init__(self, number, code, amount):
        self.line_no, self.household_code, self.amount_fen = number, code, amount


class _Household:
    def __init__(self, name, card):
        self.head_name, self.bank_card = name, card


@FUZZ
@given(people=st.lists(st.tuples(st.one_of(HOSTILE, _text()), st.one_of(HOSTILE, _text())),
                       min_size=1, max_size=5),
       encoding=st.sampled_from(["gb18030", "utf-8"]))
def test_the_bank_file_never_carries_a_live_formula(people, encoding):
    """Names and codes from anywhere (the web, a service call) reach the bank file escaped."""
    vault = PiiVault.from_env()
    card = vault.encrypt("6222021234567890123")
    sent = [(_Line(i + 1, code, 100 * (i + 1)), None) for i, (code, _) in enumerate(people)]
    households = {code: _Household(name, card) for code, name in people}
    path = Path(tempfile.mkdtemp(prefix="bank-")) / "bank.csv"
    try:
        bank.write_bank_file(path, sent, vault, households, encoding)
    except LedgerError as exc:  # a name with no code in the encoding: refused, not mangled
        assert "cannot be written" in str(exc)
        return
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))
    assert len(rows) == len(people) + 1
    for (line, _), row in zip(sent, rows[1:]):
        for cell in row:
            assert cell[:1] not in bank.FORMULA_STARTS, row
        name = households[line.household_code].head_name
        assert row[1] in (line.household_code, "'" + line.household_code)
        assert row[2] in (name, "'" + name)
        assert row[4] == format_yuan_plain(line.amount_fen)
    assert not list(path.parent.glob(".*.tmp"))


# ----------------------------------------------------------------------------- the command line

HOSTILE_FILES = {
    "formula": f"户编码,村代码,户主姓名,户状态,识别日期\nH-9,{VILLAGE},=cmd|' /C calc'!A0,建档立卡,"
               "2019-05-01\n".encode(),
    "huge": f"户编码,村代码,户主姓名,户状态,识别日期\nH-9,{VILLAGE},{'名' * 10_001},建档立卡,"
            "2019-05-01\n".encode(),
    "too-long-name": f"户编码,村代码,户主姓名,户状态,识别日期\nH-9,{VILLAGE},{'名' * 101},建档立卡,"
                     "2019-05-01\n".encode(),
    "nul": f"户编码,村代码,户主姓名,户状态,识别日期\nH-9,{VILLAGE},赵\x00大,建档立卡,"
           "2019-05-01\n".encode(),
    "utf-16": f"户编码,村代码,户主姓名,户状态,识别日期\nH-9,{VILLAGE},赵大,建档立卡,2019-05-01\n"
              .encode("utf-16"),
    "year": f"户编码,村代码,户主姓名,户状态,识别日期\nH-9,{VILLAGE},赵大,建档立卡,"
            "99999999999999999999-1-1\n".encode(),
    "unterminated": f'户编码,村代码,户主姓名,户状态,识别日期\nH-9,{VILLAGE},"赵大,建档立卡\n'
                    .encode(),
}


def test_the_cli_refuses_hostile_files_with_one_message_and_exit_2(world, db_url, tmp_path,
                                                                   monkeypatch, capsys,
                                                                   personal_key_dir):
    from ledger.cli.root import main
    from tests.conftest import enrol_test_keys
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    enrol_test_keys(world.factory, ["k_clerk"], personal_key_dir)  # before counting entries
    before = _audit_size(world)
    for name, data in HOSTILE_FILES.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        code = main(["--as", "k_clerk", "import", "households", str(path)])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("error: ") and "Traceback" not in err, (name, err)
        assert f"{name}.csv, line" in err, (name, err)
    assert _audit_size(world) == before
