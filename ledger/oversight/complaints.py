"""Complaints from the public (信访投诉: the 12317 hotline, county, township and village phones,
letters, the public page), each with a deadline and a receipt to follow it without logging in.

A complaint is routed to the responsible level (分级负责、属地管理): the lowest finance unit
strictly above what it is about — the county for a village, household or roll line, the city
for a county project — so the unit complained about never handles it. It then moves
received → assigned → investigating → answered → closed; each step is an appended event and
an audit entry, and the state is the latest event.

The complainant's identity is personal data: stored encrypted, in the log only as a
commitment, shown only to the officer handling the case and to auditors above it, and never to
anyone working in the region complained about. Public outputs (status by receipt, statistics)
carry no identity. See docs/oversight.md.
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ledger.audit.log import record_change
from ledger.core.errors import LedgerError, NotFound, PermissionDenied
from ledger.core.pii import PiiVault
from ledger.funds.posting import check_date
from ledger.models import (
    Household,
    Payee,
    PayeeKind,
    PaymentRoll,
    Project,
    RegionLevel,
    Role,
    RollLine,
    User,
)
from ledger.models.oversight import (
    Complaint,
    ComplaintChannel,
    ComplaintEvent,
    ComplaintStep,
    ComplaintSubject,
)
from ledger.org.regions import get_region, get_user
from ledger.store.access import Action, ancestors, in_scope, require
from ledger.store.db import fetch

PUBLIC_ACTOR = "public"  # audit-log actor of a complaint filed on the public page
FINANCE_LEVELS = (RegionLevel.COUNTY, RegionLevel.CITY, RegionLevel.PROVINCE)

# ----------------------------------------------------------------------------- receipts
# Crockford base32 (no I, L, O, U: nothing to mishear or misread), 10 random symbols (50 bits)
# and a Luhn mod 32 check symbol that catches any single wrong symbol and most swaps.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 10
_READ_AS = {"O": "0", "I": "1", "L": "1"}


def _luhn_sum(values: list[int], double_first: bool) -> int:
    total, factor = 0, 2 if double_first else 1
    for value in reversed(values):
        addend = factor * value
        total += addend // 32 + addend % 32
        factor = 3 - factor
    return total


def new_receipt() -> str:
    values = [secrets.randbelow(32) for _ in range(RANDOM_SYMBOLS)]
    check = (32 - _luhn_sum(values, double_first=True) % 32) % 32
    return "".join(ALPHABET[v] for v in values + [check])


def normalise_receipt(text: str) -> str:
    """The stored form of a receipt as typed or read out: case, spaces, dashes, O/0, I/L/1."""
    cleaned = "".join(_READ_AS.get(ch, ch) for ch in text.upper() if ch not in " -")
    if len(cleaned) != RANDOM_SYMBOLS + 1 or any(ch not in ALPHABET for ch in cleaned):
        raise NotFound(f"{text!r} is not a receipt number (11 letters and digits)",
                       code="receipt_malformed", what="receipt", key=text)
    if _luhn_sum([ALPHABET.index(ch) for ch in cleaned], double_first=False) % 32:
        raise NotFound(f"receipt {text!r} has a typing error (its check symbol does not match)",
                       code="receipt_mistyped", what="receipt", key=text)
    return cleaned


def format_receipt(receipt: str) -> str:
    return f"{receipt[:4]}-{receipt[4:8]}-{receipt[8:]}"


# ----------------------------------------------------------------------------- routing

def _subject_region(session: Session, kind: ComplaintSubject, code: str) -> str:
    if kind is ComplaintSubject.VILLAGE:
        region = get_region(session, code)
        if region.level is not RegionLevel.VILLAGE:
            raise LedgerError(f"{code} is a {region.level.value}, not a village",
                              code="not_a_village", region=code, level=region.level)
        return code
    if kind is ComplaintSubject.PROJECT:
        return fetch(session, Project, code, f"project {code!r}").county_code
    if kind is ComplaintSubject.HOUSEHOLD:
        payee = session.get(Payee, code)
        if payee is None or payee.kind is not PayeeKind.HOUSEHOLD:
            raise NotFound(f"household {code!r} does not exist", what="household", key=code)
        household = session.get(Household, code)
        return household.village_code if household else payee.region_code
    roll_code, _, line_no = code.rpartition(":")
    roll = session.execute(select(PaymentRoll).where(PaymentRoll.code == roll_code)) \
        .scalar_one_or_none()
    line = session.execute(select(RollLine).where(
        RollLine.roll_id == roll.id, RollLine.line_no == int(line_no))).scalar_one_or_none() \
        if roll is not None and line_no.isdigit() else None
    if line is None:
        raise NotFound(f"roll line {code!r} does not exist (write ROLL-CODE:LINE-NUMBER)",
                       what="roll_line", key=code)
    return get_household_village(session, line.household_code)


def get_household_village(session: Session, code: str) -> str:
    return fetch(session, Household, code, f"household {code!r}").village_code


def route(session: Session, subject_region: str) -> tuple[str, str]:
    """(county, handling region) for a subject in `subject_region` (属地管理)."""
    chain = [get_region(session, code) for code in ancestors(session, subject_region)]
    county = next((r.code for r in chain if r.level is RegionLevel.COUNTY), None)
    handling = next((r.code for r in chain[1:] if r.level in FINANCE_LEVELS), None)
    if county is None or handling is None:
        raise LedgerError(f"region {subject_region} has no county and finance unit above it; "
                          "complaints are about villages, households, roll lines or projects",
                          code="complaint_unroutable", region=subject_region)
    return county, handling


# ----------------------------------------------------------------------------- filing

def file_complaint(session: Session, channel: ComplaintChannel, subject_kind: ComplaintSubject,
                   subject_code: str, summary: str, *, vault: PiiVault,
                   complainant: dict | None = None, actor: User | None = None,
                   received_on: dt.date | None = None, close_days: int = 15,
                   answer_days: int = 20) -> str:
    """Record a complaint; return its receipt number (what the complainant keeps).

    `actor` is the officer who took a call or letter; None means the complainant filed it on
    the public page (channel `online`). `complainant` is None (anonymous) or {name, phone}.
    """
    if not summary.strip():
        raise LedgerError("a complaint needs a description of what is wrong",
                          code="required", field="summary")
    today = dt.date.today()
    received_on = received_on or today
    check_date(received_on, "date received")
    if received_on > today:
        raise LedgerError(f"date received {received_on} is in the future",
                          code="date_in_future", field="date received", date=received_on)
    subject_region = _subject_region(session, subject_kind, subject_code)
    if actor is None:
        if channel is not ComplaintChannel.ONLINE or received_on != today:
            raise PermissionDenied("only complaints filed online today need no officer; "
                                   "an officer records calls, letters and visits",
                                   code="officer_required", action=Action.RECORD,
                                   region=subject_region, channel=channel)
    else:
        require(session, actor, Action.RECORD, subject_region)
    name, phone = _identity(complainant)
    county, handling = route(session, subject_region)
    receipt = _unused_receipt(session, vault)
    complaint = Complaint(
        receipt_digest=vault.digest(receipt), channel=channel,
        subject_kind=subject_kind, subject_code=subject_code, subject_region_code=subject_region,
        county_code=county, handling_region_code=handling,
        summary=vault.encrypt(summary.strip()), named=name is not None,
        complainant_name=vault.encrypt(name) if name else None,
        complainant_phone=vault.encrypt(phone) if phone else None, received_on=received_on,
        close_due=received_on + dt.timedelta(days=close_days),
        answer_due=received_on + dt.timedelta(days=answer_days) if name else None,
        recorded_by=actor.id if actor else None)
    with record_change(session, actor.username if actor else PUBLIC_ACTOR, "complaint.file",
                       channel=channel.value, handling_region=handling) as change:
        change.add(complaint)
    return receipt


def _identity(complainant: dict | None) -> tuple[str | None, str | None]:
    if not complainant:
        return None, None
    name = (complainant.get("name") or "").strip()
    phone = (complainant.get("phone") or "").strip()
    if not name:
        raise LedgerError("a named complaint needs the complainant's name (or file it "
                          "anonymously)", code="required", field="complainant name")
    if phone and not (phone.replace("-", "").replace(" ", "").isdigit()
                      and 7 <= len(phone) <= 20):
        raise LedgerError(f"phone {phone!r} is not a telephone number", code="phone_invalid",
                          value=repr(phone))
    return name, phone or None


def _unused_receipt(session: Session, vault: PiiVault) -> str:
    while True:
        receipt = new_receipt()
        if not session.execute(select(Complaint.id).where(
                Complaint.receipt_digest == vault.digest(receipt))).first():
            return receipt


def find_by_receipt(session: Session, receipt: str, vault: PiiVault | None = None) -> Complaint:
    """The complaint a receipt number (as typed or read out) belongs to."""
    vault = vault or PiiVault.from_env()
    code = normalise_receipt(receipt)
    complaint = session.execute(select(Complaint).where(
        Complaint.receipt_digest == vault.digest(code))).scalar_one_or_none()
    if complaint is None:
        raise NotFound(f"no complaint has receipt {format_receipt(code)}",
                       what="complaint", key=format_receipt(code))
    return complaint


# ----------------------------------------------------------------------------- steps

def get_complaint(session: Session, complaint_id: int) -> Complaint:
    return fetch(session, Complaint, complaint_id, f"complaint {complaint_id}")


def _events(session: Session, complaint_id: int) -> list[ComplaintEvent]:
    return list(session.execute(select(ComplaintEvent).where(
        ComplaintEvent.complaint_id == complaint_id).order_by(ComplaintEvent.id)).scalars())


def state_of(events: list[ComplaintEvent]) -> str:
    return events[-1].step.value if events else "received"


def handler_id(events: list[ComplaintEvent]) -> int | None:
    assigned = [e.handler_id for e in events if e.step is ComplaintStep.ASSIGNED]
    return assigned[-1] if assigned else None


def in_subject_unit(session: Session, user: User, complaint: Complaint) -> bool:
    """True if the user works in the region complained about (or below it)."""
    return complaint.subject_region_code in ancestors(session, user.region_code)


def assign(session: Session, actor: User, complaint_id: int, handler_username: str,
           day: dt.date, note: str | None = None, vault: PiiVault | None = None):
    """The handling unit's approver names the officer who handles the case (or replaces one)."""
    complaint = get_complaint(session, complaint_id)
    require(session, actor, Action.APPROVE, complaint.handling_region_code)
    handler = get_user(session, handler_username)
    if handler.role is Role.ADMIN or not in_scope(session, handler,
                                                   complaint.handling_region_code):
        raise LedgerError(f"{handler_username} does not work for the handling unit "
                          f"({complaint.handling_region_code}) or above it",
                          code="handler_outside_unit", user=handler_username,
                          region=complaint.handling_region_code)
    if in_subject_unit(session, handler, complaint):
        raise PermissionDenied(f"{handler_username} works in the region complained about",
                               code="handler_in_subject_region", user=handler_username,
                               action=Action.APPROVE, region=complaint.subject_region_code,
                               complaint=complaint_id)
    return _step(session, actor, complaint, ComplaintStep.ASSIGNED, day,
                 ("received", "assigned", "investigating"), note, vault, handler_id=handler.id)


