"""A county with a funded project, a long payment roll paid through the bank, keys and a
policy: everything the public documents print, built through the real services."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ledger.audit import checkpoints as cps
from ledger.audit import keys as keyfiles
from ledger.audit.tlog.policy import parse_policy
from ledger.core import clock
from ledger.core.idcard import check_character
from ledger.core.pii import PiiVault
from ledger.disclosure.notices import (
    project_window,
    publish,
    record_contact,
    record_household_support,
    record_project_details,
    roll_window,
)
from ledger.funds import flows, posting
from ledger.households.credit import register_loan
from ledger.households.registry import add_member, register_household
from ledger.models import HouseholdStatus
from ledger.models.disclosure import NoticeKind
from ledger.rolls import lifecycle as rolls
from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county
from tests.world import COUNTY, DAY, TOWNSHIP, VILLAGE

PASSPHRASE = "correct horse battery staple"
ORIGIN = "fundtrail.example/demo-province"
ROLL = "R-2024-01"
PUBLISHED = dt.date(2024, 3, 18)   # a Monday
APPROVED = dt.date(2024, 3, 28)
SENT = dt.date(2024, 3, 29)
NAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"


def id_number(seq: int) -> str:
    first = f"430121{1950 + seq % 40}0{1 + seq % 9}1{seq % 10}{seq:03d}"[:17]
    return first + check_character(first)


def card_number(seq: int) -> str:
    return f"6222021{seq:012d}"


@dataclass
class Scenario:
    world: object
    keys: Path
    households: list[str]
    ids: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)

    @property
    def policy_file(self) -> Path:
        return self.keys / "policy.txt"

    @property
    def policy(self):
        return parse_policy(self.policy_file.read_bytes())

    def user(self, s, name):
        return self.world.user(s, name)


def build(world, tmp_path: Path, households: int = 40) -> Scenario:
    down_to_county(world, 500_000_00)
    scenario = Scenario(world, tmp_path / "keys", [])
    _households(scenario, households)
    _roll(scenario)
    _project(scenario)
    _keys(scenario)
    return scenario


def _households(sc: Scenario, count: int) -> None:
    vault = PiiVault.from_env()
    with transaction(sc.world.factory) as s:
        clerk = sc.user(s, "k_clerk")
        for n in range(count):
            code = f"H-{300 + n}"
            name = NAMES[n % len(NAMES)] + ("建国" if n % 2 else "秀英")
            sc.ids.append(id_number(n))
            sc.cards.append(card_number(n))
            register_household(s, clerk, vault, code=code, village_code=VILLAGE, head_name=name,
                               status=HouseholdStatus.REGISTERED,
                               registered_on=dt.date(2019, 5, 1), bank_card=sc.cards[-1])
            add_member(s, clerk, vault, household_code=code, name=name, relation="户主",
                       id_number=sc.ids[-1])
            sc.households.append(code)
        record_contact(s, clerk, region_code=COUNTY, office="长沙县乡村振兴局",
                       phone="0731-8400 0000")
        record_contact(s, clerk, region_code=TOWNSHIP, office="星沙镇人民政府",
                       phone="0731-8400 1111")
        record_household_support(s, clerk, household_code=sc.households[0], cadre_name="刘帮扶",
                                 cadre_phone="0731-8400 1234", village_phone="0731-8400 5678",
                                 county_phone="0731-8400 0000")
        register_loan(s, clerk, code="XD-2024-001", household_code=sc.households[0],
                      bank="长沙县农商银行", principal_fen=30_000_00, annual_rate_bp=435,
                      start_date=dt.date(2024, 2, 1), term_months=36)


def _roll(sc: Scenario) -> None:
    lines = [(code, 1 + n % 3) for n, code in enumerate(sc.households)]
    with transaction(sc.world.factory) as s:
        rolls.create_roll(s, sc.user(s, "k_clerk"), code=ROLL, lot_id=sc.world.lot_id,
                          county_code=COUNTY, item="产业奖补", function_code="2130505",
                          use_code="household_subsidy", standard_fen=500_00, lines=lines,
                          as_of=DAY)
        with clock.at(PUBLISHED):   # each step recorded on its day (ledger.core.clock)
            rolls.publish(s, sc.user(s, "k_clerk"), ROLL, PUBLISHED)
    with transaction(sc.world.factory) as s:
        with clock.at(APPROVED):
            rolls.approve_roll(s, sc.user(s, "k_approver"), ROLL, APPROVED, 7)
        with clock.at(SENT):
            rolls.send(s, sc.user(s, "k_clerk"), ROLL, SENT)
    with transaction(sc.world.factory) as s:
        approver = sc.user(s, "k_approver")
        for n, (_code, quantity) in enumerate(lines):
            failed = n == 3  # one 退票: its line shows as returned, money back in the lot
            rolls.apply_bank_result(s, approver, ROLL, n + 1, 500_00 * quantity, not failed,
                                    reason="账户冻结" if failed else "",
                                    voucher=f"V{n:05d}")


def _project(sc: Scenario) -> None:
    with transaction(sc.world.factory) as s:
        clerk, approver = sc.user(s, "k_clerk"), sc.user(s, "k_approver")
        t = flows.fund_project(s, clerk, lot_id=sc.world.lot_id, project_code="P-001",
                               amount_fen=200_000_00, effective_date=DAY, key="fund:P-001")
        posting.approve(s, approver, t.id)
        t = flows.pay(s, clerk, lot_id=sc.world.lot_id, payee_code="C-001",
                      amount_fen=80_000_00, function_code="2130505", use_code="industry",
                      project_code="P-001", effective_date=DAY + dt.timedelta(days=30),
                      key="pay:P-001:1")
        posting.approve(s, approver, t.id)
        record_project_details(
            s, clerk, project_code="P-001", village_codes=[VILLAGE], place="星沙镇松雅村三组",
            content="新建标准化生猪养殖圈舍 1200 平方米，配套粪污处理设施一套",
            subsidy_standard="每平方米补助 150 元，设施按实结算",
            start_date=dt.date(2024, 4, 1), end_date=dt.date(2024, 10, 31),
            implementer="长沙县松雅生猪养殖专业合作社", responsible_person="周建国",
            performance_targets="年出栏生猪 2000 头；带动脱贫户 35 户年均增收 1500 元以上",
            benefit_mechanism="脱贫户以到户产业资金入股，按入股金额的 8% 保底分红；"
                              "优先吸纳脱贫劳动力务工",
            supervision_phone="0731-8400 0000", issuing_unit="长沙县星沙镇松雅村村民委员会")


def _keys(sc: Scenario) -> None:
    sc.keys.mkdir(parents=True, exist_ok=True)
    log = keyfiles.generate_key(sc.keys / "log.key", name=ORIGIN, kind="log",
                                passphrase=PASSPHRASE)
    lines = [f"log {log.vkey}"]
    for who in ("village", "township", "county"):
        signer = keyfiles.generate_key(sc.keys / f"{who}.key", name=f"{who}.example",
                                       kind="cosigner", passphrase=PASSPHRASE)
        lines.append(f"witness {who} {signer.vkey}")
    lines += ["group sign-off 2 village township county", "quorum sign-off"]
    sc.policy_file.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sign_and_cosign(sc: Scenario, cosigners=("village", "county")) -> None:
    with transaction(sc.world.factory) as s:
        cps.sign(s, keyfiles.load_key(sc.keys / "log.key", PASSPHRASE))
    for who in cosigners:
        with transaction(sc.world.factory) as s:
            log_keys = sc.policy.logs_for_origin(ORIGIN)
            cps.cosign_latest(s, keyfiles.load_key(sc.keys / f"{who}.key", PASSPHRASE),
                              log_keys, sc.keys / f"{who}.state",
                              fresh=not (sc.keys / f"{who}.state").exists())


PROJECT_SUBJECT = {"project": "P-001", "village": VILLAGE}
ROLL_SUBJECT = {"roll": ROLL, "village": VILLAGE, "names": "full"}
ANNUAL_SUBJECT = {"county": COUNTY, "year": "2024"}


def publish_all(sc: Scenario):
    """Record the three public documents (as the clerk), then sign and cosign."""
    with transaction(sc.world.factory) as s:
        clerk = sc.user(s, "k_clerk")
        start = dt.date(2024, 3, 20)
        publish(s, clerk, NoticeKind.PROJECT, PROJECT_SUBJECT, start,
                project_window(start, 10, 10))
        publish(s, clerk, NoticeKind.ROLL, ROLL_SUBJECT, PUBLISHED, roll_window(PUBLISHED, 7))
        publish(s, clerk, NoticeKind.COUNTY_ANNUAL, ANNUAL_SUBJECT, dt.date(2025, 1, 10),
                project_window(dt.date(2025, 1, 10), 30, 10))
    sign_and_cosign(sc)
