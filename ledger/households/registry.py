"""Registered households (建档立卡户) and their members.

A household is also a payee (same code), so payments reach it at once. Personal data (ID
numbers, bank cards, phones) is stored encrypted by a `PiiVault` and enters the audit log only
as a commitment. Names are kept in clear: public payment rolls print them (DOMAIN.md §2).
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.entries import table_record
from ledger.audit.log import PendingEntry, append_entries, lock_head, record_change
from ledger.core.errors import LedgerError
from ledger.core.idcard import (
    IdNumber,
    IdNumberError,
    birth_date,
    check_character_error,
    matching_form,
    read_number,
)
from ledger.core.normalise import number_text
from ledger.core.pii import PiiVault
from ledger.funds.posting import check_date
from ledger.models import (
    Household,
    HouseholdEvent,
    HouseholdLink,
    HouseholdLinkKind,
    HouseholdStatus,
    Member,
    Payee,
    PayeeKind,
    RegionLevel,
    User,
)
from ledger.org.regions import get_region
from ledger.store.access import Action, require
from ledger.store.db import fetch, insert_rows, insert_with_ids

RELATIONS = ("户主", "配偶", "子", "女", "儿媳", "女婿", "孙子", "孙女", "父亲", "母亲",
             "兄弟", "姐妹", "其他")


def get_household(session: Session, code: str) -> Household:
    return fetch(session, Household, code, f"household {code!r}")


def card_key(vault: PiiVault, card: str) -> str:
    """The keyed digest that groups households by bank card (BEN-03) without decrypting."""
    return vault.digest("card:" + card)


def birth_key(vault: PiiVault, id_number: str) -> str:
    """The keyed digest of a person's birth date, from their ID number (as registered, 15 or 18
    characters): BEN-02 compares the names of people born the same day in the same village."""
    return vault.digest("birth:" + birth_date(matching_form(id_number)).isoformat())


def read_member_id(text: str, *, accept_wrong_check_character: bool = False) -> IdNumber:
    """A member's ID number as registered, or IdNumberError. A wrong check character stands
    only where the caller accepts it: a historical registry record imported with
    `[imports] accept_wrong_check_character` (ledger.imports.households); never a new entry."""
    number = read_number(text)
    if number.wrong_check_character and not accept_wrong_check_character:
        raise check_character_error(number)
    return number


def salted(key: str) -> str:
    """A blocking key as stored: the digest, a dot, and a random salt.

    Row images hold personal-data columns as SHA-256 of the stored value (entries.
    _bound_value). Unsalted, two people born the same day, or two households sharing a card,
    would show the same commitment in the public log; salted, every commitment differs and the
    rule reads the digest before the dot (`unsalted`)."""
    return f"{key}.{secrets.token_hex(8)}"


def unsalted(stored: str | None) -> str | None:
    return stored.partition(".")[0] if stored else None


def normalise_card(text: str) -> str:
    """A card number as typed, in the one form it is stored and digested in: NFKC (full-width
    digits are the same card), spaces and dashes dropped; a character that is no ASCII digit
    is refused by name (`number_character`: a letter O, an Arabic-Indic digit)."""
    digits = number_text(text, "bank_card")
    if not 12 <= len(digits) <= 19:
        raise LedgerError("a bank card number has 12 to 19 digits", code="bank_card_invalid")
    return digits


def register_household(session: Session, actor: User, vault: PiiVault, *, code: str,
                       village_code: str, head_name: str, status: HouseholdStatus,
                       registered_on: dt.date, bank_card: str | None = None,
                       phone: str | None = None) -> Household:
    """A household created and enrolled (纳入) on the same day, in one entry."""
    with record_change(session, actor.username, "household.register") as change:
        household = _create(session, change, actor, vault, code, village_code, head_name,
                            registered_on, bank_card, phone)
        change.add(HouseholdEvent(household_code=code, status=status,
                                  effective_date=registered_on, reason=ENROLMENT))
    return household


def create_household(session: Session, actor: User, vault: PiiVault, *, code: str,
                     village_code: str, head_name: str, created_on: dt.date,
                     bank_card: str | None = None, phone: str | None = None) -> Household:
    """A household that exists and is not enrolled yet: no status event. Only a split (分户)
    makes one (ledger.households.changes.split_household), and its link's date says when;
    `enrol_household` enrols it later."""
    with record_change(session, actor.username, "household.create") as change:
        household = _create(session, change, actor, vault, code, village_code, head_name,
                            created_on, bank_card, phone)
    return household


def _create(session, change, actor, vault, code, village_code, head_name, day, bank_card,
            phone) -> Household:
    # record_change holds the log lock: decided under it, as posting.replay does
    card = check_new_household(session, actor, village_code, day, bank_card)
    if session.get(Payee, code) is not None:
        raise LedgerError(f"payee or household {code!r} already exists", code="already_exists",
                          what="payee", key=code)
    change.add(Payee(code=code, kind=PayeeKind.HOUSEHOLD, name=head_name,
                     region_code=village_code))
    session.flush()
    household = Household(code=code, village_code=village_code, head_name=head_name,
                          bank_card=vault.encrypt(card) if card else None,
                          bank_card_last4=card[-4:] if card else None,
                          card_digest=salted(card_key(vault, card)) if card else None,
                          phone=vault.encrypt(phone) if phone else None)
    change.add(household)
    session.flush()
    return household


# The reason of a household's enrolment event (纳入, 识别: the first day it is registered as
# poor). Alert BEN-08 reads it to tell an enrolment from a later status change.
ENROLMENT = "registration"


def enrolment(session: Session, household_code: str) -> HouseholdEvent | None:
    """The household's enrolment event, or None while it is not enrolled (split off)."""
    return session.execute(select(HouseholdEvent).where(
        HouseholdEvent.household_code == household_code, HouseholdEvent.reason == ENROLMENT)
        .order_by(HouseholdEvent.id).limit(1)).scalar_one_or_none()


