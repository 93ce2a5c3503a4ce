"""`/v/rows/<entry>.json`: a notice's rows as the server's database gives them now, the bytes the
QR's page hashes against the signed digest (web/views/verify.py)."""
from __future__ import annotations

import hashlib

from sqlalchemy import select, text

from ledger.disclosure import notices
from ledger.models import RollLine
from ledger.models.disclosure import NoticeKind
from ledger.org import regions
from ledger.store.context import use_log
from ledger.store.db import transaction
from tests.web.scene import ORIGIN, PUBLISHED


def _publish(world, scene) -> tuple[int, str]:
    subject = {"roll": scene.own["roll"], "village": scene.own["village"], "names": "full"}
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        clerk = regions.get_user(s, "k_clerk")
        notices.record_contact(s, clerk, region_code=scene.own["county"],
                               office="长沙县乡村振兴局", phone="0731-12345678")
        notice = notices.publish(s, clerk, NoticeKind.ROLL, subject, PUBLISHED,
                                 notices.roll_window(PUBLISHED, 7))
        return notice.log_index, notice.rows_digest


def test_the_rows_hash_to_the_signed_digest_until_the_database_is_changed(app, scene, browser,
                                                                          world, db_url):
    index, digest = _publish(world, scene)
    visitor = browser()
    r = visitor.get(f"/v/rows/{index}.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert hashlib.sha256(r.data).hexdigest() == digest
    assert "本村合计" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    # only notice entries: any other number is 404 (the rest of the log is for auditors)
    assert visitor.get(f"/v/rows/{index - 1}.json").status_code == 404
    assert visitor.get("/v/rows/99999999.json").status_code == 404
    # the page itself is the script's frame, allowed its same-origin module only
    page = visitor.get("/v")
    assert page.status_code == 200 and "notice-check.js" in page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    # an amount changed behind the log's back (the append-only trigger dropped, as a DBA
    # could): the rows the server answers no longer hash to the digest the entry commits to
    with world.factory() as s:
        line = s.execute(select(RollLine).order_by(RollLine.id).limit(1)).scalar_one()
        if db_url.startswith("sqlite"):
            s.execute(text("DROP TRIGGER roll_lines_no_update"))
        else:
            s.execute(text("ALTER TABLE roll_lines DISABLE TRIGGER USER"))
        s.execute(text("UPDATE roll_lines SET amount_fen = amount_fen + 100 WHERE id = :id"),
                  {"id": line.id})
        s.commit()
    r = visitor.get(f"/v/rows/{index}.json")
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() != digest
