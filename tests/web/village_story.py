"""A roll that went the whole way, for the village page and the staff roll page: the scene's own
roll approved and sent, the bank paying line 1 and returning line 2 (退票), line 2 put on a
re-payment roll (补发) that is published in turn, the county's supervision phone, and a
published project notice for the village, covered by a cosigned checkpoint."""
from __future__ import annotations

import datetime as dt

from ledger.disclosure import notices
from ledger.models.disclosure import NoticeKind
from ledger.org import regions
from ledger.rolls import lifecycle as rolls
from ledger.store.context import use_log
from ledger.store.db import transaction
from tests.web.scene import ORIGIN, sign_checkpoint

COUNTY_PHONE = "0731-8400 0000"
REISSUE = "R-k-补发"


def paid_returned_reissued(world, scene) -> dict:
    roll, village, county = scene.own["roll"], scene.own["village"], scene.own["county"]
    today = dt.date.today()
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        clerk, approver = (regions.get_user(s, "k_clerk"), regions.get_user(s, "k_approver"))
        rolls.approve_roll(s, approver, roll, today, 7)
        rolls.send(s, clerk, roll, today)
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        approver = regions.get_user(s, "k_approver")
        rolls.apply_bank_result(s, approver, roll, 1, 500_00, True, voucher="V00001")
        rolls.apply_bank_result(s, approver, roll, 2, 1000_00, False, reason="账户冻结")
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        clerk = regions.get_user(s, "k_clerk")
        rolls.repay_roll(s, clerk, roll, REISSUE, today, [2])
        rolls.publish(s, clerk, REISSUE, today)
        notices.record_contact(s, clerk, region_code=county, office="长沙县乡村振兴局",
                               phone=COUNTY_PHONE)
        notices.record_project_details(
            s, clerk, project_code="P-001", village_codes=[village], place="星沙镇松雅村三组",
            content="新建标准化生猪养殖圈舍", subsidy_standard="每平方米补助 150 元",
            start_date=today, end_date=today + dt.timedelta(days=90),
            implementer="松雅生猪养殖专业合作社", responsible_person="周建国",
            performance_targets="年出栏生猪 2000 头", benefit_mechanism="入股分红",
            supervision_phone=COUNTY_PHONE, issuing_unit="松雅村村民委员会")
        notices.publish(s, clerk, NoticeKind.PROJECT, {"project": "P-001", "village": village},
                        today, today + dt.timedelta(days=10))
    sign_checkpoint(world, scene)
    return {"roll": roll, "reissue": REISSUE, "village": village}
