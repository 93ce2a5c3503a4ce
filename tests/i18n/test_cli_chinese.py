"""The command line as a county's staff use it: Chinese by default, money in 元 (docs/i18n.md).

These tests run in the default language (`@pytest.mark.chinese`): what a finance officer reads
after a change, a refusal, and a file with mistakes in it.
"""
from __future__ import annotations

import re

import pytest

from tests.test_cli import ft  # noqa: F401 - the command line on a small world
from tests.world import COUNTY, PROVINCE

pytestmark = pytest.mark.chinese
CJK = re.compile(r"[\u3400-\u9fff]")


def test_a_change_is_confirmed_in_chinese_with_yuan(ft):  # noqa: F811
    code, out, err = ft("--as", "p_clerk", "allocate", "--lot", str(ft.lot), "--from", PROVINCE,
                        "--to", "430100", "--amount", "12345.67", "--key", "湘财〔2024〕9号",
                        "--date", "2024-03-20")
    assert code == 0, err
    assert "12,345.67 元" in out and "已录入" in out and "待审核" in out
    code, out, err = ft("--as", "admin", "region", "add", "430121009", "新镇", "--level",
                        "township", "--parent", COUNTY)
    assert code == 0 and out.strip() == "已添加区域 430121009 新镇", err


def test_a_refusal_reads_in_chinese_with_yuan(ft):  # noqa: F811
    code, _, err = ft("--as", "p_clerk", "allocate", "--lot", str(ft.lot), "--from", PROVINCE,
                      "--to", "430100", "--amount", "99999999", "--key", "big")
    assert code == 2
    line = err.strip().splitlines()[0]
    assert line.startswith("错误：") and "元" in line and CJK.search(line[3:])
    assert "fen" not in line and "cannot" not in line


def test_a_file_with_mistakes_names_each_line_and_column_in_chinese(ft, tmp_path):  # noqa: F811
    bad = tmp_path / "regions.csv"
    bad.write_text("区划代码,名称,级别,上级代码\n430121010,新村,village,430121001\n"
                   "430121011,错村,大村,430121001\n", encoding="utf-8")
    code, _, err = ft("--as", "admin", "import", "regions", str(bad))
    assert code == 2
    assert err.startswith("错误：")
    assert "regions.csv，第 3 行" in err and "列" in err
