"""Input at the boundary (issue 19, red-team attack 2 and the import breaks).

- Full-width digits (what a Chinese input method types) are the same ID and the same card:
  registered once, matched by the deaths list; a lookalike (letter O, ١) is refused by name.
- A file in neither UTF-8 nor GB18030 is refused naming file, line and column, not decoded as
  GB18030 nonsense; real GB18030 files (with rare 4-byte characters) still import.
- A duplicated column is refused naming both positions.
- Every problem of a file is reported, with line and column, semantic ones too.
- Reading and checking a file takes memory bounded by a line, not by the file.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.households import registry as households
from ledger.households.cards import add_card
from ledger.imports.csvfile import ImportProblems
from ledger.imports.households import import_households, import_members
from ledger.models import Card, Household, Member
from ledger.models.alerts import Alert, AlertEvent
from ledger.org.regions import get_user
from ledger.registers.external import ListKind, ListRecord
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town, idn
from tests.ledger.test_import_households import run, write

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def wide(text: str) -> str:
    return text.translate(FULL_WIDTH)


def test_an_id_typed_full_width_is_the_same_person_to_the_registry_and_the_deaths_list(world):
    """Attack 2: the head's ID typed with full-width digits was stored under another digest, so
    the same person could be registered again in ASCII and the deaths list (ASCII) missed him.
    Now the number is read under NFKC: one digest, one person, the death is matched."""
    town = Town(world)
    number = idn(32)
    [head] = town.household("HX", [("王列", "户主", wide(number), None)])
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        with pytest.raises(LedgerError) as err:
            households.add_member(s, clerk, town.vault, household_code="HX", name="王列",
                                  relation="户主", id_number=number)
        assert err.value.code == "member_duplicate"
        stored = s.get(Member, head)
        assert town.vault.decrypt(stored.id_number) == number   # kept as ASCII
        assert stored.id_digest == town.vault.digest(number)    # the digest ASCII IDs had
    town.listing(ListKind.DEATHS, [ListRecord(2, "王列", number, date_from=dt.date(2024, 3, 1))])
    town.pay("HX", 500_00, dt.date(2024, 6, 3))
    with transaction(world.factory) as s:
        raised = [(a.rule_id, a.entity_key) for a in s.execute(select(Alert)).scalars()]
        event = s.execute(select(AlertEvent)).scalar_one()
    assert raised == [("BEN-01", "HX")]
    assert event.finding["evidence"]["death_source"].startswith("deaths list")
    assert "household:HX" in town.fired("BEN-01")


def test_a_card_typed_full_width_is_the_same_card(world):
    town = Town(world)
    card = "6222021234567890123"
    town.household("HC", [("赵卡", "户主", idn(41), None)], card=wide(card))
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        household = households.get_household(s, "HC")
        assert town.vault.decrypt(household.bank_card) == card
        assert household.bank_card_last4 == "0123"
        add_card(s, clerk, town.vault, household_code="HC", kind="household", account=card,
                 bank="农商行", opened_on=dt.date(2020, 1, 1))
        with pytest.raises(LedgerError) as err:
            add_card(s, clerk, town.vault, household_code="HC", kind="household",
                     account="６２２２ ０２１２ ３４５６ ７８９０ １２３", bank="农商行",
                     opened_on=dt.date(2020, 1, 1))
        assert err.value.code == "card_already_registered"
        assert s.execute(select(func.count()).select_from(Card)).scalar_one() == 1


def test_a_lookalike_in_a_number_is_refused_naming_the_character(world, tmp_path):
    """NFKC does not fold a letter O, an Arabic-Indic digit or a Cyrillic Х: each is refused
    (`number_character`), in a service call and in a file, naming character and position,
    never showing the number."""
    town = Town(world)
    town.household("HL", [("李一", "户主", idn(51), None)])
    number = idn(52)
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError) as err:
            households.add_member(s, get_user(s, "k_clerk"), town.vault, household_code="HL",
                                  name="李二", relation="子",
                                  id_number=number[:9] + "O" + number[10:])
    assert err.value.code == "number_character"
    assert err.value.params | {} == {"field": "id_number", "character": "O",
                                     "codepoint": "U+004F", "name": "latin capital letter o",
                                     "position": 10, "looks_like": "0"}
    arabic = "\u0664" + number[1:]                     # ٤ for the leading 4
    cyrillic = number[:17] + "\u0425"                  # Х (Cyrillic) for X
    path = write(tmp_path, "m.csv", "户编码,姓名,与户主关系,身份证号\n"
                 f"HL,李二,子,{arabic}\nHL,李三,女,{cyrillic}\nHL,李四,子,{wide(idn(53))}\n")
    with pytest.raises(ImportProblems) as err:
        run(world, import_members, path)
    found = [(p.line, p.column, p.code, p.params["codepoint"]) for p in err.value.problems]
    assert found == [(2, "身份证号", "number_character", "U+0664"),
                     (3, "身份证号", "number_character", "U+0425")]
    assert number not in str(err.value)
    with transaction(world.factory) as s:
        assert s.execute(select(func.count()).select_from(Member)).scalar_one() == 1
    path.write_text("户编码,姓名,与户主关系,身份证号\n"
                    f"HL,李四,子,{wide(idn(53))}\n", encoding="utf-8")
    assert run(world, import_members, path).added == 1
    with transaction(world.factory) as s:
        digest = s.execute(select(Member.id_digest).where(Member.name == "李四")).scalar_one()
    assert digest == PiiVault.from_env().digest(idn(53))


HOUSEHOLDS = "户编码,村代码,户主姓名,户状态,识别日期,银行卡号\n"


def test_every_semantic_problem_of_a_file_is_reported_with_line_and_column(world, tmp_path):
    """Red-team: a file with several bad lines reported the first service refusal only, and
    without its column. Now every line is checked and each refusal names line and column
    (name and place); nothing is written."""
    from tests.world import VILLAGE
    text = (HOUSEHOLDS
            + f"H-200,{VILLAGE},赵一,建档立卡,2019-05-01,\n"
            + "H-210,430121,钱二,建档立卡,2019-05-01,\n"             # a county, not a village
            + "H-211,430122001001,孙三,建档立卡,2019-05-01,\n"       # another county's village
            + f"H-201,{VILLAGE},李四,建档立卡,2019-05-01,\n")       # a contractor's code
    with pytest.raises(ImportProblems) as err:
        run(world, import_households, write(tmp_path, "h.csv", text, "gb18030"))
    found = [(p.line, p.column, p.position, p.code) for p in err.value.problems]
    assert found == [(3, "村代码", 2, "not_a_village"), (4, "村代码", 2, "out_of_scope"),
                     (5, "户编码", 1, "already_exists")], found
    assert "h.csv, line 4, column 村代码 (no. 2)" in str(err.value)
    with transaction(world.factory) as s:
        assert s.get(Household, "H-200") is None       # all or nothing


def test_a_latin1_file_is_refused_naming_file_line_and_character(world, tmp_path):
    """Red-team: "Müller" in Latin-1 was read as GB18030 ("M黮ler") without a word. Now a file
    that is neither UTF-8 nor plausible GB18030 is refused where it stops being text."""
    from tests.world import VILLAGE
    text = HOUSEHOLDS + f"H-300,{VILLAGE},Müller Jörg,建档立卡,2019-05-01,\n"
    path = tmp_path / "latin.csv"
    path.write_bytes(text.replace("户编码,村代码,户主姓名,户状态,识别日期,银行卡号",
                                  "household_code,village_code,head_name,status,registered_on,"
                                  "bank_card").replace("建档立卡", "registered")
                     .encode("latin-1"))
    with pytest.raises(ImportProblems) as err:
        run(world, import_households, path)
    [problem] = err.value.problems
    assert (problem.file, problem.line, problem.code) == ("latin.csv", 2, "file_encoding")
    assert problem.params["position"] == len(f"H-300,{VILLAGE},M") + 1
    assert "latin.csv, line 2" in str(err.value) and "Latin word" in str(err.value)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_rare_characters_of_real_county_files_still_import(world, tmp_path, encoding):
    """The plausibility rule never refuses what county files hold: rare name characters in
    GB18030's two-byte (堃 88D2, 喆 86B4, 珺 AC42) and four-byte (𠮷) ranges, full-width
    digits and letters (read under NFKC)."""
    from tests.world import VILLAGE
    text = (HOUSEHOLDS
            + f"H-400,{VILLAGE},吉𠮷,建档立卡,2019-05-01,６２２２０２１２３４５６７８９０４００\n"
            + f"H-401,{VILLAGE},王堃,已脱贫,２０１９年５月１日,\n"
            + f"H-402,{VILLAGE},陈喆珺,监测对象,2021/6/1,\n"
            + f"Ｈ－４０３,{VILLAGE},A座赵珺,建档立卡,2019-05-01,\n")
    result = run(world, import_households, write(tmp_path, "h.csv", text, encoding))
    assert result.added == 4
    with transaction(world.factory) as s:
        assert s.get(Household, "H-400").head_name == "吉𠮷"
        assert s.get(Household, "H-400").bank_card_last4 == "0400"
        assert s.get(Household, "H-403").head_name == "A座赵珺"


def test_a_duplicated_column_is_refused_naming_both_places(world, tmp_path):
    """Red-team: a file with 户主姓名 twice was read from the first, the second dropped."""
    from tests.world import VILLAGE
    text = ("户编码,村代码,户主姓名,户状态,识别日期,head_name\n"
            f"H-500,{VILLAGE},赵大,建档立卡,2019-05-01,钱二\n")
    with pytest.raises(ImportProblems) as err:
        run(world, import_households, write(tmp_path, "h.csv", text))
    [problem] = err.value.problems
    assert (problem.line, problem.column, problem.code, problem.params) == (
        1, "户主姓名", "column_duplicated", {"header": "户主姓名", "first": 3, "second": 6})


def test_reading_a_file_takes_the_memory_of_a_line_not_of_the_file(tmp_path):
    """Red-team: a 50 MB file took 755 MB. Every cell is checked in a streamed pass and the
    rows are read again from the file as they are gone through, so reading six times more
    lines takes no more memory (measured in a child process; bench/import_memory.py measures
    200 MB, docs/formats.md). A file of bad lines keeps 10,000 problems and counts the rest."""
    from bench.import_memory import measure, write_file
    from tests.world import VILLAGE
    peaks = {}
    for megabytes in (1, 6):
        path = tmp_path / f"h{megabytes}.csv"
        lines = write_file(path, "households", megabytes, VILLAGE, "gb18030")
        count, peaks[megabytes], _seconds = measure("read", "households", path, tmp_path / "x")
        assert count == str(lines)
    assert peaks[6] - peaks[1] < 15, peaks     # before: about 10 MB more per MB of file
    bad = tmp_path / "bad.csv"
    write_file(bad, "households", 6, VILLAGE, "gb18030")
    bad.write_text(bad.read_text(encoding="gb18030").replace("建档立卡", "富裕"),
                   encoding="gb18030")
    count, peak, _seconds = measure("read", "households", bad, tmp_path / "x")
    assert count == "refused: 10001 problem(s)" and peak - peaks[1] < 60, (count, peak, peaks)


def test_a_superscript_or_circled_digit_is_not_folded_into_a_number(world, tmp_path):
    """NFKC would read 10² as 102 and ② as 2: those stay as typed at the boundary, so the
    number's reader refuses them by name, in a file as in a form."""
    from ledger.core.normalise import nfkc
    from ledger.imports.reference import import_appropriations
    assert nfkc("Ｈ－１００") == "H-100" and nfkc("10²") == "10²"
    path = write(tmp_path, "docs.csv", "文号,资金级次,年度,资金名称,功能科目,用途,金额,下达区划,"
                 "下达日期\n财农〔2025〕3号,中央,2025,衔接资金,2130505,industry,10²,430000,"
                 "2025-02-01\n")
    with transaction(world.factory) as s:
        with pytest.raises(ImportProblems) as err:
            import_appropriations(s, get_user(s, "p_clerk"), None, path)
    [problem] = err.value.problems
    assert (problem.line, problem.column, problem.code, problem.params["codepoint"]) == (
        2, "金额", "number_character", "U+00B2")


