"""The village page keeps each roll's QR payload per process (web.proofcheck.entry_qr_payload):
the page must link exactly the payload built afresh, and a new checkpoint or cosignature must
give the new proof, never the remembered one."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from ledger.audit import checkpoints as cps
from ledger.models import PaymentRoll
from tests.web.scene import sign_checkpoint
from web import proofcheck


def _linked(browser, village) -> str:
    html = browser().get(f"/village/{village}").get_data(as_text=True)
    link = re.search(r'href="(/verify\?p=[^"]+)"', html).group(1).replace("&amp;", "&")
    return parse_qs(urlsplit(link).query)["p"][0]


def _fresh(world, roll_code) -> str:
    with world.factory() as s:
        index = s.execute(select(PaymentRoll.log_index)
                          .where(PaymentRoll.code == roll_code)).scalar_one()
        return proofcheck.qr_payload(proofcheck.entry_proof(s, index))


def test_the_page_links_the_payload_built_afresh_before_and_after_a_new_checkpoint(
        app, scene, browser, world):
    proofcheck._PAYLOADS.clear()
    village, roll = scene.own["village"], scene.own["roll"]
    first = _linked(browser, village)
    assert first == _fresh(world, roll)
    assert _linked(browser, village) == first          # remembered: the same text
    assert len(proofcheck._PAYLOADS) >= 1
    time.sleep(1.1)  # cosignatures carry a timestamp in seconds; Ed25519 is deterministic, so
    sign_checkpoint(world, scene)  # within one second the same log gives the same text
    second = _linked(browser, village)
    assert second == _fresh(world, roll) and second != first


def test_a_new_cosignature_on_the_same_checkpoint_is_a_new_payload(app, scene, browser, world):
    from ledger.audit.checkpoint import verifier_from_vkey
    from ledger.db import transaction
    proofcheck._PAYLOADS.clear()
    village, roll = scene.own["village"], scene.own["roll"]
    before = _linked(browser, village)
    time.sleep(1.1)
    with transaction(world.factory) as s:
        s.info["log_origin"] = scene_origin()
        cps.cosign_latest(s, scene.cosigners["county"],
                          [verifier_from_vkey(scene.log_signer.vkey)],
                          scene.policy_file.with_name("county.state"))
    after = _linked(browser, village)
    assert after == _fresh(world, roll) and after != before


def scene_origin() -> str:
    from tests.web.scene import ORIGIN
    return ORIGIN
