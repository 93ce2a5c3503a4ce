"""What happens to households after registration: status changes, deaths, moves, splits, merges.

Nothing about a household or member is edited. A status change (exit from poverty 脱贫, return
to poverty 返贫, monitoring 监测, removal 清退, cancellation 注销) is a `HouseholdEvent`; a death or
a move is a `MemberEvent`; a split (分户) registers a new household and moves members into it; a
merge (合户) moves members into another household and cancels the old one. Splits and merges are
also kept as `HouseholdLink`s, because a split shortly before enrolment, with a link to an
official, is a misuse pattern (alert BEN-08). Births and marriages in are `add_member`; the date
a member joined, as a county's registry keeps it, is a `joined` event (`record_joined`, import
kind `member_history`), which does not take the member out.

Each function checks the clerk's scope over every household it touches and writes its audit
entry in the same transaction; the caller commits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError
from ledger.core.idcard import mask
from ledger.core.pii import PiiVault
from ledger.funds.posting import check_date
from ledger.households.registry import (
    birth_key,
    current_status,
    get_household,
    register_household,
    salted,
)
from ledger.models import (
    HouseholdEvent,
    HouseholdLink,
    HouseholdLinkKind,
    HouseholdStatus,
    Member,
    MemberEvent,
    MemberEventKind,
    User,
)
from ledger.store.access import Action, require
from ledger.store.db import fetch

# Which status may follow which. Removal (清退: wrongly registered) and cancellation (注销)
# are final: such a household is no longer eligible for anything.
NEXT_STATUS = {
    HouseholdStatus.REGISTERED: {HouseholdStatus.EXITED, HouseholdStatus.MONITORED,
                                 HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED},
    HouseholdStatus.EXITED: {HouseholdStatus.RETURNED, HouseholdStatus.MONITORED,
                             HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED},
    HouseholdStatus.RETURNED: {HouseholdStatus.EXITED, HouseholdStatus.MONITORED,
                               HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED},
    HouseholdStatus.MONITORED: {HouseholdStatus.EXITED, HouseholdStatus.RETURNED,
                                HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED},
    HouseholdStatus.REMOVED: set(),
    HouseholdStatus.CANCELLED: set(),
}


def _latest_event(session: Session, code: str) -> HouseholdEvent:
    return session.execute(
        select(HouseholdEvent).where(HouseholdEvent.household_code == code)
        .order_by(HouseholdEvent.effective_date.desc(), HouseholdEvent.id.desc())
        .limit(1)).scalar_one()


def change_status(session: Session, actor: User, code: str, status: HouseholdStatus,
                  effective_date: dt.date, reason: str) -> HouseholdEvent:
    """Record a household's new status from a date (脱贫, 返贫, 监测, 清退, 注销)."""
    household = get_household(session, code)
    require(session, actor, Action.RECORD, household.village_code)
    check_date(effective_date)
    if not isinstance(status, HouseholdStatus):
        raise LedgerError(f"status must be one of "
                          f"{', '.join(s.value for s in HouseholdStatus)}, got {status!r}",
                          code="invalid_choice", field="status", value=repr(status),
                          allowed=list(HouseholdStatus))
    if not isinstance(reason, str) or not reason.strip():
        raise LedgerError(f"household {code}: a status change needs its reason or document",
                          code="required", field="reason")
    latest = _latest_event(session, code)
    if status not in NEXT_STATUS[latest.status]:
        allowed = ", ".join(sorted(s.value for s in NEXT_STATUS[latest.status])) or "none"
        raise LedgerError(f"household {code} is {latest.status.value} since "
                          f"{latest.effective_date}; it can become: {allowed}",
                          code="status_not_allowed", household=code, status=latest.status,
                          since=latest.effective_date, requested=status,
                          allowed=NEXT_STATUS[latest.status])
    if effective_date < latest.effective_date:
        raise LedgerError(f"household {code} became {latest.status.value} on "
                          f"{latest.effective_date}; a later change cannot be dated "
                          f"{effective_date}", code="status_backdated", household=code,
                          status=latest.status, since=latest.effective_date,
                          date=effective_date)
    event = HouseholdEvent(household_code=code, status=status, effective_date=effective_date,
                           reason=reason)
    with record_change(session, actor.username, f"household.{status.value}") as change:
        change.add(event)
    return event


