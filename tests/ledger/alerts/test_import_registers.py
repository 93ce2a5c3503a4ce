"""`fundtrail import approved_payees|payee_accounts|unit_receipts FILE --source --snapshot`:
the payee registers of DIV-02/03/05 import like the external lists — idempotent, all or
nothing, personal data encrypted with its digest, only an account's last four digits kept."""
from __future__ import annotations

from sqlalchemy import select

from ledger.core.pii import PiiVault
from ledger.registers.payees import ApprovedPayee, PayeeAccount, PayeeRegister, UnitReceipt
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import idn
from tests.ledger.test_import_households import write

FILES = {
    "approved_payees": "项目编码,单位名称,统一社会信用代码,批准日期,截止日期,依据\n"
                       "P-001,星沙建筑公司,91430121MA4L000000,2024-03-01,,中标通知书 7号\n",
    "payee_accounts": "收款人名称,账户类型,账号,开户行,户名,户主身份证号\n"
                      f"星沙建筑公司,对公,6222 0212 3456 7890 123,农商行,星沙建筑公司,\n"
                      f"李记工程队,个人,6222021234560009,农商行,李某,{idn(9)}\n",
    "unit_receipts": "到账日期,金额,付款人名称,收款户名,收款单位区划,收款人身份证号,摘要,流水号\n"
                     "2024-06-20,\"9,000.00\",星沙建筑公司,长沙县财政局,430121,,往来款,B1\n"
                     f"2024-06-21,800.00,星沙建筑公司,罗某,,{idn(8)},转账,B2\n",
}


def test_every_register_imports_once(cli, world, tmp_path):
    for kind, text in FILES.items():
        path = write(tmp_path, f"{kind}.csv", text)
        args = ["--as", "k_clerk", "import", kind, path, "--source", "县公共资源交易中心",
                "--snapshot", "2024-12-01"]
        code, out, err = cli(*args)
        assert code == 0, err
        code, out, _ = cli(*args)
        assert code == 0 and "already imported, unchanged" in out
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        assert {r.kind.value for r in s.execute(select(PayeeRegister)).scalars()} == set(FILES)
        award = s.execute(select(ApprovedPayee)).scalar_one()
        assert (award.project_code, award.payee_name, str(award.approved_on)) == \
            ("P-001", "星沙建筑公司", "2024-03-01")
        accounts = {a.payee_name: a for a in s.execute(select(PayeeAccount)).scalars()}
        assert accounts["星沙建筑公司"].account_last4 == "0123"
        assert not accounts["星沙建筑公司"].personal
        private = accounts["李记工程队"]
        assert private.personal and private.account_last4 == "0009"
        assert idn(9) not in private.holder_id_number  # encrypted at rest
        assert private.holder_digest == vault.digest(idn(9))
        receipts = s.execute(select(UnitReceipt).order_by(UnitReceipt.line_no)).scalars().all()
        assert [r.amount_fen for r in receipts] == [9_000_00, 800_00]
        assert receipts[0].receiver_region == "430121"
        assert receipts[1].receiver_digest == vault.digest(idn(8))


def test_bad_register_lines_import_nothing(cli, world, tmp_path):
    bad = write(tmp_path, "acc.csv", "收款人名称,账户类型,账号,户名,户主身份证号\n"
                "甲,个人,6222021234560009,张某,\n乙,私人,12,乙,\n")
    code, _, err = cli("--as", "k_clerk", "import", "payee_accounts", bad, "--source", "x",
                       "--snapshot", "2024-12-01")
    assert code == 2 and "acc.csv, line 3, column 账户类型" in err \
        and "line 3, column 账号" in err
    bad = write(tmp_path, "rec.csv", "到账日期,金额,付款人名称,收款户名\n2024-06-20,-5,甲,乙\n")
    code, _, err = cli("--as", "k_clerk", "import", "unit_receipts", bad, "--source", "x",
                       "--snapshot", "2024-12-01")
    assert code == 2 and "line 2, column 金额" in err
    missing = write(tmp_path, "rec2.csv", "到账日期,金额,付款人名称,收款户名\n2024-06-20,5,甲,乙\n")
    code, _, err = cli("--as", "k_clerk", "import", "unit_receipts", missing, "--source", "x",
                       "--snapshot", "2024-12-01")
    assert code == 2 and "line 2, column 收款单位区划" in err
    holderless = write(tmp_path, "acc2.csv",
                       "收款人名称,账户类型,账号,户名\n甲,个人,62220212,张某\n")
    code, _, err = cli("--as", "k_clerk", "import", "payee_accounts", holderless, "--source",
                       "x", "--snapshot", "2024-12-01")
    assert code == 2 and "line 2, column 户主身份证号" in err
    with transaction(world.factory) as s:
        assert s.execute(select(PayeeRegister)).first() is None
