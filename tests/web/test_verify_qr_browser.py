"""A villager scans the QR of a printed roll and their phone checks it (web/views/verify.py,
web/static/notice-check.js).

The app runs under waitress on 127.0.0.1 with `[web] public_url` set to its own address. The
notice PDF is fetched from the village page's link, its last page rasterised with pdftoppm and
the QR read with zbarimg: the text is a link to /v whose fragment carries the proof. Chromium
opens that link at 390×844 (a phone) and 1366×768 with every server-side verify endpoint
(`/verify…`) blocked and Web Crypto taken away (as on a phone over plain http): the page still
says 核验通过, so the browser checked the signatures, the quorum and the inclusion itself. A
proof changed in the fragment, a policy asking for more cosigners, and one amount changed in
the rows the server answers each give 核验未通过. Screenshots: test-artifacts/verify-qr/.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import urllib.request

import pytest

from ledger.audit.tlog import proofs
from ledger.audit.tlog.policy import parse_policy
from ledger.disclosure import notices
from ledger.models.disclosure import NoticeKind
from ledger.org import regions
from ledger.store.context import use_log
from ledger.store.db import transaction
from tests.reports import pdftools
from tests.web.browser import ARTIFACTS, SQLITE_ONLY, serving, shot
from tests.web.conftest import make_settings
from tests.web.scene import ORIGIN, PUBLISHED, sign_checkpoint
from web.app import create_app

pytestmark = SQLITE_ONLY   # the browser layer on SQLite (tests/web/browser.py)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def server(db_url, scene):
    # The QR names the server's address, known once it listens (browser.serving).
    settings = make_settings(db_url, scene)

    def make(base):
        return create_app(dataclasses.replace(
            settings, ledger=dataclasses.replace(settings.ledger, public_url=base)))
    with serving(make) as base:
        yield base


def _publish_roll_notice(world, scene) -> None:
    subject = {"roll": scene.own["roll"], "village": scene.own["village"], "names": "full"}
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        clerk = regions.get_user(s, "k_clerk")
        notices.record_contact(s, clerk, region_code=scene.own["county"],
                               office="长沙县乡村振兴局", phone="0731-12345678")
        notices.publish(s, clerk, NoticeKind.ROLL, subject, PUBLISHED,
                        notices.roll_window(PUBLISHED, 7))
    sign_checkpoint(world, scene)


def _scan_printed_notice(base: str, scene, tmp_path, db: str) -> str:
    """The QR's text, read by zbar from the last page of the PDF the village page links (the
    page image is kept beside the screenshots)."""
    url = f"{base}/village/{scene.own['village']}/roll/{scene.own['roll']}.pdf"
    with urllib.request.urlopen(url, timeout=60) as response:
        pdf = tmp_path / "roll.pdf"
        pdf.write_bytes(response.read())
    page = pdftools.png(pdf, pdftools.pages(pdf), dpi=150)
    (ARTIFACTS / "verify-qr").mkdir(parents=True, exist_ok=True)
    shutil.copy(page, ARTIFACTS / "verify-qr" / f"{db}-printed-roll-150dpi.png")
    return pdftools.qr_text(page)


def _open(chromium, link: str, viewport: dict, rows_body=None, policy_text=None):
    """The link in a fresh page of `viewport`; every server-side verify endpoint is refused,
    and the requests the page made are returned with it."""
    context = chromium.new_context(viewport=viewport, locale="zh-CN")
    # A phone on plain http has no secure context, so no Web Crypto: take it away here too
    # (127.0.0.1 counts as secure), so that the check runs on the vendored noble code alone.
    context.add_init_script("Object.defineProperty(Crypto.prototype, 'subtle', "
                            "{get: () => undefined, configurable: true})")
    page = context.new_page()
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.route("**/verify**", lambda route: route.abort())
    if policy_text is not None:
        page.route("**/policy.txt", lambda route: route.fulfill(
            status=200, content_type="text/plain; charset=utf-8", body=policy_text))
    if rows_body is not None:
        page.route("**/v/rows/*.json", lambda route: route.fulfill(
            status=200, content_type="application/json", body=rows_body(route)))
    page.goto(link)
    page.wait_for_selector("#check[data-done='1']", timeout=30_000)
    return page, asked


def _verdict(page) -> tuple[str, str, str]:
    return (page.get_attribute("#verdict", "data-state"), page.inner_text("#verdict-word"),
            page.inner_text("#verdict-why"))


def _tampered(link: str) -> str:
    """The link with one character of the entry's rows digest changed: the QR of a notice
    whose rows (an amount) are not the ones the log holds."""
    head, fragment = link.split("#", 1)
    proof = proofs.decode_link(link)
    entry = bytearray(proof.extra)
    at = bytes(entry).index(b"rows_digest") + len(b"rows_digest") + 2   # key, text header
    entry[at] = ord("0") if entry[at] != ord("0") else ord("1")
    changed = dataclasses.replace(proof, extra=bytes(entry))
    return proofs.proof_link(head[:-len(proofs.LINK_PATH)], proofs.encode_compact(changed))


def test_a_phone_checks_the_printed_qr_without_asking_the_server(server, chromium, scene, world,
                                                                 db_url, tmp_path):
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    _publish_roll_notice(world, scene)
    link = _scan_printed_notice(server, scene, tmp_path, db)
    assert link.startswith(f"{server}/v#"), link[:80]
    assert proofs.decode_link(link).extra   # the whole proof, the entry with it
    printed_fingerprint = parse_policy(scene.policy_file.read_bytes()).keys_fingerprint()
    assert printed_fingerprint in pdftools.flat(pdftools.text(tmp_path / "roll.pdf"))

    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page, asked = _open(chromium, link, viewport)
        state, word, why = _verdict(page)
        assert (state, word) == ("pass", "核验通过"), (state, word, why)
        assert page.evaluate("crypto.subtle === undefined")
        assert not [u for u in asked if "/verify" in u]
        assert any("/v/rows/" in u for u in asked) and any("/policy.txt" in u for u in asked)
        # the rows as printed: the roll's lines, amounts in 元 with separators, the total
        text = page.inner_text("#notice")
        assert "本村合计" in text and "发放清册" in text and "元" in text
        assert page.locator("#notice table.rows tbody tr").count() >= 2
        signers = page.inner_text("#signer-list")
        assert "village" in signers and "township" in signers and "北京时间" in signers
        # the keys the phone used, by the fingerprint printed beside the QR
        assert page.inner_text("#keys-fingerprint") == printed_fingerprint
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], (name, width)
        shot(page, "verify-qr", f"{name}-pass", db)
        page.context.close()

    # A proof changed in the fragment: the entry is no longer the one in the signed tree.
    page, _ = _open(chromium, _tampered(link), PHONE)
    state, word, why = _verdict(page)
    assert (state, word) == ("fail", "核验未通过") and "不在签名的日志中" in why, why
    shot(page, "verify-qr", "phone-tampered-proof", db)
    page.context.close()

    # A policy that asks every cosigner (only two signed): the quorum is checked in the browser.
    policy = scene.policy_file.read_text(encoding="utf-8")
    assert "group sign-off 2 " in policy
    page, _ = _open(chromium, link, PHONE,
                    policy_text=policy.replace("group sign-off 2 ", "group sign-off all "))
    assert _verdict(page)[:2] == ("fail", "核验未通过") and "联合签名人数不够" in _verdict(page)[2]
    page.context.close()

    # The server answers the notice's rows with one amount changed: they do not hash to the
    # digest the signed entry commits to.
    def changed_amount(route) -> bytes:
        with urllib.request.urlopen(route.request.url, timeout=60) as response:
            content = json.loads(response.read())
        row = content["tables"][0]["rows"][0]
        row[-2] = "9,999.00"   # 金额（元）
        return json.dumps(content, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode()
    page, _ = _open(chromium, link, PHONE, rows_body=changed_amount)
    state, word, why = _verdict(page)
    assert (state, word) == ("fail", "核验未通过") and "不一致" in why, why
    assert "9,999.00" in page.inner_text("#notice")   # shown, and marked as not the notice's
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "verify-qr", "phone-rows-changed", db)
    page.context.close()

    # The language switch keeps the proof (the fragment) and checks it again.
    page, _ = _open(chromium, link, PHONE)
    page.click("a[href*='/lang/en']")
    page.wait_for_selector("#check[data-done='1']", timeout=30_000)
    assert "#" in page.url and _verdict(page)[:2] == ("pass", "Verified")
    assert "Beijing time" in page.inner_text("#signer-list")
    shot(page, "verify-qr", "phone-english", db)
    page.context.close()


def test_the_village_pages_check_link_opens_the_browser_check_of_the_printed_roll(
        app, browser, world, scene):
    """核验此清册 on the village page leads where the printed QR leads: the browser check,
    with the proof of the roll's newest notice in the link's fragment (303 to /v#…)."""
    _publish_roll_notice(world, scene)
    page = browser().get(f"/village/{scene.own['village']}").get_data(as_text=True)
    link = f"/v/village/{scene.own['village']}/roll/{scene.own['roll']}"
    assert link in page
    answer = browser().get(link)
    assert answer.status_code == 303
    target = answer.headers["Location"]
    assert target.startswith("/v#")
    proof = proofs.decode_link(target)
    with world.factory() as s:
        subject = notices.subject_text(roll=scene.own["roll"], village=scene.own["village"],
                                       names="full")
        notice = notices.latest_notice(s, NoticeKind.ROLL, subject)
    assert proof.index == notice.log_index
    # a roll this village has no notice of has nothing to check yet
    assert browser().get(f"/v/village/{scene.own['village']}/roll/NO-SUCH").status_code == 404