def _check_can_receive(session: Session, code: str, day: dt.date) -> None:
    """Members may join only a household that exists on that day and is still registered."""
    first = session.execute(select(HouseholdEvent.effective_date).where(
        HouseholdEvent.household_code == code).order_by(HouseholdEvent.effective_date)
        .limit(1)).scalar_one()
    if day < first:
        raise LedgerError(f"household {code} was registered on {first}; nobody can join it "
                          f"on {day}", code="household_not_yet_registered", household=code,
                          registered=first, date=day)
    status = current_status(session, code)
    if status in (HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED):
        raise LedgerError(f"household {code} is {status.value}; members cannot join it",
                          code="household_closed", household=code, status=status)


def get_member(session: Session, member_id: int) -> Member:
    return fetch(session, Member, member_id, f"member #{member_id}")


# The events that take a member out of the household (a `joined` event does not).
LEAVING = (MemberEventKind.DIED, MemberEventKind.MOVED_OUT)


def member_gone(session: Session, member_id: int) -> MemberEvent | None:
    """The event that took the member out of the household (death or move), if any."""
    return session.execute(select(MemberEvent).where(
        MemberEvent.member_id == member_id, MemberEvent.kind.in_(LEAVING))
        .order_by(MemberEvent.id).limit(1)).scalar_one_or_none()


def member_joined(session: Session, member_id: int) -> MemberEvent | None:
    """The member's `joined` event (the date they joined the household), if recorded."""
    return session.execute(select(MemberEvent).where(
        MemberEvent.member_id == member_id, MemberEvent.kind == MemberEventKind.JOINED)
        .order_by(MemberEvent.id).limit(1)).scalar_one_or_none()


def _check_after_joining(session: Session, member: Member, day: dt.date) -> None:
    """A member cannot leave before the day they joined (when that day is recorded)."""
    joined = member_joined(session, member.id)
    if joined is not None and day < joined.effective_date:
        raise LedgerError(f"member #{member.id} of household {member.household_code} joined "
                          f"on {joined.effective_date} and cannot leave on {day}",
                          code="member_dates_reversed", member=member.id,
                          household=member.household_code, joined=joined.effective_date,
                          left=day)


def _check_present(session: Session, member: Member) -> None:
    gone = member_gone(session, member.id)
    if gone is not None:
        raise LedgerError(f"member #{member.id} of household {member.household_code} already "
                          f"{gone.kind.value.replace('_', ' ')} on {gone.effective_date}",
                          code="member_gone", member=member.id,
                          household=member.household_code, event=gone.kind,
                          date=gone.effective_date)
    if member.death_date is not None:
        raise LedgerError(f"member #{member.id} died on {member.death_date} (as registered)",
                          code="member_dead", member=member.id, date=member.death_date)


def record_death(session: Session, actor: User, member_id: int, died_on: dt.date,
                 reason: str = "") -> MemberEvent:
    """A member died (死亡). Payments to them after this date are alert BEN-01."""
    member = get_member(session, member_id)
    household = get_household(session, member.household_code)
    require(session, actor, Action.RECORD, household.village_code)
    check_date(died_on, "date of death")
    _check_present(session, member)
    _check_after_joining(session, member, died_on)
    event = MemberEvent(member_id=member.id, kind=MemberEventKind.DIED, effective_date=died_on,
                        reason=reason or "死亡", actor_id=actor.id)
    with record_change(session, actor.username, "member.died") as change:
        change.add(event)
    return event


