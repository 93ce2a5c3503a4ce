"""Money moving down the chain: allocate (切块下达), fund a project, pay a payee (支出).

Each function validates the request against the chain (a unit passes money only to the level
directly below it; a county funds only its own projects; payments reach payees inside the
paying county), then records a transfer through `ledger.funds.posting`.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Iterable

from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.classification import check_spending
from ledger.core.errors import LedgerError
from ledger.funds import fastpay
from ledger.funds.accounts import account_for
from ledger.funds.lots import get_lot
from ledger.funds.posting import Leg, check_amount, iso_day, record, replay, voucher_fields
from ledger.funds.projects import FUNDABLE, PAYABLE, get_payee, get_project, require_stage
from ledger.funds.refusals_log import attempting
from ledger.models import (
    AccountKind,
    PaymentDocument,
    RegionLevel,
    Transfer,
    TransferKind,
    User,
)
from ledger.org.regions import get_region
from ledger.store.access import Action, ancestors, require


def allocate(session: Session, actor: User, *, lot_id: int, from_region: str, to_region: str,
             amount_fen: int, key: str, effective_date: dt.date | None = None,
             memo: str = "", voucher_date: dt.date | None = None,
             value_date: dt.date | None = None) -> Transfer:
    """Pass part of a lot from a unit to a unit one level below it.

    `voucher_date` is the issue date (下达日期) the allocation's document carries; the level
    below records its own receipt date (`ledger.funds.receipts`)."""
    request = {"kind": "allocate", "lot": lot_id, "from": from_region, "to": to_region,
               "amount_fen": amount_fen, "date": iso_day(effective_date), "memo": memo,
               **voucher_fields(voucher_date, value_date)}
    existing = replay(session, key, request, actor)
    if existing is not None:
        return existing
    with attempting(actor, "allocate", region_code=from_region, lot_id=lot_id,
                    source_kind=AccountKind.UNIT.value, source_holder=from_region,
                    target=to_region, amount_fen=amount_fen, day=effective_date or voucher_date,
                    key=key):
        return _allocate(session, actor, lot_id, from_region, to_region, amount_fen, key,
                         effective_date, memo, voucher_date, value_date, request)


def _allocate(session, actor, lot_id, from_region, to_region, amount_fen, key, effective_date,
              memo, voucher_date, value_date, request):
    check_amount(amount_fen)
    lot = get_lot(session, lot_id)
    source, target = get_region(session, from_region), get_region(session, to_region)
    if target.parent_code != source.code or target.level is RegionLevel.TOWNSHIP \
            or target.level is RegionLevel.VILLAGE:
        raise LedgerError(
            f"allocation goes one level down to a city or county: {to_region} "
            f"({target.level.value}) is not directly below {from_region}",
            code="allocation_not_one_level_down", from_region=from_region,
            to_region=to_region, to_level=target.level)
    require(session, actor, Action.RECORD, from_region)
    with record_change(session, actor.username, "transfer.record") as change:
        src = account_for(change, lot, AccountKind.UNIT, from_region, from_region)
        dst = account_for(change, lot, AccountKind.UNIT, to_region, to_region)
        return record(change, actor, kind=TransferKind.ALLOCATE, lot_id=lot_id,
                      legs=[Leg(src, -amount_fen), Leg(dst, amount_fen)], key=key,
                      request=request, effective_date=effective_date,
                      region_code=from_region, memo=memo, voucher_date=voucher_date,
                      value_date=value_date)


def fund_project(session: Session, actor: User, *, lot_id: int, project_code: str,
                 amount_fen: int, key: str, effective_date: dt.date | None = None,
                 memo: str = "", voucher_date: dt.date | None = None,
                 value_date: dt.date | None = None) -> Transfer:
    """Put part of a county's share of a lot behind one of its projects."""
    request = {"kind": "fund_project", "lot": lot_id, "project": project_code,
               "amount_fen": amount_fen, "date": iso_day(effective_date), "memo": memo,
               **voucher_fields(voucher_date, value_date)}
    existing = replay(session, key, request, actor)
    if existing is not None:
        return existing
    with attempting(actor, "fund_project", project_code=project_code, lot_id=lot_id,
                    target=project_code, amount_fen=amount_fen,
                    day=effective_date or voucher_date, key=key) as attempt:
        return _fund_project(session, actor, attempt, lot_id, project_code, amount_fen, key,
                             effective_date, memo, voucher_date, value_date, request)


