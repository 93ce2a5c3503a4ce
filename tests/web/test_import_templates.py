"""The import page's templates (`/staff/import/template/KIND.csv|xlsx`): every kind has both,
each with the header exactly as its importer reads it and one example line that imports as
it stands — downloaded from the page and imported through the real importer
(ledger.imports.kinds.run_import), nothing removed from it.

The examples name each other's records (the lot of `appropriations`, the project of
`projects`, the payee of `payees`, the household of `households`), so the templates are
imported in ORDER, with what the examples cannot do themselves done in between as people
would: an approver approves the transfers a file recorded, approves the project, and the city
passes money down to the county.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from ledger.core.pii import PiiVault
from ledger.funds import flows, posting, projects
from ledger.imports.approvals import approve_file
from ledger.imports.kinds import KINDS, run_import
from ledger.models import FundLot, ProjectStatus
from ledger.org import regions
from ledger.store.db import transaction
from tests.world import CITY, COUNTY

ORDER = ["regions", "standards", "households", "members", "member_history",
         "household_status", "cards", "payees", "projects", "project_notices",
         "appropriations", "allocations", "project_funding", "payments",
         "deaths", "payroll", "vehicles", "businesses", "officials", "blacklist", "properties",
         "approved_payees", "payee_accounts", "unit_receipts"]
# Who imports each kind: regions are an administrator's, the province's money its clerk's.
IMPORTER = {"regions": "admin", "appropriations": "p_clerk", "allocations": "p_clerk"}
# Who approves the transfers a kind's file recorded, before the next kind needs the money.
APPROVER = {"appropriations": "p_approver", "allocations": "p_approver",
            "project_funding": "k_approver"}


def test_every_kind_is_imported_here():
    assert sorted(ORDER) == sorted(KINDS)


def _download(client, kind: str, fmt: str) -> bytes:
    r = client.get(f"/staff/import/template/{kind}.{fmt}")
    assert r.status_code == 200, (kind, fmt, r.status_code)
    assert kind in r.headers["Content-Disposition"]
    return r.data


def _header_and_rows(data: bytes, fmt: str) -> list[list[str]]:
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf")   # Excel opens it as UTF-8, in Chinese
        return list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))
    sheet = load_workbook(io.BytesIO(data)).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def _after(kind: str, s, world) -> None:
    """What people do between one template and the next (see the module's docstring)."""
    if kind == "projects":
        projects.advance_project(s, world.user(s, "k_approver"), "XM-2024-01",
                                 ProjectStatus.APPROVED, dt.date(2024, 3, 5))
    if kind == "allocations":   # the city passes part of its share to the county
        lot = s.execute(select(FundLot.id).where(
            FundLot.doc_number == KINDS["allocations"].example["lot"])).scalar_one()
        t = flows.allocate(s, world.user(s, "c_clerk"), lot_id=lot, from_region=CITY,
                           to_region=COUNTY, amount_fen=400_000_00,
                           effective_date=dt.date(2024, 3, 10), key="模板测试-县")
        posting.approve(s, world.user(s, "c_approver"), t.id)


def test_every_template_downloads_and_imports(app, scene, browser, world, tmp_path):
    client = browser("k_clerk")
    vault = PiiVault.from_env()
    for kind in ORDER:
        spec = KINDS[kind]
        for fmt in ("csv", "xlsx"):
            data = _download(client, kind, fmt)
            rows = _header_and_rows(data, fmt)
            assert rows[0] == spec.header == [c.headers[0] for c in spec.columns], kind
            assert len(rows) == 2 and any(rows[1]), (kind, fmt)   # one example line
            path = tmp_path / f"{kind}-template.{fmt}"
            path.write_bytes(data)
            extra = {"source": "县民政局", "snapshot": dt.date(2024, 12, 1)} \
                if spec.needs_source else {}
            with transaction(world.factory) as s:
                who = regions.get_user(s, IMPORTER.get(kind, "k_clerk"))
                result = run_import(s, who, kind, path, vault=vault, **extra)
            # The CSV's line goes in; the workbook holds the same line: nothing new.
            # Every column of the template is read: nothing in the import's report.
            assert (result.added, bool(result.unchanged), result.report) == \
                ((1, False, []) if fmt == "csv" else (0, True, [])), (kind, fmt, result)
            if fmt == "csv" and kind in APPROVER:
                with transaction(world.factory) as s:
                    approve_file(s, regions.get_user(s, APPROVER[kind]), kind, path)
        with transaction(world.factory) as s:
            _after(kind, s, world)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_unknown_kind_has_no_template(app, scene, browser, fmt):
    assert browser("k_clerk").get(f"/staff/import/template/nothing.{fmt}").status_code == 404
    assert browser("k_clerk").get("/staff/import/template/households.xls").status_code == 404