def split_on(session: Session, household_code: str) -> HouseholdLink | None:
    """The split (分户) that formed the household, if it was formed by one."""
    return session.execute(select(HouseholdLink).where(
        HouseholdLink.kind == HouseholdLinkKind.SPLIT,
        HouseholdLink.to_household_code == household_code)
        .order_by(HouseholdLink.id).limit(1)).scalar_one_or_none()


def household_since(session: Session, household_code: str) -> dt.date:
    """The first day the household exists: its split's date (分户日期) if a split formed it,
    or its first status event (the enrolment, or an earlier line of its imported history)."""
    link = split_on(session, household_code)
    first = session.execute(select(HouseholdEvent.effective_date).where(
        HouseholdEvent.household_code == household_code)
        .order_by(HouseholdEvent.effective_date).limit(1)).scalar_one_or_none()
    return min(d for d in (first, link.effective_date if link else None) if d is not None)


def enrol_household(session: Session, actor: User, code: str, status: HouseholdStatus,
                    enrolled_on: dt.date) -> HouseholdEvent:
    """Enrol (纳入) a household that a split formed and that is not enrolled yet: its first
    status event, dated on or after the split."""
    household = get_household(session, code)
    require(session, actor, Action.RECORD, household.village_code)
    check_date(enrolled_on, "enrolment date")
    check_enrolment(session, code, enrolled_on)
    if not isinstance(status, HouseholdStatus):
        raise LedgerError(f"status must be one of "
                          f"{', '.join(s.value for s in HouseholdStatus)}, got {status!r}",
                          code="invalid_choice", field="status", value=repr(status),
                          allowed=list(HouseholdStatus))
    event = HouseholdEvent(household_code=code, status=status, effective_date=enrolled_on,
                           reason=ENROLMENT)
    with record_change(session, actor.username, "household.enrol") as change:
        change.add(event)
    return event