def investigate(session: Session, actor: User, complaint_id: int, day: dt.date,
                note: str | None = None, vault: PiiVault | None = None):
    complaint = _as_handler(session, actor, complaint_id)
    return _step(session, actor, complaint, ComplaintStep.INVESTIGATING, day, ("assigned",),
                 note, vault)


def answer(session: Session, actor: User, complaint_id: int, day: dt.date, reply: str,
           note: str | None = None, vault: PiiVault | None = None):
    """Answer the complainant. `reply` is readable by anyone with the receipt: no names."""
    if not reply.strip():
        raise LedgerError("an answer needs the reply given to the complainant",
                          code="required", field="reply")
    complaint = _as_handler(session, actor, complaint_id)
    return _step(session, actor, complaint, ComplaintStep.ANSWERED, day, ("investigating",),
                 note, vault, reply=reply.strip())


def close(session: Session, actor: User, complaint_id: int, day: dt.date, substantiated: bool,
          note: str | None = None, vault: PiiVault | None = None):
    """Close the case (办结) with its finding; a substantiated one goes to the alert desk."""
    complaint = _as_handler(session, actor, complaint_id)
    return _step(session, actor, complaint, ComplaintStep.CLOSED, day, ("answered",), note,
                 vault, substantiated=substantiated)