def record_joined(session: Session, actor: User, member_id: int, joined_on: dt.date,
                  reason: str = "") -> MemberEvent:
    """The day a member joined the household (加入: born, married in), as the registry keeps
    it. Once per member; not after the member left."""
    member = get_member(session, member_id)
    household = get_household(session, member.household_code)
    require(session, actor, Action.RECORD, household.village_code)
    check_date(joined_on, "date joined")
    joined = member_joined(session, member.id)
    if joined is not None:
        raise LedgerError(f"member #{member.id} of household {member.household_code} joined on "
                          f"{joined.effective_date} (log entry {joined.log_index}), not on "
                          f"{joined_on}", code="member_event_conflict", member=member.id,
                          household=member.household_code, event=MemberEventKind.JOINED,
                          recorded=joined.effective_date, given=joined_on,
                          log_index=joined.log_index)
    gone = member_gone(session, member.id)
    left = gone.effective_date if gone is not None else member.death_date
    if left is not None and left < joined_on:
        raise LedgerError(f"member #{member.id} of household {member.household_code} left on "
                          f"{left} and cannot have joined on {joined_on}",
                          code="member_dates_reversed", member=member.id,
                          household=member.household_code, joined=joined_on, left=left)
    event = MemberEvent(member_id=member.id, kind=MemberEventKind.JOINED,
                        effective_date=joined_on, reason=reason or "加入", actor_id=actor.id)
    with record_change(session, actor.username, "member.joined") as change:
        change.add(event)
    return event


def _move(session: Session, change, actor: User, vault: PiiVault, member: Member,
          to_code: str | None, day: dt.date, reason: str, relation: str = "其他") -> None:
    """Record a member leaving; when they join a registered household, add them there."""
    _check_present(session, member)
    _check_after_joining(session, member, day)
    change.add(MemberEvent(member_id=member.id, kind=MemberEventKind.MOVED_OUT,
                           effective_date=day, to_household_code=to_code, reason=reason,
                           actor_id=actor.id))
    if to_code is not None:
        if session.execute(select(Member.id).where(
                Member.household_code == to_code,
                Member.id_digest == member.id_digest)).first():
            raise LedgerError(f"member #{member.id} is already in household {to_code}",
                              code="member_already_in", member=member.id, household=to_code)
        number = vault.decrypt(member.id_number)
        change.add(Member(household_code=to_code, name=member.name, relation=relation,
                          id_number=vault.encrypt(number), id_digest=member.id_digest,
                          birth_digest=salted(birth_key(vault, number)), death_date=None))


def move_member(session: Session, actor: User, vault: PiiVault, member_id: int, *,
                to_household: str | None, effective_date: dt.date, reason: str,
                relation: str = "其他") -> MemberEvent:
    """A member leaves the household: married out, moved, or joins another registered one."""
    member = get_member(session, member_id)
    source = get_household(session, member.household_code)
    require(session, actor, Action.RECORD, source.village_code)
    check_date(effective_date)
    if to_household is not None:
        target = get_household(session, to_household)
        require(session, actor, Action.RECORD, target.village_code)
        if to_household == source.code:
            raise LedgerError(f"member #{member_id} is already in household {to_household}",
                              code="member_already_in", member=member_id,
                              household=to_household)
        _check_can_receive(session, to_household, effective_date)
    with record_change(session, actor.username, "member.moved") as change:
        _move(session, change, actor, vault, member, to_household, effective_date, reason,
              relation)
    return member_gone(session, member_id)


def split_household(session: Session, actor: User, vault: PiiVault, *, from_code: str,
                    new_code: str, member_ids: list[int], head_member_id: int,
                    effective_date: dt.date, reason: str, bank_card: str | None = None,
                    phone: str | None = None) -> HouseholdLink:
    """分户: members of one household form a new one, which keeps the old one's status."""
    source = get_household(session, from_code)
    require(session, actor, Action.RECORD, source.village_code)
    check_date(effective_date)
    if head_member_id not in member_ids:
        raise LedgerError("the new household's head must be one of the members who move",
                          code="split_head_stays", member=head_member_id)
    members = [get_member(session, m) for m in member_ids]
    strangers = [m.id for m in members if m.household_code != from_code]
    if strangers:
        raise LedgerError(f"members {strangers} are not in household {from_code}",
                          code="members_elsewhere", members=strangers, household=from_code)
    remaining = [m for m in _present_members(session, from_code) if m.id not in member_ids]
    if not remaining:
        raise LedgerError(f"a split leaves members in {from_code}; to move everyone, merge or "
                          "cancel the household instead", code="split_moves_everyone",
                          household=from_code)
    head = next(m for m in members if m.id == head_member_id)
    status = current_status(session, from_code)
    register_household(session, actor, vault, code=new_code, village_code=source.village_code,
                       head_name=head.name, status=status, registered_on=effective_date,
                       bank_card=bank_card, phone=phone)
    with record_change(session, actor.username, "household.split") as change:
        for m in members:
            _move(session, change, actor, vault, m, new_code, effective_date, f"分户 {reason}",
                  "户主" if m.id == head_member_id else "其他")
        link = HouseholdLink(kind=HouseholdLinkKind.SPLIT, from_household_code=from_code,
                             to_household_code=new_code, effective_date=effective_date,
                             reason=reason)
        change.add(link)
    return link


