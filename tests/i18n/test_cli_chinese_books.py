"""The books as the command line prints them in Chinese (issue 20): a transfer listed, shown,
approved and balanced, with its state and kind in Chinese and money in 元; English lines are
those of tests/test_cli.py, unchanged."""
from __future__ import annotations

import json

import pytest

from tests.test_cli import ft  # noqa: F401 - the command line on a small world
from tests.world import PROVINCE

pytestmark = pytest.mark.chinese


def test_a_transfer_listed_shown_approved_and_balanced_in_chinese(ft):  # noqa: F811
    code, out, err = ft("--as", "p_clerk", "allocate", "--lot", str(ft.lot), "--from", PROVINCE,
                        "--to", "430100", "--amount", "12345.67", "--key", "湘财〔2024〕7号",
                        "--date", "2024-03-20", "--json")
    assert code == 0, err
    transfer = json.loads(out)["id"]
    code, out, err = ft("transfer", "list", "--pending")
    line = next(line for line in out.splitlines() if line.startswith(f"#{transfer} "))
    assert "待审核" in line and "12,345.67 元" in line and "凭证号 湘财〔2024〕7号" in line
    assert "pending" not in line and " by " not in line
    code, out, err = ft("transfer", "show", str(transfer))
    assert code == 0, err
    assert out.startswith(f"转账 #{transfer} ") and "12,345.67 元" in out and "待审核" in out
    assert "记账日期  2024-03-20" in out and "录入日期" in out
    code, out, err = ft("--as", "p_approver", "approve", str(transfer))
    assert code == 0 and out.strip() == f"转账 #{transfer} 已审核", err
    code, out, err = ft("trial-balance")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["批次名称", "账户（类型:持有方）", "借方（元）",
                                           "贷方（元）"]
    assert out.strip().endswith("借贷平衡")
    code, out, err = ft("transfer", "list", "--pending")
    assert code == 0 and out.strip() == "无待审核转账", err


def test_a_bad_date_is_refused_in_chinese(ft):  # noqa: F811
    code, _, err = ft("trial-balance", "--as-of", "2024-13-45")
    assert code == 2
    assert "不是 2024-03-31 这样的日期" in err
