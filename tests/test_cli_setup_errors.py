"""What a new user meets before anything is configured (issue 20): a command run without a
database configured is refused with the setting it needs and creates nothing; a missing
passphrase with no terminal to ask on is one line, not getpass's GetPassWarning."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(cwd: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRAIL_")}
    env.update(PYTHONPATH=str(ROOT), **env_extra)
    return subprocess.run([sys.executable, "-m", "ledger.cli.root", *args], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [("balances",), ("db", "upgrade"), ("verify",),
                                  ("demo", "--households", "5")])
def test_no_database_configured_is_refused_and_nothing_is_created(tmp_path, args):
    r = run(tmp_path, *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert list(tmp_path.iterdir()) == []          # no stray fundtrail.db (or -wal, -shm)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.index("未配置数据库") < line.index(" / ") < line.index("no database configured")
    for setting in ("--config", "[database] url", "FUNDTRAIL_DATABASE_URL"):
        assert setting in line
    assert "Traceback" not in r.stderr


def test_a_config_file_without_database_url_is_named(tmp_path):
    (tmp_path / "site.toml").write_text('[audit]\nlog_origin = "x.example/y"\n',
                                        encoding="utf-8")
    r = run(tmp_path, "--config", "site.toml", "balances")
    assert r.returncode == 2
    assert "site.toml" in r.stderr and "[database] url" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.toml"]


def test_the_configured_database_still_works(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    r = run(tmp_path, "db", "upgrade", FUNDTRAIL_DATABASE_URL=url)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ledger.db").exists()


@pytest.mark.parametrize("args, variable", [
    (("keygen", "--kind", "log", "--out", "log.key"), "FUNDTRAIL_SIGNING_PASSPHRASE"),
    (("key", "new", "--user", "li", "--out", "li.key"), "FUNDTRAIL_KEY_PASSPHRASE"),
])
def test_missing_passphrase_without_a_terminal_is_one_clear_line(tmp_path, args, variable):
    for language, words in ((None, "缺少口令"), ("en", "passphrase missing")):
        r = run(tmp_path, *args, **({"FUNDTRAIL_LANG": language} if language else {}))
        assert r.returncode == 2
        assert "GetPassWarning" not in r.stderr and "Traceback" not in r.stderr
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, r.stderr
        assert words in lines[0] and variable in lines[0]
        assert list(tmp_path.iterdir()) == []      # no key file written without a passphrase