def _fund_project(session, actor, attempt, lot_id, project_code, amount_fen, key,
                  effective_date, memo, voucher_date, value_date, request):
    check_amount(amount_fen)
    lot = get_lot(session, lot_id)
    project = get_project(session, project_code)
    require_stage(session, project_code, FUNDABLE, "receive money")
    if project.function_code not in lot.function_codes:
        raise LedgerError(
            f"project {project_code} is for function code {project.function_code}, "
            f"outside lot {lot.label} ({', '.join(lot.function_codes)})",
            code="project_outside_lot", project=project_code,
            function_code=project.function_code, lot=lot.id, allowed=lot.function_codes)
    county = project.county_code
    attempt.region_code, attempt.source_kind, attempt.source_holder = \
        county, AccountKind.UNIT.value, county
    require(session, actor, Action.RECORD, county)
    with record_change(session, actor.username, "transfer.record") as change:
        src = account_for(change, lot, AccountKind.UNIT, county, county)
        dst = account_for(change, lot, AccountKind.PROJECT, project_code, county)
        return record(change, actor, kind=TransferKind.FUND_PROJECT, lot_id=lot_id,
                      legs=[Leg(src, -amount_fen), Leg(dst, amount_fen)], key=key,
                      request=request, effective_date=effective_date, region_code=county,
                      function_code=project.function_code, memo=memo,
                      voucher_date=voucher_date, value_date=value_date)


def pay(session: Session, actor: User, *, lot_id: int, payee_code: str, amount_fen: int,
        function_code: str, use_code: str, key: str, effective_date: dt.date | None = None,
        project_code: str | None = None, county_code: str | None = None,
        memo: str = "", voucher_date: dt.date | None = None, value_date: dt.date | None = None,
        invoice_number: str | None = None, contract_number: str | None = None,
        _roll_line: bool = False) -> Transfer:
    """Pay a household or contractor out of a project's money or a county's own share.

    Refused outright when the lot may not be spent on this function code or use (purpose lock).
    Three dates: the voucher's (`voucher_date`), the bank's value date (`value_date`) and the
    posting date (`effective_date`, the voucher's unless its month is closed; see
    `posting.posting_date`); the entry date is the transfer's `recorded_at`.
    The invoice (发票号) and contract (合同号) the payment cites, where it cites one, are a
    `payment_documents` row written in the same entry (the duplicate rules read them).
    """
    invoice_number = _document(invoice_number, 60)
    contract_number = _document(contract_number, 100)
    request = {"kind": "pay", "lot": lot_id, "payee": payee_code, "amount_fen": amount_fen,
               "function_code": function_code, "use": use_code, "project": project_code,
               "county": county_code, "date": iso_day(effective_date), "memo": memo,
               **voucher_fields(voucher_date, value_date)}
    # Only those given, so a payment without them replays as it did before they existed.
    request.update({k: v for k, v in (("invoice", invoice_number),
                                      ("contract", contract_number)) if v is not None})
    if isinstance(key, str) and key.startswith("roll:") and not _roll_line:
        raise LedgerError("keys starting with 'roll:' belong to payment rolls; use another key",
                          code="roll_key_reserved", key=key)
    if project_code is None:   # the common case first: see ledger/funds/fastpay.py
        with attempting(actor, "pay", region_code=county_code, lot_id=lot_id,
                        target=payee_code, amount_fen=amount_fen,
                        day=effective_date or voucher_date, key=key) as attempt:
            transfer = fastpay.pay(
                session, actor, attempt, lot_id=lot_id, payee_code=payee_code,
                amount_fen=amount_fen, function_code=function_code, use_code=use_code, key=key,
                effective_date=effective_date, county_code=county_code, memo=memo,
                voucher_date=voucher_date, value_date=value_date, request=request,
                invoice_number=invoice_number, contract_number=contract_number)
        if transfer is not None:
            return transfer
    existing = replay(session, key, request, actor)
    if existing is not None:
        return existing
    with attempting(actor, "pay", project_code=project_code, region_code=county_code,
                    lot_id=lot_id, target=payee_code, amount_fen=amount_fen,
                    day=effective_date or voucher_date, key=key) as attempt:
        return _pay(session, actor, attempt, lot_id, payee_code, amount_fen, function_code,
                    use_code, key, effective_date, project_code, county_code, memo,
                    voucher_date, value_date, request, invoice_number, contract_number)


