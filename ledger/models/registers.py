"""Tables of the registers from outside the ledger (ledger.registers): the external lists the
alerts match against, and the payee registers of the diversion alerts. What they mean and how
they are imported: ledger/registers/external.py and ledger/registers/payees.py."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id, enum_type, log_id_column


class ListKind(str, enum.Enum):
    DEATHS = "deaths"          # 死亡人口 (civil affairs / public security)
    PAYROLL = "payroll"        # 财政供养人员
    VEHICLES = "vehicles"      # 机动车登记
    BUSINESSES = "businesses"  # 市场主体登记: legal representatives, shareholders
    OFFICIALS = "officials"    # 干部 and their relatives (近亲属)
    BLACKLIST = "blacklist"    # 违规违纪黑名单
    PROPERTIES = "properties"  # 不动产登记: urban flats and other real estate (BEN-05)


class ExternalList(Base):
    __tablename__ = "external_lists"
    __table_args__ = (UniqueConstraint("kind", "source", "snapshot_date", name="snapshot"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[ListKind] = mapped_column(enum_type(ListKind, "list_kind"))
    source: Mapped[str] = mapped_column(String(200))
    snapshot_date: Mapped[dt.date] = mapped_column(Date)
    file_sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class ExternalRecord(Base):
    """One line of a list. Columns are generic; their meaning per kind is in docs/formats.md:
    date_from/date_to are death date, employment, registration, company deregistration, term
    or blacklist period; `category` the post, vehicle type, business role or relation;
    `org` the employer, company or reason; `related_digest` the official a relative belongs to."""
    __tablename__ = "external_records"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("external_lists.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    id_digest: Mapped[str | None] = mapped_column(String(64), index=True, info={"pii": True})
    region_code: Mapped[str | None] = mapped_column(String(12))
    date_from: Mapped[dt.date | None] = mapped_column(Date)
    date_to: Mapped[dt.date | None] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(60), default="")
    org: Mapped[str] = mapped_column(String(200), default="")
    org_code: Mapped[str] = mapped_column(String(40), default="")
    related_digest: Mapped[str | None] = mapped_column(String(64), index=True,
                                                       info={"pii": True})
    degree: Mapped[int | None] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # Migration 0020, null on rows written before (entries.LATE_COLUMNS): a relative declared
    # by name and birth date without an ID number (干部近亲属申报), a vehicle's registration
    # status (scrapped, deregistered …), a business's industry code (GB/T 4754).
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(20))
    industry_code: Mapped[str | None] = mapped_column(String(5))



class RegisterKind(str, enum.Enum):
    APPROVED_PAYEES = "approved_payees"  # 项目中标/合同单位
    PAYEE_ACCOUNTS = "payee_accounts"    # 收款账户 (个人/对公)
    UNIT_RECEIPTS = "unit_receipts"      # 单位账户来款流水


class PayeeRegister(Base):
    """One imported snapshot of a register (kind, source, snapshot date)."""
    __tablename__ = "payee_registers"
    __table_args__ = (UniqueConstraint("kind", "source", "snapshot_date",
                                       name="register_snapshot"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[RegisterKind] = mapped_column(enum_type(RegisterKind, "register_kind"))
    source: Mapped[str] = mapped_column(String(200))
    snapshot_date: Mapped[dt.date] = mapped_column(Date)
    file_sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class ApprovedPayee(Base):
    """A payee approved for a project from `approved_on` (the award or contract date) until
    `until` (the contract's end; open-ended when empty). Matched to payees by exact name, as
    the blacklist and the business registry are."""
    __tablename__ = "approved_payees"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("payee_registers.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    project_code: Mapped[str] = mapped_column(String(40), index=True)
    payee_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(40), default="")
    approved_on: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(200), default="")  # 中标通知书/合同编号
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # The contract itself (migration 0026, late columns, null on lines imported before): its
    # number as payments cite it (合同号), its amount (合同金额, fen) and the number of
    # instalments it provides (付款期数). DUP-02 leaves a contract's equal instalments alone
    # while their sum stays within the amount.
    contract_number: Mapped[str | None] = mapped_column(String(100))
    contract_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    instalments: Mapped[int | None] = mapped_column(Integer)


class PayeeAccount(Base):
    """The account a payee (by exact name) is paid into."""
    __tablename__ = "payee_accounts"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("payee_registers.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    payee_name: Mapped[str] = mapped_column(String(200), index=True)
    personal: Mapped[bool] = mapped_column(Boolean)   # 个人账户 (True) or 对公账户
    account_last4: Mapped[str] = mapped_column(String(4))
    bank: Mapped[str] = mapped_column(String(100), default="")
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_id_number: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    holder_digest: Mapped[str | None] = mapped_column(String(64), index=True,
                                                      info={"pii": True})
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class UnitReceipt(Base):
    """Money received: by a unit's account (`receiver_region`, the unit's region code) or by a
    person's account (`receiver_digest`, e.g. an official's card), from `payer_name`."""
    __tablename__ = "unit_receipts"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("payee_registers.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[dt.date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payer_name: Mapped[str] = mapped_column(String(200), index=True)
    receiver_region: Mapped[str | None] = mapped_column(String(12))
    receiver_name: Mapped[str] = mapped_column(String(200))
    receiver_id_number: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    receiver_digest: Mapped[str | None] = mapped_column(String(64), index=True,
                                                        info={"pii": True})
    memo: Mapped[str] = mapped_column(Text, default="")       # 摘要: why the money came
    voucher: Mapped[str] = mapped_column(String(100), default="")  # bank serial number
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


APPEND_ONLY = ("external_lists", "external_records",
               "payee_registers", "approved_payees", "payee_accounts", "unit_receipts")
