"""The policy standards table (补助标准): what each item pays per unit, per county, tier and year.

Append-only. A correction is a new row for the same county, item, tier and year: the row with
the highest id is the one in force (later id supersedes), and every roll line keeps the id of
the row it was priced from, so a correction never changes a line already on a roll.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id, enum_type, log_id_column


class StandardTier(str, enum.Enum):
    """The household's tier for an item: 一般户 (basic) or 监测户 (monitored: 防止返贫监测对象,
    often paid at a higher standard)."""
    BASIC = "basic"
    MONITORED = "monitored"


class StandardPer(str, enum.Enum):
    """Whether an item is paid once per household or per person (a named member)."""
    HOUSEHOLD = "household"
    PERSON = "person"


class PolicyStandard(Base):
    """One standard: `standard_fen` per unit of `basis` (亩, 头, 人, 月, 学期, 万元·年, 户 …)."""
    __tablename__ = "policy_standards"
    __table_args__ = (Index("ix_policy_standards_key", "county_code", "item", "tier", "year"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    item: Mapped[str] = mapped_column(String(100))
    tier: Mapped[StandardTier] = mapped_column(enum_type(StandardTier, "standard_tier"))
    year: Mapped[int] = mapped_column(Integer)
    standard_fen: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[str] = mapped_column(String(20))
    per: Mapped[StandardPer] = mapped_column(enum_type(StandardPer, "standard_per"))
    function_code: Mapped[str] = mapped_column(String(10))
    effective_date: Mapped[dt.date | None] = mapped_column(Date)   # the document's date, if given
    doc_number: Mapped[str] = mapped_column(String(100), default="")  # 文号, if given
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


APPEND_ONLY = ("policy_standards",)
