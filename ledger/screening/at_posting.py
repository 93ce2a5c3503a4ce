"""Alerts checked at the moment money moves, where that is cheap: a payment to a household
whose head is recorded as deceased (BEN-01) is flagged as it is recorded, in the same audit
entry as the payment. The payment itself is not refused: the death record may be wrong, and
the alert says what to verify. The next scan adds the full evidence to the same alert."""
from __future__ import annotations

import functools

from sqlalchemy import Date, Select, and_, bindparam, cast, literal, null, or_, select, union_all

from ledger.core.errors import PaymentRefused
from ledger.core.money import format_yuan
from ledger.i18n import N_
from ledger.models import (
    AccountKind,
    Member,
    MemberEvent,
    MemberEventKind,
    Payee,
    TransferKind,
)
from ledger.models.alerts import Alert, AlertEvent, AlertEventKind, AlertObservedShown, AlertState
from ledger.registers.external import ExternalList, ExternalRecord, ListKind
from ledger.screening.finding import Finding, money, shown
from ledger.store.context import context_of


def check_transfer(change, actor, transfer, legs) -> None:
    if transfer.kind is not TransferKind.PAY:
        return
    payee = next((leg.account for leg in legs if leg.amount > 0
                  and leg.account.kind is AccountKind.PAYEE), None)
    if payee is None:
        return
    refuse_blacklisted(change.session, [payee.holder_code], transfer.effective_date)
    died = _head_death(change.session, payee.holder_code)
    if died is None or transfer.effective_date <= died[1]:
        return
    if transfer.effective_date.replace(day=1) <= died[1]:
        return  # the month of death may be paid (the scan applies the configured rule)
    finding = Finding(
        "BEN-01", "household", payee.holder_code, payee.region_code,
        f"head of household {died[0]} died {died[1]}; paid ¥{format_yuan(transfer.amount_fen)} "
        f"on {transfer.effective_date} (flagged as it was recorded)",
        "no household payment after the head's death", transfer.amount_fen,
        {"transfers": [{"transfer_id": transfer.id, "date": transfer.effective_date.isoformat(),
                        "amount_fen": transfer.amount_fen, "key": transfer.idempotency_key}],
         "death_source": died[2]},
        observed_shown=shown(N_("户主 {person} 于 {died} 死亡；{day} 付款 {amount}（记账时发现）"),
                             person=died[0], died=str(died[1]),
                             day=str(transfer.effective_date), amount=money(transfer.amount_fen)),
        threshold_shown=shown(N_("户主死亡后不再向该户付款")))
    session = change.session
    if session.execute(select(Alert.id).where(Alert.fingerprint == finding.fingerprint)).first():
        return
    alert = Alert(fingerprint=finding.fingerprint, rule_id="BEN-01", entity_kind="household",
                  entity_key=payee.holder_code, region_code=payee.region_code,
                  first_seen=change.time)
    change.add(alert)
    session.flush()
    change.add(AlertEvent(alert_id=alert.id, kind=AlertEventKind.RAISED, state=AlertState.OPEN,
                          finding=finding.as_dict(), finding_hash=finding.content_hash(),
                          amount_at_risk_fen=finding.amount_at_risk_fen, actor_id=actor.id,
                          at=change.time, note="at posting"))
    # what people read for its observed and threshold (issue 20; the scan refreshes it)
    session.add(AlertObservedShown(alert_id=alert.id, observed_shown={
        **finding.observed_shown, "threshold": finding.threshold_shown}))


