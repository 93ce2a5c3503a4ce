"""What the household rules read of a household over time, each set-based (a few queries, then
Python over what they returned): when each member was present (joined, moved in, died, moved
out: the members import, `member_history` and the commands write these), and which bank
number each household held when (the card recorded at registration and the card register).

No rule lives here (ledger.alerts.rules_household holds them); these are the facts several of
them share."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from ledger.alerts.base import stream
from ledger.households.registry import card_key, unsalted
from ledger.models import (
    Card,
    CardClosing,
    CardKind,
    Household,
    HouseholdEvent,
    Member,
    MemberEvent,
    MemberEventKind,
)


@dataclass
class Span:
    """A member row's presence in its household: from `start` (joined, moved in; None: since
    the household's registration) until `end` (died or left; None: still there). Present on
    day D when start ≤ D and D < end (a member who died on D is not paid for D's month by
    this test: BEN-01 judges deaths)."""
    member_id: int
    household: str
    name: str
    relation: str
    birth_digest: str | None   # the keyed digest of the birth date (unsalted); None before 0015
    start: dt.date | None
    end: dt.date | None

    def present(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


def member_spans(session, households=None) -> dict[str, list[Span]]:
    """household → its members' spans, for the households of `households` (all when None).
    Three whole-table reads on the session's connection (members, member events, moves into
    a registered household), filtered here: a list of tens of thousands of codes in an IN
    clause costs more than reading the rows it would leave out. The encrypted ID numbers are
    not read (`id_numbers` reads those a rule must decrypt)."""
    wanted = None if households is None else set(households)
    connection = session.connection()
    members = [m for m in stream(connection, select(
        Member.id, Member.household_code, Member.name, Member.relation, Member.death_date,
        Member.birth_digest)) if wanted is None or m.household_code in wanted]
    events = defaultdict(list)
    for e in stream(connection, select(MemberEvent.member_id, MemberEvent.kind,
                                       MemberEvent.effective_date)):
        events[e.member_id].append(e)
    # A member who moved in from another registered household has a row here and a
    # moved-out event there naming this household: present from that day.
    source = aliased(Member)
    moved_in: dict[int, dt.date] = {}
    for member_id, day in connection.execute(
            select(Member.id, MemberEvent.effective_date)
            .join(source, source.id_digest == Member.id_digest)
            .join(MemberEvent, and_(MemberEvent.member_id == source.id,
                                    MemberEvent.kind == MemberEventKind.MOVED_OUT,
                                    MemberEvent.to_household_code == Member.household_code))
            .where(source.id != Member.id)):
        moved_in[member_id] = max(day, moved_in.get(member_id, day))
    out: dict[str, list[Span]] = defaultdict(list)
    for m in members:
        start = moved_in.get(m.id)
        ends = [m.death_date] if m.death_date else []
        for e in events.get(m.id, ()):
            if e.kind is MemberEventKind.JOINED:
                start = e.effective_date if start is None else max(start, e.effective_date)
            else:
                ends.append(e.effective_date)
        out[m.household_code].append(Span(m.id, m.household_code, m.name, m.relation,
                                          unsalted(m.birth_digest), start,
                                          min(ends) if ends else None))
    return out


def id_numbers(session, member_ids) -> dict[int, str]:
    """member id → the encrypted ID number, for the few members a rule must decrypt."""
    ids, out = sorted(set(member_ids)), {}
    for start in range(0, len(ids), 900):
        out.update(session.execute(select(Member.id, Member.id_number)
                                   .where(Member.id.in_(ids[start:start + 900]))).all())
    return out


@dataclass
class Holding:
    """One bank number held by a household for a while: the card recorded at registration
    (`card_id` None) or a card of the register, with its kind and, for a guardian card, the
    guardian who is a registered member (`guardian_household` is that member's household)."""
    digest: str
    household: str
    card_id: int | None
    kind: CardKind
    member_id: int | None
    holder_name: str | None
    guardian_household: str | None
    last4: str | None
    start: dt.date | None
    end: dt.date | None

    def open_on(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)

    def overlaps(self, other: "Holding") -> bool:
        return ((self.start is None or other.end is None or self.start < other.end)
                and (other.start is None or self.end is None or other.start < self.end))


def card_holdings(session, vault) -> list[Holding]:
    """Every number every household held, with when: the register's cards (opened, closed) and
    each household's card of registration, from the household's first status event until the
    first household card of the register opened (docs/ledger.md, "Cards over time": the
    register's household card supersedes it). Registration rows written before their digest
    was stored are decrypted and digested when a vault is given, and left out otherwise."""
    guardian = aliased(Member)
    out = []
    first_household_card: dict[str, dt.date] = {}
    for c in stream(session,
            select(Card.id, Card.household_code, Card.kind, Card.member_id, Card.holder_name,
                   Card.account_digest, Card.account_last4, Card.opened_on,
                   CardClosing.closed_on, guardian.household_code.label("guardian_household"))
            .outerjoin(CardClosing, CardClosing.card_id == Card.id)
            .outerjoin(guardian, guardian.id == Card.holder_member_id)):
        out.append(Holding(unsalted(c.account_digest), c.household_code, c.id, c.kind,
                           c.member_id, c.holder_name,
                           c.guardian_household if c.kind is CardKind.GUARDIAN else None,
                           c.account_last4, c.opened_on, c.closed_on))
        if c.kind is CardKind.HOUSEHOLD:
            day = first_household_card.get(c.household_code)
            first_household_card[c.household_code] = min(day, c.opened_on) if day \
                else c.opened_on
    since = dict(session.execute(select(HouseholdEvent.household_code,
                                        func.min(HouseholdEvent.effective_date))
                                 .group_by(HouseholdEvent.household_code)).all())
    for h in stream(session, select(Household.code, Household.bank_card, Household.card_digest,
                                    Household.bank_card_last4, Household.head_name)
                    .where(Household.bank_card.is_not(None))):
        digest = unsalted(h.card_digest)
        if digest is None:
            if vault is None:
                continue
            digest = card_key(vault, vault.decrypt(h.bank_card))
        out.append(Holding(digest, h.code, None, CardKind.HOUSEHOLD, None, h.head_name, None,
                           h.bank_card_last4, since.get(h.code), first_household_card.get(h.code)))
    return out