def check_enrolment(session: Session, code: str, enrolled_on: dt.date) -> None:
    """A household is enrolled once, and not before a split formed it."""
    enrolled = enrolment(session, code)
    if enrolled is not None:
        raise LedgerError(f"household {code} was enrolled on {enrolled.effective_date} (log "
                          f"entry {enrolled.log_index})", code="household_already_enrolled",
                          household=code, enrolled=enrolled.effective_date,
                          log_index=enrolled.log_index)
    latest = session.execute(select(HouseholdEvent).where(
        HouseholdEvent.household_code == code).order_by(
        HouseholdEvent.effective_date.desc(), HouseholdEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    if latest is not None:   # merged away (cancelled) before anyone enrolled it: final
        raise LedgerError(f"household {code} is {latest.status.value} since "
                          f"{latest.effective_date}; it can become: none",
                          code="status_not_allowed", household=code, status=latest.status,
                          since=latest.effective_date, requested=HouseholdStatus.REGISTERED,
                          allowed=[])
    link = split_on(session, code)
    if link is not None and enrolled_on < link.effective_date:
        raise LedgerError(f"household {code} was formed by a split on {link.effective_date}; it "
                          f"cannot be enrolled on {enrolled_on}", code="enrolment_before_split",
                          household=code, split_on=link.effective_date, enrolled=enrolled_on)


def add_member(session: Session, actor: User, vault: PiiVault, *, household_code: str,
               name: str, relation: str, id_number: str,
               death_date: dt.date | None = None) -> Member:
    lock_head(session)  # decide under the log lock, as posting.replay does
    household = get_household(session, household_code)
    require(session, actor, Action.RECORD, household.village_code)
    if relation not in RELATIONS:
        raise LedgerError(f"relation {relation!r} is not one of {'、'.join(RELATIONS)}",
                          code="invalid_choice", field="relation", value=repr(relation),
                          allowed=RELATIONS)
    try:
        number = read_member_id(id_number)
    except IdNumberError as exc:
        raise LedgerError(str(exc), code="id_number_invalid", problem=exc.problem) from None
    # Kept as registered (a legacy 15-digit number stays so); matched through its
    # 18-character form, so lists that carry the new number find this person.
    digest = vault.digest(number.matching)
    if session.execute(select(Member.id).where(Member.household_code == household_code,
                                               Member.id_digest == digest)).first():
        raise LedgerError(f"this person is already a member of household {household_code}",
                          code="member_duplicate", household=household_code)
    member = Member(household_code=household_code, name=name, relation=relation,
                    id_number=vault.encrypt(number.registered), id_digest=digest,
                    birth_digest=salted(birth_key(vault, number.matching)),
                    death_date=death_date)
    with record_change(session, actor.username, "member.add") as change:
        change.add(member)
    return member


@dataclass(frozen=True)
class NewMember:
    name: str
    relation: str
    id_number: str
    death_date: dt.date | None = None
    # A historical registry record whose ID number's only fault is its check character, let
    # in by `[imports] accept_wrong_check_character` (read_member_id); False for new entries.
    accept_wrong_check_character: bool = False


@dataclass(frozen=True)
class NewHousehold:
    code: str
    village_code: str
    head_name: str
    status: HouseholdStatus
    registered_on: dt.date
    bank_card: str | None = None
    phone: str | None = None
    members: tuple[NewMember, ...] = ()


def register_households(session: Session, actor: User, vault: PiiVault,
                        batch: list[NewHousehold]) -> list[list[int]]:
    """Register many households with their members at once; return each one's member ids.

    The same checks, rows and audit entries as `register_household` followed by `add_member`
    for each member (one "household.register" entry, then one "member.add" entry per member),
    but read a batch at a time and written with Core executemany: a county registers its
    households by the ten thousand (imports, the demo province). All or nothing: the first
    household or member that is refused names itself and nothing of the batch is written.
    """
    if not batch:
        return []
    head = lock_head(session)
    codes = [h.code for h in batch]
    taken = set()
    for start in range(0, len(codes), 2000):
        taken |= set(session.execute(select(Payee.code).where(
            Payee.code.in_(codes[start:start + 2000]))).scalars())
    villages: set[str] = set()
    seen = set()
    prepared = []
    for h in batch:
        card = check_new_household(session, actor, h.village_code, h.registered_on,
                                   h.bank_card, villages)
        if h.code in taken or h.code in seen:
            raise LedgerError(f"payee or household {h.code!r} already exists",
                              code="already_exists", what="payee", key=h.code)
        seen.add(h.code)
        digests, members = set(), []
        for m in h.members:
            member = prepare_member(vault, h.code, m)
            if member[2] in digests:
                raise LedgerError(f"this person is already a member of household {h.code}",
                                  code="member_duplicate", household=h.code)
            digests.add(member[2])
            members.append(member)
        prepared.append((h, card, members))
    now = dt.datetime.now(dt.timezone.utc)
    index, log_id = head.size, head.log_id
    payees, households, events, member_rows, shapes = [], [], [], [], []
    for h, card, members in prepared:
        payees.append({"code": h.code, "kind": PayeeKind.HOUSEHOLD, "name": h.head_name,
                       "region_code": h.village_code, "log_index": index, "log_id": log_id})
        households.append({"code": h.code, "village_code": h.village_code,
                           "head_name": h.head_name,
                           "bank_card": vault.encrypt(card) if card else None,
                           "bank_card_last4": card[-4:] if card else None,
                           "card_digest": salted(card_key(vault, card)) if card else None,
                           "phone": vault.encrypt(h.phone) if h.phone else None,
                           "log_index": index, "log_id": log_id})
        events.append({"household_code": h.code, "status": h.status,
                       "effective_date": h.registered_on, "reason": ENROLMENT,
                       "log_index": index, "log_id": log_id})
        for k, (m, encrypted, digest, born) in enumerate(members, start=1):
            member_rows.append({"household_code": h.code, "name": m.name,
                                "relation": m.relation, "id_number": encrypted,
                                "id_digest": digest, "birth_digest": born,
                                "death_date": m.death_date,
                                "log_index": index + k, "log_id": log_id})
        shapes.append(len(members))
        index += 1 + len(members)
    session.flush()
    insert_rows(session, Payee.__table__, payees)
    insert_rows(session, Household.__table__, households)
    insert_with_ids(session, HouseholdEvent.__table__, events)
    insert_with_ids(session, Member.__table__, member_rows)
    pending, member_ids, next_member = [], [], 0
    for payee, household, event, count in zip(payees, households, events, shapes):
        pending.append(PendingEntry(actor.username, "household.register", now, [
            table_record(Payee.__table__, payee), table_record(Household.__table__, household),
            table_record(HouseholdEvent.__table__, event)]))
        mine = member_rows[next_member:next_member + count]
        next_member += count
        pending.extend(PendingEntry(actor.username, "member.add", now,
                                    [table_record(Member.__table__, row)]) for row in mine)
        member_ids.append([row["id"] for row in mine])
    append_entries(session, head, pending)
    return member_ids


def check_new_household(session: Session, actor: User, village_code: str,
                        registered_on: dt.date, bank_card: str | None,
                        villages_checked: set | None = None) -> str | None:
    """The checks of a new household that do not depend on the others (date, village, the
    actor's scope, the card); returns the card normalised. Importers call it line by line so
    that a refusal names its line, then register the lot at once."""
    check_date(registered_on, "registration date")
    if villages_checked is None or village_code not in villages_checked:
        village = get_region(session, village_code)
        if village.level is not RegionLevel.VILLAGE:
            raise LedgerError(f"{village_code} is a {village.level.value}, not a village",
                              code="not_a_village", region=village_code, level=village.level)
        require(session, actor, Action.RECORD, village_code)
        if villages_checked is not None:
            villages_checked.add(village_code)
    return normalise_card(bank_card) if bank_card else None


def prepare_member(vault: PiiVault, household_code: str, m: NewMember) -> tuple:
    """(member, encrypted ID number, ID digest, birth-date digest), or the refusal naming
    household and member."""
    if m.relation not in RELATIONS:
        raise LedgerError(f"household {household_code}: relation {m.relation!r} is not one of "
                          f"{'、'.join(RELATIONS)}", code="invalid_choice", field="relation",
                          value=repr(m.relation), allowed=RELATIONS)
    try:
        number = read_member_id(
            m.id_number, accept_wrong_check_character=m.accept_wrong_check_character)
    except IdNumberError as exc:
        raise LedgerError(f"household {household_code}, member {m.name}: {exc}",
                          code="id_number_invalid", problem=exc.problem,
                          household=household_code, member=m.name) from None
    # As registered, matched through the 18-character form (add_member).
    return (m, vault.encrypt(number.registered), vault.digest(number.matching),
            salted(birth_key(vault, number.matching)))


def add_members(session: Session, actor: User, vault: PiiVault,
                items: list[tuple[str, NewMember]]) -> list[int]:
    """Add members to existing households at once: the checks, rows and entries of
    `add_member` for each (one "member.add" entry per member), all or nothing."""
    if not items:
        return []
    head = lock_head(session)
    codes = sorted({code for code, _ in items})
    villages, known = {}, set()
    for start in range(0, len(codes), 2000):
        chunk = codes[start:start + 2000]
        villages.update(session.execute(select(Household.code, Household.village_code)
                                        .where(Household.code.in_(chunk))).all())
        known.update(session.execute(select(Member.household_code, Member.id_digest)
                                     .where(Member.household_code.in_(chunk))).all())
    checked: set[str] = set()
    rows = []
    for code, m in items:
        if code not in villages:
            raise LedgerError(f"household {code!r} does not exist", code="not_found",
                              what="household", key=code)
        if villages[code] not in checked:
            require(session, actor, Action.RECORD, villages[code])
            checked.add(villages[code])
        member, encrypted, digest, born = prepare_member(vault, code, m)
        if (code, digest) in known:
            raise LedgerError(f"this person is already a member of household {code}",
                              code="member_duplicate", household=code)
        known.add((code, digest))
        rows.append({"household_code": code, "name": m.name, "relation": m.relation,
                     "id_number": encrypted, "id_digest": digest, "birth_digest": born,
                     "death_date": m.death_date,
                     "log_index": head.size + len(rows),
                     "log_id": head.log_id})
    session.flush()
    insert_with_ids(session, Member.__table__, rows)
    now = dt.datetime.now(dt.timezone.utc)
    append_entries(session, head, [PendingEntry(actor.username, "member.add", now,
                                                [table_record(Member.__table__, row)])
                                   for row in rows])
    return [row["id"] for row in rows]


def current_status(session: Session, household_code: str) -> HouseholdStatus:
    """The latest status, by date; refused while a split-off household is not enrolled."""
    status = session.execute(
        select(HouseholdEvent.status).where(HouseholdEvent.household_code == household_code)
        .order_by(HouseholdEvent.effective_date.desc(), HouseholdEvent.id.desc())
        .limit(1)).scalar_one_or_none()
    if status is None:
        raise LedgerError(f"household {household_code} is not enrolled (formed by a split, "
                          "enrolled later)", code="household_not_enrolled",
                          household=household_code)
    return status


def status_on(session: Session, household_code: str, day: dt.date) -> HouseholdStatus | None:
    return session.execute(
        select(HouseholdEvent.status).where(HouseholdEvent.household_code == household_code,
                                            HouseholdEvent.effective_date <= day)
        .order_by(HouseholdEvent.effective_date.desc(), HouseholdEvent.id.desc())
        .limit(1)).scalar_one_or_none()
