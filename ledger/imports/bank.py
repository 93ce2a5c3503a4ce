"""Bank files for payment rolls: the file sent to the bank and the bank's result file.

The file to the bank is private (it carries full card numbers): written with owner-only
permissions, GB18030 by default as Chinese banks expect, and with any cell that a spreadsheet
would run as a formula prefixed by an apostrophe. The result file is read with the common
import rules (docs/formats.md), as the bank sends it — value date, amount sent and credited,
the payee's name and account as the bank received them — and recorded whole or not at all
(`ledger.rolls.settlement`: a difference from the roll is recorded and accounted for, not
refused).
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.files import write_private_file
from ledger.core.money import format_yuan_plain, parse_yuan
from ledger.core.pii import PiiVault
from ledger.imports.csvfile import (
    CellError,
    Column,
    ImportProblems,
    Problem,
    not_a_whole_number,
    not_one_of,
    parse_date,
    read,
)
from ledger.models import Card, Household
from ledger.models.rolls import BankResult
from ledger.rolls.lifecycle import get_roll
from ledger.rolls.settlement import BankLine, file_digest, settle
from ledger.store.bulk import collector_paused

RESULT_WORDS = {"成功": True, "已支付": True, "paid": True, "success": True,
                "失败": False, "退票": False, "failed": False, "failure": False}


def _result(text: str) -> bool:
    if text.lower() in RESULT_WORDS:
        return RESULT_WORDS[text.lower()]
    raise not_one_of(text, ("成功", "失败"))


MAX_LINE_NO = 2**31 - 1   # a roll line's number is an INTEGER column


def _line_no(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_LINE_NO:
        raise not_a_whole_number(text)
    return int(text)


def _account(text: str) -> str:
    """An account number as the bank printed it: digits (and letters, for some corporate
    accounts), spaces and dashes dropped."""
    account = "".join(text.replace("-", " ").split())
    if not account.isascii() or not account.isalnum():
        raise CellError(f"{text!r} is not an account number", code="cell_not_an_account",
                         value=text)
    return account


def _credited(text: str) -> int:
    return parse_yuan(text) if text.strip() not in ("0", "0.00", "0.0") else 0


RESULT_COLUMNS = [
    Column("line", ("序号", "line_no"), _line_no),
    Column("household", ("户编码", "household_code"), required=False),
    Column("amount", ("金额", "发送金额", "amount", "sent_amount"), parse_yuan),
    Column("credited", ("入账金额", "实际入账金额", "credited_amount"), _credited,
           required=False),
    Column("result", ("结果", "result"), _result),
    Column("reason", ("失败原因", "reason"), required=False),
    Column("voucher", ("银行流水号", "voucher"), required=False),
    Column("value_date", ("入账日期", "交易日期", "value_date"), parse_date, required=False),
    Column("payee_name", ("收款人户名", "户名", "payee_name"), required=False),
    Column("account", ("收款账号", "账号", "account"), _account, required=False),
]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets run (OWASP CSV injection)


def safe_cell(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


def households_of(session: Session, sent) -> dict:
    """household code → Household for the lines of `sent` ((line, payment) pairs), read a chunk
    at a time: a county's roll has tens of thousands of lines, one look-up each would be most
    of writing its bank file."""
    codes = [line.household_code for line, _ in sent]
    found = {}
    for start in range(0, len(codes), 2000):
        found.update((h.code, h) for h in session.execute(
            select(Household).where(Household.code.in_(codes[start:start + 2000]))).scalars())
    return found


def cards_of(session: Session, sent) -> dict:
    """card id → Card for the lines of `sent` that pay a card of the register, a chunk at a
    time (as `households_of`)."""
    ids = sorted({line.card_id for line, _ in sent if getattr(line, "card_id", None)})
    found = {}
    for start in range(0, len(ids), 2000):
        found.update((c.id, c) for c in session.execute(
            select(Card).where(Card.id.in_(ids[start:start + 2000]))).scalars())
    return found


def write_bank_file(path: str | os.PathLike, sent, vault: PiiVault, households,
                    encoding: str = "gb18030", cards: dict | None = None) -> int:
    """Write (line, transfer) pairs as the bank's payment instruction file.

    A line that names a card of the register (`card_id`, from `cards_of`) is paid to that card;
    a file with such lines has a sixth column, 持卡人, the name the account is held in (the
    student's, the guardian's), which the bank checks against the account. A file whose every
    line pays the household's card of registration is written as before the register."""
    cards = cards or {}
    carded = any(getattr(line, "card_id", None) for line, _ in sent)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["序号", "户编码", "户主姓名", "银行卡号", "金额"]
                    + (["持卡人"] if carded else []))
    for line, _transfer in sent:
        household = households[line.household_code]
        card_id = getattr(line, "card_id", None)
        if card_id is not None:
            if card_id not in cards:   # a caller that did not read the cards: never guess
                raise ValueError(f"line {line.line_no} pays card #{card_id}: pass cards_of()")
            card = cards[card_id]
            account, holder = vault.decrypt(card.account), card.holder_name
        elif not household.bank_card:
            raise LedgerError(f"line {line.line_no} ({line.household_code}) has no bank card",
                              code="roll_line_no_card", line=line.line_no,
                              household=line.household_code)
        else:
            account, holder = vault.decrypt(household.bank_card), household.head_name
        writer.writerow([line.line_no, safe_cell(line.household_code),
                         safe_cell(household.head_name), account,
                         format_yuan_plain(line.amount_fen)]
                        + ([safe_cell(holder)] if carded else []))
    try:
        data = buffer.getvalue().encode(encoding)
    except LookupError:
        raise LedgerError(f"{encoding!r} is not a text encoding (try gb18030 or utf-8)",
                          code="encoding_unknown", encoding=encoding) from None
    except UnicodeEncodeError as exc:
        raise LedgerError(f"the bank file cannot be written in {encoding}: "
                          f"{exc.object[exc.start:exc.end]!r} has no code there (gb18030 "
                          "and utf-8 can write every name)", code="encoding_cannot_write",
                          encoding=encoding, text=exc.object[exc.start:exc.end]) from None
    path = Path(path)
    _remove_stale_copies(path)  # before, too: a full disk may be full of them
    # Owner-only from birth, renamed only when complete, removed on any failure (a full disk:
    # the caller's transaction then rolls back, so the send is not recorded either).
    write_private_file(path, data)
    _remove_stale_copies(path)
    return len(sent)


