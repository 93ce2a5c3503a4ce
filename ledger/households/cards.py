"""The card register (惠民惠农一卡通 cards over time): household, personal and guardian cards,
opened, closed and replaced, and the card a roll line pays (docs/ledger.md, "Cards over time").

- A **household card** (户卡) receives the household's per-household items. The card recorded at
  registration (`households.bank_card`) is the household card until the register holds a
  household card of the household opened on or before the day: existing households and rolls
  need nothing new.
- A **personal card** (个人卡) is a member's own: 雨露计划 paid to the student, 公益岗位 wages to
  the worker. A **guardian card** (监护人卡) is a registered guardian's (a member of any household,
  or a person named on the card) receiving a member's per-person items.
- Rows are never changed: a closing is a `card_closings` row; a replacement (换卡) is a new card
  naming the old one, written with the old card's closing on the new card's opening date.

A card is open on day D when it was opened on or before D and not closed on or before D.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import lock_head, record_change
from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.funds.posting import check_date
from ledger.households.registry import (
    card_key,
    get_household,
    normalise_card,
    salted,
    unsalted,
)
from ledger.models import Card, CardClosing, CardKind, Member, User
from ledger.store.access import Action, require
from ledger.store.db import fetch, marker

# Households per look-up when cards are chosen for many lines (a roll of 100,000 lines).
CHUNK = 2000


@dataclass(frozen=True)
class CardPaid:
    """The card a line pays: a row of the register (`card_id`), or the household's card of
    registration (`card_id` None: the line pays `households.bank_card`, as before the register)."""
    card_id: int | None
    kind: CardKind
    holder_name: str | None = None   # None: the household head's (the card of registration)
    last4: str | None = None


# The household's card of registration, paid by most lines of most rolls.
_REGISTRATION_CARD = CardPaid(None, CardKind.HOUSEHOLD)


@dataclass(frozen=True)
class HeldCard:
    """A register card as the choice reads it."""
    id: int
    kind: CardKind
    member_id: int | None
    opened_on: dt.date
    closed_on: dt.date | None
    holder_name: str
    last4: str

    def open_on(self, day: dt.date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or day < self.closed_on)


def choose_card(held: Sequence[HeldCard], has_registration_card: bool, member_id: int | None,
                per_person: bool, day: dt.date) -> CardPaid | None:
    """The card a line pays on `day`, or None when none is open. A per-person line pays the
    member's open personal card, else an open guardian card for the member, else the household
    card; a per-household line the household card. Of several open cards of one kind, the one
    opened last (a new card opened before the old one was closed in the register)."""
    if per_person and member_id is not None:
        for kind in (CardKind.PERSONAL, CardKind.GUARDIAN):
            found = _latest(c for c in held if c.kind is kind and c.member_id == member_id
                            and c.open_on(day))
            if found is not None:
                return found
    household_cards = [c for c in held if c.kind is CardKind.HOUSEHOLD and c.opened_on <= day]
    if not household_cards:
        # The register holds no household card yet: the card of registration stands.
        return _REGISTRATION_CARD if has_registration_card else None
    return _latest(c for c in household_cards if c.open_on(day))


def _latest(cards) -> CardPaid | None:
    best = max(cards, key=lambda c: (c.opened_on, c.id), default=None)
    if best is None:
        return None
    return CardPaid(best.id, best.kind, best.holder_name, best.last4)


def card_for_line(session: Session, household_code: str, member_id: int | None, per,
                  day: dt.date) -> CardPaid:
    """The card a roll line of `household_code` (for `member_id`, on a per-person item: `per`
    is `StandardPer.PERSON` or "person") pays on `day`; `card_none_open` when none is open."""
    household = get_household(session, household_code)
    per_person = _per_person(per, member_id)
    held, _registration = _register_cards(session, [household_code])
    paid = choose_card(held.get(household_code, ()), household.bank_card is not None,
                       member_id, per_person, day)
    if paid is None:
        raise _none_open(household_code, member_id, per_person, day, 1)
    return paid


def _per_person(per, member_id) -> bool:
    value = getattr(per, "value", per)
    return value == "person" or (value is None and member_id is not None)


def cards_for_lines(session: Session, lines: Sequence[tuple[str, int | None, bool]],
                    day: dt.date) -> list[CardPaid]:
    """The card each roll line (household code, member id, per-person?) pays on `day`, read one
    query per chunk of households; the first line with no open card is refused, naming it.

    For lines the roll's checks passed (`rolls.lifecycle._check_lines`: every household has a
    card of registration or of the register), so a household the register holds no card for
    pays its card of registration."""
    held, registration = _register_cards(session, list(dict.fromkeys(
        code for code, _m, _p in lines)))
    out = []
    for number, (code, member_id, per_person) in enumerate(lines, start=1):
        cards = held.get(code)
        if cards is None:
            out.append(_REGISTRATION_CARD)   # most lines: nothing to choose (100,000 a roll)
            continue
        paid = choose_card(cards, registration[code], member_id, per_person, day)
        if paid is None:
            raise _none_open(code, member_id, per_person, day, number)
        out.append(paid)
    return out


def _register_cards(session: Session, codes: list[str]):
    """(household → its register cards, household → has a card of registration) for the
    households of `codes` that have register cards, one query per chunk."""
    held: dict[str, list[HeldCard]] = {}
    registration: dict[str, bool] = {}
    session.flush()   # what the session holds is in the database for these reads
    connection, mark = session.connection(), marker(session)
    for start in range(0, len(codes), CHUNK):
        chunk = tuple(codes[start:start + CHUNK])
        # Plain SQL with the driver's markers, as the roll's own checks read households
        # (rolls.lifecycle._check_lines): a 2,000-item IN list expanded by SQLAlchemy costs
        # more than the query. Only households with register cards come back.
        for (code, has_card, card_id, kind, member_id, opened, closed, holder,
             last4) in connection.exec_driver_sql(
                "SELECT c.household_code, h.bank_card IS NOT NULL, c.id, c.kind, c.member_id, "
                "c.opened_on, k.closed_on, c.holder_name, c.account_last4 FROM cards c "
                "JOIN households h ON h.code = c.household_code "
                "LEFT JOIN card_closings k ON k.card_id = c.id "
                f"WHERE c.household_code IN ({', '.join([mark] * len(chunk))})", chunk):
            registration[code] = bool(has_card)
            held.setdefault(code, []).append(HeldCard(
                card_id, CardKind(kind), member_id, _date(opened), _date(closed), holder, last4))
    return held, registration


def _none_open(code, member_id, per_person, day, number) -> LedgerError:
    return LedgerError(f"line {number} ({code}): no card of the household is open on {day} to "
                       "pay this line" + (f" (member #{member_id})" if per_person else ""),
                       code="card_none_open", household=code,
                       member=member_id if per_person else None, date=day, line=number)


def _date(value) -> dt.date | None:
    """A date column read with plain SQL: text on SQLite, a date on PostgreSQL."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def household_cards(session: Session,
                    household_code: str) -> list[tuple[Card, CardClosing | None]]:
    """The household's register cards in the order recorded, each with its closing."""
    return [(card, closing) for card, closing in session.execute(
        select(Card, CardClosing).outerjoin(CardClosing, CardClosing.card_id == Card.id)
        .where(Card.household_code == household_code).order_by(Card.id))]


