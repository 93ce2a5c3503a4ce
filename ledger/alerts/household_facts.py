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
    id_number: str        # encrypted, as stored
    start: dt.date | None
    end: dt.date | None

    def present(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


def member_spans(session, households=None) -> dict[str, list[Span]]:
    """household → its members' spans. `households`: a collection of codes to read (all when
    None), queried 900 at a time."""
    codes = None if households is None else sorted(households)
    out: dict[str, list[Span]] = defaultdict(list)
    chunks = [None] if codes is None else [codes[i:i + 900] for i in range(0, len(codes), 900)]
    for chunk in chunks:
        where = [] if chunk is None else [Member.household_code.in_(chunk)]
        members = session.execute(
            select(Member.id, Member.household_code, Member.name, Member.relation,
                   Member.id_number, Member.id_digest, Member.death_date).where(*where)).all()
        if not members:
            continue
        ids = [m.id for m in members]
        events = defaultdict(list)
        for start in range(0, len(ids), 900):
            for e in session.execute(select(MemberEvent.member_id, MemberEvent.kind,
                                            MemberEvent.effective_date)
                                     .where(MemberEvent.member_id.in_(ids[start:start + 900]))):
                events[e.member_id].append(e)
        # A member who moved in from another registered household has a row here and a
        # moved-out event there naming this household: present from that day.
        source = aliased(Member)
        moved_in = {}
        q = (select(Member.id, MemberEvent.effective_date)
             .join(source, source.id_digest == Member.id_digest)
             .join(MemberEvent, and_(MemberEvent.member_id == source.id,
                                     MemberEvent.kind == MemberEventKind.MOVED_OUT,
                                     MemberEvent.to_household_code == Member.household_code))
             .where(source.id != Member.id, *where))
        for member_id, day in session.execute(q):
            moved_in[member_id] = max(day, moved_in.get(member_id, day))
        for m in members:
            start = moved_in.get(m.id)
            ends = [m.death_date] if m.death_date else []
            for e in events[m.id]:
                if e.kind is MemberEventKind.JOINED:
                    start = e.effective_date if start is None else max(start, e.effective_date)
                else:
                    ends.append(e.effective_date)
            out[m.household_code].append(Span(m.id, m.household_code, m.name, m.relation,
                                              m.id_number, start, min(ends) if ends else None))
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
    for c in session.execute(
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
    for h in session.execute(select(Household.code, Household.bank_card, Household.card_digest,
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
