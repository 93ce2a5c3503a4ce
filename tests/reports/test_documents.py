"""Public documents from the library side: QR checks that refuse what they must, notices that
stay verifiable as the ledger moves on, type sizes, paper sizes, the annual report, fonts."""
from __future__ import annotations

import datetime as dt
import importlib.util

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.audit import checkpoints as cps
from ledger.audit.log import entry_bytes
from ledger.audit.tlog import proofs
from ledger.audit.tlog.policy import parse_policy
from ledger.disclosure.content import digest, display_name
from ledger.disclosure.notices import (
    check_qr_payload,
    parse_subject,
    printable,
    project_window,
    publish,
    subject_text,
)
from ledger.funds import flows, posting, projects
from ledger.models import ProjectStatus
from ledger.models.disclosure import NoticeKind
from ledger.store.db import transaction
from reports.annual import county_annual_pdf
from reports.fonts import FontError, find_font, register_font
from reports.render import render_public
from tests.reports import pdftools, scenario
from tests.world import DAY


@pytest.fixture
def sc(world, tmp_path):
    built = scenario.build(world, tmp_path, households=8)
    scenario.publish_all(built)
    return built


def _render(sc, tmp_path, kind, subject, name, paper="a4"):
    with transaction(sc.world.factory) as s:
        pdf, info = render_public(s, kind, subject, sc.policy, paper)
    path = tmp_path / name
    path.write_bytes(pdf)
    return path, info


def _qr(sc, kind, subject) -> str:
    with transaction(sc.world.factory) as s:
        return printable(s, kind, subject, sc.policy).qr_text


def test_a_qr_check_refuses_other_rows_other_keys_and_garbage(sc, tmp_path):
    qr = _qr(sc, NoticeKind.PROJECT, scenario.PROJECT_SUBJECT)
    with transaction(sc.world.factory) as s:
        good = check_qr_payload(qr, sc.policy, session=s)
    assert good.ok and good.kind == "project"
    assert parse_subject(good.subject) == scenario.PROJECT_SUBJECT

    altered = {**good.content, "fields": [list(f) for f in good.content["fields"]]}
    altered["fields"][0][1] = "生猪养殖（另一个项目）"
    result = check_qr_payload(qr, sc.policy, content=altered)
    assert result.proof_verified and result.rows_match is False and not result.ok

    proof_only = check_qr_payload(qr, sc.policy)
    assert proof_only.proof_verified and proof_only.rows_match is None and not proof_only.ok

    other_keys = scenario.Scenario(sc.world, tmp_path / "other", [])
    scenario._keys(other_keys)
    assert not check_qr_payload(qr, other_keys.policy).proof_verified

    flipped = qr[:40] + ("0" if qr[40] != "0" else "1") + qr[41:]
    assert not check_qr_payload(flipped, sc.policy).ok
    assert not check_qr_payload("NOT A PROOF", sc.policy).ok

    # a genuine proof of an entry that is not a notice proves nothing about a notice
    with transaction(sc.world.factory) as s:
        note = cps.with_cosignatures(s, cps.latest(s))
        entry = entry_bytes(s, 0)
        proof = proofs.build_proof(0, note, cps.node_reader(s), extra=entry)
    text = proofs.base45_encode(proofs.encode_compact(proof))
    result = check_qr_payload(text, sc.policy)
    assert result.proof_verified and not result.ok and "not a notice" in result.problems[0]


def test_a_notice_stays_verifiable_after_the_ledger_moves_on(sc):
    old_qr = _qr(sc, NoticeKind.PROJECT, scenario.PROJECT_SUBJECT)
    start = dt.date(2024, 3, 20)
    with transaction(sc.world.factory) as s:
        clerk = sc.user(s, "k_clerk")
        again = publish(s, clerk, NoticeKind.PROJECT, scenario.PROJECT_SUBJECT, start,
                        project_window(start, 10, 10))
        assert again.id == 1  # same rows, same dates: nothing new is recorded
        t = flows.fund_project(s, clerk, lot_id=sc.world.lot_id, project_code="P-001",
                               amount_fen=50_000_00, effective_date=DAY, key="fund:P-001:2")
        posting.approve(s, sc.user(s, "k_approver"), t.id)
    with transaction(sc.world.factory) as s:
        newer = publish(s, sc.user(s, "k_clerk"), NoticeKind.PROJECT, scenario.PROJECT_SUBJECT,
                        start, project_window(start, 10, 10))
        assert newer.id != 1 and newer.rows_digest != again.rows_digest
    scenario.sign_and_cosign(sc)
    with transaction(sc.world.factory) as s:
        old = check_qr_payload(old_qr, sc.policy, session=s)
        assert old.ok  # the old paper still matches the ledger as it stood at its entry
        assert any("200,000.00" in row for row in old.content["tables"][0]["rows"][-1])
        fresh = printable(s, NoticeKind.PROJECT, scenario.PROJECT_SUBJECT, sc.policy)
        assert fresh.content["tables"][0]["rows"][-1][2] == "250,000.00"


