"""The import kinds table (ledger.imports.kinds) as the web's import page shows it: every
kind in a group, with its Chinese description, the reader's own columns and an example line
that fills exactly those columns — and docs/formats.md describing every one of those columns
(the page and the document read one table: a column added to a reader and not to the
document fails here). That each example imports is tests/web/test_import_templates.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.imports import templates
from ledger.imports.csvfile import read
from ledger.imports.kinds import GROUPS, KINDS, is_personal

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
CJK = re.compile(r"[\u3400-\u9fff]")


def _sections(text: str, kind: str) -> str:
    """Every section of docs/formats.md whose heading names `kind` in backticks, each with
    its subsections."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        heading = re.match(r"(#+) ", line)
        if heading and f"`{kind}`" in line:
            level = len(heading.group(1))
            end = next((j for j in range(i + 1, len(lines))
                        if (m := re.match(r"(#+) ", lines[j])) and len(m.group(1)) <= level),
                       len(lines))
            found.append("\n".join(lines[i:end]))
    return "\n".join(found)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_is_described_with_its_columns_and_an_example(kind):
    spec = KINDS[kind]
    assert spec.group in GROUPS
    assert CJK.search(spec.label) and CJK.search(spec.about)
    assert spec.columns, "the reader's columns"
    assert set(spec.example) <= {c.key for c in spec.columns}, "example keys are columns"
    assert all(spec.example.get(c.key) for c in spec.columns if c.required), \
        "the example fills every required column"
    assert len(set(spec.header)) == len(spec.header)


@pytest.mark.parametrize("kind", list(KINDS))
def test_docs_formats_describes_every_column_of_each_kind(kind):
    section = _sections(FORMATS.read_text(encoding="utf-8"), kind)
    assert section, f"docs/formats.md has no section headed with `{kind}`"
    rows = [line for line in section.splitlines() if line.startswith("|")]
    missing = []
    for column in KINDS[kind].columns:
        english = [h for h in column.headers if not CJK.search(h)]
        if not any(column.headers[0] in row and all(e in row for e in english[:1])
                   for row in rows):
            missing.append(" / ".join([column.headers[0], *english[:1]]))
    assert not missing, f"docs/formats.md, `{kind}`: no table row for {missing}"


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_template_reads_back_as_its_example(kind, tmp_path):
    """Header and example as the kind's reader takes them, in both formats (what the cells
    mean to the ledger is the web test's)."""
    spec = KINDS[kind]
    for fmt in templates.FORMATS:
        path = tmp_path / f"{kind}.{fmt}"
        path.write_bytes(templates.template_bytes(spec, fmt))
        rows = read(path, list(spec.columns))
        assert len(rows) == 1 and rows.report == [], (kind, fmt, rows.report)


def test_personal_columns_are_those_of_numbers_that_name_a_person():
    personal = {c.headers[0] for spec in KINDS.values() for c in spec.columns
                if is_personal(c)}
    assert {"身份证号", "银行卡号", "联系电话", "成员身份证号", "监护人身份证号", "原卡号",
            "户主身份证号", "收款人身份证号", "干部身份证号", "账号"} <= personal
    assert not personal & {"账户类型", "统一社会信用代码", "户编码", "收款人编码"}


@pytest.mark.parametrize("fmt", ["gb18030.csv", "xlsx"])
def test_a_sample_shows_the_first_lines_as_written_and_counts_the_rest(fmt, tmp_path):
    """What the web's preview shows of a file (ledger.imports.csvfile.sample)."""
    from openpyxl import Workbook

    from ledger.imports.csvfile import sample
    columns = list(KINDS["households"].columns)
    header = ["户编码", "村代码", "户主姓名", "备注"]
    lines = [[f"H-{n}", "430121001001", f"王{n}", "老户"] for n in range(7)]
    path = tmp_path / f"h.{fmt}"
    if fmt == "xlsx":
        book = Workbook()
        for row in [header, *lines[:3], [None] * 4, *lines[3:]]:
            book.active.append(row)
        book.save(path)
    else:
        text = "\n".join(",".join(r) for r in [header, *lines[:3], ",,,", *lines[3:]])
        path.write_bytes(text.encode("gb18030"))
    seen = sample(path, columns, limit=4)
    assert seen.header == header
    assert [c.key if c else None for c in seen.columns] == ["code", "village", "head_name", None]
    # the blank line (5) is skipped, not shown; line numbers are the file's
    assert [line for line, _ in seen.rows] == [2, 3, 4, 6]
    assert seen.rows[0][1] == ["H-0", "430121001001", "王0", "老户"]
    assert seen.more == 3


def test_no_sample_of_a_file_that_is_not_a_table(tmp_path):
    from ledger.imports.csvfile import sample
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert sample(path, list(KINDS["households"].columns)) is None
