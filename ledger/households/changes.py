"""What happens to households after registration: status changes, deaths, moves, splits, merges.

Nothing about a household or member is edited. A status change (exit from poverty 脱贫, return
to poverty 返贫, monitoring 监测, removal 清退, cancellation 注销) is a `HouseholdEvent`; a death or
a move is a `MemberEvent`; a split (分户) creates a new household on its date, moves members into
it and enrols it then, later (`enrol_household`) or not yet; a merge (合户) moves members into
another household and cancels the old one. A county's past status history goes in as the
registry keeps it (`record_past_statuses`, import kind `household_status`). Splits and merges are
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

from ledger.audit.entries import table_record
from ledger.audit.log import PendingEntry, append_entries, lock_head, record_change
from ledger.core.errors import LedgerError
from ledger.core.idcard import mask
from ledger.core.pii import PiiVault
from ledger.funds.posting import check_date
from ledger.households.registry import (
    birth_key,
    check_enrolment,
    create_household,
    current_status,
    enrol_household,
    enrolment,
    get_household,
    household_since,
    salted,
    split_on,
    status_on,
)
from ledger.models import (
    Household,
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
from ledger.store.db import check_text, fetch, insert_with_ids

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
    latest = session.execute(
        select(HouseholdEvent).where(HouseholdEvent.household_code == code)
        .order_by(HouseholdEvent.effective_date.desc(), HouseholdEvent.id.desc())
        .limit(1)).scalar_one_or_none()
    if latest is None:
        current_status(session, code)   # refused: a split-off household not enrolled yet
    return latest


def change_status(session: Session, actor: User, code: str, status: HouseholdStatus,
                  effective_date: dt.date, reason: str,
                  doc_number: str | None = None) -> HouseholdEvent:
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
                           reason=reason, doc_number=doc_number or None)
    with record_change(session, actor.username, f"household.{status.value}") as change:
        change.add(event)
    return event


@dataclass(frozen=True)
class PastStatus:
    """A line of a household's status history as the county's registry keeps it."""
    household: str
    status: HouseholdStatus
    effective_date: dt.date
    reason: str = ""
    doc_number: str | None = None


def recorded_statuses(session: Session, codes: list[str]) -> dict[str, list[HouseholdEvent]]:
    """Each household's status events, by date then as recorded."""
    found: dict[str, list[HouseholdEvent]] = {code: [] for code in codes}
    for start in range(0, len(codes), 2000):
        for event in session.execute(select(HouseholdEvent).where(
                HouseholdEvent.household_code.in_(codes[start:start + 2000]))
                .order_by(HouseholdEvent.effective_date, HouseholdEvent.id)).scalars():
            found[event.household_code].append(event)
    return found


def check_past_status(recorded: list[HouseholdEvent], line: PastStatus) -> HouseholdEvent | None:
    """The recorded event this history line is (same date and status), or None when it is new;
    refused when it cannot be true: the household not enrolled yet (a split-off household's
    history starts with its enrolment), or another status recorded on the same day."""
    if not recorded:
        raise LedgerError(f"household {line.household} is not enrolled (formed by a split, "
                          "enrolled later)", code="household_not_enrolled",
                          household=line.household)
    for event in recorded:
        if event.effective_date != line.effective_date:
            continue
        if event.status is line.status:
            return event
        raise LedgerError(f"household {line.household} is recorded {event.status.value} on "
                          f"{event.effective_date} (log entry {event.log_index}), not "
                          f"{line.status.value}", code="household_status_conflict",
                          household=line.household, date=event.effective_date,
                          recorded=event.status, given=line.status, log_index=event.log_index)
    return None