def same_number(vault: PiiVault, card: Card, number: str) -> bool:
    """Whether `card` holds `number` (normalised), read from its keyed digest."""
    return unsalted(card.account_digest) == card_key(vault, number)


def add_card(session: Session, actor: User, vault: PiiVault, *, household_code: str,
             kind: CardKind | str, account: str, bank: str, opened_on: dt.date,
             member_id: int | None = None, holder_name: str | None = None,
             holder_member_id: int | None = None, replaces_card_id: int | None = None,
             reason: str = "") -> Card:
    """Record a card of a household opened on `opened_on`. With `replaces_card_id` it is a
    replacement (换卡): the old card, of the same household, kind and member, is closed on
    `opened_on` in the same entry (unless it was closed already, on or before that day)."""
    lock_head(session)  # decide under the log lock, as posting.replay does
    household = get_household(session, household_code)
    require(session, actor, Action.RECORD, household.village_code)
    kind = CardKind(kind)
    check_date(opened_on, "card opening date")
    number = normalise_card(account)
    if (kind is CardKind.HOUSEHOLD) != (member_id is None):
        raise LedgerError(f"a household card names no member; a personal or guardian card names "
                          f"the member it pays (a {kind.value} card)",
                          code="card_member_by_kind", kind=kind.value)
    member = None
    if member_id is not None:
        member = session.get(Member, member_id)
        if member is None or member.household_code != household_code:
            raise LedgerError(f"member #{member_id} is not a member of household "
                              f"{household_code}", code="card_member_unknown",
                              household=household_code, member=member_id)
    if holder_member_id is not None:
        guardian = fetch(session, Member, holder_member_id, f"member #{holder_member_id}")
        holder_name = holder_name or guardian.name
    if kind is CardKind.HOUSEHOLD:
        holder_name = holder_name or household.head_name
    elif kind is CardKind.PERSONAL:
        holder_name = holder_name or member.name
    elif not holder_name:
        raise LedgerError("a guardian card names its guardian: a registered member or a name",
                          code="card_holder_needed")
    old = None
    if replaces_card_id is not None:
        old = fetch(session, Card, replaces_card_id, f"card #{replaces_card_id}")
        if (old.household_code, old.kind, old.member_id) != (household_code, kind, member_id):
            raise LedgerError(f"card #{old.id} is not a card of the same household, kind and "
                              f"member ({household_code})", code="card_replaces_other",
                              replaces=old.id, household=household_code)
        if opened_on < old.opened_on:
            raise LedgerError(f"card #{old.id} was opened on {old.opened_on}; it cannot close "
                              f"on {opened_on}", code="card_dates_reversed", card=old.id,
                              opened=old.opened_on, closed=opened_on)
    digest = card_key(vault, number)
    for card, closing in household_cards(session, household_code):
        if (card.kind, card.member_id) == (kind, member_id) and closing is None \
                and unsalted(card.account_digest) == digest and card.id != replaces_card_id:
            raise LedgerError(f"card #{card.id} of household {household_code} is this number, "
                              "open, for the same holder", code="card_already_registered",
                              card=card.id, household=household_code)
    closing = None
    if old is not None:
        closing = _closing_of(session, old.id)
        if closing is not None and closing.closed_on > opened_on:
            raise LedgerError(f"card #{old.id} was closed on {closing.closed_on}",
                              code="card_already_closed", card=old.id,
                              closed=closing.closed_on)
    new = Card(household_code=household_code, kind=kind, member_id=member_id,
               holder_name=holder_name, holder_member_id=holder_member_id, bank=bank,
               account=vault.encrypt(number), account_digest=salted(digest),
               account_last4=number[-4:], opened_on=opened_on,
               replaces_card_id=replaces_card_id, recorded_by=actor.id)
    with record_change(session, actor.username,
                       "card.replace" if old is not None else "card.add") as change:
        change.add(new)
        if old is not None and closing is None:
            change.add(CardClosing(card_id=old.id, closed_on=opened_on,
                                   reason=reason or "换卡", recorded_by=actor.id))
    return new


