"""Tables of public and inspector oversight: complaints (信访投诉) and field-check samples
(入户核查).

Both follow the ledger's rule that history is appended, never edited: a complaint's progress
and a sample's visits are event rows, and the current state is derived from them.
The complainant's identity, the complaint text and the officers' notes are personal data:
stored encrypted (ledger.core.pii) and entered in the audit log only as commitments.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id, enum_type, log_id_column


class ComplaintChannel(str, enum.Enum):
    HOTLINE_12317 = "12317"         # national supervision hotline (扶贫监督举报电话)
    COUNTY_PHONE = "county_phone"   # phones printed on every notice (县、乡、村三级公开电话)
    TOWNSHIP_PHONE = "township_phone"
    VILLAGE_PHONE = "village_phone"
    LETTER = "letter"               # 来信
    VISIT = "visit"                 # 来访
    ONLINE = "online"               # filed by the complainant on the public page


class ComplaintSubject(str, enum.Enum):
    """What the complaint is about: a code printed on a notice."""
    VILLAGE = "village"
    PROJECT = "project"
    ROLL_LINE = "roll_line"    # "ROLL-CODE:LINE_NO" on a posted payment roll
    HOUSEHOLD = "household"


class ComplaintStep(str, enum.Enum):
    ASSIGNED = "assigned"            # a handling officer named (or replaced)
    INVESTIGATING = "investigating"
    ANSWERED = "answered"            # reply given to the complainant (or posted for anonymous ones)
    CLOSED = "closed"                # 办结, with a finding: substantiated or not


class Complaint(Base):
    """A complaint as received. It never changes; its progress is in `complaint_events`."""
    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # A keyed digest (PiiVault.digest) of the receipt, never the receipt itself: the receipt is
    # the complainant's key to the case, and audit entries travel in auditors' bundles.
    receipt_digest: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[ComplaintChannel] = mapped_column(
        enum_type(ComplaintChannel, "complaint_channel"))
    subject_kind: Mapped[ComplaintSubject] = mapped_column(
        enum_type(ComplaintSubject, "complaint_subject"))
    subject_code: Mapped[str] = mapped_column(String(120))
    # Region of what is complained about (a village, or the county for a project): its units
    # never see who complained.
    subject_region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    # The responsible level (属地管理): the lowest finance unit above the subject.
    handling_region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    summary: Mapped[str] = mapped_column(Text, info={"pii": True})
    named: Mapped[bool] = mapped_column(Boolean)
    complainant_name: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    complainant_phone: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    received_on: Mapped[dt.date] = mapped_column(Date)
    close_due: Mapped[dt.date] = mapped_column(Date)
    answer_due: Mapped[dt.date | None] = mapped_column(Date)  # named complainants only
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: self-filed
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class ComplaintEvent(Base):
    """One step of a complaint. `note` is internal (encrypted); `reply` is what the
    complainant reads with the receipt, so it must not name anyone."""
    __tablename__ = "complaint_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    step: Mapped[ComplaintStep] = mapped_column(enum_type(ComplaintStep, "complaint_step"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    reply: Mapped[str | None] = mapped_column(Text)
    substantiated: Mapped[bool | None] = mapped_column(Boolean)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class SampleStrata(str, enum.Enum):
    VILLAGE = "village"
    VILLAGE_RISK = "village+risk"


class SampleCommitment(Base):
    """The frame and size of a field-check sample, fixed before the randomness exists.

    `frame` is the published frame file byte for byte (canonical JSON, docs/oversight.md);
    `frame_digest` is its SHA-256.
    """
    __tablename__ = "sample_commitments"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    strata: Mapped[SampleStrata] = mapped_column(enum_type(SampleStrata, "sample_strata"))
    frame: Mapped[str] = mapped_column(Text)
    frame_digest: Mapped[str] = mapped_column(String(64))
    committed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class SampleDraw(Base):
    """The households drawn for a commitment, from the first checkpoint after it."""
    __tablename__ = "sample_draws"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("sample_commitments.id"), unique=True)
    checkpoint_size: Mapped[int] = mapped_column(BigInteger)
    checkpoint_root: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str] = mapped_column(String(64))
    households: Mapped[list] = mapped_column(JSON)
    drawn_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class VisitOutcome(str, enum.Enum):
    CONFIRMED = "confirmed"        # money arrived and the household's status is true
    DISCREPANCY = "discrepancy"    # something differs: details say what


class SampleVisit(Base):
    """The result of visiting one drawn household (入户核查). A revisit appends a new row."""
    __tablename__ = "sample_visits"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("sample_draws.id"), index=True)
    household_code: Mapped[str] = mapped_column(ForeignKey("households.code"))
    outcome: Mapped[VisitOutcome] = mapped_column(enum_type(VisitOutcome, "visit_outcome"))
    details: Mapped[str] = mapped_column(Text, default="")
    visited_on: Mapped[dt.date] = mapped_column(Date)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


OVERSIGHT_TABLES = ("complaints", "complaint_events", "sample_commitments", "sample_draws",
                    "sample_visits")


# Tables of this module that are append-only (collected in ledger.models.APPEND_ONLY_TABLES).
APPEND_ONLY = ("complaints", "complaint_events", "sample_commitments", "sample_draws",
               "sample_visits")
