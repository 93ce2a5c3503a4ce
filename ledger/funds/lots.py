"""Fund lots (资金批次): opening one from an appropriation document, and integration (统筹整合)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.classification import check_lot_purpose
from ledger.core.errors import LedgerError, LotMismatch, NotFound
from ledger.funds.accounts import account_for
from ledger.funds.posting import Leg, check_amount, iso_day, record, replay
from ledger.models import AccountKind, FundLot, SourceLevel, Transfer, TransferKind, User
from ledger.org.regions import get_region
from ledger.store.access import Action, require
from ledger.store.db import fetch


def get_lot(session: Session, lot_id: int) -> FundLot:
    return fetch(session, FundLot, lot_id, f"fund lot #{lot_id}")


def lot_by_reference(session: Session, ref: str | int) -> FundLot:
    """A lot as a finance officer names it: its id (digits), or the document number (文号) that
    opened it, as the money files name it (docs/formats.md); a document that opened several
    lots (the same number at two levels or years) must be named by the lot's id."""
    text = str(ref).strip()
    if text.isascii() and text.isdigit():
        return get_lot(session, int(text))
    ids = list(session.execute(select(FundLot.id).where(FundLot.doc_number == text)
                               .order_by(FundLot.id)).scalars())
    if not ids:
        raise NotFound(f"lot {text} does not exist", what="lot", key=text)
    if len(ids) > 1:
        raise LedgerError(f"document {text} opened lots {', '.join(map(str, ids))}: write the "
                          "lot's id", code="lot_ambiguous", doc_number=text, lots=ids)
    return session.get(FundLot, ids[0])


def find_lot(session: Session, doc_number: str, source_level: SourceLevel, year: int):
    return session.execute(select(FundLot).where(
        FundLot.doc_number == doc_number, FundLot.source_level == source_level,
        FundLot.year == year)).scalar_one_or_none()


def appropriation_key(doc_number: str, source_level: SourceLevel, year: int) -> str:
    """The idempotency key of a lot's opening transfer when none is given (one per document)."""
    return f"appropriation:{doc_number}:{source_level.value}:{year}"


def appropriate(session: Session, actor: User, *, doc_number: str, source_level: SourceLevel,
                year: int, title: str, function_codes: list[str], allowed_uses: list[str],
                amount_fen: int, region_code: str, effective_date: dt.date,
                key: str | None = None) -> Transfer:
    """Open a lot from an appropriation document (指标文件) received at `region_code`.

    The lot's money starts in the receiving unit's account, pending until a colleague approves.
    Recording the same document twice is a no-op; the same document with other figures is refused.
    """
    if not isinstance(source_level, SourceLevel):
        raise LedgerError(f"source level must be one of "
                          f"{', '.join(s.value for s in SourceLevel)}, got {source_level!r}",
                          code="invalid_choice", field="source_level",
                          value=repr(source_level), allowed=list(SourceLevel))
    key = key or appropriation_key(doc_number, source_level, year)
    request = {"kind": "appropriate", "doc_number": doc_number,
               "source_level": source_level.value, "year": year, "title": title,
               "function_codes": sorted(function_codes), "allowed_uses": sorted(allowed_uses),
               "amount_fen": amount_fen, "region": region_code, "date": iso_day(effective_date)}
    existing = replay(session, key, request, actor)
    if existing is not None:
        return existing
    if not isinstance(doc_number, str) or not doc_number.strip():
        raise LedgerError("an appropriation needs its document number (文号)",
                          code="required", field="doc_number")

    check_amount(amount_fen)
    check_lot_purpose(function_codes, allowed_uses)
    if source_level is SourceLevel.INTEGRATED:
        raise LedgerError("integrated lots are opened by an integration entry, not appropriated",
                          code="integrated_appropriated")
    get_region(session, region_code)
    require(session, actor, Action.RECORD, region_code)
    if find_lot(session, doc_number, source_level, year) is not None:
        raise LedgerError(
            f"lot {doc_number} ({source_level.value} {year}) already exists under another key",
            code="already_exists", what="lot", key=f"{doc_number} ({source_level.value} {year})")
    with record_change(session, actor.username, "transfer.record") as change:
        lot = FundLot(doc_number=doc_number, source_level=source_level, year=year, title=title,
                      function_codes=sorted(function_codes),
                      allowed_uses=sorted(allowed_uses), amount_fen=amount_fen,
                      region_code=region_code)
        change.add(lot)
        session.flush()
        source = account_for(change, lot, AccountKind.APPROPRIATION, region_code, region_code)
        unit = account_for(change, lot, AccountKind.UNIT, region_code, region_code)
        return record(change, actor, kind=TransferKind.APPROPRIATE, lot_id=lot.id,
                      legs=[Leg(source, -amount_fen), Leg(unit, amount_fen)], key=key,
                      request=request, effective_date=effective_date, region_code=region_code,
                      memo=title)


