"""Tables of the ledger (SQLAlchemy 2 declarative models).

Everything that records what happened is append-only: fund lots, transfers, postings,
approvals, lineage, period closures and audit entries are never updated or deleted (database
triggers in `ledger.store.guards` refuse it). The only rows that change are derived caches that
verification recomputes: the balance columns of `accounts` and the head of the audit log.

Every append-only row carries `log_index`, the audit-log entry that created it (invariant 10).
Money columns end in `_fen` and hold integers (invariant 1).
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
Id = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# The database's first log has id 1, so rows written before there were several logs (and a
# deployment that never has more than one) say 1 without being told.
FIRST_LOG_ID = 1
# PostgreSQL hands out the ids of new logs from this sequence (migration 0014).
LOG_ID_SEQUENCE = "audit_head_log_ids"


def log_id_column():
    """Which audit log binds the row (`audit_head.log_id`): with one log per county and year
    (docs/scaling.md), `log_index` alone names an entry only within its log. Set by
    `audit.log.Change.add`; not part of the row's image, since the entry that holds the image
    is found through it (a row moved to another log no longer matches any entry)."""
    return mapped_column(SmallInteger, server_default=text(str(FIRST_LOG_ID)))


def enum_type(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as VARCHAR + CHECK so that SQLite and PostgreSQL share one schema and
    # adding a member is a plain migration, not an ALTER TYPE.
    return Enum(cls, name=name, native_enum=False, create_constraint=True,
                values_callable=lambda c: [m.value for m in c], length=24)


class RegionLevel(str, enum.Enum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


LEVEL_ORDER = [RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY,
               RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]


class SourceLevel(str, enum.Enum):
    """Which level of government put the money up (资金来源级次)."""
    CENTRAL = "central"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    INTEGRATED = "integrated"  # a lot created by an integration plan (统筹整合)


class Role(str, enum.Enum):
    CLERK = "clerk"
    APPROVER = "approver"
    AUDITOR = "auditor"
    ADMIN = "admin"


class AccountKind(str, enum.Enum):
    APPROPRIATION = "appropriation"    # the lot's source; runs negative by the amount issued
    UNIT = "unit"                      # a finance bureau at a region (province…county)
    PROJECT = "project"                # a project's share of the lot
    PAYEE = "payee"                    # money that reached a household or contractor
    INTEGRATION_OUT = "integration_out"  # left this lot into an integrated lot
    INTEGRATION_IN = "integration_in"    # arrived in an integrated lot from other lots
    RECEIVABLE = "receivable"          # money a payee must return to the lot (追回应收)


# Accounts allowed to hold a negative balance: they stand for where a lot's money came from.
SOURCE_KINDS = frozenset({AccountKind.APPROPRIATION, AccountKind.INTEGRATION_IN})


class TransferKind(str, enum.Enum):
    APPROPRIATE = "appropriate"  # appropriation document starts a lot (下达指标)
    ALLOCATE = "allocate"        # one level down the chain (切块下达)
    FUND_PROJECT = "fund_project"  # county to an approved project
    PAY = "pay"                  # to a household or contractor (支出)
    REVERSE = "reverse"          # correction of an earlier transfer (冲销)
    INTEGRATE = "integrate"      # pooling across lots into an integrated lot (统筹整合)
    RECOVERY_CLAIM = "recovery_claim"      # misused money becomes a receivable (责令追回)
    RECOVERY_COLLECT = "recovery_collect"  # recovered money returns to its lot (追回归位)
    RECLAIM = "reclaim"          # idle money taken back up the chain for pooled use (收回统筹)
    # What the bank did that the posted roll did not say (银行差异, migration 0019): money it
    # credited short, to another account, or for a line never posted, moved to a receivable;
    # money it returned after reporting a line paid, back to the county (ledger.rolls.bank_results)
    BANK_DIFFERENCE = "bank_difference"


class Decision(str, enum.Enum):
    APPROVED = "approved"
    REJECTED = "rejected"


class PayeeKind(str, enum.Enum):
    HOUSEHOLD = "household"
    CONTRACTOR = "contractor"   # registered before kinds carried an identity (migration 0020)
    BUSINESS = "business"       # 企业, 个体工商户, 合作社: by unified social credit code
    PERSON = "person"           # a private person (劳务, 个人承包): by ID number
    UNIT = "unit"               # 机关, 事业单位, 村集体: by its unified social credit code


class Region(Base):
    """An administrative division (行政区划) with its code, e.g. 430000 for a province."""
    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[RegionLevel] = mapped_column(enum_type(RegionLevel, "region_level"))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class User(Base):
    """A person who acts on the ledger. Scope: the region they work for and everything below it."""
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class FundLot(Base):
    """A fund lot (资金批次): one appropriation document at one source level and year.

    Money never changes lot except through an approved integration entry (invariant 3), and
    may only be spent on the lot's function codes and allowed uses (invariant 4).
    """
    __tablename__ = "fund_lots"
    __table_args__ = (
        UniqueConstraint("doc_number", "source_level", "year", name="identity"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    doc_number: Mapped[str] = mapped_column(String(100))
    source_level: Mapped[SourceLevel] = mapped_column(enum_type(SourceLevel, "source_level"))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    function_codes: Mapped[list] = mapped_column(JSON)
    allowed_uses: Mapped[list] = mapped_column(JSON)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()

    @property
    def label(self) -> str:
        """As a person reads the lot: its 文号, level and year (the level in their language)."""
        from ledger.i18n.labels import label
        return f"{self.doc_number} ({label(self.source_level)} {self.year})"


class Project(Base):
    """A project in a county's project library (项目库). Issue 4 adds its full lifecycle."""
    __tablename__ = "projects"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    function_code: Mapped[str] = mapped_column(String(10))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # 实施单位: the unit or contractor named to carry the project out, as the library records
    # it (migration 0026, a late column: null on projects registered before). BLK-01 asks
    # whether it was blacklisted when the project was approved.
    implementing_unit: Mapped[str | None] = mapped_column(String(200))


