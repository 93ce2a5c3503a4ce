"""A roll line's status as its money went (ledger.rolls.status), beside the board's line states
(open, held, withdrawn) that the roll's steps use: 待发放 before sending, 已送银行 until the
bank answers, 已发放 when paid, 退回 when returned, 已发放 again when the bank pays a line it had
returned, 补发 when a re-payment roll takes the line, 暂停 while an objection holds it, 已撤销
when withdrawn. On SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ledger.core import clock
from ledger.core.pii import PiiVault
from ledger.funds import flows, posting
from ledger.households import registry as households
from ledger.models import HouseholdStatus, RollEvent, RollLine
from ledger.org import regions
from ledger.rolls import lifecycle as rolls
from ledger.rolls.settlement import BANK_REPAID
from ledger.rolls.status import LineStatus, line_statuses
from ledger.store.db import transaction
from tests.world import CITY, COUNTY, DAY, PROVINCE, VILLAGE

PUBLISHED = dt.date.today() - dt.timedelta(days=30)


def _statuses(world, code) -> dict[int, tuple[LineStatus, str | None]]:
    """line number → (status, the re-payment roll where one took it)."""
    with world.factory() as s:
        roll = rolls.get_roll(s, code)
        events = list(s.execute(select(RollEvent).where(RollEvent.roll_id == roll.id)
                                .order_by(RollEvent.id)).scalars())
        numbers = dict(s.execute(select(RollLine.id, RollLine.line_no)
                                 .where(RollLine.roll_id == roll.id)).all())
        return {numbers[i]: (st.kind, st.roll)
                for i, st in line_statuses(s, roll, events).items()}


def test_each_line_says_what_happened_to_its_money(world):
    vault, today = PiiVault.from_env(), dt.date.today()
    with transaction(world.factory) as s:   # money down to the county
        for clerk, approver, source, to, key in (("p_clerk", "p_approver", PROVINCE, CITY, "A1"),
                                                 ("c_clerk", "c_approver", CITY, COUNTY, "A2")):
            t = flows.allocate(s, regions.get_user(s, clerk), lot_id=world.lot_id,
                               from_region=source, to_region=to, amount_fen=10_000_00,
                               effective_date=DAY, key=key)
            posting.approve(s, regions.get_user(s, approver), t.id)
    with transaction(world.factory) as s:
        clerk = regions.get_user(s, "k_clerk")
        for n in range(1, 6):
            households.register_household(
                s, clerk, vault, code=f"ST-{n}", village_code=VILLAGE, head_name=f"户主{n}",
                status=HouseholdStatus.REGISTERED, registered_on=DAY,
                bank_card=f"622202100000000{n}123")
        rolls.create_roll(s, clerk, code="R-ST", lot_id=world.lot_id, county_code=COUNTY,
                          item="产业奖补", function_code="2130505", use_code="household_subsidy",
                          standard_fen=500_00, lines=[(f"ST-{n}", 1) for n in range(1, 6)],
                          as_of=PUBLISHED)
        with clock.at(PUBLISHED):
            rolls.publish(s, clerk, "R-ST", PUBLISHED)
    assert set(_statuses(world, "R-ST").values()) == {(LineStatus.PENDING, None)}
    with transaction(world.factory) as s:
        clerk, approver = regions.get_user(s, "k_clerk"), regions.get_user(s, "k_approver")
        rolls.object_to(s, clerk, "R-ST", None, today, "数量不符", line_no=4)
        rolls.withdraw_line(s, clerk, "R-ST", 5, today, "重复录入")
        rolls.approve_roll(s, approver, "R-ST", today, 7)
        rolls.send(s, clerk, "R-ST", today)
    status = _statuses(world, "R-ST")
    assert status[1] == status[2] == status[3] == (LineStatus.SENT, None)
    assert status[4] == (LineStatus.HELD, None) and status[5] == (LineStatus.WITHDRAWN, None)
    with transaction(world.factory) as s:
        approver = regions.get_user(s, "k_approver")
        rolls.apply_bank_result(s, approver, "R-ST", 1, 500_00, True, voucher="B1")
        rolls.apply_bank_result(s, approver, "R-ST", 2, 500_00, False, reason="账户冻结")
        rolls.apply_bank_result(s, approver, "R-ST", 3, 500_00, False, reason="户名不符")
    status = _statuses(world, "R-ST")
    assert status[1][0] is LineStatus.PAID
    assert status[2][0] is status[3][0] is LineStatus.RETURNED
    with transaction(world.factory) as s:
        # the bank pays line 2 after all (退票后又支付); line 3 goes on a re-payment roll
        rolls.apply_bank_result(s, regions.get_user(s, "k_approver"), "R-ST", 2, 500_00, True,
                                voucher="B2")
        rolls.repay_roll(s, regions.get_user(s, "k_clerk"), "R-ST", "R-ST-2", today, [3])
    with world.factory() as s:
        assert s.execute(select(RollEvent.comment).where(
            RollEvent.comment == BANK_REPAID)).scalar_one() == BANK_REPAID
    status = _statuses(world, "R-ST")
    assert status[2][0] is LineStatus.PAID
    assert status[3] == (LineStatus.REISSUED, "R-ST-2")
    assert status[4] == (LineStatus.HELD, None) and status[5] == (LineStatus.WITHDRAWN, None)
    assert _statuses(world, "R-ST-2") == {1: (LineStatus.PENDING, None)}
    # A paid line whose payment is reversed (冲销) and the reversal approved is no longer paid:
    # the board says 已冲销, not 已发放 (red-team, issue 20); an unapproved reversal changes
    # nothing yet.
    from ledger.models import Transfer
    with world.factory() as s:
        paid = s.execute(select(Transfer.id).where(
            Transfer.idempotency_key == "roll:R-ST:1")).scalar_one()
    with transaction(world.factory) as s:
        reversal = posting.reverse(s, regions.get_user(s, "k_clerk"), paid, reason="错发，追回",
                                   effective_date=today, key="REV-ST-1")
        reversal_id = reversal.id
    assert _statuses(world, "R-ST")[1][0] is LineStatus.PAID
    with transaction(world.factory) as s:
        posting.approve(s, regions.get_user(s, "k_approver"), reversal_id)
    assert _statuses(world, "R-ST")[1] == (LineStatus.REVERSED, None)
