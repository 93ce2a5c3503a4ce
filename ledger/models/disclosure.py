"""Tables for public disclosure (公告公示): what a notice needs beyond the ledger, and the
notices themselves. All append-only: a correction is a newer record, the latest one counts.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id, enum_type, log_id_column


class ProjectDetails(Base):
    """What a village project notice prints that the project library does not hold: place,
    content and scale, subsidy standard, period, implementer, targets, how poor households
    benefit (带贫减贫机制), the county's supervision phone and the issuing unit."""
    __tablename__ = "project_details"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_code: Mapped[str] = mapped_column(ForeignKey("projects.code"), index=True)
    # Villages whose boards post the notice (a road may cross several villages).
    village_codes: Mapped[list] = mapped_column(JSON)
    place: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    subsidy_standard: Mapped[str] = mapped_column(Text)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    implementer: Mapped[str] = mapped_column(String(200))
    responsible_person: Mapped[str] = mapped_column(String(100))
    performance_targets: Mapped[str] = mapped_column(Text)
    benefit_mechanism: Mapped[str] = mapped_column(Text)
    supervision_phone: Mapped[str] = mapped_column(String(40))
    issuing_unit: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class HouseholdSupport(Base):
    """What the household card (明白卡) prints besides payments and loans: the assistance
    cadre (帮扶责任人) and the village's and county's phones. The cadre's phone is a work
    number printed for the household, so it is kept in clear."""
    __tablename__ = "household_support"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    household_code: Mapped[str] = mapped_column(ForeignKey("households.code"), index=True)
    cadre_name: Mapped[str] = mapped_column(String(100))
    cadre_phone: Mapped[str] = mapped_column(String(40))
    village_phone: Mapped[str] = mapped_column(String(40))
    county_phone: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class SupervisionContact(Base):
    """A supervision phone (监督举报电话) of one level: the seeds ask every notice to print the
    city's, county's and township's. The latest record per region counts."""
    __tablename__ = "supervision_contacts"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    office: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class NoticeKind(str, enum.Enum):
    PROJECT = "project"          # village project notice (公示 before work, 公告 after)
    ROLL = "roll"                # household payment roll on a village board (公示清册)
    COUNTY_ANNUAL = "county_annual"  # county annual fund-use report


class Notice(Base):
    """A public document as published: its kind, subject, display dates and the SHA-256 of
    the rows it prints. The notice is its own audit-log entry, so the QR on the paper can
    carry an inclusion proof of exactly this row (ledger.disclosure.notices)."""
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_kind_subject", "kind", "subject"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[NoticeKind] = mapped_column(enum_type(NoticeKind, "notice_kind"))
    # Canonical subject text, e.g. "project=XM-1;village=430121001001".
    subject: Mapped[str] = mapped_column(String(200))
    rows_digest: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    display_from: Mapped[dt.date] = mapped_column(Date)
    display_to: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class ProjectNoticeKind(str, enum.Enum):
    """The two notices of a project on a board (DOMAIN.md §2)."""
    PUBLICITY = "publicity"        # 公示: before implementation (plan, money, period)
    ANNOUNCEMENT = "announcement"  # 公告: after acceptance (验收结果)


class ProjectNotice(Base):
    """A project notice as it was displayed: which project, on whose board (a village, or a
    township or county for a notice posted there), 公示 or 公告, the first and last display day,
    the place, the issuer, and its document number or title. One table for every window, so a
    rule on display windows reads one place: rows imported for the past (`project_notices`,
    `notice_id` null) and rows that publishing a village project notice adds (`notice_id` names
    the published notice)."""
    __tablename__ = "project_notices"
    __table_args__ = (Index("ix_project_notices_project_region", "project_code", "region_code",
                            "kind", "display_from"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_code: Mapped[str] = mapped_column(ForeignKey("projects.code"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    kind: Mapped[ProjectNoticeKind] = mapped_column(enum_type(ProjectNoticeKind,
                                                              "project_notice_kind"))
    display_from: Mapped[dt.date] = mapped_column(Date)
    display_to: Mapped[dt.date] = mapped_column(Date)  # inclusive
    place: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(String(200))
    doc_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), nullable=True)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


APPEND_ONLY = ("project_details", "household_support", "supervision_contacts", "notices",
               "project_notices")