def close_card(session: Session, actor: User, card_id: int, closed_on: dt.date,
               reason: str = "") -> CardClosing:
    """Close a card from `closed_on` (销户): no line is paid to it on that day or after."""
    lock_head(session)  # decide under the log lock, as posting.replay does
    card = fetch(session, Card, card_id, f"card #{card_id}")
    require(session, actor, Action.RECORD, get_household(session, card.household_code)
            .village_code)
    check_date(closed_on, "card closing date")
    closing = _closing_of(session, card.id)
    if closing is not None:
        raise LedgerError(f"card #{card.id} was closed on {closing.closed_on}",
                          code="card_already_closed", card=card.id, closed=closing.closed_on)
    if closed_on < card.opened_on:
        raise LedgerError(f"card #{card.id} was opened on {card.opened_on}; it cannot close on "
                          f"{closed_on}", code="card_dates_reversed", card=card.id,
                          opened=card.opened_on, closed=closed_on)
    closing = CardClosing(card_id=card.id, closed_on=closed_on, reason=reason or "销户",
                          recorded_by=actor.id)
    with record_change(session, actor.username, "card.close") as change:
        change.add(closing)
    return closing


def _closing_of(session: Session, card_id: int) -> CardClosing | None:
    return session.execute(select(CardClosing).where(CardClosing.card_id == card_id)) \
        .scalar_one_or_none()

