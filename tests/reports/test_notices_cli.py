"""The whole workflow of a public notice from the command line, on SQLite and PostgreSQL:
publish (an audit entry) → sign and cosign → print → read the paper back (text and QR)."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.audit.log import entry_bytes
from ledger.audit.tlog import proofs
from ledger.core.idcard import mask
from ledger.disclosure.notices import check_qr_payload
from ledger.store.db import transaction
from tests.reports import pdftools, scenario
from tests.world import COUNTY, VILLAGE


@pytest.fixture
def ft(cli, db_url, world, monkeypatch, tmp_path):
    monkeypatch.setenv("FUNDTRAIL_SIGNING_PASSPHRASE", scenario.PASSPHRASE)
    sc = scenario.build(world, tmp_path, households=30)

    run = cli
    run.sc = sc
    return run


def sign_and_cosign(ft):
    assert ft("checkpoint", "sign")[0] == 0
    for who in ("village", "county"):
        code, _, err = ft("checkpoint", "cosign", "--key", f"keys/{who}.key", "--state",
                          f"keys/{who}.state", *([] if Path(f"keys/{who}.state").exists()
                                                 else ["--fresh"]))
        assert code == 0, err


NOTICE = ["--village", VILLAGE, "--project", "P-001"]


def test_publish_sign_print_and_read_back_a_project_notice(ft, tmp_path):
    code, _, err = ft("report", "village-notice", *NOTICE, "-o", "n.pdf")
    assert code == 2 and "report publish village-notice" in err  # nothing published yet

    code, out, err = ft("--as", "k_clerk", "report", "publish", "village-notice", *NOTICE,
                        "--from", "2024-03-20", "--json")
    assert code == 0, err
    published = json.loads(out)
    assert published["display_to"] == "2024-03-29"  # 10 days from config, both ends counted
    code, _, err = ft("report", "village-notice", *NOTICE, "-o", "n.pdf")
    assert code == 2 and "checkpoint sign" in err  # no checkpoint covers the entry yet

    assert ft("checkpoint", "sign")[0] == 0
    code, _, err = ft("report", "village-notice", *NOTICE, "-o", "n.pdf")
    assert code == 2 and "checkpoint cosign" in err  # signed, but the quorum is not met
    for who in ("village", "county"):
        assert ft("checkpoint", "cosign", "--key", f"keys/{who}.key", "--state",
                  f"keys/{who}.state", "--fresh")[0] == 0

    code, out, err = ft("report", "village-notice", *NOTICE, "-o", "n.pdf", "--json")
    assert code == 0, err
    printed = json.loads(out)
    pdf = tmp_path / "n.pdf"
    assert printed["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert printed["log_index"] == published["log_index"]

    text = pdftools.text(pdf)
    for needed in ["松雅村扶贫项目公示", "生猪养殖", "P-001", "项目地点", "星沙镇松雅村三组",
                   "建设内容及规模", "1200 平方米", "补助标准", "每平方米补助 150 元",
                   "资金来源及金额", "中央", "财农〔2024〕12号", "200,000.00", "贰拾万元整",
                   "实施期限", "2024年4月1日 至 2024年10月31日", "实施单位",
                   "长沙县松雅生猪养殖专业合作社", "周建国", "绩效目标", "年出栏生猪 2000 头",
                   "带贫减贫机制", "保底分红", "公示期", "2024年3月20日 至 2024年3月29日",
                   "共 10 天", "监督举报电话", "0731-8400 0000", "12317", "发布单位",
                   "长沙县星沙镇松雅村村民委员会", scenario.ORIGIN, "扫码核验"]:
        assert pdftools.flat(needed) in pdftools.flat(text), needed
    assert pdftools.pages(pdf) == 1

    # the QR read off the rendered page proves the printed rows are the ledger's
    qr = pdftools.qr_text(pdftools.png(pdf, 1))
    assert qr, "zbar found no QR code on the page"
    with transaction(ft.sc.world.factory) as s:
        result = check_qr_payload(qr, ft.sc.policy, session=s)
    assert result.ok, result.problems
    assert result.index == published["log_index"] and result.rows_digest == \
        published["rows_digest"]
    assert set(result.witnesses) == {"village", "county"}
    assert result.root_hex[:4] in text  # the printed fingerprint names the same root
    code, out, _ = ft("report", "check-qr", qr)
    assert code == 0 and out.startswith("verified")

    # the QR is a link to the verify page ([web] public_url) carrying the whole proof
    assert qr.startswith("http://127.0.0.1:8080/v#"), qr[:60]
    # the standalone verifier accepts the proof carried by the QR, knowing nothing else: the
    # link as zbar read it, and the compact proof decoded from it
    (tmp_path / "qr.txt").write_text(qr, encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "ledger.audit.tlog.verify_proof",
                            str(tmp_path / "qr.txt"), "--policy", "keys/policy.txt"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    (tmp_path / "qr.proof").write_bytes(proofs.base45_decode(proofs.link_payload(qr)))
    check = subprocess.run([sys.executable, "-m", "ledger.audit.tlog.verify_proof",
                            str(tmp_path / "qr.proof"), "--policy", "keys/policy.txt"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr

    # the same data prints the same bytes; with --as the hash goes into the log
    code, out, _ = ft("--as", "k_clerk", "report", "village-notice", *NOTICE, "-o", "again.pdf",
                      "--json")
    assert code == 0 and (tmp_path / "again.pdf").read_bytes() == pdf.read_bytes()
    with transaction(ft.sc.world.factory) as s:
        from ledger.audit.entries import decode_entry
        logged = decode_entry(entry_bytes(s, json.loads(out)["print_entry"]))
    assert logged["kind"] == "notice.printed"
    assert logged["details"]["pdf_sha256"] == printed["sha256"]
    # a newer checkpoint gives a newer proof; the logged checkpoint size reprints the old paper
    sign_and_cosign(ft)
    assert ft("report", "village-notice", *NOTICE, "-o", "newer.pdf")[0] == 0
    assert (tmp_path / "newer.pdf").read_bytes() != pdf.read_bytes()
    code, _, err = ft("report", "village-notice", *NOTICE, "-o", "old.pdf", "--checkpoint",
                      logged["details"]["checkpoint_size"])
    assert code == 0, err
    assert hashlib.sha256((tmp_path / "old.pdf").read_bytes()).hexdigest() == printed["sha256"]
    # and the ledger, new tables included, still verifies row by row
    assert ft("verify")[0] == 0


def test_a_board_roll_masks_numbers_and_its_page_totals_add_up(ft, tmp_path):
    sc = ft.sc
    args = ["--village", VILLAGE, "--roll", scenario.ROLL]
    code, out, _ = ft("--as", "k_clerk", "report", "publish", "payment-roll", *args, "--json")
    assert code == 0 and json.loads(out)["display_from"] == "2024-03-18"  # from roll publish
    sign_and_cosign(ft)
    code, out, err = ft("report", "payment-roll", *args, "-o", "roll.pdf", "--json")
    assert code == 0, err
    pdf = tmp_path / "roll.pdf"
    count = pdftools.pages(pdf)
    assert count >= 3  # 30 households do not fit one sheet

    whole = pdftools.text(pdf)
    digits = re.sub(r"\s", "", whole)
    for number in sc.ids + sc.cards:
        assert number not in digits  # not even split across a line break
    assert not re.search(r"\d{12,}", digits.replace("0731-8400", ""))
    assert mask(sc.ids[0], 4, 4) in whole and mask(sc.cards[0], 6, 4) in whole
    assert "赵秀英" in whole and "产业奖补" in whole and "500.00" in whole
    assert f"{scenario.ROLL}:1" in whole  # how to name a line in a complaint
    assert "银行退票" in whole and "已发放2024-03-29" in pdftools.flat(whole)

    subtotals, running = [], []
    for page in range(1, count + 1):
        text = pdftools.text(pdf, page)
        assert "身份证号" in text and "金额（元）" in text  # headers repeat on every page
        subtotals += [int(m.replace(",", "").replace(".", "")) for m in
                      re.findall(r"本页小计\s+([\d,]+\.\d\d)", text)]
        running += re.findall(r"(?:累计至本页|本村合计)\s+([\d,]+\.\d\d)", text)
    assert len(subtotals) == count
    total = sum((1 + n % 3) * 500_00 for n in range(len(sc.households)))
    assert sum(subtotals) == total
    assert running[-1] == f"{total // 100:,}.00"
    assert "大写" in whole

    qr = pdftools.qr_text(pdftools.png(pdf, count))
    with transaction(sc.world.factory) as s:
        assert check_qr_payload(qr, sc.policy, session=s).ok


def test_county_batch_publishes_and_prints_everything_with_a_manifest(ft, tmp_path):
    code, out, err = ft("--as", "k_clerk", "report", "publish", "county-batch", "--county",
                        COUNTY, "--year", "2024", "--from", "2024-03-20", "--json")
    assert code == 0, err
    assert len(json.loads(out)) == 3  # the project notice, the roll, the annual report
    code, _, err = ft("report", "county-batch", "--county", COUNTY, "--year", "2024", "-o",
                      "out")
    assert code == 1 and "NOT PRINTED" in _  # published but no checkpoint yet
    code, out, err = ft("report", "county-batch", "--county", COUNTY, "--year", "2024", "-o",
                        "out", "--jobs", "2", "--json")
    assert code == 1 and len(json.loads(out)["problems"]) == 3  # so in worker processes too
    sign_and_cosign(ft)
    # what a batch killed outright (SIGKILL: no `finally`) would have left behind
    (tmp_path / "out" / f"roll-{scenario.ROLL}-{VILLAGE}.pdf.4242.tmp").write_bytes(b"%PDF-")
    (tmp_path / "out" / f".roll-{scenario.ROLL}-{VILLAGE}.pdf.4242.tmp").write_bytes(b"%PDF-")
    code, out, err = ft("report", "county-batch", "--county", COUNTY, "--year", "2024", "-o",
                        "out", "--jobs", "1", "--json")
    assert code == 0, err
    written = json.loads(out)["written"]
    # every file written whole: no temporary file is left beside them
    assert not [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    (tmp_path / "out" / f"roll-{scenario.ROLL}-{VILLAGE}.pdf.4242.tmp").unlink()  # not ours
    assert sorted(w["file"] for w in written) == sorted(
        [f"notice-P-001-{VILLAGE}.pdf", f"roll-{scenario.ROLL}-{VILLAGE}.pdf",
         f"annual-{COUNTY}-2024.pdf"])
    sums = (tmp_path / "out" / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((tmp_path / "out" / name).read_bytes()).hexdigest() == digest
    assert "份" in err  # the progress bar went to stderr
    # in two processes, each with its own connection: the same files, the same bytes
    code, out, err = ft("report", "county-batch", "--county", COUNTY, "--year", "2024", "-o",
                        "out2", "--jobs", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["written"] == written
    assert (tmp_path / "out2" / "SHA256SUMS").read_bytes() == \
        (tmp_path / "out" / "SHA256SUMS").read_bytes()
    assert "份" in err
    # and by default with as many processes as there are cores: the same again
    code, out, err = ft("report", "county-batch", "--county", COUNTY, "--year", "2024", "-o",
                        "out3", "--json")
    assert code == 0, err
    assert (tmp_path / "out3" / "SHA256SUMS").read_bytes() == \
        (tmp_path / "out" / "SHA256SUMS").read_bytes()


def test_a_household_card_shows_the_households_own_details(ft, tmp_path):
    sc = ft.sc
    code, _, err = ft("report", "household-card", "--household", sc.households[0], "--year",
                      "2024", "-o", "card.pdf")
    assert code == 0, err
    text = pdftools.text(tmp_path / "card.pdf")
    for needed in ["明白卡", "赵秀英", "建档立卡贫困户", "1 人", "产业奖补", "2024-03-29",
                   "500.00", "尾号 0000", "小额信贷", "长沙县农商银行", "30,000.00", "2027-01-31",
                   "刘帮扶",
                   "0731-8400 1234", "0731-8400 5678", "12317", sc.ids[0]]:
        assert pdftools.flat(needed) in pdftools.flat(text), needed
    assert ft("report", "household-card", "--household", sc.households[1], "--year", "2024",
              "-o", "card2.pdf")[0] == 0
    other = pdftools.text(tmp_path / "card2.pdf")
    assert "未登记小额信贷" in other and "帮扶责任人" in other


def test_recording_details_needs_a_clerk_in_scope_and_every_field(ft):
    base = ["report", "project-details", "P-001", "--village", VILLAGE, "--place", "x",
            "--content", "x", "--standard", "x", "--start", "2024-04-01", "--end",
            "2024-05-01", "--implementer", "x", "--responsible", "x", "--targets", "x",
            "--benefit", "x", "--phone", "1", "--issuer", "x"]
    code, _, err = ft("--as", "k2_clerk", *base)
    assert code == 2 and "may not record" in err
    code, _, err = ft("--as", "k_clerk", *base[:-1], " ")
    assert code == 2 and "issuing unit" in err
    code, _, err = ft("--as", "k_clerk", *[a if a != "2024-05-01" else "2024-03-01"
                                           for a in base])
    assert code == 2 and "ends" in err
    assert ft("--as", "k_clerk", *base)[0] == 0
