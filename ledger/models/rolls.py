"""The policy standards table (补助标准): what each item pays per unit, per county, tier and year.

Append-only. A correction is a new row for the same county, item, tier and year: the row with
the highest id is the one in force (later id supersedes), and every roll line keeps the id of
the row it was priced from, so a correction never changes a line already on a roll.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
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


class BankDifference(str, enum.Enum):
    """How a line of the bank's result file differs from the posted roll (银行差异). A line may
    differ in several ways at once; each is recorded, none is refused (docs/ledger.md, "Bank
    results as banks send them")."""
    SHORT_CREDIT = "short_credit"          # credited less than sent (代扣, 手续费)
    OTHER_ACCOUNT = "other_account"        # paid into an account that is not the line's card
    OTHER_NAME = "other_name"              # the bank's payee name is not the line's payee
    OTHER_HOUSEHOLD = "other_household"    # the bank names another household code
    OTHER_AMOUNT = "other_amount"          # the bank sent another amount than the line's
    NOT_POSTED = "not_posted"              # no such line, or a line never sent (or withdrawn)
    RETURNED_AFTER_PAID = "returned_after_paid"  # 退汇: failed after an earlier file said paid
    PAID_AFTER_RETURN = "paid_after_return"      # paid after an earlier file said failed
    UNFUNDED = "unfunded"                  # the county's share could not cover the movement


class BankResult(Base):
    """One line of a bank's result file, as the bank sent it (migration 0019).

    Every line of every file is kept: what the bank did is evidence whether or not it agrees
    with the roll. `line_id` and `transfer_id` are the roll line and payment it answers, where
    there are any; `differences` lists (comma-separated `BankDifference` values, empty when the
    line agrees) how it departs from the posted line, `difference_fen` the money at stake, and
    `difference_transfer_id` the `bank_difference` transfer that accounts for that money.
    The payee account as the bank received it is personal data: encrypted, with a keyed digest
    to compare it with the line's card and its last four digits to show."""
    __tablename__ = "bank_results"
    __table_args__ = (Index("ix_bank_results_roll_line", "roll_id", "line_no"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    roll_id: Mapped[int] = mapped_column(ForeignKey("payment_rolls.id"))
    line_no: Mapped[int] = mapped_column(Integer)        # the 序号 as the bank reported it
    line_id: Mapped[int | None] = mapped_column(ForeignKey("roll_lines.id"))
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the file as received
    file_line: Mapped[int] = mapped_column(Integer)
    value_date: Mapped[dt.date | None] = mapped_column(Date)   # 入账日期, where the bank gave it
    sent_fen: Mapped[int] = mapped_column(BigInteger)
    credited_fen: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    voucher: Mapped[str] = mapped_column(String(100), default="")
    household_code: Mapped[str | None] = mapped_column(String(40))   # as the bank reported it
    payee_name: Mapped[str | None] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    account_digest: Mapped[str | None] = mapped_column(String(100), info={"pii": True})
    account_last4: Mapped[str | None] = mapped_column(String(4))
    differences: Mapped[str] = mapped_column(String(200), default="")
    difference_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    difference_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()

    @property
    def difference_kinds(self) -> list[BankDifference]:
        return [BankDifference(d) for d in self.differences.split(",") if d]


APPEND_ONLY = ("policy_standards", "bank_results")
