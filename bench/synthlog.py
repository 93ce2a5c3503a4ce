"""Grow a bench province's audit log to millions of entries quickly, and validly.

Going through the services would take hours at a million entries, and what is measured here is
verification and proofs, not recording. So this writes what the services would write — a
household payee registered, a payment recorded (new payee account, transfer, two postings), the
payment approved — with SQLAlchemy Core executemany, and appends the entries with the project's
own encoder (`ledger.audit.entries`) and tree (`ledger.audit.tlog.merkle`). `fundtrail verify` must
find the result intact; the benchmark checks that it does.

Shape per payment: one `transfer.record` entry (4 rows) and one `transfer.approved` entry (1 row);
households are registered 1,000 per `payee.register` entry. So N entries hold about 2.5 N rows.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import func, insert, select, update

from bench.province import COUNTY, DAY, VILLAGE, Province
from ledger.audit.entries import LATE_COLUMNS, canonical_value, encode_entry, table_image
from ledger.audit.log import log_origin
from ledger.audit.tlog import merkle
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    AuditEntry,
    AuditHead,
    AuditNode,
    Decision,
    Payee,
    PayeeKind,
    Posting,
    Transfer,
    TransferKind,
    User,
)

PAYEES_PER_ENTRY = 1_000
BATCH_PAYMENTS = 5_000
AMOUNT = 100_00


def _image_record(table, values: dict) -> tuple:
    # A late column (entries.LATE_COLUMNS: added after rows were logged) left out of `values`
    # is null, as the services write it; any other column missing is a bug here.
    late = LATE_COLUMNS.get(table.name, ())

    def get(column):
        return values.get(column) if column in late else values[column]
    name, key, image = table_image(table, get)
    return name, key, 1, None, image


class _Appender:
    """Entries and completed tree nodes, kept in step with the head's frontier, in the log the
    session's context names (`ledger.store.context`: the bench province's, bench.province)."""

    def __init__(self, session):
        self.origin = log_origin(session)
        head = session.get(AuditHead, self.origin)
        if head is None:
            raise RuntimeError(f"no audit log {self.origin!r} in this database: build the "
                               "province (bench.province.build) before growing its log")
        self.log_id = head.log_id   # rows name their log as the services write them
        self.frontier = merkle.Frontier.from_bytes(bytes(head.frontier))
        self.entries: list[dict] = []
        self.nodes: list[dict] = []
        self.time_us = canonical_value(dt.datetime(2024, 3, 16, tzinfo=dt.timezone.utc))

    @property
    def index(self) -> int:
        return self.frontier.size

    def append(self, actor: str, kind: str, rows: list, details: dict) -> None:
        index = self.frontier.size
        self.time_us += 1000
        entry = encode_entry(origin=self.origin, index=index, prev_root=self.frontier.root(),
                             time_us=self.time_us, actor=actor, kind=kind, rows=rows,
                             details=details)
        leaf = merkle.leaf_hash(entry)
        self.entries.append({"log_id": self.log_id, "idx": index, "entry": entry,
                             "leaf_hash": leaf})
        for node in self.frontier.append(leaf)[1:]:
            self.nodes.append({"log_id": self.log_id, "level": node.level, "idx": node.index,
                               "hash": node.hash, "leaf_end": index})

    def flush(self, session) -> None:
        if self.entries:
            session.execute(insert(AuditEntry.__table__), self.entries)
        if self.nodes:
            session.execute(insert(AuditNode.__table__), self.nodes)
        session.execute(update(AuditHead.__table__).where(AuditHead.origin == self.origin)
                        .values(size=self.frontier.size, root=self.frontier.root(),
                                frontier=self.frontier.to_bytes()))
        self.entries, self.nodes = [], []


def grow(province: Province, entries: int, prefix: str = "S") -> int:
    """Append about `entries` entries of household payments; return the log size."""
    payments = max(1, entries // 2)
    with province.factory() as s:
        clerk = s.execute(select(User).where(User.username == "k_clerk")).scalar_one()
        approver = s.execute(select(User).where(User.username == "k_approver")).scalar_one()
        unit = s.execute(select(Account).where(
            Account.lot_id == province.lot_id, Account.kind == AccountKind.UNIT,
            Account.holder_code == COUNTY)).scalar_one()
        ids = {m: (s.execute(select(func.max(m.id))).scalar() or 0) + 1
               for m in (Account, Transfer, Posting, Approval)}
        unit_id, clerk_id, approver_id = unit.id, clerk.id, approver.id
    done = 0
    while done < payments:
        n = min(BATCH_PAYMENTS, payments - done)
        with province.factory() as s, s.begin():
            log = _Appender(s)
            _batch(s, log, province.lot_id, unit_id, clerk_id, approver_id, ids, prefix,
                   done, n)
            log.flush(s)
            s.execute(update(Account.__table__).where(Account.id == unit_id).values(
                credits_posted=Account.credits_posted + n * AMOUNT))
            size = log.frontier.size
        done += n
    return size


# A household payee carries no identity of its own (its members do): the payee columns of
# migration 0020, null, as the services write them.
NO_IDENTITY = {"credit_code": None, "id_number": None, "id_digest": None, "home_county": None}


def _batch(s, log, lot_id, unit_id, clerk_id, approver_id, ids, prefix, start, n) -> None:
    rows = {t: [] for t in ("payees", "accounts", "transfers", "postings", "approvals")}
    codes = [f"{prefix}{start + i:08d}" for i in range(n)]
    for first in range(0, n, PAYEES_PER_ENTRY):
        chunk = codes[first:first + PAYEES_PER_ENTRY]
        payees = [{"code": c, "kind": PayeeKind.HOUSEHOLD, "name": "张三",
                   "region_code": VILLAGE, **NO_IDENTITY, "log_index": log.index,
                   "log_id": log.log_id} for c in chunk]
        log.append("k_clerk", "payee.register",
                   [_image_record(Payee.__table__, p) for p in payees], {})
        rows["payees"] += payees
    recorded_at = dt.datetime(2024, 3, 16, 9, tzinfo=dt.timezone.utc)
    for code in codes:
        account = {"id": ids[Account], "lot_id": lot_id, "kind": AccountKind.PAYEE,
                   "holder_code": code, "region_code": VILLAGE, "debits_posted": AMOUNT,
                   "credits_posted": 0, "debits_pending": 0, "credits_pending": 0,
                   "log_index": log.index, "log_id": log.log_id}
        key = f"synthetic:{code}"
        request = json.dumps({"kind": "pay", "payee": code, "amount_fen": AMOUNT},
                             sort_keys=True, separators=(",", ":"))
        transfer = {"id": ids[Transfer], "idempotency_key": key,
                    "content_hash": hashlib.sha256(request.encode()).hexdigest(),
                    "request": request, "kind": TransferKind.PAY, "lot_id": lot_id,
                    "amount_fen": AMOUNT, "effective_date": DAY, "function_code": "2130505",
                    "use_code": "household_subsidy", "memo": "", "region_code": COUNTY,
                    "recorded_by": clerk_id, "recorded_at": recorded_at, "reverses_id": None,
                    "log_index": log.index, "log_id": log.log_id}
        postings = [{"id": ids[Posting] + j, "transfer_id": transfer["id"], "account_id": acc,
                     "lot_id": lot_id, "amount_fen": amount, "log_index": log.index,
                     "log_id": log.log_id}
                    for j, (acc, amount) in enumerate([(unit_id, -AMOUNT),
                                                       (account["id"], AMOUNT)])]
        log.append("k_clerk", "transfer.record",
                   [_image_record(Account.__table__, account),
                    _image_record(Transfer.__table__, transfer)]
                   + [_image_record(Posting.__table__, p) for p in postings], {})
        approval = {"id": ids[Approval], "transfer_id": transfer["id"],
                    "decision": Decision.APPROVED, "decided_by": approver_id,
                    "decided_at": recorded_at, "comment": "", "log_index": log.index,
                    "log_id": log.log_id}
        log.append("k_approver", "transfer.approved",
                   [_image_record(Approval.__table__, approval)],
                   {"transfer_id": transfer["id"]})
        rows["accounts"].append(account)
        rows["transfers"].append(transfer)
        rows["postings"] += postings
        rows["approvals"].append(approval)
        ids[Account] += 1
        ids[Transfer] += 1
        ids[Posting] += 2
        ids[Approval] += 1
    for model in (Payee, Account, Transfer, Posting, Approval):
        s.execute(insert(model.__table__), rows[model.__tablename__])


def households(province: Province, count: int, prefix: str = "R") -> list[str]:
    """Registered households with a bank card, logged 1,000 to an entry, for payment rolls.

    The rows `ledger.households.registry.register_households` writes for a household without
    members (payee, household, registration event), card digest included; one entry per 1,000
    households instead of one each (what is measured is the roll, not the registration)."""
    from ledger.core.pii import PiiVault
    from ledger.households.registry import card_key, salted
    from ledger.models import Household, HouseholdEvent, HouseholdStatus
    vault = PiiVault.from_env()
    number = "6222020200112233445"
    card = vault.encrypt(number)      # one ciphertext: a roll only checks that a card is on file
    digest = card_key(vault, number)  # the keyed digest, salted per household as registered
    codes = [f"{prefix}{n:08d}" for n in range(count)]
    for first in range(0, count, BATCH_PAYMENTS):
        with province.factory() as s, s.begin():
            log = _Appender(s)
            next_event = (s.execute(select(func.max(HouseholdEvent.id))).scalar() or 0) + 1
            tables = {"payees": [], "households": [], "household_events": []}
            chunk = codes[first:first + BATCH_PAYMENTS]
            for start in range(0, len(chunk), PAYEES_PER_ENTRY):
                records = []
                logged = {"log_index": log.index, "log_id": log.log_id}
                for code in chunk[start:start + PAYEES_PER_ENTRY]:
                    rows = [(Payee, {"code": code, "kind": PayeeKind.HOUSEHOLD, "name": "李四",
                                     "region_code": VILLAGE, **NO_IDENTITY, **logged}),
                            (Household, {"code": code, "village_code": VILLAGE,
                                         "head_name": "李四", "bank_card": card,
                                         "bank_card_last4": number[-4:],
                                         "card_digest": salted(digest), "phone": None,
                                         **logged}),
                            (HouseholdEvent, {"id": next_event, "household_code": code,
                                              "status": HouseholdStatus.REGISTERED,
                                              "effective_date": DAY, "reason": "registration",
                                              **logged})]
                    next_event += 1
                    for model, values in rows:
                        tables[model.__tablename__].append(values)
                        records.append(_image_record(model.__table__, values))
                log.append("k_clerk", "household.register", records, {})
            for model in (Payee, Household, HouseholdEvent):
                s.execute(insert(model.__table__), tables[model.__tablename__])
            log.flush(s)
    return codes