def record_past_statuses(session: Session, actor: User, lines: list[PastStatus]) -> int:
    """Record a county's status history as its registry keeps it (import kind
    `household_status`): past dates, before or after the events recorded, in any sequence of
    statuses (change_status's rules are for the changes a clerk decides now). Refused only
    what cannot be true (check_past_status); a line already recorded is skipped. One entry per
    line written, "household.status_history"; all or nothing. Returns how many were written."""
    if not lines:
        return 0
    head = lock_head(session)
    codes = sorted({line.household for line in lines})
    villages = dict(session.execute(select(Household.code, Household.village_code)
                                    .where(Household.code.in_(codes))).all())
    recorded = recorded_statuses(session, codes)
    checked: set[str] = set()
    rows = []
    for line in lines:
        if line.household not in villages:
            raise LedgerError(f"household {line.household!r} does not exist", code="not_found",
                              what="household", key=line.household)
        if villages[line.household] not in checked:
            require(session, actor, Action.RECORD, villages[line.household])
            checked.add(villages[line.household])
        check_date(line.effective_date, "status date")
        if not isinstance(line.status, HouseholdStatus):
            raise LedgerError(f"status must be one of "
                              f"{', '.join(s.value for s in HouseholdStatus)}, got "
                              f"{line.status!r}", code="invalid_choice", field="status",
                              value=repr(line.status), allowed=list(HouseholdStatus))
        if check_past_status(recorded[line.household], line) is not None:
            continue
        row = {"household_code": line.household, "status": line.status,
               "effective_date": line.effective_date, "reason": line.reason or "",
               "doc_number": line.doc_number or None,
               "log_index": head.size + len(rows), "log_id": head.log_id}
        check_text(HouseholdEvent.__table__, row)
        rows.append(row)
        recorded[line.household].append(HouseholdEvent(**{k: v for k, v in row.items()
                                                           if k != "log_id"}))
    session.flush()
    insert_with_ids(session, HouseholdEvent.__table__, rows)
    now = dt.datetime.now(dt.timezone.utc)
    append_entries(session, head, [PendingEntry(actor.username, "household.status_history",
                                                now, [table_record(HouseholdEvent.__table__,
                                                                   row)]) for row in rows])
    return len(rows)


def _check_can_receive(session: Session, code: str, day: dt.date) -> None:
    """Members may join only a household that exists on that day (formed by its split, or
    registered) and is not removed or cancelled; a split-off household not enrolled yet
    exists."""
    first = household_since(session, code)
    if day < first:
        raise LedgerError(f"household {code} was registered on {first}; nobody can join it "
                          f"on {day}", code="household_not_yet_registered", household=code,
                          registered=first, date=day)
    if not _has_status(session, code):
        return   # split off, not enrolled yet
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
                    effective_date: dt.date, enrolled_on: dt.date | None, reason: str,
                    bank_card: str | None = None, phone: str | None = None,
                    status: HouseholdStatus | None = None) -> HouseholdLink:
    """分户: members of one household form a new one on `effective_date` (its creation date,
    the split link's date). The new household is enrolled (纳入) on `enrolled_on`, which may be
    that day, later, or None: not enrolled yet (`enrol_household` later). Enrolled, it takes
    `status`, by default the old household's status on the enrolment date."""
    source = get_household(session, from_code)
    require(session, actor, Action.RECORD, source.village_code)
    check_date(effective_date, "split date")
    if enrolled_on is not None:
        check_date(enrolled_on, "enrolment date")
        if enrolled_on < effective_date:
            raise LedgerError(f"household {new_code} is formed by a split on {effective_date}; "
                              f"it cannot be enrolled on {enrolled_on}",
                              code="enrolment_before_split", household=new_code,
                              split_on=effective_date, enrolled=enrolled_on)
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
    if enrolled_on is not None and status is None:
        status = status_on(session, from_code, enrolled_on) or current_status(session, from_code)
    head = next(m for m in members if m.id == head_member_id)
    create_household(session, actor, vault, code=new_code, village_code=source.village_code,
                     head_name=head.name, created_on=effective_date, bank_card=bank_card,
                     phone=phone)
    with record_change(session, actor.username, "household.split") as change:
        for m in members:
            _move(session, change, actor, vault, m, new_code, effective_date, f"分户 {reason}",
                  "户主" if m.id == head_member_id else "其他")
        link = HouseholdLink(kind=HouseholdLinkKind.SPLIT, from_household_code=from_code,
                             to_household_code=new_code, effective_date=effective_date,
                             reason=reason)
        change.add(link)
    if enrolled_on is not None:
        enrol_household(session, actor, new_code, status, enrolled_on)
    return link


