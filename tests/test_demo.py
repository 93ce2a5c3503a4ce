"""The demo province: builds through the real services, verifies, balances, is reproducible."""
from __future__ import annotations

import pytest

from ledger.audit.verify import verify
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.core.errors import LedgerError
from ledger.demo.province import build_demo
from ledger.funds import balances
from ledger.store import migrate
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker, transaction

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)


def _build(url, seed):
    factory = make_sessionmaker(make_engine(url), TEST_CONTEXT)
    summary = build_demo(factory, seed=seed, households=40)
    with transaction(factory) as s:
        report = verify(s)
        tb = balances.trial_balance(s)
        held = {(r.lot_id, r.kind, r.holder): r.balance for r in balances.account_balances(s)}
    return factory, summary, report, tb, (held, summary.manifest)


def test_demo_builds_verifies_and_balances(db_url):
    factory, summary, report, tb, _ = _build(db_url, seed=7)
    # 40 households plus the planted cases; a prior-year, two current, one integrated lot and
    # the second provincial batch of the FLW-01 look-alike (ledger.demo.plants._flw01_lower).
    assert summary.households > 40 and len(summary.lots) == 5
    cases = summary.manifest["cases"]
    assert {r for c in cases for r in c["rules"]} >= {"BEN-01", "FLW-01", "WHD-01", "FAV-01",
                                                      "BEN-08", "DIV-02", "DIV-03", "DIV-05",
                                                      "DUP-02"}
    assert report.intact, report.findings
    assert tb.balanced and tb.total_debits > 0
    with pytest.raises(LedgerError, match="needs an empty one"):
        build_demo(factory, seed=7, households=40)


def test_the_same_seed_gives_the_same_province(tmp_path, sqlite_template):
    import shutil
    urls = []
    for name in ("a.db", "b.db"):
        shutil.copy(sqlite_template, tmp_path / name)
        urls.append(f"sqlite:///{tmp_path / name}")
    first, second = (_build(url, seed=3)[4] for url in urls)
    assert first == second  # the same balances and the same ground truth


def test_the_smallest_demo_the_command_accepts_builds(tmp_path):
    """`fundtrail demo --households 1` is allowed; with a seed that draws no exited household
    it once crashed (StopIteration) looking for one to pay as a hard negative."""
    factory = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'demo.db'}"), TEST_CONTEXT)
    migrate.upgrade(factory.kw["bind"])
    summary = build_demo(factory, seed=1, households=1)
    with transaction(factory) as s:
        assert verify(s).intact
        assert balances.trial_balance(s).balanced
    assert summary.transfers > 0 and summary.manifest["cases"]
