"""A policy file that is there but cannot be used fails closed, on every page that needs it.

Regression: the web's loader returned None for a corrupt policy file, and None means "no
policy": verification skipped every signature and quorum check and the auditor's page said
完整 (intact), while `fundtrail verify` exits 2 on the same file. The public checks said the
server had published no keys. Now the audit page says the log is not verified and why, and
the public checks, keys and printed notices answer 503 without checking anything.
"""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from ledger.audit.tlog import proofs
from tests.web.scene import roll_proof

CORRUPT = "log this-is-not-a-key\n"


def _break(policy_file, how: str) -> None:
    if how == "corrupt":
        policy_file.write_text(CORRUPT, encoding="utf-8")
    elif how == "not utf-8":
        policy_file.write_bytes(b"log \xff\xfe\n")
    else:  # unreadable: a directory where the file should be
        policy_file.unlink()
        policy_file.mkdir()


HOW = ["corrupt", "not utf-8", "unreadable"]


@pytest.mark.parametrize("how", HOW)
def test_the_audit_page_never_says_intact_without_a_usable_policy(app, scene, browser, how):
    _break(scene.policy_file, how)
    auditor = browser("auditor")
    r = auditor.post("/audit/verify", token_from="/login")
    html = r.get_data(as_text=True)
    assert "完整" not in html
    assert r.status_code == 409 and "未能验证" in html
    assert str(scene.policy_file) in html  # the reason names the file
    if how == "corrupt":
        assert "policy line 1" in html
    page = auditor.get("/audit/")
    assert page.status_code == 200
    assert 'id="policy-problem"' in page.get_data(as_text=True)


@pytest.mark.parametrize("how", HOW)
def test_the_bundle_is_not_written_without_a_usable_policy(app, scene, browser, how):
    _break(scene.policy_file, how)
    auditor = browser("auditor")
    r = auditor.post("/audit/bundle", token_from="/audit/")
    assert r.status_code == 302 and r.mimetype != "application/zip"
    assert "策略文件无法使用" in auditor.get("/audit/").get_data(as_text=True)


@pytest.mark.parametrize("how", HOW)
def test_public_checks_fail_closed_without_a_usable_policy(app, scene, browser, world, how):
    proof = roll_proof(world, scene)
    payload = quote(proofs.base45_encode(proofs.encode_compact(proof)), safe="")
    visitor = browser()
    village = visitor.get(f"/village/{scene.own['village']}").get_data(as_text=True)
    link = re.search(r'href="(/verify\?entry=[^"]+)"', village).group(1).replace("&amp;", "&")
    _break(scene.policy_file, how)
    for url in (f"/verify?p={payload}", link, "/keys.txt",
                f"/village/{scene.own['village']}/roll/{scene.own['roll']}.pdf"):
        r = visitor.get(url)
        html = r.get_data(as_text=True)
        assert r.status_code == 503, (url, r.status_code)
        assert "核验通过" not in html and "无法读取" in html, url
        assert str(scene.policy_file) not in html  # the path is for the operator's log
    r = visitor.post("/verify", {"proof": proofs.encode_text(proof)}, token_from="/login")
    assert r.status_code == 503 and "核验通过" not in r.get_data(as_text=True)


def test_without_a_policy_file_the_audit_page_says_signatures_are_not_checked(
        app, scene, browser):
    """No file at all is what `fundtrail verify` accepts too (nothing published yet): the
    rows and the tree are checked, and the page says the signatures were not."""
    scene.policy_file.unlink()
    auditor = browser("auditor")
    r = auditor.post("/audit/verify", token_from="/audit/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "完整" in html
    assert 'id="policy-missing"' in html