def _as_handler(session: Session, actor: User, complaint_id: int) -> Complaint:
    complaint = get_complaint(session, complaint_id)
    require(session, actor, Action.READ, complaint.handling_region_code)
    if handler_id(_events(session, complaint_id)) != actor.id:
        raise PermissionDenied(f"{actor.username} is not the officer handling complaint "
                               f"{complaint_id}", code="not_handler", user=actor.username,
                               action=Action.RECORD, region=complaint.handling_region_code,
                               complaint=complaint_id)
    return complaint


def _step(session, actor, complaint, step, day, allowed_from, note, vault, **fields):
    events = _events(session, complaint.id)
    state = state_of(events)
    if state not in allowed_from:
        raise LedgerError(f"complaint {complaint.id} is {state}; it cannot be {step.value} now",
                          code="complaint_step_not_allowed", complaint=complaint.id,
                          state=state, step=step)
    check_date(day, f"{step.value} date")
    earliest = events[-1].effective_date if events else complaint.received_on
    if not earliest <= day <= dt.date.today():
        raise LedgerError(f"{step.value} date {day} must lie between {earliest} (the previous "
                          "step) and today", code="complaint_step_date", complaint=complaint.id,
                          step=step, date=day, earliest=earliest)
    if note and vault is None:
        raise LedgerError("notes are personal data: a PII key is needed to store them",
                          code="pii_key_missing")
    event = ComplaintEvent(complaint_id=complaint.id, step=step, effective_date=day,
                           actor_id=actor.id, note=vault.encrypt(note) if note else None,
                           **fields)
    with record_change(session, actor.username, f"complaint.{step.value}",
                       complaint=complaint.id) as change:
        change.add(event)
    return event


