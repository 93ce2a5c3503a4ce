"""A small, fully known province for tests: regions, users, one lot, one project, payees."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ledger.funds import lots, posting, projects
from ledger.models import PayeeKind, ProjectStatus, RegionLevel, Role, SourceLevel
from ledger.org import regions
from ledger.store.db import transaction

DAY = dt.date(2024, 3, 15)
PROVINCE, CITY, COUNTY, COUNTY2 = "430000", "430100", "430121", "430122"
TOWNSHIP, VILLAGE, VILLAGE2 = "430121001", "430121001001", "430122001001"

USERS = [
    ("p_clerk", Role.CLERK, PROVINCE), ("p_approver", Role.APPROVER, PROVINCE),
    ("c_clerk", Role.CLERK, CITY), ("c_approver", Role.APPROVER, CITY),
    ("k_clerk", Role.CLERK, COUNTY), ("k_approver", Role.APPROVER, COUNTY),
    ("k2_clerk", Role.CLERK, COUNTY2), ("k2_approver", Role.APPROVER, COUNTY2),
    ("auditor", Role.AUDITOR, PROVINCE),
]


@dataclass
class World:
    factory: object
    lot_id: int

    def user(self, session, name):
        return regions.get_user(session, name)


def build_world(factory, amount_fen: int = 1_000_000_00) -> World:
    with transaction(factory) as s:
        admin = regions.bootstrap(s, province_code=PROVINCE, province_name="湖南省",
                                  admin_username="admin", admin_name="管理员")
        for code, name, level, parent in [
            (CITY, "长沙市", RegionLevel.CITY, PROVINCE),
            (COUNTY, "长沙县", RegionLevel.COUNTY, CITY),
            (COUNTY2, "望城县", RegionLevel.COUNTY, CITY),
            (TOWNSHIP, "星沙镇", RegionLevel.TOWNSHIP, COUNTY),
            (VILLAGE, "松雅村", RegionLevel.VILLAGE, TOWNSHIP),
            ("430122001", "乌山镇", RegionLevel.TOWNSHIP, COUNTY2),
            (VILLAGE2, "团山村", RegionLevel.VILLAGE, "430122001"),
        ]:
            regions.add_region(s, admin, code=code, name=name, level=level, parent_code=parent)
        for username, role, region in USERS:
            regions.add_user(s, admin, username=username, display_name=username, role=role,
                             region_code=region)
    with transaction(factory) as s:
        clerk = regions.get_user(s, "k_clerk")
        projects.register_project(s, clerk, code="P-001", name="生猪养殖", county_code=COUNTY,
                                  function_code="2130505")
        projects.advance_project(s, clerk, "P-001", ProjectStatus.IN_LIBRARY, DAY)
        projects.advance_project(s, regions.get_user(s, "k_approver"), "P-001",
                                 ProjectStatus.APPROVED, DAY)
        projects.register_payee(s, clerk, code="H-001", kind=PayeeKind.HOUSEHOLD, name="张三",
                                region_code=VILLAGE)
        projects.register_payee(s, clerk, code="H-002", kind=PayeeKind.HOUSEHOLD, name="李四",
                                region_code=VILLAGE)
        projects.register_payee(s, clerk, code="C-001", kind=PayeeKind.CONTRACTOR,
                                name="星沙建筑公司", region_code=COUNTY)
        k2 = regions.get_user(s, "k2_clerk")
        projects.register_payee(s, k2, code="H-201", kind=PayeeKind.HOUSEHOLD, name="王五",
                                region_code=VILLAGE2)
        t = lots.appropriate(
            s, regions.get_user(s, "p_clerk"), doc_number="财农〔2024〕12号",
            source_level=SourceLevel.CENTRAL, year=2024, title="中央衔接推进乡村振兴补助资金",
            function_codes=["2130504", "2130505"],
            allowed_uses=["household_subsidy", "industry", "infrastructure"],
            amount_fen=amount_fen, region_code=PROVINCE, effective_date=DAY)
        posting.approve(s, regions.get_user(s, "p_approver"), t.id)
        return World(factory, t.lot_id)


def add_user_four_eyes(session, username: str, role: Role, region_code: str,
                       display_name: str | None = None) -> None:
    """Add a user as the ledger's administrators do: `admin` alone while it is the only
    administrator (setup), else a request by `admin` that another administrator approves
    (docs/administration.md) — tests/conftest.py adds a second one for the key enrolments."""
    from sqlalchemy import select

    from ledger.models import User
    from ledger.org import admin_requests
    admin = session.execute(select(User).where(User.username == "admin")).scalar_one()
    others = list(session.execute(select(User).where(User.role == Role.ADMIN,
                                                     User.id != admin.id)).scalars())
    name = display_name or username
    if not others:
        regions.add_user(session, admin, username=username, display_name=name, role=role,
                         region_code=region_code)
        return
    asked = admin_requests.request(session, admin, admin_requests.CREATE, username,
                                   details={"display_name": name, "role": role.value,
                                            "region": region_code})
    admin_requests.decide(session, others[0], asked.id, approve=True)
