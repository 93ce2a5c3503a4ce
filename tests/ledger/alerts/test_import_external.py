"""`fundtrail import deaths|payroll|vehicles|businesses|officials|blacklist FILE --source
--snapshot`: every kind, personal data encrypted with its digest, idempotent, all-or-nothing
with errors naming file, line and column."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.core.pii import PiiVault
from ledger.registers.external import ExternalList, ExternalRecord
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import idn
from tests.ledger.test_import_households import write

TYPO = idn(5)[:14] + idn(5)[15] + idn(5)[14] + idn(5)[16:]  # two digits swapped: bad check

FILES = {
    "deaths": f"身份证号,姓名,死亡日期\n{idn(1)},张三,2024-03-01\n{idn(2)[:6] + idn(2)[8:17]},李四,"
              "2024年4月2日\n",
    "payroll": f"身份证号,姓名,工作单位,岗位类别,起始日期,终止日期\n"
               f"{idn(3)},王五,县教育局,事业编制,2019-09-01,\n"
               f"{TYPO},赵六,镇卫生院,,2019-09-01,2023-12-31\n",
    "vehicles": f"身份证号,姓名,车辆类型,号牌号码,登记日期\n"
                f"{idn(4)},孙七,小型轿车,湘A12345,2022-01-05\n",
    "businesses": f"企业名称,统一社会信用代码,身份证号,姓名,角色,成立日期,注销日期\n"
                  f"星沙建筑公司,91430121MA4L000000,{idn(6)},周八,法定代表人,2018-05-01,\n",
    "officials": f"身份证号,姓名,关系,干部身份证号,职务,辖区代码,任职起,任职止,亲等\n"
                 f"{idn(7)},吴书记,本人,,镇党委书记,430121001,2021-01-01,,\n"
                 f"{idn(8)},吴九,兄弟,{idn(7)},,,,,\n",
    "blacklist": "名称,统一社会信用代码,身份证号,原因,起始日期,终止日期\n"
                 "某某劳务公司,91430121MA4L000001,,围标串标,2024-01-01,2025-12-31\n",
}


@pytest.fixture
def ft(cli, db_url, world, monkeypatch, tmp_path):

    run = cli
    return run


def test_every_kind_imports_once_with_source_and_snapshot(ft, world, tmp_path):
    for kind, text in FILES.items():
        path = write(tmp_path, f"{kind}.csv", text, "gb18030" if kind == "deaths" else "utf-8")
        args = ["--as", "p_clerk", "import", kind, path, "--source", "省民政厅",
                "--snapshot", "2024-12-01"]
        code, out, err = ft(*args)
        assert code == 0, err
        assert "records" in out
        code, out, _ = ft(*args)
        assert code == 0 and "already imported, unchanged" in out
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        lists = s.execute(select(ExternalList)).scalars().all()
        assert {external.kind.value for external in lists} == set(FILES)
        assert all(external.source == "省民政厅" and str(external.snapshot_date) == "2024-12-01"
                   for external in lists)
        records = s.execute(select(ExternalRecord)).scalars().all()
        people = [r for r in records if r.id_number]
        assert all(idn(1) not in r.id_number for r in people)  # encrypted at rest
        assert {vault.decrypt(r.id_number) for r in people} >= {idn(1), idn(2), TYPO}
        assert any(r.id_digest == vault.digest(idn(1)) for r in people)
        relative = next(r for r in records if r.name == "吴九")
        assert relative.related_digest == vault.digest(idn(7))


def test_bad_lines_and_missing_options(ft, tmp_path):
    path = write(tmp_path, "d.csv", FILES["deaths"])
    code, _, err = ft("--as", "p_clerk", "import", "deaths", path)
    assert code == 2 and "--source and --snapshot" in err
    bad = write(tmp_path, "bad.csv", "身份证号,姓名,死亡日期\n12345,张三,2024-03-01\n"
                f"{idn(1)},李四,昨天\n")
    code, _, err = ft("--as", "p_clerk", "import", "deaths", bad, "--source", "x",
                      "--snapshot", "2024-12-01")
    assert code == 2 and "bad.csv, line 2, column 身份证号" in err \
        and "bad.csv, line 3, column 死亡日期" in err
    officials = write(tmp_path, "o.csv", "身份证号,姓名,关系\n" f"{idn(8)},吴九,兄弟\n")
    code, _, err = ft("--as", "p_clerk", "import", "officials", officials, "--source", "x",
                      "--snapshot", "2024-12-01")
    assert code == 2 and "line 2, column 干部身份证号" in err
    ok = ["--as", "p_clerk", "import", "deaths", path, "--source", "x", "--snapshot",
          "2024-12-01"]
    assert ft(*ok)[0] == 0
    other = write(tmp_path, "d2.csv", f"身份证号,姓名,死亡日期\n{idn(1)},张三,2024-03-02\n")
    code, _, err = ft("--as", "p_clerk", "import", "deaths", other, "--source", "x",
                      "--snapshot", "2024-12-01")
    assert code == 2 and "with other content" in err
