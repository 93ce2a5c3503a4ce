"""Issue 17, data quality: a county's registry goes in as it stands, and the report says how.

From the user's side (`fundtrail import`, `fundtrail household add-member`, real files in UTF-8
and GB18030, SQLite and PostgreSQL):
- a member whose ID number's only fault is its check character is refused by default, naming
  file, line and column; with `[imports] accept_wrong_check_character = true` it is imported as
  registered and the report lists the line; a clerk's one-by-one entry is still refused;
- a legacy 15-digit number is kept as registered and matched through its 18-character form
  (a deaths list with the new number finds the member: BEN-01);
- what the file holds and no column reads (extra columns, cells past the header, blank lines)
  is named in the report, and the rest of the import is as before.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from ledger.audit.verify import verify
from ledger.core.pii import PiiVault
from ledger.disclosure.content import household_card
from ledger.households.changes import household_view
from ledger.households.registry import birth_key, unsalted
from ledger.models import Member
from ledger.org.regions import get_user
from ledger.registers.external import ListKind, ListRecord
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town
from tests.ledger.test_import_households import HOUSEHOLDS, idn, write

ENCODINGS = ["utf-8", "gb18030"]
WRONG = idn(21)[:-1] + ("0" if idn(21)[-1] != "0" else "1")   # only the check character wrong
LEGACY = idn(22)[:6] + idn(22)[8:17]                           # 15 digits; 18: idn(22)

MEMBERS = (
    "户编码,姓名,与户主关系,身份证号,死亡日期\n"
    f"H-100,赵大,户主,{idn(11)},\n"
    f"H-100,赵小,子,{WRONG},\n"
    f"H-101,钱二,户主,{LEGACY},\n"
)


@pytest.fixture
def ft(cli, world, tmp_path):
    """The command line on the test world, with the households of HOUSEHOLDS imported."""
    code, _out, err = cli("--as", "k_clerk", "import", "households",
                          write(tmp_path, "h.csv", HOUSEHOLDS))
    assert code == 0, err
    return cli


def accepting(tmp_path):
    path = tmp_path / "fundtrail.toml"
    path.write_text("[imports]\naccept_wrong_check_character = true\n", encoding="utf-8")
    return path


def stored(world) -> dict[str, str]:
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        return {m.name: vault.decrypt(m.id_number) for m in s.execute(select(Member)).scalars()}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_wrong_check_character_is_refused_by_default_naming_file_line_column(
        ft, world, tmp_path, encoding):
    path = write(tmp_path, "m.csv", MEMBERS, encoding)
    code, _out, err = ft("--as", "k_clerk", "import", "members", path)
    assert code == 2
    assert "m.csv, line 3, column 身份证号" in err and "check character" in err
    assert WRONG not in err
    assert stored(world) == {}   # all or nothing
    code, out, _err = ft("--as", "k_clerk", "import", "members", path, "--json")
    assert code == 2


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_with_the_setting_it_is_imported_as_registered_and_listed_in_the_report(
        ft, world, tmp_path, encoding):
    path = write(tmp_path, "m.csv", MEMBERS, encoding)
    code, out, err = ft("--config", accepting(tmp_path), "--as", "k_clerk", "import",
                        "members", path, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["added"], result["unchanged"]) == (3, 0)
    [line] = result["report"]
    assert (line["file"], line["line"], line["column"], line["code"], line["params"]) == \
        ("m.csv", 3, "身份证号", "id_check_character_accepted", {"household": "H-100"})
    assert WRONG not in out
    assert stored(world)["赵小"] == WRONG   # as registered, encrypted at rest
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        member = s.execute(select(Member).where(Member.name == "赵小")).scalar_one()
        assert WRONG not in member.id_number
        assert member.id_digest == vault.digest(WRONG)   # matched as written
        assert unsalted(member.birth_digest) == birth_key(vault, WRONG)
        assert verify(s).intact
    # the text output lists the line too; the same file again changes nothing, still listed
    code, out, _err = ft("--config", accepting(tmp_path), "--as", "k_clerk", "import",
                         "members", path)
    assert code == 0 and "0 added, 3 already present" in out
    assert "m.csv, line 3, column 身份证号" in out


def test_a_clerks_one_by_one_entry_is_still_refused(ft, world, tmp_path):
    config = accepting(tmp_path)
    code, _out, err = ft("--config", config, "--as", "k_clerk", "household", "add-member",
                         "H-102", "--name", "孙小", "--relation", "子", "--id-number", WRONG)
    assert code != 0 and "check character" in err and WRONG not in err
    assert stored(world) == {}
    code, out, err = ft("--config", config, "--as", "k_clerk", "household", "add-member",
                        "H-102", "--name", "孙小", "--relation", "子", "--id-number", idn(23),
                        "--json")
    assert code == 0, err
    assert json.loads(out)["household"] == "H-102"
    assert stored(world) == {"孙小": idn(23)}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_15_digit_number_is_kept_as_registered_and_matched_through_its_18_digit_form(
        ft, world, tmp_path, encoding):
    text = MEMBERS.replace(f"H-100,赵小,子,{WRONG},\n", "")
    code, out, err = ft("--as", "k_clerk", "import", "members",
                        write(tmp_path, "m.csv", text, encoding))
    assert code == 0, err
    assert stored(world)["钱二"] == LEGACY                # the registry's own form
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        member = s.execute(select(Member).where(Member.name == "钱二")).scalar_one()
        assert member.id_digest == vault.digest(idn(22))  # matched as the 18-digit form
        assert unsalted(member.birth_digest) == birth_key(vault, idn(22))
        # the readers of the number: the household card prints it as registered, the
        # household view (`household show`) masks it
        card = household_card(s, vault, "H-101", 2024)
        assert card["tables"][1]["rows"] == [["钱二", "户主", LEGACY]]
        view = household_view(s, get_user(s, "k_clerk"), vault, "H-101")
        assert [m["id_number_masked"] for m in view["members"]] == \
            [LEGACY[:6] + "*****" + LEGACY[-4:]]
        assert verify(s).intact
    # the same person in the 18-digit form is the same member: unchanged, and the report says
    # the number in the registry's form is kept
    again = MEMBERS.replace(f"H-100,赵小,子,{WRONG},\n", "").replace(LEGACY, idn(22))
    code, out, err = ft("--as", "k_clerk", "import", "members",
                        write(tmp_path, "m2.csv", again, encoding), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["added"], result["unchanged"]) == (0, 2)
    assert [(r["line"], r["code"]) for r in result["report"]] == [(3, "id_number_form_kept")]
    assert stored(world)["钱二"] == LEGACY
    # a move copies the member as registered, still matched through the 18-digit form
    with transaction(world.factory) as s:
        member_id = s.execute(select(Member.id).where(Member.name == "钱二")).scalar_one()
    code, _out, err = ft("--as", "k_clerk", "household", "move", member_id, "--to", "H-102",
                         "--date", "2024-06-01", "--reason", "投亲")
    assert code == 0, err
    with transaction(world.factory) as s:
        moved = s.execute(select(Member).where(Member.household_code == "H-102")).scalar_one()
        assert vault.decrypt(moved.id_number) == LEGACY
        assert moved.id_digest == vault.digest(idn(22))
        assert unsalted(moved.birth_digest) == birth_key(vault, idn(22))
        assert verify(s).intact


def test_a_deaths_list_with_the_18_digit_number_finds_the_legacy_member(ft, world, tmp_path):
    text = MEMBERS.replace(f"H-100,赵小,子,{WRONG},\n", "")
    code, _out, err = ft("--as", "k_clerk", "import", "members", write(tmp_path, "m.csv", text))
    assert code == 0, err
    town = Town(world)
    town.pay("H-101", 1000_00, dt.date(2024, 5, 20))
    deaths = write(tmp_path, "deaths.csv", f"身份证号,姓名,死亡日期\n{idn(22)},钱二,2024-03-01\n",
                   "gb18030")
    code, _out, err = ft("--as", "p_clerk", "import", "deaths", deaths, "--source", "县民政局",
                         "--snapshot", "2024-12-01")
    assert code == 0, err
    fired = town.fired("BEN-01")
    assert set(fired) == {"household:H-101"}
    assert fired["household:H-101"].evidence["match"]["fields"] == ["id_number"]


def test_a_list_with_the_15_digit_number_finds_an_18_digit_member(ft, world, tmp_path):
    text = MEMBERS.replace(f"H-100,赵小,子,{WRONG},\n", "").replace(LEGACY, idn(22))
    code, _out, err = ft("--as", "k_clerk", "import", "members", write(tmp_path, "m.csv", text))
    assert code == 0, err
    town = Town(world)
    town.pay("H-101", 1000_00, dt.date(2024, 5, 20))
    town.listing(ListKind.DEATHS, [ListRecord(2, "钱二", idn(22), date_from=dt.date(2024, 3, 1))])
    assert set(town.fired("BEN-01")) == {"household:H-101"}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_what_no_column_reads_is_named_in_the_report(ft, world, tmp_path, encoding):
    text = ("户编码,姓名,与户主关系,身份证号,备注,死亡日期,户口本编号\n"
            f"H-100,赵大,户主,{idn(11)},低保户,,{idn(11)}\n"
            ",,,,,,\n"
            f"H-101,钱二,户主,{idn(13)},,,,多出的格\n"
            "\n")
    code, out, err = ft("--as", "k_clerk", "import", "members",
                        write(tmp_path, "m.csv", text, encoding), "--json")
    assert code == 0, err
    report = json.loads(out)["report"]
    assert [(r["line"], r["column"], r["code"], r["params"]) for r in report] == [
        (1, "备注", "column_ignored", {"header": "备注", "position": 5, "cells": 1}),
        (1, "户口本编号", "column_ignored", {"header": "户口本编号", "position": 7, "cells": 1}),
        (1, "", "column_ignored", {"header": "", "position": 8, "cells": 1}),
        (3, "", "lines_blank", {"count": 2, "lines": [3, 5]}),
    ]
    code, out, _err = ft("--as", "k_clerk", "import", "members",
                         write(tmp_path, "m.csv", text, encoding))
    assert "report (4):" in out and "m.csv, line 1, column 备注" in out


def test_external_lists_and_registers_report_what_they_do_not_read(ft, tmp_path):
    deaths = write(tmp_path, "deaths.csv",
                   f"身份证号,姓名,死亡日期,户籍地\n{idn(22)},钱二,2024-03-01,某村\n\n")
    code, out, err = ft("--as", "p_clerk", "import", "deaths", deaths, "--source", "县民政局",
                        "--snapshot", "2024-12-01", "--json")
    assert code == 0, err
    assert [r["code"] for r in json.loads(out)["report"]] == ["column_ignored", "lines_blank"]
    accounts = write(tmp_path, "accounts.csv", "收款人名称,账户类型,账号,户名,联系人\n"
                     "星沙建筑公司,对公,6222021234567890,星沙建筑公司,张经理\n")
    code, out, err = ft("--as", "p_clerk", "import", "payee_accounts", accounts, "--source",
                        "县财政局", "--snapshot", "2024-12-01", "--json")
    assert code == 0, err
    assert [r["params"]["header"] for r in json.loads(out)["report"]] == ["联系人"]


def test_the_setting_is_read_from_the_config_file_and_off_by_default(tmp_path):
    from pathlib import Path

    from ledger.core.config import ConfigError, load_settings
    from ledger.store.context import LedgerContext
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    assert load_settings(example).accept_wrong_check_character is False
    assert LedgerContext.from_settings(load_settings(accepting(tmp_path))) \
        .accept_wrong_check_character is True
    bad = tmp_path / "bad.toml"
    bad.write_text('[imports]\naccept_wrong_check_character = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="must be bool"):
        load_settings(bad)


def test_reading_a_number_marks_a_wrong_check_character_and_keeps_the_registered_form():
    from ledger.core.idcard import IdNumberError, matching_form, normalise, read_number
    from ledger.core.normalise import NumberCharacterError
    assert read_number(LEGACY) == read_number(f" {LEGACY} ")
    assert (read_number(LEGACY).registered, read_number(LEGACY).matching) == (LEGACY, idn(22))
    assert matching_form(LEGACY) == idn(22) and matching_form(idn(22)) == idn(22)
    wrong = read_number(WRONG)
    assert wrong.wrong_check_character and wrong.matching == wrong.registered == WRONG
    with pytest.raises(IdNumberError) as err:
        normalise(WRONG)
    assert err.value.problem == "check_character"
    for bad, problem in ((WRONG[:17], "length"), (WRONG[:10] + "13" + WRONG[12:], "birth_date"),
                         (WRONG[:6] + WRONG[8:16] + "X", "characters")):
        with pytest.raises(IdNumberError) as err:
            read_number(bad)
        assert err.value.problem == problem
    with pytest.raises(NumberCharacterError) as err:   # a letter is named (issue 19)
        read_number(WRONG[:5] + "A" + WRONG[6:])
    assert err.value.params["position"] == 6


def test_a_clerk_is_asked_for_the_id_number_when_the_command_line_leaves_it_out(ft, world,
                                                                                db_url):
    """Typed on the command line, an ID number stays in the shell's history and the process
    list; left out, it is asked for without echo."""
    from click.testing import CliRunner

    from ledger.cli.root import cli as root
    result = CliRunner().invoke(
        root, ["--as", "k_clerk", "household", "add-member", "H-102", "--name", "孙小",
               "--relation", "子"], input=idn(23) + "\n",
        env={"FUNDTRAIL_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    assert idn(23) not in result.output   # not echoed
    assert stored(world) == {"孙小": idn(23)}
