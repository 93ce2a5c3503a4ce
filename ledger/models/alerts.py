"""Tables of the alert lifecycle. Both are append-only: an alert's identity row never changes,
and everything that happens to it (raised, re-observed with new evidence, moved through its
lifecycle) is an event row. The current state and the current evidence are the latest events.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id, enum_type, log_id_column


class AlertState(str, enum.Enum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    RECOVERING = "recovering"
    RECOVERED = "recovered"


class AlertEventKind(str, enum.Enum):
    RAISED = "raised"          # first seen by a scan (or at posting)
    OBSERVED = "observed"      # seen again with different evidence
    TRANSITION = "transition"  # a person moved it through the lifecycle
    REOPENED = "reopened"      # a suppression expired, or new evidence after a dismissal


class Alert(Base):
    """One rule firing on one entity. `fingerprint` (rule + entity) keeps re-scans from
    duplicating it."""
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[str] = mapped_column(String(16), index=True)
    entity_kind: Mapped[str] = mapped_column(String(20))
    entity_key: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class AlertEvent(Base):
    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[AlertEventKind] = mapped_column(enum_type(AlertEventKind, "alert_event_kind"))
    state: Mapped[AlertState] = mapped_column(enum_type(AlertState, "alert_state"))
    # The finding as observed (threshold, observed value, evidence); only on raised/observed.
    finding: Mapped[dict | None] = mapped_column(JSON)
    finding_hash: Mapped[str | None] = mapped_column(String(64))
    amount_at_risk_fen: Mapped[int | None] = mapped_column(BigInteger)
    reason_code: Mapped[str | None] = mapped_column(String(40))
    suppress_until: Mapped[dt.date | None] = mapped_column(Date)
    recovery_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class AlertObservedShown(Base):
    """What people read for an alert's latest finding (observed, threshold) in their language:
    {"template": Chinese msgid, "params": {...}, "threshold": {"template", "params"}}
    (ledger.screening.finding.shown). A display cache, refreshed by every scan that sees the
    finding, without an event: the finding as observed, its English and its hash stay in
    `alert_events`. Its own table because `alerts` is append-only and bound in the log
    (issue 20)."""
    __tablename__ = "alert_observed_shown"
    alert_id: Mapped[int] = mapped_column(Id, ForeignKey("alerts.id"), primary_key=True,
                                          autoincrement=False)
    observed_shown: Mapped[dict | None] = mapped_column(JSON)


# Tables of this module that are append-only (collected in ledger.models.APPEND_ONLY_TABLES).
APPEND_ONLY = ("alerts", "alert_events")