def pay_many(session: Session, actor: User, payments: Iterable[dict]) -> list[Transfer]:
    """Several payments that arrive together, recorded in the caller's one transaction (group
    commit: one durable write of the log for all of them, where one transaction each waits for
    the disk once per payment).

    Each is `pay(session, actor, **payment)`, in order: its own transfer, postings and audit
    entry, signed as that payment alone would be, with the same checks and the same refusals.
    All or nothing, as an import is: the first refusal propagates, and the caller's rollback
    leaves none of them recorded."""
    return [pay(session, actor, **payment) for payment in payments]


def _pay(session, actor, attempt, lot_id, payee_code, amount_fen, function_code, use_code, key,
         effective_date, project_code, county_code, memo, voucher_date, value_date, request,
         invoice_number, contract_number):
    if project_code is not None:
        attempt.region_code = None   # the project's county (county_code is then refused)
        attempt.source_kind, attempt.source_holder = AccountKind.PROJECT.value, project_code
    elif county_code is not None:
        attempt.source_kind, attempt.source_holder = AccountKind.UNIT.value, county_code
    check_amount(amount_fen)
    lot = get_lot(session, lot_id)
    check_spending(lot, function_code, use_code)
    if (project_code is None) == (county_code is None):
        raise LedgerError("a payment comes from exactly one of a project or a county's own share",
                          code="payment_source_ambiguous", project=project_code,
                          county=county_code)
    if project_code is not None:
        project = get_project(session, project_code)
        require_stage(session, project_code, PAYABLE, "pay out")
        if function_code != project.function_code:
            raise LedgerError(f"project {project_code} is for function code "
                              f"{project.function_code}; it cannot pay under {function_code}",
                              code="project_function_mismatch", project=project_code,
                              project_function_code=project.function_code,
                              function_code=function_code)
        county, kind, holder = project.county_code, AccountKind.PROJECT, project_code
    else:
        region = get_region(session, county_code)
        if region.level is not RegionLevel.COUNTY:
            raise LedgerError(f"direct payments come from a county; {county_code} is not one",
                              code="not_a_county", region=county_code, level=region.level)
        county, kind, holder = county_code, AccountKind.UNIT, county_code
    attempt.region_code = county
    payee = get_payee(session, payee_code)
    if county not in ancestors(session, payee.region_code):
        raise LedgerError(f"payee {payee_code} lives outside county {county}, which is paying",
                          code="payee_outside_county", payee=payee_code, county=county)
    require(session, actor, Action.RECORD, county)
    with record_change(session, actor.username, "transfer.record") as change:
        src = account_for(change, lot, kind, holder, county)
        dst = account_for(change, lot, AccountKind.PAYEE, payee_code, payee.region_code)
        transfer = record(change, actor, kind=TransferKind.PAY, lot_id=lot_id,
                          legs=[Leg(src, -amount_fen), Leg(dst, amount_fen)], key=key,
                          request=request, effective_date=effective_date, region_code=county,
                          function_code=function_code, use_code=use_code, memo=memo,
                          voucher_date=voucher_date, value_date=value_date)
        if invoice_number is not None or contract_number is not None:
            change.add(PaymentDocument(transfer_id=transfer.id, invoice_number=invoice_number,
                                       contract_number=contract_number))
        return transfer


def _document(number: str | None, limit: int) -> str | None:
    """An invoice or contract number as kept: NFKC (full-width digits and letters as typed by
    Chinese input methods), letters upper-cased, without the spaces inside it (发票号 codes and
    numbers are often spaced), so that one invoice typed two ways is one invoice to DUP-01;
    None where the payment cites none."""
    if number is None:
        return None
    value = "".join(unicodedata.normalize("NFKC", str(number)).upper().split())
    if len(value) > limit:
        raise LedgerError(f"document number {value[:20]}… is longer than {limit} characters",
                          code="cell_too_long", max_length=limit)
    return value or None