class ProjectStatus(str, enum.Enum):
    """Project library stages (项目库). The county decides; province and city file (备案)."""
    PROPOSED = "proposed"          # 申报
    IN_LIBRARY = "in_library"      # 入库
    APPROVED = "approved"          # 批复 (county)
    IMPLEMENTING = "implementing"  # 实施
    ACCEPTED = "accepted"          # 验收
    CLOSED = "closed"              # 结项
    FILED = "filed"                # 备案 at city or province: a record, not a stage
    REJECTED = "rejected"          # 不予立项 / 未通过: the end of a proposal (migration 0017)
    ADJUSTED = "adjusted"          # 项目调整 after approval; the project continues (0017)


class ProjectEvent(Base):
    """One step in a project's life; its current stage is the latest non-filing event."""
    __tablename__ = "project_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_code: Mapped[str] = mapped_column(ForeignKey("projects.code"), index=True)
    status: Mapped[ProjectStatus] = mapped_column(enum_type(ProjectStatus, "project_status"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # 批复文号 and the like: the document that decided the step, where the county has one
    # (migration 0017; a late column, left out of the image while null: audit.entries).
    doc_number: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Payee(Base):
    """Who finally receives money: a household (by pseudonymous code) or a contractor."""
    __tablename__ = "payees"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[PayeeKind] = mapped_column(enum_type(PayeeKind, "payee_kind"))
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # Who the payee is, by kind (migration 0020; null on rows written before it, which
    # entries.LATE_COLUMNS leaves out of their images): a business's or unit's unified social
    # credit code (GB 32100), a person's ID number (encrypted, with the keyed digest the
    # registers are matched by). `home_county` is where the payee is registered (工商登记地,
    # 户籍地), a division code that may lie outside this ledger's regions; a payee whose home
    # county is not the county it is paid in is recorded, and found by
    # ledger.funds.projects.payees_from_other_counties.
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    id_number: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    id_digest: Mapped[str | None] = mapped_column(String(64), index=True, info={"pii": True})
    home_county: Mapped[str | None] = mapped_column(String(12))


class HouseholdStatus(str, enum.Enum):
    """Registration status (建档立卡). Eligibility is decided per item and date, not by this."""
    REGISTERED = "registered"    # 建档立卡贫困户
    EXITED = "exited"            # 脱贫 (still eligible for most items: 脱贫不脱政策)
    RETURNED = "returned"        # 返贫
    MONITORED = "monitored"      # 监测对象 (after 2021)
    REMOVED = "removed"          # 清退: wrongly registered, not eligible
    CANCELLED = "cancelled"      # 注销


class Household(Base):
    """A registered household (建档立卡户), known in the log by its pseudonymous code.

    Its current status is the latest of its status events; the row itself never changes.
    """
    __tablename__ = "households"
    code: Mapped[str] = mapped_column(ForeignKey("payees.code"), primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    head_name: Mapped[str] = mapped_column(String(100))
    bank_card: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    bank_card_last4: Mapped[str | None] = mapped_column(String(4))
    phone: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # Keyed digest of the card (`households.card_key`, stored salted: `households.salted`), so
    # BEN-03 groups households by card without decrypting every card. Null on rows written
    # before migration 0015: the rule decrypts those (entries.LATE_COLUMNS).
    card_digest: Mapped[str | None] = mapped_column(String(100), info={"pii": True})


class HouseholdEvent(Base):
    """Status history of a household: registered, exited, returned, monitored, removed…

    The event whose reason is "registration" is the household's enrolment (纳入, 识别): written
    by `register_household`, `enrol_household` or a split that enrols the new household; a
    household formed by a split (分户) and not enrolled yet has no event at all, and its
    creation date is its split link's date (alert BEN-08 compares the two)."""
    __tablename__ = "household_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    household_code: Mapped[str] = mapped_column(ForeignKey("households.code"), index=True)
    status: Mapped[HouseholdStatus] = mapped_column(enum_type(HouseholdStatus, "household_status"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # The document (文号) of a status change, as the county's status history gives it (import
    # kind `household_status`); null on rows written before migration 0023 (LATE_COLUMNS) and
    # where none is given.
    doc_number: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Member(Base):
    """A member of a household. The ID number is stored encrypted; `id_digest` (a keyed
    HMAC) finds the same person twice without decrypting. Birth date and sex are not stored
    apart from it: in clear they would reveal most of a masked ID number (ledger.core.idcard gives
    them from the decrypted number where a rule needs them)."""
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("household_code", "id_digest", name="person"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    household_code: Mapped[str] = mapped_column(ForeignKey("households.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    relation: Mapped[str] = mapped_column(String(20))
    id_number: Mapped[str] = mapped_column(Text, info={"pii": True})
    id_digest: Mapped[str] = mapped_column(String(64), index=True, info={"pii": True})
    death_date: Mapped[dt.date | None] = mapped_column(Date)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # Keyed digest of the birth date (`households.birth_key`, stored salted): BEN-02's blocking
    # key, without decrypting every ID number. Keyed like `id_digest`, so it shows no birth
    # date; null on rows written before migration 0015 (entries.LATE_COLUMNS).
    birth_digest: Mapped[str | None] = mapped_column(String(100), info={"pii": True})


class CardKind(str, enum.Enum):
    """Whose card a register row is (惠民惠农一卡通: per-household items to the household's card,
    per-person items to the person's own card or a registered guardian's)."""
    HOUSEHOLD = "household"  # 户卡: held by the head, for the household's items
    PERSONAL = "personal"    # 个人卡: a member's own card (雨露计划 student, 公益岗位 worker)
    GUARDIAN = "guardian"    # 监护人卡: a guardian's card receiving a member's per-person items


class Card(Base):
    """A bank card of the card register (migration 0021): opened on a date, never changed.

    Closing it is a `card_closings` row; replacing it (换卡) is a new card naming the old one in
    `replaces_card_id`, written with the old card's closing in one entry. The household's
    `bank_card` is the card recorded at registration: without a household card in this register
    it stays the household card (docs/ledger.md, "Cards over time")."""
    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("(kind = 'household' AND member_id IS NULL) OR "
                        "(kind <> 'household' AND member_id IS NOT NULL)", name="member_by_kind"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    household_code: Mapped[str] = mapped_column(ForeignKey("households.code"), index=True)
    kind: Mapped[CardKind] = mapped_column(enum_type(CardKind, "card_kind"))
    # personal: the member whose card it is; guardian: the member whose per-person items it
    # receives (the ward); household: none
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # The name the account is held in, as the bank checks it against the account
    holder_name: Mapped[str] = mapped_column(String(100))
    # A guardian who is a registered member (of any household); null for a named person
    holder_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    bank: Mapped[str] = mapped_column(String(100))
    account: Mapped[str] = mapped_column(Text, info={"pii": True})
    # Keyed digest of the number (`households.card_key`, stored salted: `households.salted`)
    account_digest: Mapped[str] = mapped_column(String(100), info={"pii": True})
    account_last4: Mapped[str] = mapped_column(String(4))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    replaces_card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class CardClosing(Base):
    """A card closed (销户, or replaced: 换卡) from `closed_on`: not paid to on that day or after.
    A card closes once."""
    __tablename__ = "card_closings"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), unique=True)
    closed_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class PaymentRoll(Base):
    """A household payment roll (公示清册) for one item, paid from one lot by one county."""
    __tablename__ = "payment_rolls"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("fund_lots.id"))
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    item: Mapped[str] = mapped_column(String(100))
    function_code: Mapped[str] = mapped_column(String(10))
    use_code: Mapped[str] = mapped_column(String(40))
    standard_fen: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # The county's household-programme project the roll pays from (migration 0024; a late
    # column: null, the county's own share, as every roll before it).
    project_code: Mapped[str | None] = mapped_column(ForeignKey("projects.code"))


class RollLine(Base):
    """One line of a roll: a household (and, for a per-person item, one of its members), an
    item, a quantity and the amount.

    Two forms (migration 0016, docs/ledger.md "Payment rolls"): a line of the roll's own item
    and standard has a whole `quantity` and nothing in the later columns, exactly as before;
    a line of the standards table has its `item`, `tier`, `year`, the quantity in hundredths
    (`quantity_centi`, `quantity` null), the standard applied (`standard_id`, `standard_fen`)
    and the amount that standard gives (`computed_fen`), which may differ from `amount_fen`
    when the county's file gave the amount as it kept it. The later columns are null on older
    rows and left out of their images (entries.LATE_COLUMNS)."""
    __tablename__ = "roll_lines"
    __table_args__ = (UniqueConstraint("roll_id", "line_no", name="line"),
                      Index("ix_roll_lines_roll_household", "roll_id", "household_code"))
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    roll_id: Mapped[int] = mapped_column(ForeignKey("payment_rolls.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    # indexed for the public village page: a village's lines through its households
    household_code: Mapped[str] = mapped_column(ForeignKey("households.code"), index=True)
    quantity: Mapped[int | None] = mapped_column(Integer)   # whole units (the first form)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    item: Mapped[str | None] = mapped_column(String(100))
    tier: Mapped[str | None] = mapped_column(String(24))    # models.rolls.StandardTier value
    year: Mapped[int | None] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    quantity_centi: Mapped[int | None] = mapped_column(BigInteger)
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("policy_standards.id"))
    standard_fen: Mapped[int | None] = mapped_column(BigInteger)
    computed_fen: Mapped[int | None] = mapped_column(BigInteger)
    # The card register row the line pays (migration 0021); null where it pays the household's
    # card of registration (`households.bank_card`), as every line did before
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))

    @property
    def hundredths(self) -> int:
        """The quantity in hundredths, whichever form the line has."""
        return self.quantity_centi if self.quantity_centi is not None else self.quantity * 100


class RollEventKind(str, enum.Enum):
    PUBLISHED = "published"            # posted on the village board (公示)
    OBJECTION = "objection"            # a line is challenged: held
    OBJECTION_DISMISSED = "objection_dismissed"  # the line may be paid
    LINE_WITHDRAWN = "line_withdrawn"  # the objection was upheld: never paid
    APPROVED = "approved"              # checker approved the roll
    SENT = "sent"                      # payments recorded and bank file written
    RETURNED = "returned"              # the bank returned the line (退票)
    REPAID = "repaid"                  # a returned line was put on a new roll (comment: its code)


class RollEvent(Base):
    __tablename__ = "roll_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    roll_id: Mapped[int] = mapped_column(ForeignKey("payment_rolls.id"), index=True)
    kind: Mapped[RollEventKind] = mapped_column(enum_type(RollEventKind, "roll_event_kind"))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("roll_lines.id"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class Account(Base):
    """One holder's share of one lot. Balance columns are a cache of the postings.

    debit = money in, credit = money out. Pending amounts come from transfers recorded but not
    yet approved; pending credits count against the balance (invariant 5).
    """
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("lot_id", "kind", "holder_code", name="holder"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("fund_lots.id"))
    kind: Mapped[AccountKind] = mapped_column(enum_type(AccountKind, "account_kind"))
    # indexed: the alert rules find a payee's (household's) accounts by holder (migration 0012)
    holder_code: Mapped[str] = mapped_column(String(40), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()

    lot: Mapped[FundLot] = relationship(lazy="joined", innerjoin=True)

    @property
    def balance(self) -> int:
        return self.debits_posted - self.credits_posted

    @property
    def available(self) -> int:
        return self.debits_posted - self.credits_posted - self.credits_pending

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.holder_code}@lot{self.lot_id}"


class Transfer(Base):
    """A balanced movement of money: its postings sum to zero within each lot (invariant 2)."""
    __tablename__ = "transfers"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    # The request as received (canonical JSON text), so a replay with the same key can be
    # compared field by field and a conflict can say what differs (invariant 8).
    request: Mapped[str] = mapped_column(Text)
    kind: Mapped[TransferKind] = mapped_column(enum_type(TransferKind, "transfer_kind"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("fund_lots.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    effective_date: Mapped[dt.date] = mapped_column(Date, index=True)
    function_code: Mapped[str | None] = mapped_column(String(10))
    use_code: Mapped[str | None] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(Text, default="")
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"), index=True)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()
    # Migration 0022 (issue 17), late columns (entries.LATE_COLUMNS), null where the voucher did
    # not say or the row was written before. `effective_date` stays the posting date (the period
    # the entry belongs to) and `recorded_at` the entry date; the voucher's own date (凭证日期,
    # for an allocation its issue date) stays here when a closed period moved the posting later.
    voucher_date: Mapped[dt.date | None] = mapped_column(Date)
    # The bank's value date (起息/到账日期) as the voucher or bank slip gives it.
    value_date: Mapped[dt.date | None] = mapped_column(Date)

    postings: Mapped[list["Posting"]] = relationship(order_by="Posting.id", viewonly=True)
    approval: Mapped["Approval | None"] = relationship(viewonly=True, uselist=False)
    receipt: Mapped["TransferReceipt | None"] = relationship(viewonly=True, uselist=False)


class Posting(Base):
    """One leg of a transfer: a signed amount on one account (positive = debit = money in)."""
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
        Index("ix_postings_account_transfer", "account_id", "transfer_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("fund_lots.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()

    account: Mapped[Account] = relationship(viewonly=True)


class Approval(Base):
    """The checker's decision on a transfer (maker–checker, invariant 7). One per transfer."""
    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), unique=True)
    decision: Mapped[Decision] = mapped_column(enum_type(Decision, "decision"))
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class IntegrationLineage(Base):
    """Where an integrated lot's money came from (统筹整合 lineage): old lot → new lot."""
    __tablename__ = "integration_lineage"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), index=True)
    from_lot_id: Mapped[int] = mapped_column(ForeignKey("fund_lots.id"))
    to_lot_id: Mapped[int] = mapped_column(ForeignKey("fund_lots.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class PeriodClosure(Base):
    """A closed fiscal period (YYYY-MM): no entry may be dated inside it afterwards."""
    __tablename__ = "period_closures"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    closed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class CountyPeriodClosure(Base):
    """A county's closed month (YYYY-MM): no entry of that county, or of a region inside it,
    may be dated inside it afterwards; other counties keep posting (issue 17).

    Its own table, not a region column on `period_closures`: a logged row is named by its
    primary key, and `period_closures` is keyed by the period alone, so a region there would
    rename every closure already in the log."""
    __tablename__ = "county_period_closures"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    closed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class TransferReceipt(Base):
    """The receiving level's record that a transfer between levels arrived (到账/收到), on its
    date. A row of its own, written by the receiving unit's clerk: the transfer is the issuing
    level's row and is never updated, and the receipt is a different unit's statement."""
    __tablename__ = "transfer_receipts"
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), primary_key=True)
    received_date: Mapped[dt.date] = mapped_column(Date)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class PaymentDocument(Base):
    """The documents a payment cites beside its voucher (issue 18): the invoice it pays (发票号)
    and the contract it pays under (合同号). A row of its own, written in the payment's own
    audit entry, only for payments that cite one: the duplicate rules (DUP-01/02) pair repeats
    of one invoice at any distance and leave a contract's instalments alone within its
    amount."""
    __tablename__ = "payment_documents"
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), primary_key=True)
    invoice_number: Mapped[str | None] = mapped_column(String(60), index=True)
    contract_number: Mapped[str | None] = mapped_column(String(100))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class AuditEntry(Base):
    """One entry of the audit log: canonical CBOR bytes, stored exactly as hashed."""
    __tablename__ = "audit_entries"
    log_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False,
                                        server_default=text(str(FIRST_LOG_ID)))
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """The log's head (one row per log origin): size, root and the Merkle frontier.

    Locked FOR UPDATE by every writer to this log, which serialises its appends (DESIGN.md,
    the audit log); appends to other logs do not wait on it (docs/scaling.md).
    """
    __tablename__ = "audit_head"
    origin: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The short name rows and entries use for this log (`log_id_column`).
    log_id: Mapped[int] = mapped_column(SmallInteger, unique=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class AuditNode(Base):
    """A complete Merkle subtree root at level ≥ 1 (level 0 is `audit_entries.leaf_hash`).

    Stored as each append completes it, so inclusion and consistency proofs are index
    look-ups. `leaf_end` is the last leaf the node covers: the order in which nodes complete,
    which lets verification stream them beside the entries.
    """
    __tablename__ = "audit_nodes"
    __table_args__ = (Index("ix_audit_nodes_log_leaf_end", "log_id", "leaf_end"),)
    log_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False,
                                        server_default=text(str(FIRST_LOG_ID)))
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    leaf_end: Mapped[int] = mapped_column(BigInteger)


class Checkpoint(Base):
    """A checkpoint the bureau signed (C2SP signed note), with the cosignatures it gathered."""
    __tablename__ = "checkpoints"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Cosignature(Base):
    """One cosigner's signature line (C2SP cosignature/v1) on a checkpoint."""
    __tablename__ = "cosignatures"
    __table_args__ = (UniqueConstraint("checkpoint_id", "name", name="one_per_signer"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    line: Mapped[str] = mapped_column(Text)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class MemberEventKind(str, enum.Enum):
    DIED = "died"            # 死亡
    MOVED_OUT = "moved_out"  # 迁出: married out, moved to another household, left the registry
    JOINED = "joined"        # 加入: the date the member joined (born, married in); not a leaving


class MemberEvent(Base):
    """Something that happened to a member after registration; the member row never changes.

    A move to another registered household names it; the person then has a member row there
    too (same `id_digest`), added in the same change."""
    __tablename__ = "member_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[MemberEventKind] = mapped_column(enum_type(MemberEventKind, "member_event_kind"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    to_household_code: Mapped[str | None] = mapped_column(ForeignKey("households.code"))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class HouseholdLinkKind(str, enum.Enum):
    SPLIT = "split"  # 分户: `to` was formed from members of `from`
    MERGE = "merge"  # 合户: `from` joined `to` and was cancelled


class HouseholdLink(Base):
    """Where a household came from or went: splits and merges (alert BEN-08 reads these)."""
    __tablename__ = "household_links"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[HouseholdLinkKind] = mapped_column(enum_type(HouseholdLinkKind,
                                                          "household_link_kind"))
    from_household_code: Mapped[str] = mapped_column(ForeignKey("households.code"), index=True)
    to_household_code: Mapped[str] = mapped_column(ForeignKey("households.code"), index=True)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class Recovery(Base):
    """A recovery case (追回归位): money a payee received and must return to its lot.

    Opening the case records a `recovery_claim` transfer (payee → receivable); each sum that
    comes back is a `recovery_collect` transfer (receivable → the county's share of the same
    lot). What is outstanding is derived from those transfers, never stored.
    """
    __tablename__ = "recoveries"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("fund_lots.id"), index=True)
    payee_code: Mapped[str] = mapped_column(ForeignKey("payees.code"), index=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    claim_transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), unique=True)
    source_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class Loan(Base):
    """A micro-credit loan (扶贫小额信贷) a bank made to a household; the fund subsidises its
    interest (贴息). The bank's money never enters the ledger: only the subsidy does."""
    __tablename__ = "loans"
    __table_args__ = (CheckConstraint("principal_fen > 0", name="principal_positive"),
                      CheckConstraint("term_months > 0", name="term_positive"))
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)  # the bank's contract number
    household_code: Mapped[str] = mapped_column(ForeignKey("households.code"), index=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    bank: Mapped[str] = mapped_column(String(100))
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    annual_rate_bp: Mapped[int] = mapped_column(Integer)  # basis points: 435 = 4.35% a year
    start_date: Mapped[dt.date] = mapped_column(Date)
    term_months: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class LoanEventKind(str, enum.Enum):
    REPAID = "repaid"        # 还清: no subsidy for days after repayment
    DEFAULTED = "defaulted"  # 逾期: subsidy stops from this date
    MISUSED = "misused"      # 挪用: the loan loses its subsidy from this date


class LoanEvent(Base):
    __tablename__ = "loan_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[LoanEventKind] = mapped_column(enum_type(LoanEventKind, "loan_event_kind"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    comment: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class LoanSubsidy(Base):
    """One interest-subsidy payment for one period of a loan; periods never overlap."""
    __tablename__ = "loan_subsidies"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)  # inclusive
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), unique=True)
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


# Tables of this module whose rows are never updated or deleted once written (invariant 6);
# each models module declares its own, and ledger.models collects them in APPEND_ONLY_TABLES.
APPEND_ONLY = (
    "regions", "fund_lots", "projects", "payees", "transfers", "postings", "approvals",
    "integration_lineage", "period_closures", "audit_entries", "audit_nodes", "checkpoints",
    "cosignatures", "households", "household_events", "members", "project_events",
    "payment_rolls", "roll_lines", "roll_events",
    "recoveries", "loans", "loan_events", "loan_subsidies", "member_events", "household_links",
    "cards", "card_closings", "county_period_closures", "transfer_receipts",
    "payment_documents",
)
