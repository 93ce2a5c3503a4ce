"""The command-line contract: commands, --json, exit codes 0/1/2, clear errors."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import text

from ledger.cli.root import main
from tests.conftest import second_eyes
from tests.world import COUNTY, PROVINCE, VILLAGE


@pytest.fixture
def ft(db_url, world, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)

    def run(*args):
        code = main(list(args))
        out = capsys.readouterr()
        if code == 0:
            second_eyes(list(args), out.out, main, capsys)
        return code, out.out, out.err
    run.lot = world.lot_id
    return run


def test_record_approve_and_report_with_json(ft):
    code, out, _ = ft("--as", "p_clerk", "allocate", "--lot", str(ft.lot), "--from", PROVINCE,
                      "--to", "430100", "--amount", "¥12,345.67", "--key", "湘财〔2024〕1号",
                      "--date", "2024-03-20", "--json")
    assert code == 0
    transfer = json.loads(out)
    assert transfer["amount_fen"] == 1234567 and transfer["kind"] == "allocate"
    assert ft("--as", "p_approver", "approve", str(transfer["id"]))[0] == 0
    code, out, _ = ft("balances", "--kind", "unit", "--json")
    held = {r["holder"]: r["balance"] for r in json.loads(out)}
    assert held["430100"] == 1234567
    code, out, _ = ft("trial-balance", "--json")
    tb = json.loads(out)
    assert code == 0 and tb["balanced"] and tb["total_debits_fen"] == tb["total_credits_fen"]
    code, out, _ = ft("trial-balance", "--as-of", "2024-03-19", "--json")
    held = {r["holder"] for r in json.loads(out)["accounts"]}
    assert "430100" not in held  # the allocation is dated the 20th


@pytest.mark.parametrize("args,message", [
    (["--amount", "12.345"], "smaller than one fen"),
    (["--amount", "-5"], "negative"),
    (["--amount", "abc"], "not an amount"),
    (["--amount", "5", "--date", "2024-02-30"], "not a date"),
])
def test_bad_input_exits_2_with_a_clear_message(ft, args, message):
    base = ["--as", "p_clerk", "allocate", "--lot", str(ft.lot), "--from", PROVINCE,
            "--to", "430100", "--key", "k"]
    amount_given = "--amount" in args
    code, _, err = ft(*base, *args, *([] if amount_given else ["--amount", "1"]))
    assert code == 2 and message in err


def test_refusals_exit_2_and_name_the_problem(ft):
    code, _, err = ft("--as", "p_clerk", "allocate", "--lot", str(ft.lot), "--from", PROVINCE,
                      "--to", "430100", "--amount", "99999999", "--key", "big")
    assert code == 2 and "error:" in err and "cannot pay out" in err
    code, _, err = ft("--as", "nobody", "allocate", "--lot", str(ft.lot), "--from", PROVINCE,
                      "--to", "430100", "--amount", "1", "--key", "k")
    assert code == 2 and "user 'nobody' does not exist" in err
    code, _, err = ft("allocate", "--lot", str(ft.lot), "--from", PROVINCE, "--to", "430100",
                      "--amount", "1", "--key", "k")
    assert code == 2 and "--as USERNAME" in err
    code, _, err = ft("--as", "k_clerk", "pay", "--lot", str(ft.lot), "--payee", "H-001",
                      "--amount", "10", "--function-code", "2130505", "--use", "bonuses",
                      "--county", COUNTY, "--key", "p")
    assert code == 2 and "prohibited list" in err


def test_unbalanced_books_exit_1(ft, engine):
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER postings_no_update"))
        conn.execute(text("UPDATE postings SET amount_fen = amount_fen + 1 WHERE id = 1"))
    code, out, _ = ft("trial-balance")
    assert code == 1 and "NOT BALANCED" in out
    code, out, _ = ft("verify", "--json")
    report = json.loads(out)
    assert code == 1 and not report["intact"]
    assert any(f["table"] == "postings" and f["fields"] == ["amount_fen"]
               for f in report["findings"])


def test_verify_intact_exits_0(ft):
    code, out, _ = ft("verify")
    assert code == 0 and out.startswith("intact:")


def test_usage_errors_exit_2(ft):
    assert ft("no-such-command")[0] == 2
    assert ft("allocate", "--lot", "x")[0] == 2


def test_old_spellings_still_work_beside_the_noun_verb_groups(ft, monkeypatch):
    """`project add` is the spelling now; scripts that say `project-add` keep working."""
    def both(actor, new, old, args, said):
        for n, spelling in enumerate((new, old)):
            code, out, err = ft("--as", actor, *spelling, *args(n))
            assert code == 0, (spelling, err)
            expected = said(n)
            if isinstance(expected, re.Pattern):
                assert expected.fullmatch(out.rstrip("\n")), out
            else:
                assert out == expected + "\n"

    both("admin", ["region", "add"], ["region-add"],
         lambda n: [f"43012100{n + 2}", f"新镇{n}", "--level", "township", "--parent", COUNTY],
         lambda n: f"region 43012100{n + 2} 新镇{n} added")
    both("admin", ["user", "add"], ["user-add"],
         lambda n: [f"new{n}", "--name", "新人", "--role", "clerk", "--region", COUNTY],
         # with two administrators (the harness's key officer) it is a request, approved
         # by the other (tests/conftest.py, second_eyes)
         lambda n: re.compile(rf"request (\d+) \(user\.create new{n}\) filed; it takes effect "
                              r"when another administrator runs: fundtrail --as <them> user "
                              r"approve \1"))
    both("k_clerk", ["project", "add"], ["project-add"],
         lambda n: [f"P-10{n}", "蔬菜大棚", "--county", COUNTY, "--function-code", "2130505"],
         lambda n: f"project P-10{n} registered")
    both("k_clerk", ["payee", "add"], ["payee-add"],
         lambda n: [f"H-10{n}", "赵六", "--kind", "household", "--region", VILLAGE],
         lambda n: f"payee H-10{n} registered")

    from ledger.org import signin
    monkeypatch.setattr(signin, "SCRYPT_N", 2**10)  # the cost of hashing is not tested here
    monkeypatch.setenv("FUNDTRAIL_USER_PASSWORD", "a-password-long-enough")
    both("admin", ["user", "password"], ["user-password"], lambda n: [f"new{n}"],
         lambda n: re.compile(rf"request (\d+) \(user\.password_reset new{n}\) filed; it "
                              r"takes effect when another administrator runs: fundtrail --as "
                              r"<them> user approve \1"))

    assert ft("complaints", "stats", "--county", COUNTY, "--json")[1] \
        == ft("complaint", "stats", "--county", COUNTY, "--json")[1]
    # Usage errors too are the same under both spellings.
    assert ft("--as", "k_clerk", "project-add")[0] == 2
    assert ft("--as", "k_clerk", "project", "add")[0] == 2


def test_console_script_end_to_end(tmp_path):
    """The installed `fundtrail` script on a new SQLite file: keys, init, record, approve,
    report — the enrolment procedure of docs/signatures.md as officers follow it."""
    exe = shutil.which("fundtrail") or os.path.join(os.path.dirname(sys.executable), "fundtrail")
    env = dict(os.environ, FUNDTRAIL_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
               FUNDTRAIL_KEY_DIR=str(tmp_path / "keys"))
    (tmp_path / "keys").mkdir()

    def run(*args):
        return subprocess.run([exe, *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
    assert run("db", "upgrade").returncode == 0
    assert run("key", "new", "--user", "admin", "--out", "keys/admin.key").returncode == 0
    assert run("init", "--province-code", "430000", "--province-name", "湖南省",
               "--admin", "admin").returncode == 0
    # the first administrator adds the second alone (setup, docs/administration.md)
    assert run("--as", "admin", "user", "add", "admin2", "--name", "admin2", "--role", "admin",
               "--region", "430000").returncode == 0
    assert run("key", "new", "--user", "admin2", "--out", "keys/admin2.key").returncode == 0
    # the second administrator asks for their own first key; the first approves it
    assert run("--as", "admin2", "key", "request", "keys/admin2.key.request").returncode == 0
    assert run("--as", "admin", "key", "approve", "1").returncode == 0
    # from two administrators on, adding a user is a request that the other approves
    for number, (user, role) in enumerate((("clerk", "clerk"), ("checker", "approver")), 1):
        filed = run("--as", "admin", "user", "add", user, "--name", user, "--role", role,
                    "--region", "430000")
        assert filed.returncode == 0 and filed.stdout.startswith(f"request {number} ")
        assert run("--as", "admin", "user", "approve", str(number)).returncode == 2  # 4 eyes
        assert run("--as", "admin2", "user", "approve", str(number)).returncode == 0
        assert run("key", "new", "--user", user, "--out", f"keys/{user}.key").returncode == 0
    for number, user in ((2, "clerk"), (3, "checker")):
        assert run("--as", "admin", "key", "request", f"keys/{user}.key.request") \
            .returncode == 0
        assert run("--as", "admin", "key", "approve", str(number)).returncode == 2  # 4 eyes
        assert run("--as", "admin2", "key", "approve", str(number)).returncode == 0
    r = run("--as", "clerk", "appropriate", "--doc", "财农〔2024〕1号", "--source-level",
            "central", "--year", "2024", "--title", "衔接资金", "--function-code", "2130505",
            "--use", "industry", "--amount", "1,000.00", "--region", "430000", "--json")
    assert r.returncode == 0, r.stderr
    tid = json.loads(r.stdout)["id"]
    assert run("--as", "clerk", "approve", str(tid)).returncode == 2  # maker–checker
    assert run("--as", "checker", "approve", str(tid)).returncode == 0
    r = run("trial-balance", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["total_debits_fen"] == 100000
    r = run("verify")
    assert r.returncode == 0 and "personal signatures: 14 entries signed" in r.stdout, r.stdout


@pytest.mark.chinese
def test_opening_a_lot_prints_its_id_and_lots_lists_it(ft):
    code, out, _ = ft("--as", "p_clerk", "appropriate", "--doc", "财农〔2025〕7号",
                      "--source-level", "central", "--year", "2025", "--title", "中央衔接资金",
                      "--function-code", "2130505", "--use", "industry",
                      "--amount", "1,234,567.89", "--region", PROVINCE, "--date", "2025-03-01")
    assert code == 0
    lot_line, transfer_line = out.splitlines()[:2]
    lot_id = int(re.match(r"资金批次 #(\d+) 已开立：财农〔2025〕7号", lot_line).group(1))
    assert lot_line.endswith("（2025 年，1,234,567.89 元）")
    tid = int(re.match(r"转账 #(\d+)", transfer_line).group(1))
    # --json gives the same ids to a script (the README's tour reads them so)
    code, out, _ = ft("transfer", "show", str(tid), "--json")
    assert json.loads(out)["lot_id"] == lot_id
    code, out, _ = ft("lots")
    heading, *rows = out.splitlines()
    assert heading.split() == ["批次", "文号", "级次", "年度", "金额（元）", "未支出（元）", "名称"]
    mine = next(r for r in rows if r.startswith(f"#{lot_id} "))
    # pending: not yet unspent money of anyone
    assert mine.split()[1:6] == ["财农〔2025〕7号", "中央", "2025", "1,234,567.89", "0.00"]
    assert ft("--as", "p_approver", "approve", str(tid))[0] == 0
    code, out, _ = ft("lots", "--year", "2025", "--json")
    assert code == 0 and json.loads(out) == [{
        "id": lot_id, "doc_number": "财农〔2025〕7号", "source_level": "central", "year": 2025,
        "title": "中央衔接资金", "region": PROVINCE, "amount_fen": 123456789,
        "unspent_fen": 123456789}]
    # a county sees only the lots that reached it
    code, out, _ = ft("--as", "k_clerk", "lots", "--json")
    assert code == 0 and lot_id not in {r["id"] for r in json.loads(out)}
