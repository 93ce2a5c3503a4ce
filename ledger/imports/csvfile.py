"""Reading CSV files and Excel workbooks as Chinese offices keep them, with errors that say where.

- Encoding: UTF-8 (with or without BOM) or GB18030 (which covers GBK and GB2312), detected by
  trying strict UTF-8 first: GB18030 bytes are almost never valid UTF-8.
- An Excel workbook (.xlsx) is read from its first sheet (ledger/imports/spreadsheet.py) into
  the same records, so every kind takes either, with the same columns and the same errors; a
  line number is the workbook's row number.
- Header row: each column may be named in Chinese or English (see the kind's column list).
- Every problem is collected as (file, line, column, reason) before anything is written, so a
  file with one bad line imports nothing and the clerk sees every bad line at once. Each also
  carries a code and its parameters (ledger.core.refusals), like the refusal it is part of.
- Nothing a file holds is dropped without a line in the import's report (`Rows.report`, lines
  of the same shape as problems, codes in ledger.core.refusals): columns not read (extra
  columns, cells past the header's width) and blank lines. Two columns the kind would read as
  one (户编码 twice, or 户编码 and household_code) are refused, naming both positions.
- Every cell is read under NFKC (ledger.core.normalise): full-width digits and letters are
  ASCII; a number holding a lookalike is refused by its column's reader, naming the character.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ledger.core.errors import LedgerError
from ledger.core.money import MoneyError
from ledger.core.normalise import nfkc
from ledger.imports import progress, spreadsheet
from ledger.store.bulk import collector_paused

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_FIELD = 10_000
MIN_YEAR, MAX_YEAR = 1900, 2100  # dates in imports: births, registrations, documents
csv.field_size_limit(MAX_FIELD + 1)


@dataclass(frozen=True)
class Column:
    key: str                       # the name the code uses
    headers: tuple[str, ...]       # accepted header texts (Chinese first, then English)
    parse: Callable[[str], object] = str
    required: bool = True


class CellError(LedgerError, ValueError):
    """A cell that does not parse as its column's type, with a catalogued code and the
    parameters that name it (ledger.core.refusals, "cell_…"), so that the problem reads in
    the reader's language instead of the parser's English. `str()` is the English; it is a
    ValueError too, for the callers that parse a single value outside a file."""


def not_one_of(text: str, words) -> CellError:
    """`text` is none of the words a column accepts (a status, a kind …)."""
    choices = "、".join(words)
    return CellError(f"{text!r} is not one of {choices}", code="cell_not_one_of", value=text,
                     choices=choices)


def not_a_year(text: str) -> CellError:
    return CellError(f"{text!r} is not a year", code="cell_not_a_year", value=text)


def not_positive(text: str) -> CellError:
    return CellError(f"{text!r} is not more than zero", code="cell_not_positive", value=text)


def not_a_whole_number(text: str) -> CellError:
    return CellError(f"{text!r} is not a whole number", code="cell_not_a_whole_number",
                     value=text)


def too_long(text: str, limit: int) -> CellError:
    return CellError(f"{text[:20]!r}… is longer than {limit} characters", code="cell_too_long",
                     max_length=limit)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    reason: str
    code: str = "cell_invalid"   # ledger.core.refusals; a service's refusal keeps its own
    params: dict = field(default_factory=dict, compare=False, hash=False)
    # The column's place in the file (1-based), where the problem is a cell's: a header can
    # be written several ways (户编码, household_code), the place finds it in any of them.
    position: int | None = field(default=None, compare=False)

    def as_value(self) -> dict:
        """The problem as plain values, as the refusal `import_problems` carries it."""
        return {"file": self.file, "line": self.line, "column": self.column,
                "position": self.position, "code": self.code, "params": self.params,
                "reason": self.reason}

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" + (f", column {self.column}" if self.column
                                                    else "")
        if self.column and self.position:
            where += f" (no. {self.position})"
        return f"{where}: {self.reason}"


MAX_PROBLEMS = 10_000   # problems kept and shown; past them a file's problems are counted


class Problems(list):
    """A file's problems as an importer collects them: at most MAX_PROBLEMS are kept, the rest
    counted in `more` (a 200 MB file of bad lines must not hold millions of them)."""

    def __init__(self, problems=()):
        super().__init__()
        self.more = 0
        self.extend(problems)

    def append(self, problem: Problem) -> None:
        if len(self) < MAX_PROBLEMS:
            super().append(problem)
        else:
            self.more += 1

    def extend(self, problems) -> None:
        for problem in problems:
            self.append(problem)
        self.more += getattr(problems, "more", 0)

    def __add__(self, other):
        both = Problems(self)
        both.more += self.more
        both.extend(other)
        return both

    def sorted(self, key) -> "Problems":
        ordered = Problems(sorted(self, key=key))
        ordered.more = self.more
        return ordered


class ImportProblems(LedgerError):
    """The file cannot be imported; nothing was written."""

    code = "import_problems"

    def __init__(self, problems: list[Problem]):
        more = getattr(problems, "more", 0)
        problems = list(problems[:MAX_PROBLEMS])
        if more:
            problems.append(Problem(problems[-1].file, problems[-1].line, "", f"… and {more} "
                                    "more problem(s) after these", "problems_more",
                                    {"count": more}))
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s); nothing was imported:\n{shown}{more}",
                         count=len(problems), problems=[p.as_value() for p in problems])


@dataclass(slots=True)
class Row:
    line: int
    values: dict = field(default_factory=dict)


class Rows:
    """The rows of a checked file, read from it again each time they are gone through (the
    file is not held in memory), and `report`: what the file holds that no row carries
    (Problem values that do not stop the import), for the importer to pass on in its result.
    `positions`: header (its first name) → the column's place in the file, 1-based."""

    def __init__(self, reading, count: int, report=(), positions=None):
        self._reading = reading
        self._count = count
        self.report: list[Problem] = list(report)
        self.positions: dict[str, int] = dict(positions or {})

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def each(self):
        """The rows, without telling a watcher."""
        return self._reading.rows()

    def __iter__(self):
        # Going through the rows is the import's work: a watcher (ledger.imports.progress,
        # the command line's progress bar) is told how far it has got.
        return progress.watched(self)

    def __getitem__(self, index: int) -> Row:
        for i, row in enumerate(self.each()):
            if i == index:
                return row
        raise IndexError(index)