# ----------------------------------------------------------------------------- reading

def complaint_status_public(session: Session, receipt: str,
                            as_of: dt.date | None = None,
                            vault: PiiVault | None = None) -> dict:
    """What anyone holding the receipt may see: progress and reply, never who complained."""
    code = normalise_receipt(receipt)
    complaint = find_by_receipt(session, code, vault)
    events = _events(session, complaint.id)
    done = {e.step: e for e in events}
    answered, closed = done.get(ComplaintStep.ANSWERED), done.get(ComplaintStep.CLOSED)
    as_of = as_of or dt.date.today()
    return {
        "receipt": format_receipt(code), "state": state_of(events),
        "received_on": complaint.received_on.isoformat(),
        "handled_by": get_region(session, complaint.handling_region_code).name,
        "close_due": complaint.close_due.isoformat(),
        "answer_due": complaint.answer_due.isoformat() if complaint.answer_due else None,
        "answered_on": answered.effective_date.isoformat() if answered else None,
        "reply": answered.reply if answered else None,
        "closed_on": closed.effective_date.isoformat() if closed else None,
        "substantiated": closed.substantiated if closed else None,
        "overdue": closed is None and as_of > complaint.close_due,
        "steps": [{"step": e.step.value, "date": e.effective_date.isoformat()} for e in events],
    }


def can_see_identity(session: Session, user: User, complaint: Complaint) -> bool:
    if in_subject_unit(session, user, complaint):
        return False
    if user.role is Role.AUDITOR and in_scope(session, user, complaint.handling_region_code):
        return True
    return handler_id(_events(session, complaint.id)) == user.id


def complainant_identity(session: Session, actor: User, vault: PiiVault,
                         complaint_id: int) -> dict:
    """Name and phone, for the handling officer and auditors only."""
    complaint = get_complaint(session, complaint_id)
    if not can_see_identity(session, actor, complaint):
        raise PermissionDenied(f"{actor.username} may not see who filed complaint "
                               f"{complaint_id}: only its handling officer and auditors may",
                               code="identity_hidden", user=actor.username,
                               action=Action.READ, region=complaint.handling_region_code,
                               complaint=complaint_id)
    return {"named": complaint.named,
            "name": vault.decrypt(complaint.complainant_name)
            if complaint.complainant_name else None,
            "phone": vault.decrypt(complaint.complainant_phone)
            if complaint.complainant_phone else None}


