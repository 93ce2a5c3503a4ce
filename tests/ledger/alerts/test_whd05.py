"""WHD-05 on real bank result files: the bank paid another account, name or amount than the
posted roll line, or a line the roll never posted. Loaded through the documented commands
(import-bank-results) and raised by `alerts scan`, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest

from tests.ledger.test_bank_results import HEADER, import_results, sent_roll
from tests.ledger.test_import_households import write
from tests.ledger.test_rolls import county_with_households


@pytest.fixture
def ft(cli, db_url, world, tmp_path):
    return county_with_households(cli, world, tmp_path)


def test_whd05_raises_each_line_the_bank_paid_otherwise_than_the_roll(ft, world, tmp_path):
    sent_roll(ft, tmp_path, "R-W", "户编码,数量\nH-100,1\nH-101,1\nH-104,1\n")
    results = write(tmp_path, "回盘.csv", HEADER +
                    # as posted: no alert
                    "1,H-100,500.00,500.00,成功,,B1,2024-04-02,赵大,6222021234567890123\n"
                    # another account
                    "2,H-101,500.00,500.00,成功,,B2,2024-04-02,钱二,6222000000000000777\n"
                    # credited short only: WHD-01's question, not WHD-05's
                    "3,H-104,500.00,495.00,成功,手续费,B3,2024-04-02,周五,\n"
                    # a line the roll never had, paid
                    "8,H-103,300.00,300.00,成功,,B8,2024-04-02,李四,\n"
                    # a line the roll never had, failed: nothing was paid
                    "9,H-103,300.00,0,失败,户名不符,,2024-04-02,李四,\n", "gb18030")
    assert import_results(ft, results, "R-W")["differences"] == 4
    code, out, err = ft("--as", "auditor", "alerts", "scan", "--as-of", "2024-12-31",
                        "--json")
    assert code == 1, err
    found = {a["entity"]: a for a in json.loads(out)["open"] if a["rule_id"] == "WHD-05"}
    assert set(found) == {"roll_line:R-W:2", "roll_line:R-W:8"}
    evidence = found["roll_line:R-W:2"]["evidence"]
    assert evidence["differences"] == ["other_account"] and evidence["file"] == "回盘.csv"
    assert evidence["account_last4"] == "0777" and evidence["file_line"] == 3
    assert "6222000000000000777" not in out   # the account is never shown whole
    assert found["roll_line:R-W:8"]["amount_at_risk_fen"] == 300_00
