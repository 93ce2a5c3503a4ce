"""Alert services: scan (raise or update alerts from findings), the lifecycle, read-outs.

State lives in append-only `alert_events`; an alert's state is its latest event's. A scan
writes one audit entry for everything it raised or re-observed (a scan with hundreds of
findings: consecutive parts, `ledger.audit.log.Change`); every transition writes its own.
Services check role and region and leave commit to the caller.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.alerts.base import ScanContext
from ledger.alerts.catalogue import DISCLAIMER, RULES, SEVERITY_ORDER
from ledger.alerts.labels import ENTITIES, render_shown
from ledger.alerts.rules import run_rules
from ledger.alerts.settings import AlertSettings
from ledger.audit.log import record_change
from ledger.core import clock
from ledger.core.errors import LedgerError
from ledger.funds.refusals_log import prevented_counts
from ledger.i18n import gettext
from ledger.models import FundLot, PaymentRoll, Transfer, User
from ledger.models.alerts import Alert, AlertEvent, AlertEventKind, AlertObservedShown, AlertState
from ledger.screening.finding import Finding
from ledger.store.access import Action, in_scope, require
from ledger.store.db import fetch

REASON_CODES = {
    "data_error": "数据错误 the data were wrong (fix at the source and re-scan)",
    "legitimate_exception": "合规例外 a legitimate exception (may suppress until a date)",
    "duplicate": "重复 duplicate of another alert",
    "threshold_too_sensitive": "阈值过敏 the threshold is too sensitive here",
}

# state → states it may move to by a person's decision
TRANSITIONS = {
    AlertState.OPEN: {AlertState.INVESTIGATING, AlertState.DISMISSED},
    AlertState.INVESTIGATING: {AlertState.CONFIRMED, AlertState.DISMISSED},
    AlertState.CONFIRMED: {AlertState.RECOVERING, AlertState.RECOVERED},
    AlertState.RECOVERING: {AlertState.RECOVERED},
    AlertState.DISMISSED: {AlertState.OPEN},
    AlertState.RECOVERED: set(),
}
ACTIVE = (AlertState.OPEN, AlertState.INVESTIGATING)


@dataclass
class ScanResult:
    raised: int
    updated: int
    reopened: int
    unchanged: int
    suppressed: int
    findings: list


def latest_events(session: Session, alert_ids=None) -> dict[int, AlertEvent]:
    last = select(func.max(AlertEvent.id)).group_by(AlertEvent.alert_id)
    q = select(AlertEvent).where(AlertEvent.id.in_(last))
    if alert_ids is not None:
        q = q.where(AlertEvent.alert_id.in_(list(alert_ids)))
    return {e.alert_id: e for e in session.execute(q).scalars()}


def latest_findings(session: Session, alert_ids=None) -> dict[int, AlertEvent]:
    last = select(func.max(AlertEvent.id)).where(AlertEvent.finding_hash.is_not(None)) \
        .group_by(AlertEvent.alert_id)
    q = select(AlertEvent).where(AlertEvent.id.in_(last))
    if alert_ids is not None:
        q = q.where(AlertEvent.alert_id.in_(list(alert_ids)))
    return {e.alert_id: e for e in session.execute(q).scalars()}


def scan(session: Session, actor: User, *, settings: AlertSettings, as_of: dt.date,
         vault=None, only=None) -> ScanResult:
    """Run the rules and record what they found: new alerts are raised, open ones get the new
    evidence, dismissed ones stay dismissed unless their suppression expired or the evidence
    changed, closed ones are left alone."""
    require(session, actor, Action.AUDIT, actor.region_code)
    ctx = ScanContext(session, settings, as_of, vault)
    findings = [f for f in run_rules(ctx, only) if in_scope(session, actor, f.region_code)]
    existing = {a.fingerprint: a for a in session.execute(select(Alert)).scalars()}
    states = latest_events(session)
    seen = latest_findings(session)
    counts = Counter()
    with record_change(session, actor.username, "alerts.scan", as_of=as_of.isoformat()) \
            as change:
        for finding in findings:
            kind = _sync(change, actor, finding, existing, states, seen, as_of)
            counts[kind] += 1
    _refresh_shown(session, findings, existing)
    return ScanResult(counts["raised"], counts["updated"], counts["reopened"],
                      counts["unchanged"], counts["suppressed"], findings)


def _sync(change, actor, finding: Finding, existing, states, seen, as_of) -> str:
    digest = finding.content_hash()
    alert = existing.get(finding.fingerprint)
    if alert is None:
        alert = Alert(fingerprint=finding.fingerprint, rule_id=finding.rule_id,
                      entity_kind=finding.entity_kind, entity_key=finding.entity_key,
                      region_code=finding.region_code, first_seen=change.time)
        change.add(alert)
        change.session.flush()
        existing[finding.fingerprint] = alert
        event = _event(change, actor, alert, AlertEventKind.RAISED, AlertState.OPEN, finding,
                       digest)
        states[alert.id] = seen[alert.id] = event  # a second finding on it updates, not fails
        return "raised"
    state = states[alert.id]
    same = seen.get(alert.id) is not None and seen[alert.id].finding_hash == digest
    if state.state in ACTIVE:
        if same:
            return "unchanged"
        _event(change, actor, alert, AlertEventKind.OBSERVED, state.state, finding, digest)
        return "updated"
    if state.state is AlertState.DISMISSED:
        expired = state.suppress_until is not None and state.suppress_until < as_of
        if expired or (state.suppress_until is None and not same):
            _event(change, actor, alert, AlertEventKind.REOPENED, AlertState.OPEN, finding,
                   digest, note="suppression expired" if expired else "new evidence")
            return "reopened"
        return "suppressed"
    return "unchanged"  # confirmed, recovering, recovered: people own it now


def _refresh_shown(session: Session, findings, existing) -> None:
    """Store what people read for each finding's observed and threshold (its template and
    parameters) — whatever the finding's state, and without an event: the display follows the
    latest scan, while the finding as observed, its English and its hash stay in the events
    (issue 20: changing the English would have reopened dismissed alerts). Outside the log's
    change: a display cache, not the books (AlertObservedShown)."""
    rows = {}
    for finding in findings:
        alert = existing.get(finding.fingerprint)
        if alert is None or alert.id is None:
            continue
        shown = dict(finding.observed_shown or {})
        if finding.threshold_shown:
            shown["threshold"] = finding.threshold_shown
        rows[alert.id] = shown or None
    if not rows:
        return
    current = {r.alert_id: r for r in session.execute(select(AlertObservedShown).where(
        AlertObservedShown.alert_id.in_(list(rows)))).scalars()}
    for alert_id, shown in rows.items():
        row = current.get(alert_id)
        if row is None:
            session.add(AlertObservedShown(alert_id=alert_id, observed_shown=shown))
        elif row.observed_shown != shown:
            row.observed_shown = shown
    session.flush()


def _event(change, actor, alert, kind, state, finding=None, digest=None, **extra) -> AlertEvent:
    event = AlertEvent(alert_id=alert.id, kind=kind, state=state,
                       finding=finding.as_dict() if finding else None, finding_hash=digest,
                       amount_at_risk_fen=finding.amount_at_risk_fen if finding else None,
                       actor_id=actor.id, at=change.time, note=extra.pop("note", ""), **extra)
    change.add(event)
    return event


def get_alert(session: Session, alert_id: int) -> Alert:
    return fetch(session, Alert, alert_id, f"alert #{alert_id}")


def transition(session: Session, actor: User, alert_id: int, to: AlertState, *,
               reason: str | None = None, until: dt.date | None = None,
               recovery_transfer_id: int | None = None, note: str = "") -> AlertEvent:
    """Move an alert through its lifecycle; refused unless the move is allowed and complete."""
    alert = get_alert(session, alert_id)
    require(session, actor, Action.AUDIT, alert.region_code)
    current = latest_events(session, [alert.id])[alert.id].state
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        raise LedgerError(f"alert #{alert_id} is {current.value}; it can move to {allowed}, "
                          f"not {to.value}", code="alert_transition", alert=alert_id,
                          state=current.value, requested=to.value, allowed=allowed)
    if to is AlertState.DISMISSED and reason not in REASON_CODES:
        raise LedgerError("a dismissal needs --reason, one of: " + ", ".join(REASON_CODES),
                          code="invalid_choice", field="reason", value=reason,
                          allowed=", ".join(REASON_CODES))
    if until is not None and (to is not AlertState.DISMISSED
                              or reason != "legitimate_exception"):
        raise LedgerError("--until suppresses a rule for an entity: only with a dismissal "
                          "for reason legitimate_exception", code="alert_until_not_allowed")
    if to in (AlertState.RECOVERING, AlertState.RECOVERED):
        if recovery_transfer_id is None:
            raise LedgerError(f"{to.value} needs --recovery TRANSFER (the recovery entry)",
                              code="alert_recovery_missing", state=to.value)
        fetch(session, Transfer, recovery_transfer_id, f"transfer #{recovery_transfer_id}")
    elif recovery_transfer_id is not None:
        raise LedgerError("--recovery links a recovery transfer: only when recovering",
                          code="alert_recovery_not_allowed")
    with record_change(session, actor.username, "alert.transition", alert_id=alert_id,
                       to=to.value) as change:
        return _event(change, actor, alert, AlertEventKind.TRANSITION, to,
                      reason_code=reason, suppress_until=until,
                      recovery_transfer_id=recovery_transfer_id, note=note)


def is_lead(rule_id: str) -> bool:
    """A statistical screen's finding is a lead, not an alert: it is listed apart
    (`list_leads`), ranked by its test, and left out of the alert list, the scan's exit code
    and the annual report (docs/alerts.md, "Statistical leads")."""
    return RULES[rule_id].method == "statistical"


def _visible(session: Session, actor: User, leads: bool):
    require(session, actor, Action.READ, actor.region_code)
    alerts = {a.id: a for a in session.execute(select(Alert)).scalars()
              if is_lead(a.rule_id) == leads and in_scope(session, actor, a.region_code)}
    return alerts, latest_events(session, alerts), latest_findings(session, alerts)


def list_alerts(session: Session, actor: User, states=ACTIVE) -> list[dict]:
    """Alerts in the actor's scope in `states`, most severe first; leads are not alerts."""
    alerts, current, found = _visible(session, actor, leads=False)
    shown = _shown(session, [i for i in alerts if current[i].state in states])
    rows = [_summary(alerts[i], current[i], found[i], shown.get(i)) for i in alerts
            if current[i].state in states]
    rows.sort(key=lambda r: (SEVERITY_ORDER[r["severity"]], -r["amount_at_risk_fen"], r["id"]))
    return rows


