"""The command line's help is Chinese by default and English with FUNDTRAIL_LANG=en (issue 20).

Help texts are translated when a command's module is imported, so each check runs the command
line in its own process, started under the language it is about, as a person's shell would.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

CJK = re.compile(r"[\u3400-\u9fff]")


def _run(lang: str | None, *argv: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "FUNDTRAIL_LANG"}
    if lang:
        env["FUNDTRAIL_LANG"] = lang
    done = subprocess.run([sys.executable, "-m", "ledger.cli.root", *argv], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _flat(text: str) -> str:
    """The help with click's line wrapping undone."""
    return " ".join(text.split())


def test_root_help_in_english():
    out = _flat(_run("en", "--help"))
    assert "poverty-alleviation special funds, traced from appropriation to household" in out
    assert "roll Household payment rolls (公示清册)" in out
    assert "Who is acting (username)." in out
    assert "谁在操作" not in out and "农户补助公示清册" not in out


def test_roll_help_in_english():
    out = _flat(_run("en", "roll", "--help"))
    assert "Household payment rolls" in out
    assert "approve Approve a roll after its publicity window" in out
    assert "object Record an objection to a household's line" in out
    out = _flat(_run("en", "roll", "create", "--help"))
    assert "The lot: its id, or the document number (文号) that opened it." in out
    assert "--lot" in out and "--standard" in out  # option names stay as scripts use them


@pytest.mark.chinese
def test_root_help_in_chinese_by_default():
    out = _run(None, "--help")
    assert "扶贫专项资金，从拨款追踪到农户" in out
    assert "农户补助公示清册：创建、公示、审核、发送、对账。" in out
    assert "谁在操作（用户名）。" in out
    assert "Household payment rolls" not in out and "Who is acting" not in out
    # Every command listed has a summary in Chinese (none cut down to "...").
    listed = out.split("Commands:")[1].strip().splitlines()
    for line in listed:
        if line.startswith("  ") and not line.startswith("   "):
            name, _, summary = line.strip().partition(" ")
            assert CJK.search(summary), line


@pytest.mark.chinese
def test_roll_help_in_chinese_by_default():
    out = _run(None, "roll", "--help")
    assert "公示期满后审核清册（不能由创建人审核）。" in out
    assert "登记对某户一行的异议（暂停该行）。" in out
    out = _run(None, "roll", "create", "--help")
    assert "批次：其编号，或开设它的文号。" in out
    assert "--lot" in out and "--standard" in out
