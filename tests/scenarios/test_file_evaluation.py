"""The outsider's evaluation end to end on one small province (issue 18): files written in the
documented formats without the ledger, loaded through the documented commands, scanned and
scored rule by rule: the formats are the ones promised, every step went in, every rule of the
catalogue that is scored has planted cases, the score names them, and each rule is at the
issue's bar (precision ≥ 0.9, recall ≥ 0.95; docs/evaluation.md has the full runs)."""

from __future__ import annotations

import ast
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from scenarios.loader import Fundtrail, load_province, read_rows
from scenarios.province import write_province
from scenarios.scorer import NOT_SCORED_METHODS, score, table_text

ROOT = Path(__file__).resolve().parents[2]
WRITER_MODULES = ("province.py", "files.py", "idcodes.py")


def test_the_writer_knows_nothing_of_the_ledger():
    """The files are written from the documentation: no module that writes them imports the
    ledger (or anything of this repository but scenarios)."""
    for name in WRITER_MODULES:
        tree = ast.parse((ROOT / "scenarios" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for n in names:
                assert n.split(".")[0] not in {"ledger", "web", "reports", "bench", "tests"}, (
                    name,
                    n,
                )


@pytest.mark.slow
def test_a_small_province_goes_through_files_commands_and_score(tmp_path):
    # SQLite commits every command (~350 here): on a RAM disk where there is one, the test
    # waits on the CPU rather than on fsync.
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path
    try:
        _run_small_province(base / "province")
    finally:
        if base != tmp_path:
            shutil.rmtree(base, ignore_errors=True)


def _run_small_province(folder: Path) -> None:
    summary = write_province(7, 220, folder, plants=1)
    assert summary["households"] >= 220

    # The formats promised in docs/formats.md: GB18030 CSV, UTF-8 (with BOM), workbooks,
    # full-width digits as Chinese input methods type them, amounts with separators.
    files = sorted(p for p in folder.iterdir() if p.suffix in {".csv", ".xlsx"})
    assert any(p.suffix == ".xlsx" for p in files)
    gb = [p for p in files if p.suffix == ".csv" and not _utf8(p.read_bytes())]
    assert gb, "some CSV is GB18030"
    assert any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in files if p.suffix == ".csv")
    cells = [c for p in files for row in read_rows(p)[1] for c in row]
    assert any("０" <= ch <= "９" for c in cells for ch in c), "full-width digits somewhere"
    assert any("," in c and c.replace(",", "").replace(".", "").isdigit() for c in cells)
    _, members = read_rows(next(p for p in files if p.name.startswith("members-")))
    assert any(len(r[3]) == 15 for r in members), "a legacy 15-digit ID"

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    planted = {c["rule"] for c in manifest["cases"] if c["expect"] == "alert"}
    looks = {c["rule"] for c in manifest["cases"] if c["expect"] == "no_alert"}

    (folder / "work").mkdir()
    db = f"sqlite:///{folder / 'work' / 'fundtrail.db'}"
    loaded = load_province(folder, db, log=lambda s: None)
    failed = json.loads((folder / "work" / "failed.json").read_text(encoding="utf-8"))
    assert failed == [], failed
    assert loaded["commands"] > 100

    # Every rule the catalogue scores (not statistical, not recorded facts) is planted, with a
    # look-alike beside it; and the rules the issue adds are planted before they exist.
    ft = Fundtrail(folder / "work", db)
    _, out, _ = ft.run("alerts", "rules", "--json")
    scored = {r["id"] for r in json.loads(out) if r["method"] not in NOT_SCORED_METHODS}
    assert scored <= planted, scored - planted
    assert {"BEN-07", "DIV-04", "LED-02", "D7", "WHD-05"} <= planted
    assert planted <= looks, planted - looks

    result = score(folder, db)
    rules = result["rules"]
    assert set(rules) >= planted
    for rule in planted:
        assert rules[rule]["planted"] >= 1
        assert (
            rules[rule]["tp"] + rules[rule]["prevented"] + rules[rule]["missed"]
            == rules[rule]["planted"]
        )
    # The scan found planted misuse through the county's keys (not only internal ids).
    assert sum(r["tp"] for r in rules.values()) >= len(scored) // 2
    text = table_text([result])
    assert all(f"| {rule} |" in text for rule in planted)
    # The bar, per rule the catalogue scores: precision ≥ 0.9, recall ≥ 0.95 (prevented
    # at posting counts as found). docs/evaluation.md has the three seeds at 2,000 households.
    short = {rule: (rules[rule]["precision"], rules[rule]["recall"]) for rule in scored
             if (rules[rule]["precision"] is not None and rules[rule]["precision"] < 0.9)
             or (rules[rule]["recall"] is not None and rules[rule]["recall"] < 0.95)}
    assert short == {}, text


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
