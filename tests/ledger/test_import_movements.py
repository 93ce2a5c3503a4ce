"""Money movements as files (issue 17, onboarding in one load): `allocations`,
`project_funding` and `payments` imported from real files (GB18030 and UTF-8 CSV, XLSX) from the
command line, listed as pending, and approved a file at a time by a colleague; on SQLite and
PostgreSQL."""
from __future__ import annotations

import json

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from ledger.models import Approval, AuditEntry, Transfer
from ledger.store.db import transaction
from tests.ledger.test_import_households import write

PROVINCE_FILE = ("资金批次,拨出区划,拨入区划,金额,下达日期,凭证号,摘要\n"
                 "财农〔2024〕12号,430000,430100,\"600,000.00\",2024-03-20,湘财农〔2024〕101号,"
                 "切块到市\n")
CITY_ROWS = [["lot", "from_region", "to_region", "amount", "date", "voucher"],
             [None, "430100", "430121", "400000", "2024-03-25", "长财农〔2024〕7号"],
             [None, "430100", "430122", "150,000.00", "2024/3/26", "长财农〔2024〕8号"]]
FUNDING_FILE = ("资金批次,项目编码,金额,安排日期,凭证号\n"
                "财农〔2024〕12号,P-001,200000,2024-04-01,长县财农〔2024〕3号\n")
PAYMENTS_FILE = ("lot,project,county,payee,amount,function_code,use,date,voucher,memo\n"
                 "{lot},P-001,,H-001,3000,2130505,产业发展,2024-04-10,长县付〔2024〕001号,大棚补助\n"
                 "{lot},P-001,,H-002,2500.50,2130505,industry,2024-04-11,长县付〔2024〕002号,\n"
                 "{lot},,430121,C-001,\"50,000\",2130504,infrastructure,2024-04-12,"
                 "长县付〔2024〕003号,村道硬化\n")