def head_deaths(head_of):
    """Every record of a household head's death, as a subquery of (household_code, rank, name,
    day, source, snapshot): rank 0 the registry's date, 1 a death recorded later, 2 an
    imported deaths list. `head_of` picks the households (a condition on Member). Both the
    one-payment check and the bulk roll path read it, so they agree on who is dead."""
    head = and_(head_of, Member.relation == "户主")
    registry = select(Member.household_code, literal(0).label("rank"), Member.name,
                      Member.death_date.label("day"),
                      literal("household registry").label("source"),
                      cast(null(), Date).label("snapshot")).where(
        head, Member.death_date.is_not(None))
    later = select(Member.household_code, literal(1), Member.name, MemberEvent.effective_date,
                   literal("household registry (death recorded later)"),
                   cast(null(), Date)).join(
        MemberEvent, and_(MemberEvent.member_id == Member.id,
                          MemberEvent.kind == MemberEventKind.DIED)).where(head)
    listed = (select(Member.household_code, literal(2), Member.name, ExternalRecord.date_from,
                     ExternalList.source, ExternalList.snapshot_date)
              .join(ExternalRecord, ExternalRecord.id_digest == Member.id_digest)
              .join(ExternalList, and_(ExternalList.id == ExternalRecord.list_id,
                                       ExternalList.kind == ListKind.DEATHS))
              .where(head))
    return union_all(registry, later, listed).subquery()


def _head_death(session, household_code):
    """(name, date, source) of the head's death, from the registry first, then a death
    recorded later, then an imported deaths list; None if none says so. One statement: this
    runs for every payment."""
    row = session.execute(_head_death_statement(),
                          {"household_code": household_code}).first()
    if row is None:
        return None
    if row.rank == 2:
        return row.name, row.day, f"deaths list {row.source} ({row.snapshot})"
    return row.name, row.day, row.source


@functools.cache
def _head_death_statement():
    """Built once: constructing this union costs ≈ 0.5 ms, twenty times the database's answer,
    and it is the same statement for every payment but for the household."""
    deaths = head_deaths(Member.household_code == bindparam("household_code"))
    return select(deaths).order_by(deaths.c.rank).limit(1)


def households_with_dead_head(session, household_codes) -> set[str]:
    """Which of these households have a head recorded as dead anywhere `_head_death` looks: the
    bulk roll path (`ledger.rolls.payments`) sends only these through the one-line path, which
    raises BEN-01 as the payment is recorded.

    `household_codes` is a list of codes or a SELECT of them (a roll's lines: then the
    database joins, with no list of tens of thousands of codes sent to it)."""
    if isinstance(household_codes, Select):
        codes = household_codes
    else:
        codes = list(household_codes)
        if not codes:
            return set()
    deaths = head_deaths(Member.household_code.in_(codes))
    return set(session.execute(select(deaths.c.household_code).distinct()).scalars())


def refuse_blacklisted(session, payee_codes, day) -> None:
    """Refuse payments on `day` to payees on the violations blacklist (BLK-01 matched as the
    scan matches it: the payee's name within the listing's period), where the deployment says
    so (`[ledger] refuse_blacklisted_payees`, carried by the session's LedgerContext).
    Otherwise nothing is refused and the scan raises BLK-01."""
    if not context_of(session).refuse_blacklisted_payees or not payee_codes:
        return
    # From the list's side (a blacklist is short; a roll may name 100,000 households).
    listed = session.execute(
        select(Payee.code, Payee.name, ExternalRecord.org, ExternalRecord.date_from,
               ExternalRecord.date_to, ExternalList.source)
        .join(ExternalRecord, ExternalRecord.name == Payee.name)
        .join(ExternalList, and_(ExternalList.id == ExternalRecord.list_id,
                                 ExternalList.kind == ListKind.BLACKLIST))
        .where(ExternalRecord.date_from <= day,
               or_(ExternalRecord.date_to.is_(None), ExternalRecord.date_to >= day))
        .order_by(Payee.code)).all()
    wanted = set(payee_codes)
    row = next((r for r in listed if r.code in wanted), None)
    if row is not None:
        until = f" to {row.date_to}" if row.date_to else ""
        raise PaymentRefused(
            f"payee {row.code} ({row.name}) is on the violations blacklist (违规违纪黑名单, "
            f"{row.source}: {row.org or 'no reason given'}, from {row.date_from}{until}); "
            "this deployment refuses such payments (BLK-01, [ledger] "
            "refuse_blacklisted_payees)", payee=row.code, name=row.name, source=row.source,
            org=row.org, date_from=row.date_from, date_to=row.date_to)
