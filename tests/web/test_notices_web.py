"""Published notices on the public pages: the PDF from reports/, and the QR check of the
printed rows (ledger.disclosure.notices.check_qr_payload)."""
from __future__ import annotations

import re
from urllib.parse import quote

from ledger.audit.tlog.policy import parse_policy
from ledger.disclosure import notices
from ledger.models.disclosure import NoticeKind
from ledger.org import regions
from ledger.store.context import use_log
from ledger.store.db import transaction
from tests.web.scene import ORIGIN, PUBLISHED, sign_checkpoint


def _publish_roll_notice(world, scene) -> dict:
    subject = {"roll": scene.own["roll"], "village": scene.own["village"], "names": "full"}
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        clerk = regions.get_user(s, "k_clerk")
        notices.record_contact(s, clerk, region_code=scene.own["county"], office="长沙县乡村振兴局",
                               phone="0731-12345678")
        notices.publish(s, clerk, NoticeKind.ROLL, subject,
                        PUBLISHED, notices.roll_window(PUBLISHED, 7))
    sign_checkpoint(world, scene)
    return subject


def test_village_page_links_the_printed_roll_and_its_qr_checks_the_rows(app, scene, browser,
                                                                        world):
    subject = _publish_roll_notice(world, scene)
    visitor = browser()
    html = visitor.get(f"/village/{scene.own['village']}").get_data(as_text=True)
    pdf_link = re.search(r'href="(/village/[^"]+\.pdf)"', html).group(1)
    r = visitor.get(pdf_link)
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data[:4] == b"%PDF"
    with world.factory() as s:
        use_log(s, ORIGIN)
        printable = notices.printable(s, NoticeKind.ROLL, subject,
                                      parse_policy(scene.policy_file.read_bytes()))
    r = visitor.get("/verify?p=" + quote(printable.qr_text, safe=""))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "打印的各行与日志承诺的一致" in html, html[-1500:]
    assert visitor.get(f"/village/{scene.other['village']}/roll/{scene.own['roll']}.pdf") \
        .status_code == 404
