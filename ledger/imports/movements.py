"""Import kinds `allocations`, `project_funding` and `payments`: a county's past money movements
as files, one line a transfer (columns: docs/formats.md).

Each line is recorded through the service a clerk's command uses (`flows.allocate`,
`flows.fund_project`, `flows.pay`), so every check of the chain, the purpose lock, the
overdraft rule, the closed periods and the audit entry hold for a file as for a command, and
each line's transfer waits for a colleague's approval like any other (`fundtrail approve
--file FILE --kind KIND` approves those a file recorded, one approval each).

The voucher number (凭证号) is the line's idempotency key, as `--key` is a command's: a line
already recorded with the same content is unchanged, the same voucher with other content is
refused naming what differs, and a voucher twice in one file is refused. Text cells are read
under Unicode NFKC (full-width digits and letters as typed on a Chinese keyboard).
Same rules as every import: all lines are read and checked first, and nothing is written unless
every line goes in (the caller's transaction is rolled back on the first refusal, which names
the file, the line and, where it is a cell's, the column).
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.classification import USES
from ledger.core.errors import LedgerError
from ledger.core.money import parse_yuan
from ledger.funds import flows
from ledger.funds.lots import lot_by_reference
from ledger.funds.refusals_log import attach_file
from ledger.imports.csvfile import Column, ImportProblems, Problem, parse_date, read, too_long
from ledger.imports.households import ImportResult
from ledger.models import Transfer, User

# A use may be written by its code (industry) or its Chinese name (产业发展).
USE_WORDS = {text.split(" (")[0]: code for code, text in USES.items()}


def _text(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).strip()
    # A control character (NUL, a stray tab) is no part of a code, a number or a memo, and
    # PostgreSQL refuses NUL in any query that would look the value up.
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError(f"{text!r} holds a control character")
    return value


def _code(text: str) -> str:
    """A code (region, project, payee, function code, voucher): NFKC, no spaces inside."""
    value = "".join(_text(text).split())
    if not value:
        raise ValueError(f"{text!r} is not a code")
    return value


def _document(text: str, limit: int) -> str:
    """An invoice or contract number: a code, at most `limit` characters."""
    value = _code(text)
    if len(value) > limit:
        raise too_long(value, limit)
    return value


def _lot(text: str) -> int | str:
    """A lot by its id (digits) or the document number (文号) that opened it."""
    value = _text(text)
    return int(value) if value.isascii() and value.isdigit() else value


def _use(text: str) -> str:
    value = _text(text)
    return USE_WORDS.get(value, value)


LOT = Column("lot", ("资金批次", "指标文号", "lot"), _lot)
AMOUNT = Column("amount", ("金额", "amount"), parse_yuan)
VOUCHER = Column("voucher", ("凭证号", "voucher"), _code)
MEMO = Column("memo", ("摘要", "memo"), _text, required=False)

ALLOCATION_COLUMNS = [
    LOT,
    Column("from", ("拨出区划", "from_region"), _code),
    Column("to", ("拨入区划", "to_region"), _code),
    AMOUNT,
    Column("date", ("下达日期", "日期", "date"), parse_date),
    VOUCHER,
    MEMO,
]

PROJECT_FUNDING_COLUMNS = [
    LOT,
    Column("project", ("项目编码", "project"), _code),
    AMOUNT,
    Column("date", ("安排日期", "日期", "date"), parse_date),
    VOUCHER,
    MEMO,
]

PAYMENT_COLUMNS = [
    LOT,
    Column("project", ("项目编码", "project"), _code, required=False),
    Column("county", ("县代码", "county"), _code, required=False),
    Column("payee", ("收款人编码", "payee"), _code),
    AMOUNT,
    Column("function_code", ("功能科目", "function_code"), _code),
    Column("use", ("用途", "use"), _use),
    Column("date", ("支付日期", "日期", "date"), parse_date),
    VOUCHER,
    MEMO,
    # The documents the payment cites (issue 18: DUP-01 pairs repeats of one invoice at any
    # distance; DUP-02 leaves a contract's instalments alone within its amount).
    Column("invoice", ("发票号", "发票号码", "invoice"), lambda t: _document(t, 60),
           required=False),
    Column("contract", ("合同号", "合同编号", "contract"), lambda t: _document(t, 100),
           required=False),
]

# The column a service's refusal is about, by its code (ledger.core.refusals), so that the
# problem names the cell to correct; a refusal not listed names the line only.
_COLUMN_OF = {
    "key_reused": "凭证号", "key_taken": "凭证号", "roll_key_reserved": "凭证号",
    "amount_not_positive": "金额", "amount_too_large": "金额", "overdraft": "金额",
    "closed_period": "日期", "allocation_not_one_level_down": "拨入区划",
    "project_outside_lot": "项目编码", "project_stage": "项目编码",
    "project_function_mismatch": "功能科目", "payment_source_ambiguous": "项目编码",
    "not_a_county": "县代码", "payee_outside_county": "收款人编码",
    "use_prohibited": "用途", "use_unknown": "用途",
    "use_outside_lot": "用途", "function_outside_lot": "功能科目", "purpose_unnamed": "用途",
}
_COLUMN_OF_MISSING = {"lot": "资金批次", "region": "拨入区划", "project": "项目编码",
                      "payee": "收款人编码"}


def _refusal_column(exc: LedgerError, columns: list[Column]) -> str:
    column = _COLUMN_OF.get(exc.code)
    if exc.code == "not_found":
        column = _COLUMN_OF_MISSING.get(exc.params.get("what"))
    known = {c.headers[0] for c in columns}
    return column if column in known else ""


def _resolve_lots(session: Session, name: str, rows) -> tuple[list[Problem], dict]:
    """Each line's lot (an id or a document number) resolved: the problems of lots that do
    not exist, or documents that opened several lots (write the lot's id), as
    `ledger.funds.lots.lot_by_reference` refuses them, and reference → lot id. (Kept apart
    from the rows: they are read again from the file as they are gone through.)"""
    problems, found = [], {}
    for row in rows:
        ref = row.values["lot"]
        if ref not in found:
            try:
                found[ref] = lot_by_reference(session, ref).id
            except LedgerError as exc:
                found[ref] = exc
        if isinstance(found[ref], LedgerError):
            exc = found[ref]
            problems.append(Problem(name, row.line, LOT.headers[0], str(exc), exc.code,
                                    exc.params))
    return problems, found


def _repeated_vouchers(name: str, rows) -> list[Problem]:
    problems, first = [], {}
    for row in rows:
        line = first.setdefault(row.values["voucher"], row.line)
        if line != row.line:
            problems.append(Problem(name, row.line, VOUCHER.headers[0], f"also on line {line}",
                                    "line_repeated", {"first_line": line}))
    return problems


def _recorded(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(session.execute(select(Transfer.idempotency_key).where(
            Transfer.idempotency_key.in_(keys[start:start + 500]))).scalars())
    return found


def _import(kind: str, columns: list[Column], record, session: Session, actor: User,
            path) -> ImportResult:
    rows = read(path, columns)
    name = Path(path).name
    lot_problems, lots_of = _resolve_lots(session, name, rows)
    problems = _repeated_vouchers(name, rows) + lot_problems
    if problems:
        raise ImportProblems(sorted(problems, key=lambda p: p.line))
    before = _recorded(session, [row.values["voucher"] for row in rows])
    added = same = 0
    for row in rows:
        try:
            record(session, actor, {**row.values, "lot": lots_of[row.values["lot"]]})
        except LedgerError as exc:
            column = _refusal_column(exc, columns)
            refused = ImportProblems([Problem(name, row.line, column, str(exc), exc.code,
                                              exc.params)])
            # A file refused for a misuse the ledger prevents is one refused attempt, naming
            # the file, line and column (recorded after the rollback: refusals_log).
            attach_file(refused, exc, name, row.line, column)
            raise refused from None
        if row.values["voucher"] in before:
            same += 1
        else:
            added += 1
    return ImportResult(kind, added, same, rows.report)


def _allocate(session, actor, v):
    flows.allocate(session, actor, lot_id=v["lot"], from_region=v["from"], to_region=v["to"],
                   amount_fen=v["amount"], effective_date=v["date"], key=v["voucher"],
                   memo=v.get("memo") or "")


def _fund_project(session, actor, v):
    flows.fund_project(session, actor, lot_id=v["lot"], project_code=v["project"],
                       amount_fen=v["amount"], effective_date=v["date"], key=v["voucher"],
                       memo=v.get("memo") or "")


def _pay(session, actor, v):
    flows.pay(session, actor, lot_id=v["lot"], payee_code=v["payee"], amount_fen=v["amount"],
              function_code=v["function_code"], use_code=v["use"],
              project_code=v.get("project"), county_code=v.get("county"),
              effective_date=v["date"], key=v["voucher"], memo=v.get("memo") or "",
              invoice_number=v.get("invoice"), contract_number=v.get("contract"))


def import_allocations(session: Session, actor: User, _vault, path) -> ImportResult:
    """下达/拨付: a lot's money passed one level down, a line a transfer."""
    return _import("allocations", ALLOCATION_COLUMNS, _allocate, session, actor, path)


def import_project_funding(session: Session, actor: User, _vault, path) -> ImportResult:
    """项目资金安排: a county's money of a lot put behind one of its projects."""
    return _import("project_funding", PROJECT_FUNDING_COLUMNS, _fund_project, session, actor,
                   path)


def import_payments(session: Session, actor: User, _vault, path) -> ImportResult:
    """支出: payments out of a project's money or a county's own share, to registered payees."""
    return _import("payments", PAYMENT_COLUMNS, _pay, session, actor, path)


def voucher_keys(columns: list[Column]):
    """What each line of a file of this kind recorded: (line, idempotency key — its voucher
    number —, amount in fen, date), for approving what the file says."""
    def keys(path) -> list[tuple[int, str, int, object]]:
        return [(row.line, row.values["voucher"], row.values["amount"], row.values["date"])
                for row in read(path, columns)]
    return keys


allocation_keys = voucher_keys(ALLOCATION_COLUMNS)
project_funding_keys = voucher_keys(PROJECT_FUNDING_COLUMNS)
payment_keys = voucher_keys(PAYMENT_COLUMNS)
