"""Fixtures shared by the audit tests."""
from __future__ import annotations

import pytest

from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county, pay_household, u


@pytest.fixture
def books(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        t = pay_household(s, world, 1_234_56, "voucher-1")
        from ledger.funds import posting
        posting.approve(s, u(s, "k_approver"), t.id)
        return t.id
