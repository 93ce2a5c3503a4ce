"""A tiny hand-written ledger for rule fixtures: the test world, money down to the county, and
households with members paid directly — each rule test adds one true positive and one case
per exclusion, then checks exactly which entities the rule names."""
from __future__ import annotations

import datetime as dt

from ledger.alerts.base import ScanContext
from ledger.alerts.rules import CHECKS
from ledger.alerts.settings import AlertSettings
from ledger.core.idcard import check_character
from ledger.core.pii import PiiVault
from ledger.funds import flows, posting
from ledger.households import registry as households
from ledger.models import HouseholdStatus
from ledger.org.regions import get_user
from ledger.registers.external import ListKind, ListRecord, record_list
from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county
from tests.world import COUNTY, VILLAGE

AS_OF = dt.date(2024, 12, 31)


def idn(seq: int, born: str = "19700101", region: str = "430121") -> str:
    first = f"{region}{born}{seq:03d}"
    return first + check_character(first)


class Town:
    def __init__(self, world):
        self.world = world
        self.vault = PiiVault.from_env()
        self.keys = 0
        down_to_county(world, 500_000_00)

    def household(self, code, people, status=HouseholdStatus.REGISTERED,
                  registered=dt.date(2019, 1, 1), card=None, village=VILLAGE):
        """people: (name, relation, id_number, death_date or None)."""
        with transaction(self.world.factory) as s:
            clerk = get_user(s, "k_clerk")
            households.register_household(s, clerk, self.vault, code=code, village_code=village,
                                          head_name=people[0][0], status=status,
                                          registered_on=registered,
                                          bank_card=card or f"62220212{len(code):03d}"
                                          f"{abs(hash(code)) % 10**8:08d}")
            ids = [households.add_member(s, clerk, self.vault, household_code=code, name=n,
                                         relation=r, id_number=i, death_date=d).id
                   for n, r, i, d in people]
        return ids

    def pay(self, payee, amount, day, memo="产业奖补", project=None, approve=True,
            use="household_subsidy", fc="2130505") -> int:
        self.keys += 1
        with transaction(self.world.factory) as s:
            t = flows.pay(s, get_user(s, "k_clerk"), lot_id=self.world.lot_id,
                          payee_code=payee, amount_fen=amount, function_code=fc, use_code=use,
                          project_code=project, county_code=None if project else COUNTY,
                          effective_date=day, key=f"t{self.keys}", memo=memo)
            if approve:
                posting.approve(s, get_user(s, "k_approver"), t.id)
            return t.id

    def listing(self, kind: ListKind, records: list[ListRecord], source="测试来源",
                snapshot=dt.date(2024, 12, 1)):
        with transaction(self.world.factory) as s:
            record_list(s, get_user(s, "p_clerk"), self.vault, kind=kind, source=source,
                        snapshot_date=snapshot, records=records)

    def fired(self, rule_id, settings=None, as_of=AS_OF) -> dict:
        with transaction(self.world.factory) as s:
            found = CHECKS[rule_id](ScanContext(s, settings or AlertSettings(), as_of,
                                                self.vault))
        return {f"{f.entity_kind}:{f.entity_key}": f for f in found}