def record_split_into(session: Session, actor: User, vault: PiiVault, member_id: int, *,
                      to_code: str, effective_date: dt.date, reason: str,
                      enrolled_on: dt.date | None = None) -> MemberEvent:
    """A member split off (分户) into a household that already exists, as a county's registry
    records it (import kind `member_history`, 新户编码): no household is created. The member
    moves out to `to_code` (and becomes its member unless already imported as one); the split
    link from the member's household is written once, dated `effective_date` (the new
    household's creation); `enrolled_on`, if given, enrols `to_code` when it is not enrolled
    yet and must be its enrolment date when it is."""
    member = get_member(session, member_id)
    source = get_household(session, member.household_code)
    target = get_household(session, to_code)
    require(session, actor, Action.RECORD, source.village_code)
    require(session, actor, Action.RECORD, target.village_code)
    check_date(effective_date, "split date")
    if to_code == source.code:
        raise LedgerError(f"member #{member_id} is already in household {to_code}",
                          code="member_already_in", member=member_id, household=to_code)
    link = session.execute(select(HouseholdLink).where(
        HouseholdLink.kind == HouseholdLinkKind.SPLIT,
        HouseholdLink.from_household_code == source.code,
        HouseholdLink.to_household_code == to_code)).scalars().first()
    if link is not None and link.effective_date != effective_date:
        raise LedgerError(f"household {to_code} split from {source.code} on "
                          f"{link.effective_date} (log entry {link.log_index}), not on "
                          f"{effective_date}", code="split_date_conflict", household=to_code,
                          from_household=source.code, recorded=link.effective_date,
                          given=effective_date, log_index=link.log_index)
    enrolled = enrolment(session, to_code)
    if enrolled_on is not None and enrolled is not None \
            and enrolled.effective_date != enrolled_on:
        raise LedgerError(f"household {to_code} was enrolled on {enrolled.effective_date} (log "
                          f"entry {enrolled.log_index}), not on {enrolled_on}",
                          code="household_already_enrolled", household=to_code,
                          enrolled=enrolled.effective_date, log_index=enrolled.log_index)
    if enrolled_on is not None and enrolled is None:
        check_date(enrolled_on, "enrolment date")
        if enrolled_on < effective_date:
            raise LedgerError(f"household {to_code} is formed by a split on {effective_date}; "
                              f"it cannot be enrolled on {enrolled_on}",
                              code="enrolment_before_split", household=to_code,
                              split_on=effective_date, enrolled=enrolled_on)
    _check_present(session, member)
    _check_after_joining(session, member, effective_date)
    there = session.execute(select(Member.id).where(
        Member.household_code == to_code, Member.id_digest == member.id_digest)).first()
    with record_change(session, actor.username, "household.split") as change:
        event = MemberEvent(member_id=member.id, kind=MemberEventKind.MOVED_OUT,
                            effective_date=effective_date, to_household_code=to_code,
                            reason=reason, actor_id=actor.id)
        change.add(event)
        if there is None:
            number = vault.decrypt(member.id_number)
            change.add(Member(household_code=to_code, name=member.name, relation="其他",
                              id_number=vault.encrypt(number), id_digest=member.id_digest,
                              birth_digest=salted(birth_key(vault, number)), death_date=None))
        if link is None:
            change.add(HouseholdLink(kind=HouseholdLinkKind.SPLIT,
                                     from_household_code=source.code, to_household_code=to_code,
                                     effective_date=effective_date,
                                     reason=reason.removeprefix("分户").strip()))
    if enrolled_on is not None and enrolled is None:
        check_enrolment(session, to_code, enrolled_on)
        status = status_on(session, source.code, enrolled_on) or current_status(session,
                                                                                source.code)
        enrol_household(session, actor, to_code, status, enrolled_on)
    return event


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
    why = f"合户并入 {into_code}: {reason}"
    if _has_status(session, from_code):
        change_status(session, actor, from_code, HouseholdStatus.CANCELLED, effective_date, why)
    else:
        # Split off and merged before anyone enrolled it: cancelled, never enrolled (no
        # enrolment event, so nothing reads it as one).
        with record_change(session, actor.username, "household.cancelled") as change:
            change.add(HouseholdEvent(household_code=from_code,
                                      status=HouseholdStatus.CANCELLED,
                                      effective_date=effective_date, reason=why))
    return link


def _has_status(session: Session, code: str) -> bool:
    return session.execute(select(HouseholdEvent.id).where(
        HouseholdEvent.household_code == code).limit(1)).first() is not None


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
    enrolled, split = enrolment(session, code), split_on(session, code)
    latest = max(history, key=lambda e: (e.effective_date, e.id)) if history else None
    return {
        "code": code, "village": household.village_code, "head": household.head_name,
        "status": latest.status.value if latest else None,   # None: split off, not enrolled
        "created": (split.effective_date if split else household_since(session, code))
        .isoformat(),
        "enrolled": enrolled.effective_date.isoformat() if enrolled else None,
        "history": [{"status": e.status.value, "date": e.effective_date.isoformat(),
                     "reason": e.reason, "doc_number": e.doc_number} for e in history],
        "members": [m.__dict__ for m in members],
        "links": [{"kind": link.kind.value, "from": link.from_household_code,
                   "to": link.to_household_code, "date": link.effective_date.isoformat(),
                   "reason": link.reason} for link in links],
    }
