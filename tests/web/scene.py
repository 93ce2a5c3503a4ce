"""A web test scene on top of tests/world.py: money down to both counties, households, a
published roll and a pending transfer in each county, keys, a cosigned checkpoint, passwords.

"own" objects belong to county 430121 (the k_* users), "other" objects to county 430122.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ledger.audit import checkpoints as cps
from ledger.audit.keys import KINDS
from ledger.audit.tlog.checkpoint import generate_cosigner, verifier_from_vkey
from ledger.core import clock
from ledger.core.pii import PiiVault
from ledger.funds import flows, posting
from ledger.households import registry as households
from ledger.models import HouseholdStatus, Role
from ledger.org import admin_requests, regions
from ledger.org import signin as auth
from ledger.rolls import lifecycle as rolls
from ledger.store.access import four_eyes_apply
from ledger.store.context import use_log
from ledger.store.db import transaction
from tests.world import CITY, COUNTY, COUNTY2, DAY, PROVINCE, VILLAGE, VILLAGE2

ORIGIN = "fundtrail.example/demo-province"
PASSWORD = "correct-horse-battery"
PUBLISHED = dt.date.today() - dt.timedelta(days=30)
EXTRA_USERS = [("k_auditor", Role.AUDITOR, COUNTY), ("p_admin", Role.ADMIN, PROVINCE),
               ("k_admin", Role.ADMIN, COUNTY)]


@dataclass
class Scene:
    policy_file: Path
    own: dict = field(default_factory=dict)
    other: dict = field(default_factory=dict)
    cosigners: dict = field(default_factory=dict)
    log_signer: object = None


def _user(s, name):
    return regions.get_user(s, name)


def build_scene(world, tmp_path: Path) -> Scene:
    factory = world.factory
    vault = PiiVault.from_env()
    scene = Scene(policy_file=tmp_path / "policy.txt")
    with transaction(factory) as s:
        admin = _user(s, "admin")
        for name, role, region in EXTRA_USERS:
            if not four_eyes_apply(s):  # setup: the first administrator alone
                regions.add_user(s, admin, username=name, display_name=name, role=role,
                                 region_code=region)
            else:  # from the second administrator on: asked by one, approved by another
                asked = admin_requests.request(s, admin, admin_requests.CREATE, name, details={
                    "display_name": name, "role": role.value, "region": region})
                admin_requests.decide(s, _user(s, "p_admin"), asked.id, approve=True)
        t = flows.allocate(s, _user(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                           to_region=CITY, amount_fen=600_000_00, effective_date=DAY, key="A-1")
        posting.approve(s, _user(s, "p_approver"), t.id)
        for county, key in ((COUNTY, "A-2"), (COUNTY2, "A-3")):
            t = flows.allocate(s, _user(s, "c_clerk"), lot_id=world.lot_id, from_region=CITY,
                               to_region=county, amount_fen=200_000_00, effective_date=DAY,
                               key=key)
            posting.approve(s, _user(s, "c_approver"), t.id)
    for prefix, village, county, side in (("k", VILLAGE, COUNTY, scene.own),
                                          ("k2", VILLAGE2, COUNTY2, scene.other)):
        with transaction(factory) as s:
            clerk = _user(s, f"{prefix}_clerk")
            for n in (1, 2):
                households.register_household(
                    s, clerk, vault, code=f"{prefix.upper()}H-{n}", village_code=village,
                    head_name=f"{'张王'[n - 1]}{prefix}{n}", status=HouseholdStatus.REGISTERED,
                    registered_on=DAY, bank_card=f"62220210000000{n}{len(prefix)}23")
            roll = rolls.create_roll(
                s, clerk, code=f"R-{prefix}", lot_id=world.lot_id, county_code=county,
                item="产业奖补", function_code="2130505", use_code="household_subsidy",
                standard_fen=500_00,
                lines=[(f"{prefix.upper()}H-1", 1), (f"{prefix.upper()}H-2", 2)],
                as_of=PUBLISHED)
            with clock.at(PUBLISHED):   # posted and recorded a month ago (ledger.core.clock)
                rolls.publish(s, clerk, roll.code, PUBLISHED)
            pending = flows.pay(s, clerk, lot_id=world.lot_id, payee_code=f"{prefix.upper()}H-1",
                                amount_fen=100_00, function_code="2130505",
                                use_code="household_subsidy", county_code=county,
                                effective_date=DAY, key=f"V-{prefix}")
            side.update(roll=roll.code, transfer=pending.id, village=village, county=county)
    with transaction(factory) as s:
        for username in [u.username for u in s.query(regions.User).all()]:
            auth.set_password(s, None, _user(s, username), PASSWORD)
    sign_checkpoint(world, scene)
    return scene


def sign_checkpoint(world, scene: Scene) -> None:
    """Sign the log as it is now and have village and township cosign (the quorum)."""
    if scene.log_signer is None:
        scene.log_signer = KINDS["log"].generate(ORIGIN)
        scene.cosigners = {who: generate_cosigner(f"{who}.example")
                           for who in ("village", "township", "county")}
        lines = [f"log {scene.log_signer.vkey}"]
        lines += [f"witness {who} {c.vkey}" for who, c in scene.cosigners.items()]
        lines += ["group sign-off 2 village township county", "quorum sign-off"]
        scene.policy_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        cps.sign(s, scene.log_signer)
        for who in ("village", "township"):
            cps.cosign_latest(s, scene.cosigners[who], [verifier_from_vkey(scene.log_signer.vkey)],
                              scene.policy_file.with_name(f"{who}.state"),
                              fresh=not scene.policy_file.with_name(f"{who}.state").exists())


def roll_proof(world, scene: Scene):
    """The proof a printed notice of the own county's roll carries: the entry that created
    the roll, against the newest checkpoint with its cosignatures."""
    from sqlalchemy import select

    from ledger.audit.log import entry_bytes
    from ledger.audit.tlog import proofs
    from ledger.models import PaymentRoll
    with world.factory() as s:
        use_log(s, ORIGIN)
        index = s.execute(select(PaymentRoll.log_index).where(
            PaymentRoll.code == scene.own["roll"])).scalar_one()
        note = cps.with_cosignatures(s, cps.latest(s))
        return proofs.build_proof(index, note, cps.node_reader(s), extra=entry_bytes(s, index))
