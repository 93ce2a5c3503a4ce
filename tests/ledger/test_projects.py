"""The project library: stages, who moves them, filing, and money only for approved projects."""
from __future__ import annotations

import pytest

from ledger.core.errors import LedgerError, PermissionDenied
from ledger.funds import flows, posting, projects
from ledger.models import ProjectStatus as S
from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county, u
from tests.world import COUNTY, DAY


def fund(s, world, code, amount=1_000_00, key="f"):
    return flows.fund_project(s, u(s, "k_clerk"), lot_id=world.lot_id, project_code=code,
                              amount_fen=amount, effective_date=DAY, key=key)


def pay_from(s, world, code, amount=100_00, key="p"):
    return flows.pay(s, u(s, "k_clerk"), lot_id=world.lot_id, payee_code="C-001",
                     amount_fen=amount, function_code="2130505", use_code="industry",
                     project_code=code, effective_date=DAY, key=key)


def test_a_project_lives_through_its_stages_and_money_follows(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        clerk, approver = u(s, "k_clerk"), u(s, "k_approver")
        projects.register_project(s, clerk, code="P-002", name="光伏电站", county_code=COUNTY,
                                  function_code="2130505")
        with pytest.raises(LedgerError, match="P-002 is proposed: cannot receive money"):
            fund(s, world, "P-002")
        projects.advance_project(s, clerk, "P-002", S.IN_LIBRARY, DAY)
        with pytest.raises(PermissionDenied, match="may not approve"):
            projects.advance_project(s, clerk, "P-002", S.APPROVED, DAY)
        with pytest.raises(LedgerError, match="not approved yet"):
            projects.file_project(s, u(s, "p_clerk"), "P-002", DAY)
        projects.advance_project(s, approver, "P-002", S.APPROVED, DAY, "县扶贫开发领导小组批复")
        projects.file_project(s, u(s, "c_clerk"), "P-002", DAY, "市级备案")
        projects.file_project(s, u(s, "p_clerk"), "P-002", DAY, "省级备案")
        posting.approve(s, approver, fund(s, world, "P-002").id)
        projects.advance_project(s, clerk, "P-002", S.IMPLEMENTING, DAY)
        posting.approve(s, approver, pay_from(s, world, "P-002", key="p1").id)
        projects.advance_project(s, approver, "P-002", S.ACCEPTED, DAY, "验收合格")
        with pytest.raises(LedgerError, match="accepted: cannot receive money"):
            fund(s, world, "P-002", key="f2")
        pay_from(s, world, "P-002", key="p2")  # the final payment after acceptance (尾款)
        projects.advance_project(s, clerk, "P-002", S.CLOSED, DAY)
        with pytest.raises(LedgerError, match="closed: cannot pay out"):
            pay_from(s, world, "P-002", key="p3")
        assert projects.project_stage(s, "P-002") is S.CLOSED


def test_stages_cannot_be_skipped_and_the_county_cannot_file_itself(world):
    with transaction(world.factory) as s:
        clerk = u(s, "k_clerk")
        projects.register_project(s, clerk, code="P-003", name="道路", county_code=COUNTY,
                                  function_code="2130504")
        with pytest.raises(LedgerError,
                           match=r"next stage is in_library \(or rejected\), not implementing"):
            projects.advance_project(s, clerk, "P-003", S.IMPLEMENTING, DAY)
        with pytest.raises(LedgerError, match="not the county"):
            projects.file_project(s, clerk, "P-001", DAY)
        with pytest.raises(PermissionDenied):
            projects.advance_project(s, u(s, "k2_clerk"), "P-003", S.IN_LIBRARY, DAY)