def _remove_stale_copies(path: Path) -> None:
    """Delete temporary files of earlier runs that were killed before their rename: they hold
    full card numbers and nobody will ever use them."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        pid = stale.name[len(path.name) + 2:-len(".tmp")]
        if pid.isdigit() and not _running(int(pid)):
            stale.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def import_bank_results(session: Session, actor, roll_code: str, path,
                        vault: PiiVault | None = None) -> dict:
    """Record the bank's result file against a roll and settle its payments; every line or
    none. `vault` reads the payee accounts, where the file gives them."""
    with collector_paused():  # a result per line, up to hundreds of thousands (ledger.store.bulk)
        return _import_bank_results(session, actor, roll_code, path, vault)


def _import_bank_results(session, actor, roll_code, path, vault) -> dict:
    roll = get_roll(session, roll_code)
    rows = read(path, RESULT_COLUMNS)
    name = Path(path).name
    digest = file_digest(Path(path).read_bytes())
    results = [BankLine(row.values["line"], row.values["amount"], row.values["result"],
                        row.values["reason"] or "", row.values["voucher"] or "",
                        row.values["household"], row.values["value_date"],
                        row.values["credited"], row.values["payee_name"],
                        row.values["account"], row.line) for row in rows]
    # Checked all together, then written all together (ledger.rolls.settlement): a problem on
    # any line names its file line and nothing is applied.
    outcomes, problems = settle(session, actor, roll, results, file_name=name,
                                digest=digest, vault=vault)
    if problems:
        raise ImportProblems([Problem(name, rows[i].line, "", str(refusal), refusal.code,
                                      refusal.params)
                              for i, refusal in problems])
    counts = {"posted": 0, "returned": 0, "recorded": 0, "unchanged": 0}
    for outcome in outcomes:
        counts[outcome] += 1
    counts["differences"] = session.execute(
        select(func.count()).select_from(BankResult).where(
            BankResult.roll_id == roll.id, BankResult.differences != "",
            BankResult.file_digest == digest)).scalar_one()
    return counts