def list_leads(session: Session, actor: User, states=ACTIVE) -> list[dict]:
    """The statistical screens' leads in the actor's scope in `states`: by county, year and
    rank (the smallest q-value first), each with its test (ledger/alerts/rules_stats.py)."""
    alerts, current, found = _visible(session, actor, leads=True)
    rows = []
    shown = _shown(session, [i for i in alerts if current[i].state in states])
    for i in alerts:
        if current[i].state not in states:
            continue
        lead = found[i].finding["evidence"].get("lead", {})
        rows.append(_summary(alerts[i], current[i], found[i], shown.get(i)) | {
            key: lead.get(key) for key in (
                "county", "year", "rank", "unit", "test", "reference", "statistic", "p_value",
                "q_value", "sample_size", "effect", "effect_floor")} | {
            "observed_values": lead.get("observed"), "expected_values": lead.get("expected")})
    rows.sort(key=lambda r: (r["county"] or "", r["year"] or 0, r["rank"] or 0,
                             r["rule_id"], r["id"]))
    return rows


def _shown(session: Session, alert_ids) -> dict[int, dict]:
    ids = list(alert_ids)
    if not ids:
        return {}
    return dict(session.execute(select(AlertObservedShown.alert_id,
                                       AlertObservedShown.observed_shown)
                                .where(AlertObservedShown.alert_id.in_(ids))).all())