CHUNK_BYTES = 1 << 20   # read in pieces of whole lines: memory bounded by a piece, not a file
BOM = b"\xef\xbb\xbf"
# What a GB18030 reading of a file that is not GB18030 gives away (docs/formats.md,
# "Encoding"): private-use characters (GBK's user-defined areas: Latin-1 "üß" → U+E3EA), C1
# controls, and a non-ASCII character touching an ASCII letter (a candidate, judged below).
_SUSPECT = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff\x80-\x9f]|"
                      "(?<=[A-Za-z])[^\x00-\x7f]|[^\x00-\x7f](?=[A-Za-z])")


@dataclass(frozen=True)
class _Undecodable:
    offset: int        # of the first byte of the piece that failed
    line: int
    position: int      # character in the line, 1-based
    detail: str


def _pieces(path: Path):
    """(byte offset, lines before, piece) of the file in pieces of whole lines, without a BOM.
    A line break byte (0x0A) is never part of a UTF-8 or GB18030 multi-byte character, so a
    piece ends where a character does."""
    with path.open("rb") as f:
        offset, lines = 0, 0
        head = f.read(len(BOM))
        if head != BOM:
            f.seek(0)
        else:
            offset = len(BOM)
        while True:
            piece = f.read(CHUNK_BYTES)
            if not piece:
                return
            piece += f.readline()
            yield offset, lines, piece
            offset += len(piece)
            lines += piece.count(b"\n")


def _where(piece: bytes, lines: int, offset: int, at: int, encoding: str, detail: str):
    line_start = piece.rfind(b"\n", 0, at) + 1
    column = len(piece[line_start:at].decode(encoding, "replace")) + 1
    return _Undecodable(offset + at, lines + piece.count(b"\n", 0, at) + 1, column, detail)