def complaint_detail(session: Session, actor: User, complaint_id: int,
                     vault: PiiVault | None = None) -> dict:
    """The case file for staff of the handling unit (identity only if they may see it)."""
    complaint = get_complaint(session, complaint_id)
    require(session, actor, Action.READ, complaint.handling_region_code)
    if in_subject_unit(session, actor, complaint):
        raise PermissionDenied(f"{actor.username} works in the region complained about",
                               code="reader_in_subject_region", user=actor.username,
                               action=Action.READ, region=complaint.subject_region_code,
                               complaint=complaint_id)
    events = _events(session, complaint_id)
    data = _summary_row(complaint, events)
    if vault is not None:
        data["summary"] = vault.decrypt(complaint.summary)
        data["steps"] = [{"step": e.step.value, "date": e.effective_date.isoformat(),
                          "actor_id": e.actor_id, "handler_id": e.handler_id,
                          "note": vault.decrypt(e.note) if e.note else None, "reply": e.reply,
                          "substantiated": e.substantiated} for e in events]
        if can_see_identity(session, actor, complaint):
            data["complainant"] = complainant_identity(session, actor, vault, complaint_id)
    return data


def _summary_row(complaint: Complaint, events: list[ComplaintEvent]) -> dict:
    return {"id": complaint.id, "channel": complaint.channel.value,
            "subject_kind": complaint.subject_kind.value, "subject_code": complaint.subject_code,
            "county": complaint.county_code, "handling_region": complaint.handling_region_code,
            "received_on": complaint.received_on.isoformat(), "named": complaint.named,
            "close_due": complaint.close_due.isoformat(),
            "answer_due": complaint.answer_due.isoformat() if complaint.answer_due else None,
            "state": state_of(events), "handler_id": handler_id(events)}


def list_complaints(session: Session, actor: User, state: str | None = None) -> list[dict]:
    """Cases the actor's unit handles or oversees, without identity."""
    handling = session.execute(select(Complaint.handling_region_code).distinct()).scalars()
    visible = [code for code in handling if in_scope(session, actor, code)]
    rows = session.execute(select(Complaint).where(
        Complaint.handling_region_code.in_(visible)).order_by(Complaint.id)).scalars().all()
    events: dict[int, list[ComplaintEvent]] = {}
    for event in session.execute(select(ComplaintEvent).where(
            ComplaintEvent.complaint_id.in_([c.id for c in rows]))
            .order_by(ComplaintEvent.id)).scalars():
        events.setdefault(event.complaint_id, []).append(event)
    out = []
    for complaint in rows:
        if in_subject_unit(session, actor, complaint):
            continue
        row = _summary_row(complaint, events.get(complaint.id, []))
        if state is None or row["state"] == state:
            out.append(row)
    return out


# ----------------------------------------------------------------------------- deadlines

def _first_step(step: ComplaintStep, as_of: dt.date):
    return select(ComplaintEvent.complaint_id, func.min(ComplaintEvent.effective_date)
                  .label("on")).where(ComplaintEvent.step == step,
                                      ComplaintEvent.effective_date <= as_of) \
        .group_by(ComplaintEvent.complaint_id).subquery()


def _deadline_rows(session: Session, as_of: dt.date, *conditions):
    closed = _first_step(ComplaintStep.CLOSED, as_of)
    answered = _first_step(ComplaintStep.ANSWERED, as_of)
    query = select(Complaint.id, Complaint.county_code, Complaint.handling_region_code,
                   Complaint.received_on, Complaint.close_due, Complaint.answer_due,
                   closed.c.on.label("closed_on"), answered.c.on.label("answered_on")) \
        .outerjoin(closed, closed.c.complaint_id == Complaint.id) \
        .outerjoin(answered, answered.c.complaint_id == Complaint.id) \
        .where(Complaint.received_on <= as_of, *[c(closed, answered) for c in conditions]) \
        .order_by(Complaint.id)
    return session.execute(query).all()