def test_after_acceptance_the_notice_is_a_result_announcement(sc, tmp_path):
    with transaction(sc.world.factory) as s:
        projects.advance_project(s, sc.user(s, "k_clerk"), "P-001", ProjectStatus.IMPLEMENTING,
                                 dt.date(2024, 4, 1))
        projects.advance_project(s, sc.user(s, "k_approver"), "P-001", ProjectStatus.ACCEPTED,
                                 dt.date(2024, 11, 5))
        start = dt.date(2024, 11, 6)
        publish(s, sc.user(s, "k_clerk"), NoticeKind.PROJECT, scenario.PROJECT_SUBJECT, start,
                project_window(start, 10, 10))
    scenario.sign_and_cosign(sc)
    path, _ = _render(sc, tmp_path, NoticeKind.PROJECT, scenario.PROJECT_SUBJECT, "after.pdf")
    text = pdftools.flat(pdftools.text(path))
    assert "扶贫项目公告（验收结果）" in text and "公告期" in text


def test_type_is_large_and_a3_is_larger(sc, tmp_path):
    a4, _ = _render(sc, tmp_path, NoticeKind.PROJECT, scenario.PROJECT_SUBJECT, "a4.pdf")
    a3, _ = _render(sc, tmp_path, NoticeKind.PROJECT, scenario.PROJECT_SUBJECT, "a3.pdf", "a3")
    assert pdftools.page_size_pt(a4) == pytest.approx((595.3, 841.9), abs=1)
    assert pdftools.page_size_pt(a3) == pytest.approx((841.9, 1190.6), abs=1)
    for path, scale in ((a4, 1.0), (a3, 2 ** 0.5)):
        words = pdftools.word_heights(path)
        # the fingerprint lines under the QR and the footer are the only small print
        small = {w for w, h in words if h < 12 * scale - 0.5}
        assert all(any(k in w for k in ("账本指纹", "公钥指纹", "联合签名", "内容摘要",
                                        "fundtrail", "根", "条", "第", "共", "日志", "·",
                                        "/")) or
                   w.replace("-", "").isalnum() for w in small), small
        body = [h for w, h in words if w == "项目地点"]
        assert body and min(body) >= 12 * scale
        title = [h for w, h in words if "公示" in w and h > 18 * scale]
        assert title and max(title) >= 20 * scale


def test_the_annual_report_lists_sources_uses_charts_and_alerts(sc, tmp_path):
    path, _ = _render(sc, tmp_path, NoticeKind.COUNTY_ANNUAL, scenario.ANNUAL_SUBJECT,
                      "annual.pdf")
    text = pdftools.flat(pdftools.text(path))
    for needed in ["长沙县2024年度", "资金来源（按级次）", "中央", "500,000.00", "伍拾万元整",
                   "资金使用（按支出功能分类）", "2130505生产发展", "资金使用（按乡镇）", "星沙镇",
                   "资金使用（按项目类型）", "项目：生产发展", "直接补助（不经项目）",
                   "资金来源构成", "各乡镇资金使用", "预警线索", "信访投诉处理情况", "受理投诉0件"]:
        assert needed in text, needed
    # 8 households on the roll, one line returned by the bank, plus 80,000 to the contractor
    paid = sum((1 + n % 3) * 500 for n in range(8)) - 500 + 80_000
    assert f"{paid:,}.00" in text
    if importlib.util.find_spec("ledger.alerts") is None:
        assert "暂无预警数据" in text
    with transaction(sc.world.factory) as s:
        doc = printable(s, NoticeKind.COUNTY_ANNUAL, scenario.ANNUAL_SUBJECT, sc.policy)
    alerts = [{"rule_id": "BEN-01", "title": "死亡后仍发放", "status": "confirmed",
               "amount_fen": 1_500_00, "subject": "H-305"}]
    (tmp_path / "alerts.pdf").write_bytes(county_annual_pdf(doc, alerts))
    text = pdftools.flat(pdftools.text(tmp_path / "alerts.pdf"))
    assert ("BEN-01" in text and "已确认" in text and "1,500.00" in text
            and "暂无预警数据" not in text)