def _summary(alert, event, found, shown=None) -> dict:
    rule = RULES[alert.rule_id]
    f = found.finding
    shown = shown or {}
    # `title` in the reader's language (the catalogue's Chinese is the msgid, ledger/i18n);
    # title_zh and title_en stay for the command line's bilingual lines and --json.
    return {"id": alert.id, "rule_id": alert.rule_id, "title": gettext(rule.title_zh),
            "title_zh": rule.title_zh, "title_en": rule.title_en,
            "severity": f.get("severity") or rule.severity, "state": event.state.value,
            "entity": f"{alert.entity_kind}:{alert.entity_key}",
            "entity_kind": alert.entity_kind, "entity_key": alert.entity_key,
            "region_code": alert.region_code, "observed": f["observed"],
            # the observed as people read it, in the reader's language; the English above
            # (what the hash covers) when the alert was last scanned before it existed
            "observed_shown": render_shown(shown, f["observed"]),
            "amount_at_risk_fen": found.amount_at_risk_fen or 0}


def show_alert(session: Session, actor: User, alert_id: int) -> dict:
    alert = get_alert(session, alert_id)
    require(session, actor, Action.READ, alert.region_code)
    events = list(session.execute(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                                  .order_by(AlertEvent.id)).scalars())
    found = [e for e in events if e.finding_hash][-1]
    rule = RULES[alert.rule_id]
    shown = _shown(session, [alert.id]).get(alert.id) or {}
    out = _summary(alert, events[-1], found, shown)
    out.update({
        "why": gettext(rule.why), "basis": gettext(rule.basis), "method": rule.method,
        "threshold": found.finding["threshold"],
        "threshold_shown": render_shown(shown.get("threshold"), found.finding["threshold"]),
        "evidence": found.finding["evidence"],
        "next_action": gettext(rule.next_action), "disclaimer": gettext(DISCLAIMER),
        "history": [{"at": e.at.isoformat(), "kind": e.kind.value, "state": e.state.value,
                     "reason": e.reason_code, "until": e.suppress_until.isoformat()
                     if e.suppress_until else None, "recovery_transfer_id":
                     e.recovery_transfer_id, "note": e.note, "log_index": e.log_index}
                    for e in events]})
    return out