def overdue_complaints(session: Session, as_of: dt.date, include_late: bool = False) -> list[dict]:
    """Deadline breaches as of a date (rule G6), one set-based query, plain dicts.

    By default only cases still overdue: not closed after `close_due`, or a named complainant
    not answered after `answer_due`. `include_late` adds deadlines met late.
    """
    def breached(closed, answered):
        close_open = and_(closed.c.on.is_(None), Complaint.close_due < as_of)
        answer_open = and_(Complaint.answer_due.is_not(None), answered.c.on.is_(None),
                           Complaint.answer_due < as_of)
        if not include_late:
            return or_(close_open, answer_open)
        return or_(close_open, answer_open, closed.c.on > Complaint.close_due,
                   and_(Complaint.answer_due.is_not(None), answered.c.on > Complaint.answer_due))
    found = []
    for row in _deadline_rows(session, as_of, breached):
        for kind, due, done in (("close", row.close_due, row.closed_on),
                                ("answer", row.answer_due, row.answered_on)):
            if due is None or (done or as_of) <= due or (done and not include_late):
                continue
            found.append({"id": row.id, "region": row.handling_region_code,
                          "county": row.county_code, "deadline_kind": kind,
                          "due": due.isoformat(), "days_overdue": ((done or as_of) - due).days,
                          "still_open": done is None})
    return found


def substantiated_complaints(session: Session, county_code: str | None = None) -> list[dict]:
    """Closed complaints found substantiated: what the lead needs to open a misuse alert."""
    query = select(Complaint, ComplaintEvent).join(
        ComplaintEvent, ComplaintEvent.complaint_id == Complaint.id).where(
        ComplaintEvent.step == ComplaintStep.CLOSED, ComplaintEvent.substantiated.is_(True))
    if county_code is not None:
        query = query.where(Complaint.county_code == county_code)
    return [{"id": c.id, "subject_kind": c.subject_kind.value, "subject_code": c.subject_code,
             "subject_region": c.subject_region_code, "county": c.county_code,
             "handling_region": c.handling_region_code, "received_on": c.received_on.isoformat(),
             "closed_on": e.effective_date.isoformat(), "log_index": e.log_index}
            for c, e in session.execute(query.order_by(Complaint.id)).all()]


def complaint_stats(session: Session, county_code: str, year: int | None = None,
                    as_of: dt.date | None = None) -> dict:
    """Public numbers for a county: received, answered on time, closed, substantiated."""
    if year is not None and (not isinstance(year, int) or not 2000 <= year <= 2100):
        raise LedgerError(f"year must be between 2000 and 2100, got {year!r}",
                          code="year_out_of_range", value=repr(year))
    county = get_region(session, county_code)
    if county.level is not RegionLevel.COUNTY:
        raise LedgerError(f"statistics are per county; {county_code} is a {county.level.value}",
                          code="not_a_county", region=county_code, level=county.level)
    as_of = as_of or dt.date.today()

    def in_county(_closed, _answered):
        condition = Complaint.county_code == county_code
        if year is not None:
            condition = and_(condition, Complaint.received_on >= dt.date(year, 1, 1),
                             Complaint.received_on <= dt.date(year, 12, 31))
        return condition
    rows = _deadline_rows(session, as_of, in_county)
    closed_ids = {r.id for r in rows if r.closed_on}
    substantiated = {c["id"] for c in substantiated_complaints(session, county_code)}
    return {
        "county": county_code, "county_name": county.name, "year": year,
        "as_of": as_of.isoformat(), "received": len(rows),
        "answered": sum(1 for r in rows if r.answered_on),
        # the on-time mark for an answer: the answer deadline if the complainant gave a name,
        # else the closing deadline (docs/oversight.md)
        "answered_on_time": sum(1 for r in rows if r.answered_on
                                and r.answered_on <= (r.answer_due or r.close_due)),
        "closed": len(closed_ids),
        "closed_on_time": sum(1 for r in rows if r.closed_on and r.closed_on <= r.close_due),
        "substantiated": len(substantiated & closed_ids),
        "open_overdue": sum(1 for r in rows if not r.closed_on and as_of > r.close_due),
    }
