"""A household's life after registration, from the clerk's command line: exit from poverty,
a death, a split (分户) and a merge (合户) — nothing edited, everything logged."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ledger.audit.verify import verify
from ledger.households.registry import current_status
from ledger.models import HouseholdStatus, Member
from ledger.store.db import transaction
from tests.ledger.test_import_households import HOUSEHOLDS, MEMBERS, idn, write


@pytest.fixture
def ft(cli, db_url, world, monkeypatch, tmp_path):

    run = cli
    assert run("--as", "k_clerk", "import", "households",
               write(tmp_path, "h.csv", HOUSEHOLDS))[0] == 0
    members = MEMBERS + f"H-100,赵二,子,{idn(14, '20000505')},\n"
    assert run("--as", "k_clerk", "import", "members", write(tmp_path, "m.csv", members))[0] == 0
    return run


def members_of(ft, code):
    return {m["name"]: m for m in json.loads(ft("household", "show", code, "--json")[1])["members"]}


def test_exit_death_split_and_merge(ft, world):
    k = ["--as", "k_clerk", "household"]
    assert ft(*k, "status", "H-100", "已脱贫", "--date", "2024-06-30", "--reason",
              "2024年脱贫验收")[0] == 0
    code, _, err = ft(*k, "status", "H-100", "建档立卡", "--date", "2024-07-01", "--reason", "x")
    assert code == 2 and "it can become: cancelled, monitored, removed, returned" in err
    code, _, err = ft(*k, "status", "H-100", "返贫", "--date", "2024-06-01", "--reason", "x")
    assert code == 2 and "cannot be dated 2024-06-01" in err

    ids = {name: m["id"] for name, m in members_of(ft, "H-100").items()}
    assert members_of(ft, "H-100")["赵大"]["id_number_masked"].startswith("430121")
    assert idn(11) not in ft(*k, "show", "H-100")[1]  # masked, never in full
    assert ft(*k, "died", ids["赵大"], "--date", "2024-08-01")[0] == 0
    code, _, err = ft(*k, "died", ids["赵大"], "--date", "2024-08-02")
    assert code == 2 and "already died on 2024-08-01" in err

    assert ft(*k, "split", "H-100", "--new", "H-100-1", "--member", ids["赵二"],
              "--head", ids["赵二"], "--date", "2024-09-01", "--enrolled-on", "2024-09-01",
              "--reason", "成婚分户")[0] == 0
    new = json.loads(ft(*k, "show", "H-100-1", "--json")[1])
    assert new["status"] == "exited"  # the new household keeps the old one's status
    assert [(m["name"], m["relation"]) for m in new["members"]] == [("赵二", "户主")]
    assert new["links"][0]["kind"] == "split" and new["links"][0]["from"] == "H-100"
    assert members_of(ft, "H-100")["赵二"]["left"] == "moved_out 2024-09-01 → H-100-1"

    code, _, err = ft(*k, "split", "H-100", "--new", "H-100-2", "--member", ids["赵小"],
                      "--head", ids["赵小"], "--date", "2024-09-02", "--not-enrolled",
                      "--reason", "x")
    assert code == 2 and "a split leaves members in H-100" in err  # 赵大 died, 赵二 left

    assert ft(*k, "merge", "H-100-1", "--into", "H-101", "--date", "2024-10-01",
              "--reason", "投亲")[0] == 0
    with transaction(world.factory) as s:
        assert current_status(s, "H-100-1") is HouseholdStatus.CANCELLED
        names = set(s.execute(select(Member.name).where(Member.household_code == "H-101"))
                    .scalars())
        assert names == {"钱二", "赵二"}
        assert verify(s).intact


def test_another_county_cannot_touch_the_household(ft, world):
    ids = {name: m["id"] for name, m in members_of(ft, "H-100").items()}
    code, _, err = ft("--as", "k2_clerk", "household", "died", ids["赵大"], "--date",
                      "2024-08-01")
    assert code == 2 and "may not record" in err
    code, _, err = ft("--as", "k2_clerk", "household", "show", "H-100")
    assert code == 2 and "may not read" in err


def test_removed_households_are_final(ft):
    k = ["--as", "k_clerk", "household", "status", "H-101"]
    assert ft(*k, "清退", "--date", "2024-05-01", "--reason", "识别不精准")[0] == 0
    code, _, err = ft(*k, "返贫", "--date", "2024-06-01", "--reason", "x")
    assert code == 2 and "it can become: none" in err


def test_nobody_joins_a_removed_household(ft):
    assert ft("--as", "k_clerk", "household", "status", "H-100", "清退", "--date", "2024-05-01",
              "--reason", "识别不精准")[0] == 0
    code, _, err = ft("--as", "k_clerk", "household", "merge", "H-101", "--into", "H-100",
                      "--date", "2024-06-01", "--reason", "x")
    assert code == 2 and "household H-100 is removed; members cannot join it" in err
    ids = {name: m["id"] for name, m in members_of(ft, "H-101").items()}
    code, _, err = ft("--as", "k_clerk", "household", "move", ids["钱二"], "--to", "H-102",
                      "--date", "2019-01-01", "--reason", "x")
    assert code == 2 and "was registered on 2021-06-01; nobody can join it on 2019-01-01" in err
