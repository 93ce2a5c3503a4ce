"""Registered households (建档立卡户) and their members.

A household is also a payee (same code), so payments reach it at once. Personal data (ID
numbers, bank cards, phones) is stored encrypted by a `PiiVault` and enters the audit log only
as a commitment. Names are kept in clear: public payment rolls print them (DOMAIN.md §2).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.access import Action, require
from ledger.audit.log import lock_head, record_change
from ledger.db import fetch
from ledger.errors import LedgerError
from ledger.idcard import IdNumberError, normalise
from ledger.models import (
    Household, HouseholdEvent, HouseholdStatus, Member, Payee, PayeeKind, RegionLevel, User,
)
from ledger.pii import PiiVault
from ledger.posting import check_date
from ledger.regions import get_region

RELATIONS = ("户主", "配偶", "子", "女", "儿媳", "女婿", "孙子", "孙女", "父亲", "母亲",
             "兄弟", "姐妹", "其他")


def get_household(session: Session, code: str) -> Household:
    return fetch(session, Household, code, f"household {code!r}")


def normalise_card(text: str) -> str:
    digits = text.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise LedgerError("a bank card number has 12 to 19 digits")
    return digits


def register_household(session: Session, actor: User, vault: PiiVault, *, code: str,
                       village_code: str, head_name: str, status: HouseholdStatus,
                       registered_on: dt.date, bank_card: str | None = None,
                       phone: str | None = None) -> Household:
    check_date(registered_on, "registration date")
    lock_head(session)  # decide under the log lock, as posting.replay does
    village = get_region(session, village_code)
    if village.level is not RegionLevel.VILLAGE:
        raise LedgerError(f"{village_code} is a {village.level.value}, not a village")
    require(session, actor, Action.RECORD, village_code)
    if session.get(Payee, code) is not None:
        raise LedgerError(f"payee or household {code!r} already exists")
    card = normalise_card(bank_card) if bank_card else None
    with record_change(session, actor.username, "household.register") as change:
        change.add(Payee(code=code, kind=PayeeKind.HOUSEHOLD, name=head_name,
                         region_code=village_code))
        session.flush()
        household = Household(code=code, village_code=village_code, head_name=head_name,
                              bank_card=vault.encrypt(card) if card else None,
                              bank_card_last4=card[-4:] if card else None,
                              phone=vault.encrypt(phone) if phone else None)
        change.add(household)
        session.flush()
        change.add(HouseholdEvent(household_code=code, status=status,
                                  effective_date=registered_on, reason="registration"))
    return household


def add_member(session: Session, actor: User, vault: PiiVault, *, household_code: str,
               name: str, relation: str, id_number: str,
               death_date: dt.date | None = None) -> Member:
    lock_head(session)  # decide under the log lock, as posting.replay does
    household = get_household(session, household_code)
    require(session, actor, Action.RECORD, household.village_code)
    if relation not in RELATIONS:
        raise LedgerError(f"relation {relation!r} is not one of {'、'.join(RELATIONS)}")
    try:
        number = normalise(id_number)
    except IdNumberError as exc:
        raise LedgerError(str(exc)) from None
    digest = vault.digest(number)
    if session.execute(select(Member.id).where(Member.household_code == household_code,
                                               Member.id_digest == digest)).first():
        raise LedgerError(f"this person is already a member of household {household_code}")
    member = Member(household_code=household_code, name=name, relation=relation,
                    id_number=vault.encrypt(number), id_digest=digest, death_date=death_date)
    with record_change(session, actor.username, "member.add") as change:
        change.add(member)
    return member


def current_status(session: Session, household_code: str) -> HouseholdStatus:
    return session.execute(
        select(HouseholdEvent.status).where(HouseholdEvent.household_code == household_code)
        .order_by(HouseholdEvent.effective_date.desc(), HouseholdEvent.id.desc())
        .limit(1)).scalar_one()