def _first_undecodable(path: Path, encoding: str) -> _Undecodable | None:
    """Where `path` stops being text in `encoding` (strictly decoded, and for GB18030 also
    plausible: see _SUSPECT and _implausible), or None. Streams the file."""
    for offset, lines, piece in _pieces(path):
        failed = None
        try:
            text = piece.decode(encoding)
        except UnicodeDecodeError as exc:
            bad = piece[exc.start:exc.start + 4]
            failed = _where(piece, lines, offset, exc.start, encoding,
                            f"bytes {bad.hex(' ')} do not decode")
            text = piece[:exc.start].decode(encoding)   # what came before may say more
        if encoding == "gb18030":
            for match in _SUSPECT.finditer(text):
                reason = _implausible(match.group())
                if reason:
                    at = len(text[:match.start()].encode(encoding))
                    return _where(piece, lines, offset, at, encoding, reason)
        if failed is not None:
            return failed
    return None


def _implausible(character: str) -> str | None:
    """Why a character read as GB18030 means the file is in another encoding, or None.
    A two-byte character whose second byte is an ASCII letter, next to an ASCII letter, is a
    Latin word with one accented byte inside ("Müller" read as "M黮ler"): real county files
    hold rare characters (堃 88D2, 珺 AC42, 𠮷 in four bytes) between Chinese characters or at
    a cell's edge, never inside a Latin word."""
    codepoint = f"U+{ord(character):04X}"
    if "\ue000" <= character <= "\uf8ff" or character >= "\U000f0000":
        return f"{codepoint} is a private-use character (another encoding read as GB18030)"
    if "\x80" <= character <= "\x9f":
        return f"{codepoint} is a control character"
    encoded = character.encode("gb18030")
    if len(encoded) == 2 and encoded[1:].isalpha():
        return (f"{character!r} ({encoded.hex(' ')}) inside a Latin word: an accented letter of "
                "another encoding (Latin-1, Windows-1252) read as GB18030")
    return None