def rule_outcomes(session: Session) -> dict[str, dict]:
    """Per rule: alerts by current state (confirmed vs dismissed is real-world precision), and
    "prevented": attempts the ledger refused at posting that the rule would otherwise have
    found (ledger.funds.refusals_log.PREVENTED maps refusal codes to rules)."""
    current = latest_events(session)
    rules = dict(session.execute(select(Alert.id, Alert.rule_id)).all())
    out = {rid: Counter() for rid in RULES}
    for alert_id, event in current.items():
        out[rules[alert_id]][event.state.value] += 1
    for rid, n in prevented_counts(session).items():
        if rid in out:
            out[rid]["prevented"] += n
    return {rid: dict(c) for rid, c in out.items()}


def alerts_for_report(session: Session, county_code: str, year: int) -> list[dict]:
    """Alerts of a county about the money of `year`, for its annual fund-use report
    (reports/alerts_source.py reads this). The report is public, so entities are named by
    their kind and codes only — the same codes the public notices print.

    Selected by the year of the money the alert concerns (`money_years`), not by the day a
    scan first saw it: a scan in March finds last year's payments, and last year's report is
    where they belong (issue 20: the report said 本年度没有…预警线索 while alerts were open on
    that year's money)."""
    from ledger.funds.balances import descendants
    candidates = {a.id: a for a in session.execute(select(Alert).where(
        Alert.region_code.in_(descendants(session, county_code)))).scalars()
        if not is_lead(a.rule_id)}   # a lead is a hint to sample, not a finding to publish
    if not candidates:
        return []
    found = latest_findings(session, candidates)
    years = money_years(session, candidates, found)
    alerts = {i: a for i, a in candidates.items() if year in years[i]}
    if not alerts:
        return []
    current = latest_events(session, alerts)
    rows = []
    for alert_id, alert in sorted(alerts.items()):
        rule = RULES[alert.rule_id]
        rows.append({"rule_id": alert.rule_id, "title": rule.title_zh,
                     "status": current[alert_id].state.value,
                     "amount_fen": found[alert_id].amount_at_risk_fen or 0,
                     # the board reads Chinese whatever the language (docs/i18n.md): the
                     # entity's kind by its Chinese label, then its code
                     "subject": f"{ENTITIES.get(alert.entity_kind, alert.entity_kind)} "
                                f"{alert.entity_key}",
                     # the server's calendar day, not UTC's (ledger.core.clock)
                     "opened": clock.day_of(alert.first_seen).isoformat()})
    return rows


# Evidence keys naming one transfer, and one naming a list of them (ledger/alerts/rules_*.py).
TRANSFER_KEYS = ("transfer_id", "received_transfer_id", "duplicate_transfer_id",
                 "difference_transfer_id")
