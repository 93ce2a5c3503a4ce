"""The village page's "核验此清册" link names the roll's log entry and the checkpoint
(`/verify?entry=N&size=M&village=V`); the server builds the proof when it is opened
(web.proofcheck.entry_proof_at, remembered per entry and checkpoint text). A county's roll of
a few hundred lines made the old self-contained link (`?p=`, the entry inside) 60–75 kB, past
the 20,000 characters /verify takes: the link must work whatever the roll's size."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy import select, text

from ledger.audit import checkpoints as cps
from ledger.audit.tlog.checkpoint import verifier_from_vkey
from ledger.core import clock
from ledger.core.pii import PiiVault
from ledger.households import registry as households
from ledger.models import HouseholdStatus, PaymentRoll
from ledger.org import regions
from ledger.rolls import lifecycle as rolls
from ledger.store.context import use_log
from ledger.store.db import transaction
from tests.web.scene import ORIGIN, PUBLISHED, sign_checkpoint
from tests.world import DAY
from web import proofcheck


def _links(browser, village) -> list[str]:
    html = browser().get(f"/village/{village}").get_data(as_text=True)
    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/verify\?[^"]+)"', html)]


def _query(link: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def _index_of(world, roll_code) -> int:
    with world.factory() as s:
        return s.execute(select(PaymentRoll.log_index)
                         .where(PaymentRoll.code == roll_code)).scalar_one()


def test_the_link_names_the_entry_and_the_newest_checkpoint(app, scene, browser, world):
    village, roll = scene.own["village"], scene.own["roll"]
    [link] = _links(browser, village)
    q = _query(link)
    with world.factory() as s:
        use_log(s, ORIGIN)
        size = cps.latest(s).size
    assert q == {"entry": str(_index_of(world, roll)), "size": str(size), "village": village}
    r = browser().get(link)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "核验通过" in html and "逐行一致" in html, html[-2000:]
    assert "KH-1" in html and "KH-2" in html
    proof_file = re.search(r'href="(/verify/proof\.txt\?[^"]+)"', html).group(1)
    r = browser().get(proof_file.replace("&amp;", "&"))
    assert r.status_code == 200 and r.get_data(as_text=True).startswith("c2sp.org/tlog-proof@v1")
    _big_roll(world, scene, 3)   # the log grows; the newest checkpoint covers more
    newer = next(link for link in _links(browser, village)
                 if _query(link)["entry"] == q["entry"])
    assert int(_query(newer)["size"]) > size
    assert browser().get(newer).status_code == 200
    assert browser().get(link).status_code == 200   # the older checkpoint still proves it


def test_a_new_cosignature_is_a_new_proof_not_the_remembered_one(app, scene, browser, world):
    proofcheck._PROOFS.clear()
    index = _index_of(world, scene.own["roll"])
    with world.factory() as s:
        use_log(s, ORIGIN)
        before = proofcheck.entry_proof_at(s, index)
        assert proofcheck.entry_proof_at(s, index) is before   # remembered
    time.sleep(1.1)
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        cps.cosign_latest(s, scene.cosigners["county"],
                          [verifier_from_vkey(scene.log_signer.vkey)],
                          scene.policy_file.with_name("county.state"), fresh=True)
    with world.factory() as s:
        use_log(s, ORIGIN)
        after = proofcheck.entry_proof_at(s, index)
    assert "county.example" in after.checkpoint_note
    assert "county.example" not in before.checkpoint_note


def test_only_published_rolls_can_be_named_by_entry_number(app, scene, browser, world):
    index = _index_of(world, scene.own["roll"])
    visitor = browser()
    for query in (f"entry={index - 1}", f"entry={index + 1}", f"entry={index}&size=1",
                  f"entry={index}&size=999999", "entry=١", "entry=1_0", "entry=-1",
                  f"entry={2**64}"):
        assert visitor.get(f"/verify?{query}").status_code == 404, query
        assert visitor.get(f"/verify/proof.txt?{query}").status_code == 404, query


def _big_roll(world, scene, n: int) -> str:
    """A roll of `n` new households of the scene's village, published, in a cosigned
    checkpoint: one batch registration and one roll entry, as an import would make them."""
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        clerk = regions.get_user(s, "k_clerk")
        households.register_households(s, clerk, vault, [
            households.NewHousehold(code=f"BIG-{i:04d}", village_code=scene.own["village"],
                                    head_name=f"户主{i}", status=HouseholdStatus.REGISTERED,
                                    registered_on=DAY, bank_card=f"6222021{i:012d}")
            for i in range(n)])
        roll = rolls.create_roll(
            s, clerk, code="R-BIG", lot_id=world.lot_id, county_code=scene.own["county"],
            item="产业奖补", function_code="2130505", use_code="household_subsidy",
            standard_fen=100_00, lines=[(f"BIG-{i:04d}", 1 + i % 3) for i in range(n)],
            as_of=PUBLISHED)
        with clock.at(PUBLISHED):
            rolls.publish(s, clerk, roll.code, PUBLISHED)
    sign_checkpoint(world, scene)
    return "R-BIG"


def test_a_roll_too_big_for_a_self_contained_link_verifies_from_the_village_page(
        app, scene, browser, world, db_url):
    code = _big_roll(world, scene, 400)
    index = _index_of(world, code)
    with world.factory() as s:
        use_log(s, ORIGIN)
        old_payload = proofcheck.qr_payload(proofcheck.entry_proof_at(s, index))
    assert len(old_payload) > 20_000   # the old link would have been refused (400)
    link = next(link for link in _links(browser, scene.own["village"])
                if _query(link)["entry"] == str(index))
    assert len(link) < 200
    visitor = browser()
    r = visitor.get(link)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "核验通过" in html
    assert "本村的 400 行" in html and "逐行一致" in html and "BIG-0399" in html
    # still refused
    assert visitor.get("/verify?p=" + quote(old_payload, safe="")).status_code == 400
    # A line changed in the database behind the log's back (the append-only trigger dropped,
    # as a DBA could): the signatures still hold, the lines no longer match the entry.
    with world.factory() as s:
        if db_url.startswith("sqlite"):
            s.execute(text("DROP TRIGGER roll_lines_no_update"))
        else:
            s.execute(text("ALTER TABLE roll_lines DISABLE TRIGGER USER"))
        s.execute(text("UPDATE roll_lines SET amount_fen = amount_fen + 100000 "
                       "WHERE household_code = 'BIG-0007'"))
        s.commit()
    r = visitor.get(link)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "不一致" in html and "BIG-0007" in html
    assert "核验通过" not in html