def test_importing_households_takes_the_memory_of_a_batch_not_of_the_file(world, tmp_path,
                                                                          monkeypatch):
    """Issue 19: the writing phase kept every new line (and every code) until the end, so a
    10 MB registry file took 284 MB and a 200 MB one about 2 GB. The lines are now read
    again from the file for each writing pass, a byte a line says what each pass does, and the
    codes seen are kept on disk: four times the households (each enrolled, then 已脱贫 on its
    状态日期, so every pass runs) take no more memory. Measured as the Python memory the import
    allocates (tracemalloc: what grows with a file is Python objects; bench/import_memory.py
    measures the whole process, docs/formats.md); batches of 250 instead of 5,000."""
    import tracemalloc

    from ledger.imports import households as importer
    from ledger.models import HouseholdEvent, HouseholdStatus
    from tests.world import VILLAGE
    monkeypatch.setattr(importer, "REGISTER_BATCH", 250)
    HEADER = "户编码,村代码,户主姓名,户状态,识别日期,银行卡号,联系电话,状态日期\n"
    peaks = {}
    for first, count in ((0, 500), (500, 2_000)):
        path = tmp_path / f"h{count}.csv"
        path.write_text(HEADER + "".join(
            f"H-{n:07d},{VILLAGE},赵大{n % 97},已脱贫,2019-05-01,62220212{n:011d},"
            f"1380000{n % 10_000:04d},2021-06-01\n" for n in range(first, first + count)),
            encoding="gb18030")
        tracemalloc.start()
        try:
            result = run(world, import_households, path)
            peaks[count] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert (result.added, result.unchanged) == (count, 0)
    with transaction(world.factory) as s:
        assert s.execute(select(func.count()).where(
            HouseholdEvent.status == HouseholdStatus.EXITED,
            HouseholdEvent.effective_date == dt.date(2021, 6, 1))).scalar_one() == 2_500
    # before: about 1 KB more per line (1,500 more lines: 1.5 MB more)
    assert peaks[2_000] - peaks[500] < 256 * 1024, peaks
