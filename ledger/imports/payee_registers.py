"""Import kinds for the payee registers of the diversion alerts: `approved_payees` (DIV-02),
`payee_accounts` (DIV-03), `unit_receipts` (DIV-05). Columns: docs/formats.md.

`fundtrail import KIND FILE --source TEXT --snapshot DATE`, like the external lists: each file
is one snapshot, all lines or none, the same snapshot again changes nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session

from ledger.core.money import parse_yuan
from ledger.core.pii import PiiVault
from ledger.imports.csvfile import (
    Column,
    ImportProblems,
    Problem,
    at_line,
    not_a_whole_number,
    not_one_of,
    not_positive,
    parse_date,
    read,
    too_long,
)
from ledger.imports.external import listed_id
from ledger.models import User
from ledger.registers.payees import (
    LINE_TYPES,
    RegisterImport,
    RegisterKind,
    record_register,
)

PERSONAL = {"个人": True, "个人账户": True, "personal": True,
            "对公": False, "单位": False, "对公账户": False, "corporate": False}


def _account_type(text: str) -> bool:
    if text.lower() not in PERSONAL:
        raise not_one_of(text, ("个人", "对公"))
    return PERSONAL[text.lower()]


def _last4(text: str) -> str:
    digits = "".join(ch for ch in text if ch not in " -")
    if not digits.isascii() or not digits.isdigit() or len(digits) < 4:
        raise ValueError("an account number needs at least its last four digits")
    return digits[-4:]  # only the last four are kept (ledger.registers.payees)


def _amount(text: str) -> int:
    fen = parse_yuan(text)
    if fen <= 0:
        raise not_positive(text)
    return fen


def _document(text: str) -> str:
    # As a payment's 合同号 is kept (ledger.funds.flows): without the spaces inside it.
    value = "".join(text.split())
    if len(value) > 100:
        raise too_long(value, 100)
    return value


def _count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) <= 0:
        raise not_a_whole_number(text)
    return int(text)


COLUMNS: dict[RegisterKind, list[Column]] = {
    RegisterKind.APPROVED_PAYEES: [
        Column("project_code", ("项目编码", "project_code")),
        Column("payee_name", ("单位名称", "payee_name")),
        Column("credit_code", ("统一社会信用代码", "credit_code"), required=False),
        Column("approved_on", ("批准日期", "approved_on"), parse_date),
        Column("until", ("截止日期", "until"), parse_date, required=False),
        Column("basis", ("依据", "basis"), required=False),
        # The contract (issue 18, DUP-02): its number as payments cite it, its amount, and
        # how many instalments it provides.
        Column("contract_number", ("合同号", "合同编号", "contract_number"), _document,
               required=False),
        Column("contract_amount_fen", ("合同金额", "contract_amount"), _amount,
               required=False),
        Column("instalments", ("付款期数", "instalments"), _count, required=False)],
    RegisterKind.PAYEE_ACCOUNTS: [
        Column("payee_name", ("收款人名称", "payee_name")),
        Column("personal", ("账户类型", "account_type"), _account_type),
        Column("account_last4", ("账号", "account_number"), _last4),
        Column("bank", ("开户行", "bank"), required=False),
        Column("holder_name", ("户名", "holder_name")),
        Column("holder_id_number", ("户主身份证号", "holder_id_number"), listed_id,
               required=False)],
    RegisterKind.UNIT_RECEIPTS: [
        Column("received_on", ("到账日期", "received_on"), parse_date),
        Column("amount_fen", ("金额", "amount"), _amount),
        Column("payer_name", ("付款人名称", "payer_name")),
        Column("receiver_name", ("收款户名", "receiver_name")),
        Column("receiver_region", ("收款单位区划", "receiver_region"), required=False),
        Column("receiver_id_number", ("收款人身份证号", "receiver_id_number"), listed_id,
               required=False),
        Column("memo", ("摘要", "memo"), required=False),
        Column("voucher", ("流水号", "voucher"), required=False)],
}


@dataclass
class RegisterImported(RegisterImport):
    """The stored snapshot, and the file reader's report (columns not read, blank lines:
    ledger.imports.csvfile.Rows), which `fundtrail import` prints."""
    report: list = field(default_factory=list)


def import_register(kind: RegisterKind, session: Session, actor: User, vault: PiiVault, path,
                    *, source: str, snapshot: dt.date) -> RegisterImport:
    rows = read(path, COLUMNS[kind])
    name = Path(path).name
    problems = []
    if kind is RegisterKind.UNIT_RECEIPTS:
        problems = [Problem(name, r.line, "收款单位区划", "say who received the money: the "
                            "unit's region code or the person's ID number",
                            "register_receiver_missing", {"line": r.line})
                    for r in rows if not r.values.get("receiver_region")
                    and not r.values.get("receiver_id_number")]
    if kind is RegisterKind.PAYEE_ACCOUNTS:
        problems = [Problem(name, r.line, "户主身份证号", "a personal account needs its "
                            "holder's ID number", "register_holder_id_missing",
                            {"line": r.line})
                    for r in rows if r.values["personal"] and not r.values.get(
                        "holder_id_number")]
    if problems:
        raise ImportProblems(problems)
    lines = [LINE_TYPES[kind](line_no=r.line, **{k: v for k, v in r.values.items()
                                                 if v is not None}) for r in rows]
    done = at_line(name, 0, lambda: record_register(session, actor, vault, kind=kind,
                                                    source=source, snapshot_date=snapshot,
                                                    lines=lines))
    return RegisterImported(done.list_id, done.added, done.unchanged, rows.report)


KINDS = {kind.value: partial(import_register, kind) for kind in RegisterKind}