def merge_households(session: Session, actor: User, vault: PiiVault, *, from_code: str,
                     into_code: str, effective_date: dt.date, reason: str) -> HouseholdLink:
    """合户: every present member of `from_code` joins `into_code`; `from_code` is cancelled."""
    source, target = get_household(session, from_code), get_household(session, into_code)
    require(session, actor, Action.RECORD, source.village_code)
    require(session, actor, Action.RECORD, target.village_code)
    check_date(effective_date)
    if from_code == into_code:
        raise LedgerError("a household cannot merge into itself", code="merge_into_itself",
                          household=from_code)
    _check_can_receive(session, into_code, effective_date)
    with record_change(session, actor.username, "household.merge") as change:
        for m in _present_members(session, from_code):
            _move(session, change, actor, vault, m, into_code, effective_date,
                  f"合户 {reason}")
        link = HouseholdLink(kind=HouseholdLinkKind.MERGE, from_household_code=from_code,
                             to_household_code=into_code, effective_date=effective_date,
                             reason=reason)
        change.add(link)
    change_status(session, actor, from_code, HouseholdStatus.CANCELLED, effective_date,
                  f"合户并入 {into_code}: {reason}")
    return link


def _present_members(session: Session, code: str) -> list[Member]:
    gone = select(MemberEvent.member_id).where(MemberEvent.kind.in_(LEAVING))
    return list(session.execute(select(Member).where(
        Member.household_code == code, Member.death_date.is_(None),
        Member.id.not_in(gone)).order_by(Member.id)).scalars())


@dataclass(frozen=True)
class MemberView:
    id: int
    name: str
    relation: str
    id_number_masked: str
    present: bool
    left: str  # "died 2024-05-01", "moved_out 2024-05-01 → H-2" or ""


def household_view(session: Session, actor: User | None, vault: PiiVault, code: str) -> dict:
    """A household with its status history and members (ID numbers masked), for staff."""
    household = get_household(session, code)
    if actor is not None:
        require(session, actor, Action.READ, household.village_code)
    history = session.execute(select(HouseholdEvent).where(
        HouseholdEvent.household_code == code).order_by(
        HouseholdEvent.effective_date, HouseholdEvent.id)).scalars().all()
    members = []
    for m in session.execute(select(Member).where(Member.household_code == code)
                             .order_by(Member.id)).scalars():
        event = member_gone(session, m.id)
        left = ""
        if m.death_date is not None:
            left = f"died {m.death_date}"
        elif event is not None:
            left = f"{event.kind.value} {event.effective_date}" + (
                f" → {event.to_household_code}" if event.to_household_code else "")
        members.append(MemberView(m.id, m.name, m.relation,
                                  mask(vault.decrypt(m.id_number), 6, 4), not left, left))
    links = session.execute(select(HouseholdLink).where(
        (HouseholdLink.from_household_code == code) |
        (HouseholdLink.to_household_code == code)).order_by(HouseholdLink.id)).scalars().all()
    return {
        "code": code, "village": household.village_code, "head": household.head_name,
        "status": history[-1].status.value,
        "history": [{"status": e.status.value, "date": e.effective_date.isoformat(),
                     "reason": e.reason} for e in history],
        "members": [m.__dict__ for m in members],
        "links": [{"kind": link.kind.value, "from": link.from_household_code,
                   "to": link.to_household_code, "date": link.effective_date.isoformat(),
                   "reason": link.reason} for link in links],
    }
