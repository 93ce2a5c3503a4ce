"""Randomised model test (TigerBeetle's VOPR idea, with Hypothesis stateful testing).

Random sequences of allocate, fund, pay, approve, reject, reverse, integrate, replay-with-
the-same-key, and one-line household rolls sent to the bank and settled with whatever the bank
reports (paid or failed, credited short, another account, another amount, a line never posted:
`ledger.rolls.settlement`, with its `bank_difference` transfers) run against the real ledger
and against a small in-memory reference model. After
every step: balances match the model, every lot sums to zero over its accounts, no account that
holds money is overdrawn counting pending, and the cached balance columns equal the postings.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import create_engine, select, text

from ledger.core import clock
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.core.errors import Overdraft
from ledger.core.pii import PiiVault
from ledger.funds import balances, flows, lots, posting
from ledger.households import registry as households
from ledger.models import Account, AuditHead, HouseholdStatus, Role, SourceLevel, Transfer
from ledger.org import regions
from ledger.rolls import lifecycle as rolls
from ledger.rolls import settlement
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker, transaction
from tests.conftest import PG_ADMIN_URL, _pg_url
from tests.world import CITY, COUNTY, COUNTY2, DAY, PROVINCE, VILLAGE, build_world

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)

CHAIN = [(PROVINCE, CITY, "p_clerk"), (CITY, COUNTY, "c_clerk"), (CITY, COUNTY2, "c_clerk")]
APPROVER = {PROVINCE: "p_approver", CITY: "c_approver", COUNTY: "k_approver",
            COUNTY2: "k2_approver"}
LOT_AMOUNT = 10_000
# One-line rolls made in the template, approved and waiting to be sent: each pays one of the
# households below ROLL_FEN from lot 1.
ROLLS, ROLL_FEN = 8, 700
CARDS = {f"HH-{n}": f"62220212000000{n:05d}" for n in range(3)}
PUBLISHED, APPROVED = dt.date(2024, 3, 18), dt.date(2024, 3, 28)


class Model:
    """Reference model: balances keyed by (lot, kind, holder); pending held per transfer."""

    def __init__(self):
        self.posted = defaultdict(int)
        self.pending_out = defaultdict(int)
        self.transfers = {}  # id -> dict(legs, status, region, reversible)

    def available(self, key):
        return self.posted[key] - self.pending_out[key]

    def can_record(self, legs):
        out = defaultdict(int)
        for key, amount in legs:
            if amount < 0 and key[1] not in ("appropriation", "integration_in"):
                out[key] += -amount
        return all(self.available(k) >= a for k, a in out.items())

    def record(self, tid, legs, region, kind, checker=None):
        for key, amount in legs:
            if amount < 0:
                self.pending_out[key] += -amount
        self.transfers[tid] = {"legs": legs, "status": "pending", "region": region,
                               "kind": kind, "reversed": False, "checker": checker}

    def decide(self, tid, approved):
        t = self.transfers[tid]
        for key, amount in t["legs"]:
            if amount < 0:
                self.pending_out[key] -= -amount
            if approved:
                self.posted[key] += amount
        t["status"] = "approved" if approved else "rejected"


class LedgerMachine(RuleBasedStateMachine):
    new_database = None  # set by the test: returns (url, cleanup)

    def __init__(self):
        super().__init__()
        self.url, self.cleanup = self.new_database()
        self.engine = make_engine(self.url)
        self.factory = make_sessionmaker(self.engine, TEST_CONTEXT)
        self.model = Model()
        self.lots = []
        self.counter = 0
        self.last_request = None
        self.unsent = [f"R-{n}" for n in range(ROLLS)]
        with transaction(self.factory) as s:
            self.lots = list(s.execute(text("select id from fund_lots order by id")).scalars())
            for r in balances.account_balances(s):
                self.model.posted[(r.lot_id, r.kind, r.holder)] = r.balance

    def teardown(self):
        self.engine.dispose()
        self.cleanup()

    def _amount(self, data, source_key):
        """Mostly within what the source holds (posted), sometimes just over it, so both
        successful transfers and overdrafts (including ones caused by pending holds) occur."""
        held = max(self.model.posted[source_key], 0)
        return data.draw(st.integers(1, held + 20))

    def _key(self):
        self.counter += 1
        return f"k{self.counter}"

    def _attempt(self, legs, region, kind, call):
        """Run a recording call; the model predicts whether it must succeed."""
        allowed = self.model.can_record(legs)
        with transaction(self.factory) as s:
            if not allowed:
                with pytest.raises(Overdraft):
                    call(s)
                return None
            t = call(s)
            self.model.record(t.id, legs, region, kind)
            return t

    @rule(data=st.data())
    def allocate(self, data):
        lot = data.draw(st.sampled_from(self.lots))
        src, dst, clerk = data.draw(st.sampled_from(CHAIN))
        amount = self._amount(data, (lot, "unit", src))
        key = self._key()
        kwargs = dict(lot_id=lot, from_region=src, to_region=dst, amount_fen=amount,
                      effective_date=DAY, key=key)
        legs = [((lot, "unit", src), -amount), ((lot, "unit", dst), amount)]

        def call(s):
            return flows.allocate(s, regions.get_user(s, clerk), **kwargs)
        if self._attempt(legs, src, "allocate", call):
            self.last_request = (call, key)

    @rule(data=st.data())
    def fund_project(self, data):
        lot = data.draw(st.sampled_from(self.lots))
        amount = self._amount(data, (lot, "unit", COUNTY))
        key = self._key()
        legs = [((lot, "unit", COUNTY), -amount), ((lot, "project", "P-001"), amount)]

        def call(s):
            return flows.fund_project(s, regions.get_user(s, "k_clerk"), lot_id=lot,
                                      project_code="P-001", amount_fen=amount,
                                      effective_date=DAY, key=key)
        if self._attempt(legs, COUNTY, "fund_project", call):
            self.last_request = (call, key)

    @rule(data=st.data())
    def pay(self, data):
        lot = data.draw(st.sampled_from(self.lots))
        payee = data.draw(st.sampled_from(["H-001", "H-002", "C-001"]))
        from_project = data.draw(st.booleans())
        key = self._key()
        source = (lot, "project", "P-001") if from_project else (lot, "unit", COUNTY)
        amount = self._amount(data, source)
        legs = [(source, -amount), ((lot, "payee", payee), amount)]

        def call(s):
            return flows.pay(s, regions.get_user(s, "k_clerk"), lot_id=lot, payee_code=payee,
                             amount_fen=amount, function_code="2130505", use_code="industry",
                             project_code="P-001" if from_project else None,
                             county_code=None if from_project else COUNTY,
                             effective_date=DAY, key=key)
        if self._attempt(legs, COUNTY, "pay", call):
            self.last_request = (call, key)

    @rule(data=st.data(), approve=st.booleans())
    def decide(self, data, approve):
        pending = [t for t, v in self.model.transfers.items() if v["status"] == "pending"]
        if not pending:
            return
        tid = data.draw(st.sampled_from(pending))
        region = self.model.transfers[tid]["region"]
        with transaction(self.factory) as s:
            checker = regions.get_user(s, self.model.transfers[tid]["checker"]
                                       or APPROVER[region])
            if approve:
                posting.approve(s, checker, tid)
            else:
                posting.reject(s, checker, tid, "model test rejection")
        self.model.decide(tid, approve)

    @rule(data=st.data())
    def reverse(self, data):
        done = [t for t, v in self.model.transfers.items()
                if v["status"] == "approved" and not v["reversed"]
                and v["kind"] not in ("reverse", "bank_difference")]
        if not done:
            return
        tid = data.draw(st.sampled_from(done))
        original = self.model.transfers[tid]
        legs = [(key, -amount) for key, amount in original["legs"]]
        clerk = {PROVINCE: "p_clerk", CITY: "c_clerk", COUNTY: "k_clerk"}[original["region"]]
        key = self._key()

        def call(s):
            return posting.reverse(s, regions.get_user(s, clerk), tid, reason="model",
                                   effective_date=DAY, key=key)
        if self._attempt(legs, original["region"], "reverse", call):
            original["reversed"] = True

    @rule(data=st.data())
    def integrate(self, data):
        if len(self.lots) < 2 or len(self.lots) > 4:
            return
        first, second = data.draw(st.lists(st.sampled_from(self.lots), min_size=2, max_size=2,
                                           unique=True))
        a = self._amount(data, (first, "unit", COUNTY))
        b = self._amount(data, (second, "unit", COUNTY))
        doc = f"整合〔2024〕{self.counter}号"
        key = self._key()
        probe = [((first, "unit", COUNTY), -a), ((second, "unit", COUNTY), -b)]
        if not self.model.can_record(probe):
            with transaction(self.factory) as s:
                with pytest.raises(Overdraft):
                    self._integrate(s, doc, key, first, second, a, b)
            return
        with transaction(self.factory) as s:
            t = self._integrate(s, doc, key, first, second, a, b)
        new = t.lot_id
        legs = probe + [((first, "integration_out", COUNTY), a),
                        ((second, "integration_out", COUNTY), b),
                        ((new, "integration_in", COUNTY), -(a + b)),
                        ((new, "unit", COUNTY), a + b)]
        self.model.record(t.id, legs, COUNTY, "integrate")
        self.lots.append(new)

    def _integrate(self, s, doc, key, first, second, a, b):
        return lots.integrate(s, regions.get_user(s, "k_clerk"), county_code=COUNTY,
                              doc_number=doc, year=2024, title="整合", function_codes=["2130505"],
                              allowed_uses=["industry"], sources=[(first, a), (second, b)],
                              effective_date=DAY, key=key)

    @rule(data=st.data())
    def bank_answers_a_roll(self, data):
        """Send a one-line roll, then settle it with a random bank line — or, as a line the
        roll never had, a bank line numbered 2."""
        if not self.unsent:
            return
        code = self.unsent.pop(0)
        lot, county = self.lots[0], (self.lots[0], "unit", COUNTY)
        household = CARDS_OF_ROLL[code]
        payee = (lot, "payee", household)
        send = [(county, -ROLL_FEN), (payee, ROLL_FEN)]
        if not self.model.can_record(send):
            with transaction(self.factory) as s:
                with pytest.raises(Overdraft):
                    rolls.send(s, regions.get_user(s, "k_clerk"), code, APPROVED)
            return
        with transaction(self.factory) as s:
            [(_, payment)] = rolls.send(s, regions.get_user(s, "k_clerk"), code, APPROVED)
        self.model.record(payment.id, send, COUNTY, "pay")
        paid = data.draw(st.booleans())
        line_no = data.draw(st.sampled_from([1, 1, 1, 2]))
        sent = data.draw(st.sampled_from([ROLL_FEN, ROLL_FEN, ROLL_FEN - 50, ROLL_FEN + 90]))
        credited = data.draw(st.integers(0, sent)) if paid else 0
        other_account = data.draw(st.booleans())
        account = "6222999900000000001" if other_account else CARDS[household]
        bank = settlement.BankLine(line_no, sent, paid, "", "", None, None, credited, None,
                                   account, 1)
        with transaction(self.factory) as s:
            before = set(s.execute(select(Transfer.id)).scalars())
            outcomes, problems = settlement.settle(
                s, regions.get_user(s, "k_approver"), rolls.get_roll(s, code), [bank],
                vault=PiiVault.from_env())
            assert problems == []
            new = [t for t in s.execute(select(Transfer).where(
                Transfer.kind == "bank_difference")).scalars() if t.id not in before]
        # What the model expects (docs/ledger.md, "Bank results as banks send them").
        receivable = (lot, "receivable", household)
        if line_no == 2:   # never posted: the payment is still waiting for its answer, and
            # the bank named no household, so the receivable is the county's
            legs = {county: -sent, (lot, "receivable", COUNTY): sent} if paid else {}
        else:
            self.model.decide(payment.id, paid)
            kept = 0 if other_account else credited
            legs = ({payee: kept - ROLL_FEN, receivable: sent - kept, county: ROLL_FEN - sent}
                    if paid else {})
        legs = [(k, v) for k, v in legs.items() if v]
        if legs and -dict(legs).get(county, 0) > self.model.available(county):
            legs = []   # unfunded: recorded without a transfer
        assert len(new) == (1 if legs else 0), (outcomes, legs)
        if legs:
            self.model.record(new[0].id, legs, COUNTY, "bank_difference",
                              checker="k_approver2")

    @rule()
    def replay_same_key(self):
        if self.last_request is None:
            return
        call, key = self.last_request
        with transaction(self.factory) as s:
            size = s.execute(select(AuditHead.size)).scalar_one()
            t = call(s)
            assert t.idempotency_key == key
            assert s.execute(select(AuditHead.size)).scalar_one() == size

    @invariant()
    def books_match_the_model(self):
        with transaction(self.factory) as s:
            rows = balances.account_balances(s)
            actual = {(r.lot_id, r.kind, r.holder): r.balance for r in rows}
            expected = {k: v for k, v in self.model.posted.items() if v or k in actual}
            assert {k: v for k, v in actual.items() if v or k in expected} == expected
            tb = balances.trial_balance(s)
            assert tb.balanced, tb.unbalanced_lots
            assert balances.cache_mismatches(s) == []
            for account in s.execute(select(Account)).scalars():
                if account.kind.value not in ("appropriation", "integration_in"):
                    assert account.available >= 0, account.label
                key = (account.lot_id, account.kind.value, account.holder_code)
                assert account.credits_pending == self.model.pending_out[key]


def _sqlite_factory(template):
    def new_database():
        path = template.parent / f"model-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}", lambda: _remove(path)
    return new_database


def _remove(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")


def _pg_factory(template_name):
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def new_database():
        name = f"ft_model_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))

        def drop():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return _pg_url(name), drop
    return new_database


# roll code → the household it pays
CARDS_OF_ROLL = {f"R-{n}": f"HH-{n % len(CARDS)}" for n in range(ROLLS)}


def _households_and_rolls(factory):
    """Households with known cards, a second county approver, and one-line rolls approved and
    waiting to be sent."""
    vault = PiiVault.from_env()
    with transaction(factory) as s:
        admin = regions.get_user(s, "admin")
        regions.add_user(s, admin, username="k_approver2", display_name="k_approver2",
                         role=Role.APPROVER, region_code=COUNTY)
        clerk = regions.get_user(s, "k_clerk")
        for code, card in CARDS.items():
            households.register_household(
                s, clerk, vault, code=code, village_code=VILLAGE, head_name=f"户主{code}",
                status=HouseholdStatus.REGISTERED, registered_on=dt.date(2019, 1, 1),
                bank_card=card)
        for code, household in CARDS_OF_ROLL.items():
            rolls.create_roll(s, clerk, code=code, lot_id=1, county_code=COUNTY,
                              item="产业奖补", function_code="2130505",
                              use_code="industry", standard_fen=ROLL_FEN,
                              lines=[(household, 1)], as_of=PUBLISHED)
            with clock.at(PUBLISHED):   # each step recorded on its day (ledger.core.clock)
                rolls.publish(s, clerk, code, PUBLISHED)
    with transaction(factory) as s, clock.at(APPROVED):
        for code in CARDS_OF_ROLL:
            rolls.approve_roll(s, regions.get_user(s, "k_approver"), code, APPROVED, 7)


def _with_second_lot(factory):
    build_world(factory, amount_fen=LOT_AMOUNT)
    _households_and_rolls(factory)
    with transaction(factory) as s:
        t = lots.appropriate(s, regions.get_user(s, "p_clerk"), doc_number="湘财农〔2024〕5号",
                             source_level=SourceLevel.PROVINCE, year=2024, title="省级",
                             function_codes=["2130505"], allowed_uses=["industry"],
                             amount_fen=LOT_AMOUNT, region_code=PROVINCE,
                             effective_date=DAY)
        posting.approve(s, regions.get_user(s, "p_approver"), t.id)
        # Start with money at every level, so most random steps have something to move.
        for lot in (1, t.lot_id):
            for (src, dst, clerk), amount in zip(CHAIN, (8_000, 3_000, 2_000)):
                a = flows.allocate(s, regions.get_user(s, clerk), lot_id=lot, from_region=src,
                                   to_region=dst, amount_fen=amount, effective_date=DAY,
                                   key=f"seed-{lot}-{dst}")
                posting.approve(s, regions.get_user(s, APPROVER[src]), a.id)


def test_ledger_matches_reference_model(db_url, tmp_path):
    engine = make_engine(db_url)
    _with_second_lot(make_sessionmaker(engine, TEST_CONTEXT))
    engine.dispose()
    if db_url.startswith("sqlite"):
        template = tmp_path / "world.db"
        shutil.copy(db_url.removeprefix("sqlite:///"), template)
        LedgerMachine.new_database = staticmethod(_sqlite_factory(template))
        examples = int(os.environ.get("FUNDTRAIL_MODEL_EXAMPLES", 40))
    else:
        LedgerMachine.new_database = staticmethod(_pg_factory(db_url.rsplit("/", 1)[1]))
        examples = int(os.environ.get("FUNDTRAIL_MODEL_EXAMPLES", 40)) // 2
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=examples, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