def integrate(session: Session, actor: User, *, county_code: str, doc_number: str, year: int,
              title: str, function_codes: list[str], allowed_uses: list[str],
              sources: list[tuple[int, int]], effective_date: dt.date,
              key: str | None = None) -> Transfer:
    """Pool money from several lots held by a county into one integrated lot (统筹整合).

    Each source lot keeps its own balance (its money moves to an integration-out account) and
    the new lot records where every fen came from (lineage), so the channel stays traceable.
    """
    key = key or f"integration:{doc_number}:{year}"
    request = {"kind": "integrate", "county": county_code, "doc_number": doc_number,
               "year": year, "title": title, "function_codes": sorted(function_codes),
               "allowed_uses": sorted(allowed_uses),
               "sources": [[lot, amt] for lot, amt in sources], "date": iso_day(effective_date)}
    existing = replay(session, key, request, actor)
    if existing is not None:
        return existing
    check_lot_purpose(function_codes, allowed_uses)
    if not isinstance(doc_number, str) or not doc_number.strip():
        raise LedgerError("an integration needs its document number (文号)",
                          code="required", field="doc_number")
    if find_lot(session, doc_number, SourceLevel.INTEGRATED, year) is not None:
        raise LedgerError(f"integrated lot {doc_number} ({year}) already exists under another "
                          "key", code="already_exists", what="lot",
                          key=f"{doc_number} ({SourceLevel.INTEGRATED.value} {year})")
    if not sources:
        raise LedgerError("an integration needs at least one source lot",
                          code="integration_without_sources")
    lot_ids = [lot_id for lot_id, _ in sources]
    if len(set(lot_ids)) != len(lot_ids):
        raise LotMismatch("each source lot may appear once in an integration",
                          code="integration_lot_repeated",
                          lots=sorted({i for i in lot_ids if lot_ids.count(i) > 1}))
    for _, amount in sources:
        check_amount(amount, "integration amount")
    get_region(session, county_code)
    require(session, actor, Action.RECORD, county_code)
    total = sum(amount for _, amount in sources)
    with record_change(session, actor.username, "transfer.record") as change:
        new_lot = FundLot(doc_number=doc_number, source_level=SourceLevel.INTEGRATED,
                          year=year, title=title, function_codes=sorted(function_codes),
                          allowed_uses=sorted(allowed_uses), amount_fen=total,
                          region_code=county_code)
        change.add(new_lot)
        session.flush()
        legs, lineage = [], []
        for lot_id, amount in sources:
            old = get_lot(session, lot_id)
            unit = account_for(change, old, AccountKind.UNIT, county_code, county_code)
            out = account_for(change, old, AccountKind.INTEGRATION_OUT, county_code, county_code)
            legs += [Leg(unit, -amount), Leg(out, amount)]
            lineage.append((lot_id, new_lot.id, amount))
        incoming = account_for(change, new_lot, AccountKind.INTEGRATION_IN, county_code,
                               county_code)
        pooled = account_for(change, new_lot, AccountKind.UNIT, county_code, county_code)
        legs += [Leg(incoming, -total), Leg(pooled, total)]
        return record(change, actor, kind=TransferKind.INTEGRATE, lot_id=new_lot.id, legs=legs,
                      key=key, request=request, effective_date=effective_date,
                      region_code=county_code, memo=title, lineage=lineage)

