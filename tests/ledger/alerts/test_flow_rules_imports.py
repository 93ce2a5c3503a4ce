"""The columns issue 18 adds to the county's files, read from real files in UTF-8 and GB18030:
发票号 and 合同号 on `payments` (and `pay --invoice --contract`), 实施单位 on `projects`,
合同号, 合同金额 and 付款期数 on `approved_payees` — and the alerts that read them."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ledger.alerts.base import ScanContext
from ledger.alerts.rules import CHECKS
from ledger.alerts.settings import AlertSettings
from ledger.models import PaymentDocument, Project, Transfer
from ledger.registers.payees import ApprovedPayee
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import AS_OF
from tests.ledger.test_import_households import write
from tests.ledger.test_import_movements import _load_down_to_the_county

PAYMENTS = ("资金批次,项目编码,县代码,收款人编码,金额,功能科目,用途,支付日期,凭证号,摘要,"
            "发票号,合同号\n"
            "{lot},,430121,C-001,\"20,000.00\",2130504,infrastructure,2024-04-12,长县付〔2024〕101号,"
            "水泥款,0441 2300 0001,HT-7\n"
            "{lot},,430121,C-001,\"20,000.00\",2130504,infrastructure,2024-06-28,长县付〔2024〕102号,"
            "材料款,０４４１２３０００００１,\n"
            "{lot},,430121,C-001,\"20,000.00\",2130504,infrastructure,2024-07-02,长县付〔2024〕103号,"
            "材料款,044123000002,\n")


def _fired(world, rule_id):
    with transaction(world.factory) as s:
        found = CHECKS[rule_id](ScanContext(s, AlertSettings(), AS_OF, None))
    return {f"{f.entity_kind}:{f.entity_key}": f for f in found}


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_payments_carry_their_invoice_and_contract(cli, world, tmp_path, encoding):
    _load_down_to_the_county(cli, world, tmp_path)
    path = write(tmp_path, "pay.csv", PAYMENTS.format(lot=world.lot_id), encoding)
    code, out, err = cli("--as", "k_clerk", "import", "payments", path)
    assert code == 0 and "3 added" in out, err
    assert cli("--as", "k_approver", "approve", "--file", path, "--kind", "payments")[0] == 0
    with transaction(world.factory) as s:
        docs = {t.idempotency_key: (d.invoice_number, d.contract_number) for d, t in s.execute(
            select(PaymentDocument, Transfer).join(
                Transfer, Transfer.id == PaymentDocument.transfer_id)).all()}
    # spaces dropped, full-width digits read under NFKC: one invoice, written two ways
    assert docs == {"长县付〔2024〕101号": ("044123000001", "HT-7"),
                    "长县付〔2024〕102号": ("044123000001", None),
                    "长县付〔2024〕103号": ("044123000002", None)}
    # the same file again changes nothing; the same voucher with another invoice is refused
    assert "0 added, 3 already" in cli("--as", "k_clerk", "import", "payments", path)[1]
    changed = write(tmp_path, "pay2.csv", PAYMENTS.format(lot=world.lot_id).replace(
        "044123000002", "044123000009"), encoding)
    code, _, err = cli("--as", "k_clerk", "import", "payments", changed)
    assert code == 2 and "pay2.csv, line 4" in err and "invoice" in err
    # 77 days apart, one invoice: DUP-01; the third (another invoice, 4 days after the second,
    # the same item text) is DUP-02's
    with transaction(world.factory) as s:
        ids = dict(s.execute(select(Transfer.idempotency_key, Transfer.id)).all())
    assert set(_fired(world, "DUP-01")) == {f"transfer:{ids['长县付〔2024〕102号']}"}
    assert set(_fired(world, "DUP-02")) == {f"transfer:{ids['长县付〔2024〕103号']}"}


def test_pay_command_takes_invoice_and_contract(cli, world, tmp_path):
    _load_down_to_the_county(cli, world, tmp_path)
    code, out, err = cli("--as", "k_clerk", "pay", "--lot", str(world.lot_id), "--payee",
                         "C-001", "--amount", "1000", "--function-code", "2130504", "--use",
                         "infrastructure", "--county", "430121", "--key", "K-1",
                         "--date", "2024-04-20", "--invoice", "INV 9", "--contract", "HT-9",
                         "--json")
    assert code == 0, err
    with transaction(world.factory) as s:
        doc = s.get(PaymentDocument, json.loads(out)["id"])
        assert (doc.invoice_number, doc.contract_number) == ("INV9", "HT-9")


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_projects_carry_their_implementing_unit(cli, world, tmp_path, encoding):
    text = ("项目编码,项目名称,县代码,功能科目,状态,日期,文号,实施单位\n"
            "XM-2024-09,村道硬化,430121,2130504,入库,2024-03-10,长县振〔2024〕2号,星沙镇人民政府\n"
            "XM-2024-10,蔬菜大棚,430121,2130505,申报,2024-03-01,,\n")
    path = write(tmp_path, "projects.csv", text, encoding)
    code, out, err = cli("--as", "k_clerk", "import", "projects", path)
    assert code == 0, err
    with transaction(world.factory) as s:
        assert s.get(Project, "XM-2024-09").implementing_unit == "星沙镇人民政府"
        assert s.get(Project, "XM-2024-10").implementing_unit is None
    assert cli("--as", "k_clerk", "import", "projects", path)[0] == 0   # unchanged
    other = write(tmp_path, "projects2.csv", text.replace("星沙镇人民政府", "某建筑公司"),
                  encoding)
    code, _, err = cli("--as", "k_clerk", "import", "projects", other)
    assert code == 2 and "projects2.csv, line 2" in err


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_approved_payees_carry_the_contract(cli, world, tmp_path, encoding):
    text = ("项目编码,单位名称,统一社会信用代码,批准日期,截止日期,依据,合同号,合同金额,付款期数\n"
            "P-001,星沙建筑公司,,2024-03-01,2024-12-31,中标通知书 7号,HT 2024 07,"
            "\"1,200,000.00\",3\n"
            "P-001,长沙建材公司,,2024-03-05,,合同,,,\n")
    path = write(tmp_path, "awards.csv", text, encoding)
    args = ["--as", "k_clerk", "import", "approved_payees", path, "--source", "县公共资源交易中心",
            "--snapshot", "2024-12-01"]
    code, out, err = cli(*args)
    assert code == 0, err
    with transaction(world.factory) as s:
        rows = {a.payee_name: a for a in s.execute(select(ApprovedPayee)).scalars()}
    won = rows["星沙建筑公司"]
    assert (won.contract_number, won.contract_amount_fen, won.instalments) == \
        ("HT202407", 1_200_000_00, 3)
    plain = rows["长沙建材公司"]
    assert (plain.contract_number, plain.contract_amount_fen, plain.instalments) == \
        (None, None, None)
    assert "already imported, unchanged" in cli(*args)[1]
    bad = write(tmp_path, "bad.csv", text.replace(",3\n", ",三\n"), encoding)
    code, _, err = cli("--as", "k_clerk", "import", "approved_payees", bad, "--source", "别处",
                       "--snapshot", "2024-12-02")
    assert code == 2 and "bad.csv, line 2" in err and "付款期数" in err
