"""Registers about where fund money went that the ledger's postings do not carry, for the
diversion alerts DIV-02, DIV-03 and DIV-05 (docs/alerts.md):

- `approved_payees`: who may be paid from a project — the winning bidders and contract
  parties of the county's project library and tender results (中标/合同单位). DIV-02.
- `payee_accounts`: the bank account a payee is paid into, as the treasury's payment system
  (国库集中支付 收款人信息) records it: personal (个人) or corporate (对公), and for a personal
  account the holder's ID number. DIV-03.
- `unit_receipts`: money received by a unit's accounts (or a related person's), from bank
  statements (银行流水): who paid it, when, how much, and why. DIV-05.

Like the external lists (ledger.registers.external), each import is one snapshot with its source and
date, all append-only, one audit-log entry per snapshot; alerts built on a register name its
source and snapshot date. A correction is a new snapshot, never an edit.

*Decision:* an account number itself is not kept, only its last four digits. DIV-03 needs the
account's type and its holder (the ID number, stored encrypted with the same keyed digest as
household members, so the rule joins digests without decrypting); keeping full account numbers
of contractors and officials would add personal data no rule reads.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.models import User
from ledger.models.registers import (
    ApprovedPayee,
    PayeeAccount,
    PayeeRegister,
    RegisterKind,
    UnitReceipt,
)


@dataclass(frozen=True)
class ApprovedPayeeLine:
    line_no: int
    project_code: str
    payee_name: str
    approved_on: dt.date
    until: dt.date | None = None
    credit_code: str = ""
    basis: str = ""
    # The contract (issue 18): 合同号 as payments cite it, 合同金额 in fen, 付款期数.
    contract_number: str | None = None
    contract_amount_fen: int | None = None
    instalments: int | None = None

    def __repr__(self) -> str:
        # A snapshot is recognised by the digest of its lines' reprs: a line without a
        # contract reads as it did before the contract's fields existed, so a file imported
        # before them is still the same snapshot.
        fields = {k: v for k, v in self.__dict__.items()
                  if not (k in _CONTRACT_FIELDS and v is None)}
        return f"ApprovedPayeeLine({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


_CONTRACT_FIELDS = ("contract_number", "contract_amount_fen", "instalments")


@dataclass(frozen=True)
class PayeeAccountLine:
    line_no: int
    payee_name: str
    personal: bool
    account_last4: str
    holder_name: str
    holder_id_number: str | None = None
    bank: str = ""


@dataclass(frozen=True)
class ReceiptLine:
    line_no: int
    received_on: dt.date
    amount_fen: int
    payer_name: str
    receiver_name: str
    receiver_region: str | None = None
    receiver_id_number: str | None = None
    memo: str = ""
    voucher: str = ""


LINE_TYPES = {RegisterKind.APPROVED_PAYEES: ApprovedPayeeLine,
              RegisterKind.PAYEE_ACCOUNTS: PayeeAccountLine,
              RegisterKind.UNIT_RECEIPTS: ReceiptLine}


@dataclass
class RegisterImport:
    # named like ledger.registers.external.ListImport, so `fundtrail import` reports both
    list_id: int
    added: int
    unchanged: bool


def _check(kind: RegisterKind, line) -> None:
    if kind is RegisterKind.UNIT_RECEIPTS:
        if isinstance(line.amount_fen, bool) or not isinstance(line.amount_fen, int) \
                or line.amount_fen <= 0:
            raise LedgerError(f"line {line.line_no}: an amount received is a positive whole "
                              "number of fen", code="register_amount_invalid",
                              line=line.line_no, value=repr(line.amount_fen))
        if not line.receiver_region and not line.receiver_id_number:
            raise LedgerError(f"line {line.line_no}: say who received the money (a unit's "
                              "region code or a person's ID number)",
                              code="register_receiver_missing", line=line.line_no)
    if kind is RegisterKind.PAYEE_ACCOUNTS:
        if not (len(line.account_last4) == 4 and line.account_last4.isdigit()):
            raise LedgerError(f"line {line.line_no}: keep the account's last four digits",
                              code="register_last4_invalid", line=line.line_no)
        if line.personal and not line.holder_id_number:
            raise LedgerError(f"line {line.line_no}: a personal account needs its holder's ID "
                              "number (DIV-03 checks whether the holder is a beneficiary)",
                              code="register_holder_id_missing", line=line.line_no)
    if kind is RegisterKind.APPROVED_PAYEES:
        for field, value in (("contract_amount_fen", line.contract_amount_fen),
                             ("instalments", line.instalments)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value <= 0):
                raise LedgerError(f"line {line.line_no}: {field} is a positive whole number",
                                  code="register_contract_invalid", line=line.line_no,
                                  field=field, value=repr(value))
    if kind is RegisterKind.APPROVED_PAYEES and line.until is not None \
            and line.until < line.approved_on:
        raise LedgerError(f"line {line.line_no}: the approval ends before it starts",
                          code="dates_reversed", field="approval", start=line.approved_on,
                          end=line.until, line=line.line_no)


def record_register(session: Session, actor: User, vault: PiiVault, *, kind: RegisterKind,
                    source: str, snapshot_date: dt.date, lines: list) -> RegisterImport:
    """Store one snapshot of a register. The same snapshot again changes nothing; the same
    kind, source and date with other content is refused (a new snapshot needs its own date)."""
    from ledger.audit.log import record_change
    from ledger.store.access import Action, require
    require(session, actor, Action.RECORD, actor.region_code)
    if not source or not source.strip():
        raise LedgerError("a register needs its source (e.g. 县公共资源交易中心)",
                          code="required", field="source")
    if not lines:
        raise LedgerError("the register is empty", code="list_empty", kind=kind)
    for line in lines:
        if not isinstance(line, LINE_TYPES[kind]):
            raise LedgerError(f"a {kind.value} register takes {LINE_TYPES[kind].__name__} lines",
                              code="register_line_type", kind=kind,
                              expected=LINE_TYPES[kind].__name__)
        _check(kind, line)
    digest = hashlib.sha256("\n".join(repr(x) for x in lines).encode("utf-8")).hexdigest()
    from ledger.registers.external import earlier_snapshot
    existing = earlier_snapshot(session, PayeeRegister, "register", kind, source,
                                snapshot_date, digest)
    if existing is not None:
        return RegisterImport(existing.id, 0, True)
    with record_change(session, actor.username, "payee_register.import", register_kind=kind.value,
                       source=source, snapshot=snapshot_date.isoformat()) as change:
        reg = PayeeRegister(kind=kind, source=source.strip(), snapshot_date=snapshot_date,
                            file_sha256=digest, imported_by=actor.id, imported_at=change.time)
        change.add(reg)
        session.flush()
        for line in lines:
            change.add(_row(kind, reg.id, line, vault))
    return RegisterImport(reg.id, len(lines), False)


def _row(kind, register_id, x, vault):
    if kind is RegisterKind.APPROVED_PAYEES:
        return ApprovedPayee(register_id=register_id, line_no=x.line_no,
                             project_code=x.project_code, payee_name=x.payee_name,
                             credit_code=x.credit_code or "", approved_on=x.approved_on,
                             until=x.until, basis=x.basis or "",
                             contract_number=x.contract_number,
                             contract_amount_fen=x.contract_amount_fen,
                             instalments=x.instalments)
    if kind is RegisterKind.PAYEE_ACCOUNTS:
        holder = x.holder_id_number
        return PayeeAccount(register_id=register_id, line_no=x.line_no,
                            payee_name=x.payee_name, personal=x.personal,
                            account_last4=x.account_last4, bank=x.bank or "",
                            holder_name=x.holder_name,
                            holder_id_number=vault.encrypt(holder) if holder else None,
                            holder_digest=vault.digest(holder) if holder else None)
    receiver = x.receiver_id_number
    return UnitReceipt(register_id=register_id, line_no=x.line_no, received_on=x.received_on,
                       amount_fen=x.amount_fen, payer_name=x.payer_name,
                       receiver_region=x.receiver_region, receiver_name=x.receiver_name,
                       receiver_id_number=vault.encrypt(receiver) if receiver else None,
                       receiver_digest=vault.digest(receiver) if receiver else None,
                       memo=x.memo or "", voucher=x.voucher or "")
