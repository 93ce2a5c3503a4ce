"""Auditor pages and public pages: verification, bundle, proofs, the village board, QR checks."""
from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import quote

from sqlalchemy import text

from ledger.audit.tlog import proofs
from ledger.audit.tlog.verify_bundle import main as verify_bundle_main
from tests.web.scene import ORIGIN, roll_proof


def test_auditor_verifies_and_downloads_the_bundle(app, scene, browser, tmp_path):
    b = browser("auditor")
    html = b.get("/audit/").get_data(as_text=True)
    assert "village" in html and "township" in html and "达到法定签名数" in html
    r = b.post("/audit/verify", token_from="/audit/")
    assert r.status_code == 200 and "完整" in r.get_data(as_text=True)
    r = b.post("/audit/bundle", token_from="/audit/")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    zipfile.ZipFile(io.BytesIO(r.data)).extractall(tmp_path / "dl")
    assert verify_bundle_main([str(tmp_path / "dl" / "bundle"),
                               "--policy", str(scene.policy_file)]) == 0
    r = b.get("/audit/proof/3.txt")
    assert r.status_code == 200 and r.get_data(as_text=True).startswith(proofs.HEADER)


def test_verification_names_a_row_changed_behind_the_ledgers_back(app, scene, browser, world):
    with world.factory() as s:
        # Someone with database access removes the guard and edits a roll line.
        s.execute(text("DROP TRIGGER IF EXISTS roll_lines_append_only ON roll_lines")
                  if s.get_bind().dialect.name == "postgresql"
                  else text("DROP TRIGGER IF EXISTS roll_lines_no_update"))
        s.execute(text("UPDATE roll_lines SET amount_fen = 99900 WHERE line_no = 1"))
        s.commit()
    r = browser("auditor").post("/audit/verify", token_from="/audit/")
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "发现问题" in html and "roll_lines" in html


def test_village_page_shows_the_board_with_masking(app, scene, browser):
    html = browser().get(f"/village/{scene.own['village']}").get_data(as_text=True)
    assert scene.own["roll"] in html and "张k1" in html and "王k2" in html
    assert "****1123" in html and "6222021" not in html  # card numbers masked
    assert scene.other["roll"] not in html and "张k21" not in html
    assert "生猪养殖" in html  # the county's approved project
    assert browser().get("/village/430121").status_code == 404  # a county is not a village


def test_public_verification_of_a_qr_payload_and_a_pasted_proof(app, scene, browser, world):
    proof = roll_proof(world, scene)
    payload = proofs.base45_encode(proofs.encode_compact(proof))
    visitor = browser()
    r = visitor.get("/verify?p=" + quote(payload, safe=""))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "核验通过" in html
    assert "village" in html and "township" in html and "k_clerk" in html
    assert "清册行" in html and "KH-1" in html and "500.00 元" in html and "户编码" in html
    r = visitor.post("/verify", {"proof": proofs.encode_text(proof)}, token_from="/verify")
    assert r.status_code == 200 and "核验通过" in r.get_data(as_text=True)
    r = visitor.post("/verify", {"proof": f"https://example.org/verify?p={quote(payload)}"},
                     token_from="/verify")
    assert r.status_code == 200 and "核验通过" in r.get_data(as_text=True)


def test_a_forged_proof_is_refused_in_plain_words(app, scene, browser, world):
    proof = roll_proof(world, scene)
    forged_entry = proof.extra.replace("产业奖补".encode(), "产业奖金".encode())
    forged = proofs.TlogProof(proof.index, proof.path, proof.checkpoint_note, forged_entry)
    visitor = browser()
    r = visitor.get("/verify?p=" + quote(proofs.base45_encode(proofs.encode_compact(forged))))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "不在日志中" in html
    r = visitor.post("/verify", {"proof": "hello"}, token_from="/verify")
    assert r.status_code == 422 and "无法识别" in r.get_data(as_text=True)
    note = proof.checkpoint_note
    sig_lines = note.rstrip("\n").split("\n")
    without_cosigners = "\n".join(sig_lines[:-2]) + "\n"
    weak = proofs.TlogProof(proof.index, proof.path, without_cosigners, proof.extra)
    r = visitor.post("/verify", {"proof": proofs.encode_text(weak)}, token_from="/verify")
    assert r.status_code == 422 and "签名" in r.get_data(as_text=True)


def test_keys_policy_checkpoint_as_plain_text(app, scene, browser):
    visitor = browser()
    keys = visitor.get("/keys.txt")
    assert keys.mimetype == "text/plain" and keys.get_data(as_text=True).startswith("log ")
    assert "witness village" in keys.get_data(as_text=True)
    policy = visitor.get("/policy.txt").get_data(as_text=True)
    assert policy == scene.policy_file.read_text(encoding="utf-8")
    checkpoint = visitor.get("/checkpoint.txt").get_data(as_text=True)
    assert checkpoint.startswith(ORIGIN + "\n") and re.search(r"— village\.example ", checkpoint)


def test_the_village_page_links_each_signed_roll_to_its_verification(app, scene, browser):
    visitor = browser()
    html = visitor.get(f"/village/{scene.own['village']}").get_data(as_text=True)
    link = re.search(r'href="(/verify\?entry=[^"]+)"', html).group(1).replace("&amp;", "&")
    r = visitor.get(link)
    assert r.status_code == 200 and "核验通过" in r.get_data(as_text=True)
    assert "逐行一致" in r.get_data(as_text=True)
    assert scene.own["roll"] in r.get_data(as_text=True)