def _xlsx(path, rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.fixture
def ft(cli, world):
    return cli


def _count(world, what, *where):
    with transaction(world.factory) as s:
        return s.execute(select(func.count()).select_from(what).where(*where)).scalar_one()


def _load_down_to_the_county(ft, world, tmp_path):
    prov = write(tmp_path, "prov.csv", PROVINCE_FILE, "gb18030")
    code, out, err = ft("--as", "p_clerk", "import", "allocations", prov)
    assert code == 0 and out.startswith("allocations: 1 added, 0 already"), err
    code, out, err = ft("--as", "p_approver", "approve", "--file", prov, "--kind",
                        "allocations")
    assert code == 0 and "1 transfers approved" in out, err
    rows = [r[:] for r in CITY_ROWS]
    for row in rows[1:]:
        row[0] = world.lot_id
    city = _xlsx(tmp_path / "city.xlsx", rows)
    code, out, err = ft("--as", "c_clerk", "import", "allocations", city)
    assert code == 0 and "2 added" in out, err
    code, out, err = ft("--as", "c_approver", "approve", "--file", city, "--kind",
                        "allocations", "--comment", "已核", "--json")
    assert code == 0 and len(json.loads(out)["approved"]) == 2, err
    return prov, city


def test_a_county_loads_its_movements_lists_them_and_approves_each_file(ft, world, tmp_path):
    prov, city = _load_down_to_the_county(ft, world, tmp_path)
    # the same files again change nothing, and approving again approves nothing new
    assert "0 added, 1 already present" in ft("--as", "p_clerk", "import", "allocations",
                                              prov)[1]
    code, out, _ = ft("--as", "c_approver", "approve", "--file", city, "--kind", "allocations")
    assert code == 0 and "0 transfers approved, 2 approved before" in out

    funding = write(tmp_path, "funding.csv", FUNDING_FILE, "gb18030")
    code, out, err = ft("--as", "k_clerk", "import", "project_funding", funding)
    assert code == 0 and "1 added" in out, err
    # maker–checker holds for a file: the clerk cannot approve what the file recorded
    code, _, err = ft("--as", "k_clerk", "approve", "--file", funding, "--kind",
                      "project_funding")
    assert code == 2 and "may not approve" in err
    assert ft("--as", "k_approver", "approve", "--file", funding, "--kind",
              "project_funding")[0] == 0
    payments = write(tmp_path, "payments.csv", PAYMENTS_FILE.format(lot=world.lot_id))
    code, out, err = ft("--as", "k_clerk", "import", "payments", payments)
    assert code == 0 and "3 added" in out, err

    # the approver sees what waits: who recorded it, kind, amount in 元, date, memo
    code, out, err = ft("--as", "k_approver", "transfer", "list", "--pending", "--json")
    pending = json.loads(out)
    assert code == 0 and [p["kind"] for p in pending] == ["pay", "pay", "pay"]
    assert {p["recorded_by"] for p in pending} == {"k_clerk"}
    assert pending[0]["amount"] == "3,000.00" and pending[0]["memo"] == "大棚补助"
    assert pending[2]["effective_date"] == "2024-04-12" and pending[2]["state"] == "pending"
    text = ft("--as", "k_approver", "transfer", "list", "--pending")[1]
    assert "长县付〔2024〕003号" in text and "by k_clerk" in text and "50,000.00 元" in text
    # another county's approver sees none of it; the province's sees it under --region
    assert ft("--as", "k2_approver", "transfer", "list", "--pending")[1].strip() \
        == "nothing pending"
    assert len(json.loads(ft("--as", "p_approver", "transfer", "list", "--pending",
                             "--region", "430121", "--json")[1])) == 3

    approvals = _count(world, Approval)
    entries = _count(world, AuditEntry)
    code, out, err = ft("--as", "k_approver", "approve", "--file", payments, "--kind",
                        "payments")
    assert code == 0 and "3 transfers approved" in out, err
    # each approval its own row and its own audit entry
    assert _count(world, Approval) == approvals + 3
    assert _count(world, AuditEntry) == entries + 3
    assert ft("--as", "k_approver", "transfer", "list", "--pending")[1].strip() \
        == "nothing pending"
    code, out, _ = ft("--as", "k_approver", "balances", "--kind", "payee", "--json")
    held = {r["holder"]: r["balance"] for r in json.loads(out)}
    assert held == {"H-001": 3000_00, "H-002": 2500_50, "C-001": 50_000_00}


def test_a_voucher_number_is_read_under_nfkc_and_is_the_key(ft, world, tmp_path):
    _load_down_to_the_county(ft, world, tmp_path)
    text = FUNDING_FILE.replace("长县财农〔2024〕3号", "长县财农〔２０２４〕３号").replace(
        "P-001", "Ｐ-００１")
    assert "1 added" in ft("--as", "k_clerk", "import", "project_funding",
                           write(tmp_path, "a.csv", text, "gb18030"))[1]
    again = write(tmp_path, "b.csv", FUNDING_FILE)
    assert "0 added, 1 already" in ft("--as", "k_clerk", "import", "project_funding", again)[1]
    # the same voucher with another amount names what differs, at the voucher's column
    other = write(tmp_path, "c.csv", FUNDING_FILE.replace("200000", "210000"))
    code, _, err = ft("--as", "k_clerk", "import", "project_funding", other)
    assert code == 2 and "c.csv, line 2, column 凭证号" in err and "amount_fen" in err


@pytest.mark.parametrize("change,where", [
    (lambda t: t.replace("2500.50", "2500.505"), "line 3, column 金额"),
    (lambda t: t.replace("2024-04-11", "2024-13-11"), "line 3, column 支付日期"),
    (lambda t: t.replace("长县付〔2024〕002号", "长县付〔2024〕001号"),
     "line 3, column 凭证号: also on line 2"),
    (lambda t: t.replace(",,430121,", ",P-001,430121,"), "line 4, column 项目编码"),
    (lambda t: t.replace("H-002", "H-999"), "line 3, column 收款人编码"),
    (lambda t: t.replace("\"50,000\"", "\"5,000,000\""), "line 4, column 金额"),  # overdraft
    (lambda t: t.replace("2130504,infrastructure", "2130504,bonuses"), "line 4, column 用途"),
    (lambda t: t.replace("H-001", "H-201"), "line 2, column 收款人编码"),  # another county
])
def test_a_bad_line_imports_nothing_and_names_file_line_column(ft, world, tmp_path, change,
                                                              where):
    _load_down_to_the_county(ft, world, tmp_path)
    assert ft("--as", "k_clerk", "import", "project_funding",
              write(tmp_path, "funding.csv", FUNDING_FILE))[0] == 0
    ft("--as", "k_approver", "approve", "--file", tmp_path / "funding.csv", "--kind",
       "project_funding")
    before = _count(world, Transfer)
    text = change(PAYMENTS_FILE.format(lot=world.lot_id))
    code, _, err = ft("--as", "k_clerk", "import", "payments", write(tmp_path, "pay.csv", text,
                                                                     "gb18030"))
    assert code == 2 and f"pay.csv, {where}" in err, err
    assert _count(world, Transfer) == before


def test_a_lot_named_by_an_unknown_or_shared_document_is_refused(ft, world, tmp_path):
    unknown = write(tmp_path, "u.csv", PROVINCE_FILE.replace("财农〔2024〕12号", "财农〔2099〕1号"))
    code, _, err = ft("--as", "p_clerk", "import", "allocations", unknown)
    assert code == 2 and "u.csv, line 2, column 资金批次: lot 财农〔2099〕1号 does not exist" in err
    # the same document number at another source level: a second lot; the number is ambiguous
    code, _, err = ft("--as", "p_clerk", "appropriate", "--doc", "财农〔2024〕12号",
                      "--source-level", "province", "--year", "2024", "--title", "省级配套",
                      "--function-code", "2130505", "--use", "industry", "--amount", "1000",
                      "--region", "430000", "--date", "2024-03-15")
    assert code == 0, err
    code, _, err = ft("--as", "p_clerk", "import", "allocations",
                      write(tmp_path, "a.csv", PROVINCE_FILE))
    assert code == 2 and "write the lot's id" in err
    by_id = PROVINCE_FILE.replace("财农〔2024〕12号", str(world.lot_id))
    assert ft("--as", "p_clerk", "import", "allocations",
              write(tmp_path, "b.csv", by_id))[0] == 0


def test_approving_a_file_not_yet_imported_or_of_a_kind_without_transfers(ft, world, tmp_path):
    prov = write(tmp_path, "prov.csv", PROVINCE_FILE)
    code, _, err = ft("--as", "p_approver", "approve", "--file", prov, "--kind", "allocations")
    assert code == 2 and "prov.csv, line 2" in err and "import the file first" in err
    code, _, err = ft("--as", "p_approver", "approve", "--file", prov, "--kind", "regions")
    assert code == 2 and "records no transfers" in err
    code, _, err = ft("--as", "p_approver", "approve", "--file", prov)
    assert code == 2 and "--kind" in err
    assert ft("--as", "p_approver", "approve")[0] == 2


def test_an_appropriations_file_is_approved_by_file(ft, world, tmp_path):
    docs = write(tmp_path, "docs.csv",
                 "文号,资金级次,年度,资金名称,功能科目,用途,金额,下达区划,下达日期\n"
                 "湘财农〔2024〕9号,省级,2024,省级资金,2130505,industry,300000,430000,"
                 "2024-03-01\n", "gb18030")
    assert ft("--as", "p_clerk", "import", "appropriations", docs)[0] == 0
    code, out, err = ft("--as", "p_approver", "approve", "--file", docs, "--kind",
                        "appropriations")
    assert code == 0 and "1 transfers approved" in out, err


def test_the_progress_bar_is_shown_when_asked(ft, world, tmp_path):
    prov = write(tmp_path, "prov.csv", PROVINCE_FILE)
    code, _, err = ft("--as", "p_clerk", "import", "allocations", prov, "--progress")
    assert code == 0 and "allocations" in err and "1/1" in err
    code, _, err = ft("--as", "p_clerk", "import", "allocations", prov)
    assert code == 0 and err == ""  # stderr is not a terminal here


def test_a_file_changed_since_its_import_is_not_approved(ft, world, tmp_path):
    prov = write(tmp_path, "prov.csv", PROVINCE_FILE)
    assert ft("--as", "p_clerk", "import", "allocations", prov)[0] == 0
    prov.write_text(PROVINCE_FILE.replace("600,000.00", "650,000.00"), encoding="utf-8")
    code, _, err = ft("--as", "p_approver", "approve", "--file", prov, "--kind", "allocations")
    assert code == 2 and "prov.csv, line 2" in err and "the file now says 65000000" in err
    assert _count(world, Approval) == 1  # the world's own lot only


@pytest.mark.parametrize("cell", ["长县财农\x00〔2024〕3号", "P-\x00001"])
def test_a_control_character_is_a_cell_problem(ft, world, tmp_path, cell):
    text = FUNDING_FILE.replace("长县财农〔2024〕3号" if "财" in cell else "P-001", cell)
    code, _, err = ft("--as", "k_clerk", "import", "project_funding",
                      write(tmp_path, "f.csv", text))
    assert code == 2 and "f.csv, line 2, column" in err and "control character" in err
