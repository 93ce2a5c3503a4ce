"""Every font of every kind of PDF the product makes is embedded (issue 20): a board prints
the same on any printer and the file can be archived (PDF/A asks the same). Checked with
poppler's pdffonts, as an archivist would, on the project notice, the roll notice, the county
annual report (with its alert list) and the household card."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ledger.core.pii import PiiVault
from ledger.disclosure.content import household_card
from ledger.models.disclosure import NoticeKind
from ledger.store.db import transaction
from reports.annual import county_annual_pdf
from reports.card import household_card_pdf
from reports.render import render_public
from tests.reports import pdftools, scenario

pytestmark = pytest.mark.skipif(shutil.which("pdffonts") is None,
                                reason="poppler-utils not installed (setup-env.sh installs it)")


@pytest.fixture
def sc(world, tmp_path):
    built = scenario.build(world, tmp_path, households=4)
    scenario.publish_all(built)
    return built


def fonts(pdf: Path) -> list[dict]:
    """pdffonts' table: one dict per font (name, type, emb, sub, uni)."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    header, rule, rows = out[0], out[1], out[2:]
    # columns are cut where the dashes of the second line start and end
    spans, start = [], 0
    for part in rule.split(" "):
        spans.append((start, start + len(part)))
        start += len(part) + 1
    names = header.split()
    # "name type encoding emb sub uni object ID": 'object ID' is one column of two words
    names = names[:6] + ["object"]
    return [{name: row[a:b].strip() for name, (a, b) in zip(names, spans)} for row in rows]


def documents(sc, tmp_path) -> dict[str, Path]:
    made = {}
    with transaction(sc.world.factory) as s:
        for name, kind, subject in (
                ("project", NoticeKind.PROJECT, scenario.PROJECT_SUBJECT),
                ("roll", NoticeKind.ROLL, scenario.ROLL_SUBJECT),
                ("annual", NoticeKind.COUNTY_ANNUAL, scenario.ANNUAL_SUBJECT)):
            pdf, _ = render_public(s, kind, subject, sc.policy)
            made[name] = tmp_path / f"{name}.pdf"
            made[name].write_bytes(pdf)
        card = household_card(s, PiiVault.from_env(), sc.households[0], 2024)
    made["card"] = tmp_path / "card.pdf"
    made["card"].write_bytes(household_card_pdf(card))
    return made


def test_every_font_of_every_document_is_embedded(sc, tmp_path):
    made = documents(sc, tmp_path)
    for name, pdf in made.items():
        rows = fonts(pdf)
        assert rows, f"{name}: pdffonts lists no font"
        not_embedded = [r["name"] for r in rows if r["emb"] != "yes"]
        assert not not_embedded, f"{name}.pdf uses fonts it does not embed: {not_embedded}"
        assert all(r["type"].startswith("TrueType") or r["type"].startswith("CID TrueType")
                   for r in rows), (name, rows)
    # the Latin text (fingerprints, codes, digits) is there and reads back as text
    text = pdftools.flat(pdftools.text(made["roll"]))
    assert "账本指纹" in text


def test_the_annual_report_with_alerts_embeds_its_fonts(sc, tmp_path):
    with transaction(sc.world.factory) as s:
        from ledger.disclosure.notices import printable
        doc = printable(s, NoticeKind.COUNTY_ANNUAL, scenario.ANNUAL_SUBJECT, sc.policy)
    alerts = [{"rule_id": "BEN-06", "title": "不符合条件对象", "status": "open",
               "amount_fen": 1_234_56, "subject": "household:H-1", "opened": "2025-02-01"}]
    path = tmp_path / "annual-alerts.pdf"
    path.write_bytes(county_annual_pdf(doc, alerts))
    assert [r["name"] for r in fonts(path) if r["emb"] != "yes"] == []