# Entities keyed by their lot first: "lot:unit" (FLW-01), "lot:kind:holder" (FLW-02).
LOT_ENTITIES = ("lot_unit", "account")


def money_years(session: Session, alerts: dict[int, Alert],
                found: dict[int, AlertEvent]) -> dict[int, set[int]]:
    """Per alert, the years of the money it concerns, read from what the alert records:
    - an entity that is a lot's money (a unit's or an account's share of a lot): the lot's year;
    - otherwise the transfers its evidence names (a payment, the lines' payments): the years of
      their posting dates, the year the annual report counts a use in;
    - otherwise the rolls it names: the years of their lots;
    - otherwise a year the evidence states (a household's year), and last the year the alert
      was first seen (a complaint, a field check: no money of another year to point to).
    An alert about payments of two years belongs to both years' reports."""
    transfer_ids: dict[int, set[int]] = {}
    lot_ids: dict[int, set[int]] = {}
    roll_codes: dict[int, set[str]] = {}
    stated: dict[int, set[int]] = {}
    for alert_id, alert in alerts.items():
        evidence = (found[alert_id].finding or {}).get("evidence") or {} \
            if alert_id in found else {}
        t_ids, l_ids, rolls, years = set(), set(), set(), set()
        _walk(evidence, t_ids, l_ids, rolls, years)
        if alert.entity_kind == "transfer" and alert.entity_key.isdigit():
            t_ids.add(int(alert.entity_key))
        if alert.entity_kind in LOT_ENTITIES:
            head = alert.entity_key.split(":", 1)[0]
            l_ids = {int(head)} if head.isdigit() else l_ids
            t_ids = set()   # the lot's year, whatever days its money moved on
        if alert.entity_kind in ("roll", "roll_line"):
            rolls.add(alert.entity_key.rsplit(":", 1)[0] if alert.entity_kind == "roll_line"
                      else alert.entity_key)
        transfer_ids[alert_id], lot_ids[alert_id] = t_ids, l_ids
        roll_codes[alert_id], stated[alert_id] = rolls, years
    every_transfer = set().union(*transfer_ids.values())
    transfer_year = {tid: day.year for tid, day in session.execute(
        select(Transfer.id, Transfer.effective_date).where(
            Transfer.id.in_(every_transfer))).all()} if every_transfer else {}
    every_roll = set().union(*roll_codes.values())
    roll_lot = dict(session.execute(select(PaymentRoll.code, PaymentRoll.lot_id).where(
        PaymentRoll.code.in_(every_roll))).all()) if every_roll else {}
    every_lot = set().union(*lot_ids.values()) | set(roll_lot.values())
    lot_year = dict(session.execute(select(FundLot.id, FundLot.year).where(
        FundLot.id.in_(every_lot))).all()) if every_lot else {}
    out: dict[int, set[int]] = {}
    for alert_id, alert in alerts.items():
        if alert.entity_kind in LOT_ENTITIES and lot_ids[alert_id]:
            years = {lot_year[i] for i in lot_ids[alert_id] if i in lot_year}
        else:
            years = {transfer_year[i] for i in transfer_ids[alert_id] if i in transfer_year}
        if not years:
            years = {lot_year[roll_lot[c]] for c in roll_codes[alert_id]
                     if c in roll_lot and roll_lot[c] in lot_year}
        if not years:
            years = {lot_year[i] for i in lot_ids[alert_id] if i in lot_year}
        out[alert_id] = years or stated[alert_id] or {clock.day_of(alert.first_seen).year}
    return out


def _walk(value, transfers: set, lots: set, rolls: set, years: set) -> None:
    """Collect the transfers, lots, rolls and years a finding's evidence names, at any depth."""
    if isinstance(value, list):
        for item in value:
            _walk(item, transfers, lots, rolls, years)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in TRANSFER_KEYS and isinstance(item, int):
            transfers.add(item)
        elif key == "transfer_ids" and isinstance(item, list):
            transfers.update(i for i in item if isinstance(i, int))
        elif key == "lot_id" and isinstance(item, int):
            lots.add(item)
        elif key == "roll" and isinstance(item, str):
            rolls.add(item)
        elif key == "year" and isinstance(item, int):
            years.add(item)
        else:
            _walk(item, transfers, lots, rolls, years)