def detect_encoding(path: Path) -> str:
    """The file's encoding: UTF-8 (with or without BOM) or GB18030, decided by reading the
    whole file strictly in each (streamed); anything else is refused naming the line and the
    character where it stops being text, never decoded as nonsense (docs/formats.md)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportProblems([Problem(path.name, 0, "", "file is larger than 200 MB",
                                      "file_too_large", {"max_bytes": MAX_FILE_BYTES})])
    as_utf8 = _first_undecodable(path, "utf-8")
    if as_utf8 is None:
        return "utf-8"
    as_gb = _first_undecodable(path, "gb18030")
    if as_gb is None:
        return "gb18030"
    # The reading that got further names the place worth looking at: a GB18030 file with one
    # bad byte on line 5,000 fails as UTF-8 on its first Chinese character.
    # At the same place, GB18030's reason says more ("inside a Latin word").
    encoding, at = max((("UTF-8", as_utf8), ("GB18030", as_gb)),
                       key=lambda e: (e[1].offset, e[0] == "GB18030"))
    raise ImportProblems([Problem(
        path.name, at.line, "", f"the file is neither UTF-8 nor GB18030 text: line {at.line}, "
        f"character {at.position}: {at.detail} (read as {encoding}); save it as UTF-8",
        "file_encoding", {"line": at.line, "position": at.position, "encoding": encoding,
                          "detail": at.detail})])


def text_lines(path: Path, encoding: str | None = None):
    """The file's text, streamed (an open text file; the caller closes it), in `encoding`
    (detected when not given)."""
    encoding = encoding or detect_encoding(path)
    stream = path.open("rb")
    if stream.read(len(BOM)) != BOM:
        stream.seek(0)
    return io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")


def read(path: str | Path, columns: list[Column],
         make: Callable[[Row], object] | None = None) -> Rows:
    """Check every cell of the file; raise ImportProblems listing every bad line, or return
    the rows — read again from the file as they are gone through, so that memory holds a line
    at a time, not the file (red-team: a 50 MB file took 755 MB).

    With `make`, for a reader that keeps every line anyway (a roll's lines, handed to the
    service whole): each row is turned into `make(row)` as it is checked, and the rows are
    those values, parsed once instead of once to check and once more to use (parsing was
    most of creating a 100,000-line roll). Memory then holds what `make` keeps, no more."""
    path = Path(path)
    name = path.name
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise ImportProblems([Problem(name, 0, "", f"cannot read: {exc.strerror}",
                                      "file_unreadable", {"detail": exc.strerror})]) from None
    if spreadsheet.is_old_excel(path, head):
        raise ImportProblems([Problem(name, 0, "", "an old Excel .xls file: save it as .xlsx "
                                      "or CSV", "file_old_excel")])
    workbook = spreadsheet.is_workbook(path, head)
    problems = Problems()
    encoding = None if workbook else _checked_encoding(path)
    header, records = _records(path, workbook, problems, encoding)
    positions = _match_header(name, header, columns, problems)
    read_at = set(positions.values())
    count = 0
    blank: list[int] = []
    unread: dict[int, int] = {}   # position of a column not read → its cells that hold a value
    made: list = []
    plan = _cell_plan(columns, positions)
    with collector_paused() if make is not None else nullcontext():  # see _Reading.rows
        for line, record in records:
            if not _filled(record):
                blank.append(line)
                continue
            if not read_at.issuperset(range(len(record))):   # else every cell is read
                for i, cell in enumerate(record):
                    if i not in read_at and (not isinstance(cell, str) or cell.strip()):
                        unread[i] = unread.get(i, 0) + 1
            count += 1
            row = _parse_record(name, line, record, columns, positions, problems, plan)
            if make is not None and not problems:   # with a problem nothing is kept anyway
                made.append(make(row))
    if not count and not problems:
        problems.append(Problem(name, 2, "", "the file has a header but no rows",
                                "file_no_rows"))
    if problems:
        raise ImportProblems(problems)
    reading = _Kept(made) if make is not None else _Reading(
        path, workbook, encoding, columns, positions, _file_digest(path))
    return Rows(reading, count,
                _unread_report(name, header, read_at, unread, blank),
                {c.headers[0]: positions[c.key] + 1 for c in columns if c.key in positions})


@dataclass(frozen=True)
class Sample:
    """The first lines of a file as it was written, to show it back (the web's preview):
    `header` (the file's header cells), `columns` (for each of them the kind's column it is,
    or None), `rows` [(line, cells)] of at most `limit` non-blank lines, and `more`: how many
    non-blank lines follow them."""
    header: list[str]
    columns: list[Column | None]
    rows: list[tuple[int, list[str]]]
    more: int


def sample(path: str | Path, columns: list[Column], limit: int = 50) -> Sample | None:
    """The file's first `limit` non-blank lines, cells as text as the file has them (before
    NFKC), or None when it cannot be read as a table at all (its encoding, an old .xls: the
    import's own problems say why). Reads the file once more, streamed."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(8)
        if spreadsheet.is_old_excel(path, head):
            return None
        workbook = spreadsheet.is_workbook(path, head)
        problems = Problems()
        header, records = _records(path, workbook, problems,
                                   None if workbook else _first_piece_encoding(path))
        header = [h.lstrip("\ufeff") if isinstance(h, str) else spreadsheet.cell_text(h)
                  for h in header]
        rows, more = [], 0
        for line, record in records:
            if not any((cell.strip() if isinstance(cell, str) else cell) for cell in record):
                continue
            if len(rows) < limit:
                rows.append((line, [c if isinstance(c, str) else "" for c in record]))
            else:
                more += 1
    except (ImportProblems, OSError, ValueError):
        return None
    return Sample(header, header_columns(header, columns), rows, more)


def _first_piece_encoding(path: Path) -> str:
    """The encoding of the file's first piece: what a sample needs to show its first lines
    without the whole file's strict check (`detect_encoding`, a pass of its own: 1 s on a
    9 MB file). A file that turns out otherwise further on raises UnicodeDecodeError there,
    and `sample` shows no lines: the import has said why."""
    piece = next(_pieces(path), (0, 0, b""))[2]
    try:
        piece.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def header_columns(header: list[str], columns: list[Column]) -> list[Column | None]:
    """For each header cell, the kind's column it names (as `read` matches them), or None."""
    found: list[Column | None] = []
    for text in header:
        text = nfkc(text.lstrip("\ufeff"))
        found.append(next((c for c in columns if text in c.headers or text.lower() in c.headers),
                          None))
    return found


def _records(path: Path, workbook: bool, problems: list[Problem], encoding=None):
    if workbook:
        return _workbook_records(path)
    return _csv_records(path, problems, encoding)


def _checked_encoding(path: Path) -> str:
    try:
        return detect_encoding(path)
    except OSError as exc:
        raise ImportProblems([Problem(path.name, 0, "", f"cannot read: {exc.strerror}",
                                      "file_unreadable", {"detail": exc.strerror})]) from None


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(CHUNK_BYTES):
            digest.update(piece)
    return digest.digest()


@dataclass(frozen=True)
class _Reading:
    """How to read a checked file's rows again: each pass parses the file anew (the cells
    were checked; a file changed since is refused rather than imported unchecked)."""
    path: Path
    workbook: bool
    encoding: str | None
    columns: list
    positions: dict
    digest: bytes

    def rows(self):
        problems: list[Problem] = []
        name = self.path.name
        with collector_paused():
            _header, records = _records(self.path, self.workbook, problems, self.encoding)
            plan = _cell_plan(self.columns, self.positions)
            for line, record in records:
                if not _filled(record):
                    continue
                row = _parse_record(name, line, record, self.columns, self.positions,
                                    problems, plan)
                if problems:
                    break
                yield row
        if problems or _file_digest(self.path) != self.digest:
            raise ImportProblems([Problem(name, 0, "", "the file changed while it was being "
                                          "imported; nothing was imported", "file_changed")])


def _filled(record) -> bool:
    """Whether a line holds anything (else it is blank: skipped, and reported)."""
    first = record[0] if record else None
    if first.__class__ is str and first.strip():   # most lines: their first cell
        return True
    return any((cell.strip() if isinstance(cell, str) else cell) for cell in record)


@dataclass(frozen=True)
class _Kept:
    """Rows made once, as the file was checked (`read` with `make`)."""
    made: list

    def rows(self):
        return iter(self.made)


def _unread_report(name, header, read_at, unread, blank) -> list[Problem]:
    """Report lines for what no row carries: each column not read that has a header or holds
    a value (extra columns are ignored, as documented, but named), and the blank lines."""
    report = []
    titles = [h.strip().lstrip("\ufeff") if isinstance(h, str) else str(h) for h in header]
    for i in sorted(set(range(len(titles))) - read_at | set(unread)):
        title = titles[i] if i < len(titles) else ""
        cells = unread.get(i, 0)
        if title or cells:
            report.append(Problem(name, 1, title, f"column {i + 1} ({title or 'no header'}) "
                                  f"is not read by this kind: {cells} cell(s) with a value "
                                  "ignored", "column_ignored",
                                  {"header": title, "position": i + 1, "cells": cells}))
    if blank:
        report.append(Problem(name, blank[0], "", f"{len(blank)} blank line(s) skipped",
                              "lines_blank", {"count": len(blank), "lines": blank}))
    return report


def _csv_records(path: Path, problems: list[Problem], encoding: str | None = None):
    """The header and (line, cells) of a CSV file; a line the csv module cannot parse ends the
    records with a problem naming it."""
    name = path.name
    try:
        stream = text_lines(path, encoding)
    except OSError as exc:
        raise ImportProblems([Problem(name, 0, "", f"cannot read: {exc.strerror}",
                                      "file_unreadable", {"detail": exc.strerror})]) from None
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        stream.close()
        raise ImportProblems([Problem(name, 1, "", "the file is empty", "file_empty")]) \
            from None
    except csv.Error as exc:
        stream.close()
        raise ImportProblems([Problem(name, 1, "", f"not CSV: {exc}", "file_not_csv",
                                      {"detail": str(exc)})]) from None

    def records():
        try:
            for record in reader:
                yield reader.line_num, record
        except csv.Error as exc:
            problems.append(Problem(name, reader.line_num, "", f"not valid CSV: {exc}",
                                    "file_not_csv", {"detail": str(exc)}))
        finally:
            stream.close()

    return header, records()


class _LostDigits:
    """A workbook cell whose number Excel has already cut to 15 digits (spreadsheet.cell_text)."""


def _workbook_records(path: Path):
    """The header and (row number, cells) of a workbook's first sheet, cells as text."""
    name = path.name
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportProblems([Problem(name, 0, "", "file is larger than 200 MB",
                                      "file_too_large", {"max_bytes": MAX_FILE_BYTES})])
    try:
        header, raw_rows = spreadsheet.records(path)
    except spreadsheet.SpreadsheetError as exc:
        if exc.line == 1:
            raise ImportProblems([Problem(name, 1, "", "the file is empty", "file_empty")]) \
                from None
        raise ImportProblems([Problem(name, 0, "", f"not a readable Excel .xlsx workbook: "
                                      f"{exc}", "file_not_workbook", {"detail": str(exc)})]) \
            from None

    def records():
        for number, values in raw_rows:
            yield number, [_text_or_lost(value) for value in values]

    return header, records()


def _text_or_lost(value):
    try:
        return spreadsheet.cell_text(value)
    except ValueError:
        return _LostDigits()


def _match_header(name, header, columns, problems) -> dict[str, int]:
    cleaned = [nfkc(h.lstrip("\ufeff")) for h in header]
    positions = {}
    for column in columns:
        found = [i for i, h in enumerate(cleaned)
                 if h in column.headers or h.lower() in column.headers]
        if len(found) > 1:
            # Two columns the kind would read as one: which holds the truth is the office's
            # to say, not the first one's by position (red-team: the second was dropped).
            first, second = found[0] + 1, found[1] + 1
            problems.append(Problem(name, 1, column.headers[0], f"columns {first} "
                                    f"({cleaned[found[0]]}) and {second} "
                                    f"({cleaned[found[1]]}) are both {column.headers[0]}: keep "
                                    "one", "column_duplicated",
                                    {"header": column.headers[0], "first": first,
                                     "second": second}))
        if found:
            positions[column.key] = found[0]
        elif column.required:
            problems.append(Problem(name, 1, column.headers[0],
                                    f"missing column (write it as {' or '.join(column.headers)})",
                                    "column_missing", {"headers": list(column.headers)}))
    if problems:
        raise ImportProblems(problems)
    return positions


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _cell_plan(columns, positions) -> list[tuple]:
    """(key, position or None, header, parse, required) of each column: what `_parse_cells`
    reads of the columns for every line, looked up once per file."""
    return [(c.key, positions.get(c.key), c.headers[0], c.parse, c.required) for c in columns]


def _parse_record(name, line, record, columns, positions, problems, plan=None) -> Row:
    found = len(problems)
    row = _parse_cells(name, line, record, plan or _cell_plan(columns, positions), problems)
    for i in range(found, len(problems)):   # each cell's problem with its column's place
        key = next((c.key for c in columns if c.headers[0] == problems[i].column), None)
        if key in positions:
            problems[i] = replace(problems[i], position=positions[key] + 1)
    return row


def _parse_cells(name, line, record, plan, problems) -> Row:
    row = Row(line)
    values = row.values
    width = len(record)
    for key, index, header, parse, required in plan:
        if index is None or index >= width:
            # No such column, or a line shorter than the header: an empty cell (a kind's
            # optional columns, absent from most files, cost nothing more per line).
            if required:
                problems.append(Problem(name, line, header, "is empty", "cell_empty"))
            values[key] = None
            continue
        cell = record[index]
        if isinstance(cell, _LostDigits):
            problems.append(Problem(name, line, header, spreadsheet.LOST_DIGITS,
                                    "cell_lost_digits"))
            continue
        # NFKC at the boundary (ledger.core.normalise): full-width digits, letters and
        # punctuation, as a Chinese input method types them, are read as ASCII in every column,
        # so a code, date or number typed either way is one value. (ASCII is its own NFKC.)
        if len(cell) > MAX_FIELD:
            raw = cell
        else:
            raw = cell.strip() if cell.isascii() else nfkc(cell)
        if len(raw) > MAX_FIELD:
            problems.append(Problem(name, line, header, "value is too long", "cell_too_long",
                                    {"max_length": MAX_FIELD}))
            continue
        # every character _CONTROL finds is unprintable: most cells are found clean at once
        if not raw.isprintable() and _CONTROL.search(raw):
            # NUL and the other control characters are no part of any value a county keeps
            # (a tab or a line break inside a quoted cell is: an address over two lines), and
            # PostgreSQL refuses NUL in any statement that would look the value up.
            problems.append(Problem(name, line, header, "holds a control character",
                                    "cell_control_character"))
            continue
        if raw[:1] in ("=", "+", "@") or raw[:1] == "-" and not _numberish(raw):
            # A spreadsheet would run this as a formula (CSV injection); no real value starts so.
            # Only its first two characters are shown: offices export ID and card numbers as
            # ="4301…", and a problem list is no place for the number (line and column find it).
            start = raw[:2] + "…"
            problems.append(Problem(name, line, header, f"{start!r} looks like a "
                                    "spreadsheet formula", "cell_formula", {"value": start}))
            continue
        if not raw:
            if required:
                problems.append(Problem(name, line, header, "is empty", "cell_empty"))
            values[key] = None
            continue
        try:
            values[key] = parse(raw)
        except LedgerError as exc:
            problems.append(Problem(name, line, header, str(exc), exc.code, exc.params))
        except MoneyError as exc:   # the reason in English for operators, the gist translated
            problems.append(Problem(name, line, header, str(exc), "cell_not_an_amount",
                                    {"value": raw[:40], "detail": str(exc)}))
        except ValueError as exc:
            problems.append(Problem(name, line, header, str(exc), "cell_invalid",
                                    {"detail": str(exc)}))
    return row


def every_line(file: str, rows, work, *, session=None, columns=(),
               by_code: dict[str, str] | None = None, default: str = "") -> list[Problem]:
    """Run `work(row)` for every row and return every problem found, each with its line and
    column, instead of stopping at the first (red-team: a file with three bad lines said one,
    without its column). With `session`, each line runs in a savepoint, so that a refused
    line leaves nothing behind for the lines after it to be judged against; nothing is kept
    anyway when a problem is returned (the caller raises, its transaction rolls back).

    A refusal's column: the kind's column its parameters name (`field` or `column`, by key or
    header), else `by_code[code]`, else `default`."""
    problems = Problems()
    places = getattr(rows, "positions", {})
    for row in rows:
        try:
            if session is None:
                work(row)
            else:
                with session.begin_nested():
                    work(row)
        except ImportProblems as exc:
            problems.extend(_with_column(p, columns, by_code, default, places)
                            for p in exc.problems)
        except LedgerError as exc:
            problems.append(_with_column(Problem(file, row.line, "", str(exc), exc.code,
                                                 exc.params), columns, by_code, default, places))
    return problems


def _with_column(problem: Problem, columns, by_code, default, places) -> Problem:
    if not problem.column:
        problem = _named_column(problem, columns, by_code, default)
    if problem.column and problem.position is None and problem.column in places:
        problem = replace(problem, position=places[problem.column])
    return problem


def _named_column(problem: Problem, columns, by_code, default) -> Problem:
    named = problem.params.get("field") or problem.params.get("column")
    for column in columns:
        if named is not None and (named == column.key or named in column.headers):
            return replace(problem, column=column.headers[0])
    column = (by_code or {}).get(problem.code, default)
    return replace(problem, column=column) if column else problem


def at_line(file: str, line: int, action):
    """Run one line's service call; a refusal becomes an import problem naming the line."""
    try:
        return action()
    except LedgerError as exc:
        raise ImportProblems([Problem(file, line, "", str(exc), exc.code, exc.params)]) \
            from None


def _numberish(raw: str) -> bool:
    return raw[1:].replace(".", "", 1).replace(",", "").isdigit()


def parse_date(text: str) -> dt.date:
    """Dates as offices write them: 2024-03-01, 2024/3/1, 2024.03.01, 20240301, 2024年3月1日."""
    t = text.strip().replace("年", "-").replace("月", "-").rstrip("日")
    for sep in ("/", "."):
        t = t.replace(sep, "-")
    if t.isdigit() and len(t) == 8:
        t = f"{t[:4]}-{t[4:6]}-{t[6:]}"
    parts = t.split("-")
    # ASCII digits only (int() would take ١٢٣٤ or overflow on 20 digits); years a fund
    # record can have, so a typo like 20024 or 1024 is an error, not a date.
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
        raise CellError(f"{text!r} is not a date like 2024-03-01", code="cell_not_a_date",
                        value=text)
    year, month, day = (int(p) for p in parts)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CellError(f"{text!r}: the year must be between {MIN_YEAR} and {MAX_YEAR}",
                        code="cell_year_out_of_range", value=text, min_year=MIN_YEAR,
                        max_year=MAX_YEAR)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError(f"{text!r} is not a date like 2024-03-01", code="cell_not_a_date",
                        value=text) from None