def test_font_problems_are_clear(tmp_path):
    assert find_font().suffix in (".ttc", ".ttf")
    with pytest.raises(FontError, match="does not exist"):
        find_font(str(tmp_path / "missing.ttc"))
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"OTTO" + b"\0" * 200)  # what a CFF-outline font starts with
    with pytest.raises(FontError, match="cannot be embedded"):
        register_font(str(bogus))


def test_policy_file_without_quorum_is_refused_when_printing(sc):
    text = sc.policy_file.read_text(encoding="utf-8").replace("sign-off 2", "sign-off 3")
    strict = parse_policy(text.encode())
    with transaction(sc.world.factory) as s:
        with pytest.raises(Exception, match="checkpoint cosign"):
            printable(s, NoticeKind.ROLL, scenario.ROLL_SUBJECT, strict)


@given(st.text(alphabet="赵钱孙李周吴郑王秀英建国欧阳", min_size=1, max_size=5))
def test_masked_names_keep_their_length_and_surname(name):
    shown = display_name(name, "mask_given")
    assert len(shown) == len(name) and shown[0] == name[0]
    assert display_name(name, "full") == name
    if len(name) > 2:
        assert shown[-1] == name[-1] and set(shown[1:-1]) == {"*"}


@given(st.dictionaries(st.sampled_from(["project", "village", "roll", "names"]),
                       st.text(alphabet="ABC-0123456789", min_size=1, max_size=8), min_size=1))
def test_subjects_round_trip(parts):
    assert parse_subject(subject_text(**parts)) == parts


def test_digest_is_over_canonical_content():
    a = {"title": "t", "fields": [["a", "1"]], "tables": []}
    b = {"tables": [], "fields": [["a", "1"]], "title": "t"}
    assert digest(a) == digest(b) and digest(a) != digest({**a, "title": "u"})


def test_a_county_without_a_supervision_phone_cannot_post_a_roll(sc):
    from ledger.core.errors import LedgerError
    from ledger.disclosure.content import supervision_phones
    from tests.world import VILLAGE, VILLAGE2
    with transaction(sc.world.factory) as s:
        with pytest.raises(LedgerError, match="report contact --region 430122"):
            supervision_phones(s, VILLAGE2, 10**9)
        phones = supervision_phones(s, VILLAGE, 10**9)
    assert phones.index("长沙县乡村振兴局") < phones.index("星沙镇人民政府") < phones.index("12317")


def test_the_household_card_counts_only_present_members(sc, tmp_path):
    from ledger.core.pii import PiiVault
    from ledger.disclosure.content import household_card
    from ledger.households.changes import record_death
    from ledger.households.registry import add_member
    from reports.card import household_card_pdf
    vault = PiiVault.from_env()
    code = sc.households[0]
    with transaction(sc.world.factory) as s:
        clerk = sc.user(s, "k_clerk")
        child = add_member(s, clerk, vault, household_code=code, name="赵小明", relation="子",
                           id_number=scenario.id_number(90))
        grandma = add_member(s, clerk, vault, household_code=code, name="钱桂兰",
                             relation="母亲", id_number=scenario.id_number(91))
        record_death(s, clerk, grandma.id, dt.date(2024, 6, 1))
    with transaction(sc.world.factory) as s:
        content = household_card(s, vault, code, 2024)
    (tmp_path / "card.pdf").write_bytes(household_card_pdf(content))
    text = pdftools.flat(pdftools.text(tmp_path / "card.pdf"))
    assert "2人" in text and "赵小明" in text and scenario.id_number(90) in text
    assert "钱桂兰" not in text and child.id
