"""Every kind of file `fundtrail import` and the web's import page take, in one table.

The command line (ledger.cli.imports) and the web (web.views.imports) both offer exactly these
kinds and call `run_import`; neither keeps a list of its own, so a new kind is added here once.
A kind says what it needs beyond the file: the personal-data vault (ID numbers, cards) and, for
lists and registers drawn from another office's system, the issuing source and the snapshot date
the list was drawn (an alert built on it names both).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Callable

from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.imports import external, payee_registers
from ledger.imports.cards import import_cards
from ledger.imports.household_status import import_household_status
from ledger.imports.households import import_households, import_members
from ledger.imports.member_history import import_member_history
from ledger.imports.movements import (
    allocation_keys,
    import_allocations,
    import_payments,
    import_project_funding,
    payment_keys,
    project_funding_keys,
)
from ledger.imports.payees import import_payees
from ledger.imports.project_notices import import_project_notices
from ledger.imports.reference import (
    appropriation_keys,
    import_appropriations,
    import_projects,
    import_regions,
)
from ledger.imports.standards import import_standards
from ledger.models import User
from ledger.models.registers import ListKind, RegisterKind


@dataclass(frozen=True)
class ImportKind:
    name: str                  # what `fundtrail import NAME` and the web form say
    label: str                 # what a finance officer reads (Chinese)
    run: Callable              # (session, actor, vault, path, **extra) -> result
    needs_vault: bool = False  # the file carries personal data (encrypted at rest)
    needs_source: bool = False  # --source and --snapshot: another office's list or register
    # Kinds whose lines record transfers (pending approval): path -> [(line, idempotency key,
    # amount in fen, date)], so that an approver can approve what a file recorded
    # (ledger.imports.approvals).
    transfer_keys: Callable | None = None


def _kind(name, label, run, **flags) -> tuple[str, ImportKind]:
    return name, ImportKind(name, label, run, **flags)


_LIST_LABELS = {
    ListKind.DEATHS: "死亡人口名单", ListKind.PAYROLL: "财政供养人员名单",
    ListKind.VEHICLES: "机动车登记", ListKind.BUSINESSES: "市场主体登记",
    ListKind.OFFICIALS: "干部及近亲属", ListKind.BLACKLIST: "违规违纪黑名单",
    ListKind.PROPERTIES: "不动产登记",
}
_REGISTER_LABELS = {
    RegisterKind.APPROVED_PAYEES: "项目中标/合同单位", RegisterKind.PAYEE_ACCOUNTS: "收款账户",
    RegisterKind.UNIT_RECEIPTS: "单位账户来款流水",
}

KINDS: dict[str, ImportKind] = dict([
    _kind("regions", "行政区划", import_regions),
    _kind("appropriations", "资金文件（指标）", import_appropriations,
          transfer_keys=appropriation_keys),
    _kind("allocations", "资金下达拨付", import_allocations, transfer_keys=allocation_keys),
    _kind("project_funding", "项目资金安排", import_project_funding,
          transfer_keys=project_funding_keys),
    _kind("payments", "资金支付（项目支出、直接支付）", import_payments,
          transfer_keys=payment_keys),
    _kind("projects", "项目库", import_projects),
    _kind("project_notices", "项目公示公告", import_project_notices),
    _kind("households", "建档立卡户", import_households, needs_vault=True),
    _kind("members", "家庭成员", import_members, needs_vault=True),
    _kind("member_history", "家庭成员变动", import_member_history, needs_vault=True),
    _kind("household_status", "户状态变更", import_household_status),
    _kind("cards", "银行卡（户卡、个人卡、监护人卡）", import_cards, needs_vault=True),
    _kind("standards", "补助标准", import_standards),
    _kind("payees", "收款人名录（企业、个人、单位）", import_payees, needs_vault=True),
    *(_kind(k.value, _LIST_LABELS[k], partial(external.import_list, k), needs_vault=True,
            needs_source=True) for k in ListKind),
    *(_kind(k.value, _REGISTER_LABELS[k], partial(payee_registers.import_register, k),
            needs_vault=True, needs_source=True) for k in RegisterKind),
])


class MissingImportDetail(LedgerError):
    """A list or register was imported without its source or snapshot date."""

    code = "import_detail_missing"

    def __init__(self, kind: str):
        super().__init__(f"an external list ({kind}) needs --source and --snapshot", kind=kind)
        self.kind = kind


def run_import(session: Session, actor: User, kind: str, path, *, vault: PiiVault | None = None,
               source: str | None = None, snapshot: dt.date | None = None):
    """Import `path` as `kind`, all or nothing. The caller commits."""
    spec = KINDS[kind]
    if spec.needs_vault and vault is None:
        raise LedgerError(f"importing {kind} needs the personal-data keys (FUNDTRAIL_PII_KEYS)",
                          code="import_needs_pii_keys", kind=kind)
    if spec.needs_source:
        if not source or snapshot is None:
            raise MissingImportDetail(kind)
        return spec.run(session, actor, vault, path, source=source, snapshot=snapshot)
    return spec.run(session, actor, vault, path)
