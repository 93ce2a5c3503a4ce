"""Nothing public shows personal data: crawl every page a visitor can reach without signing in
(and the PDFs they link to) and look for any ID, bank-card or phone number the ledger holds.

The scene's households get members with real-format ID numbers and phones first, so there is
something to leak; a complaint with a named complainant is filed too."""
from __future__ import annotations

import re
import subprocess
from urllib.parse import urljoin, urlparse

from ledger.core.idcard import check_character
from ledger.core.pii import PiiVault
from ledger.households import registry as households
from ledger.models.oversight import ComplaintChannel, ComplaintSubject
from ledger.org import regions
from ledger.oversight import complaints
from ledger.store.db import transaction
from tests.web.test_notices_web import _publish_roll_notice
from tests.world import VILLAGE

LINK = re.compile(r'(?:href|action)="([^"#]+)"')
# An ID number (15 or 18 characters) or a bank card (16–19 digits) standing on its own; region
# codes have 12 digits and hashes are hex, so neither matches.
LONG_DIGITS = re.compile(r"\b\d{15,19}[Xx]?\b")


def _id_number(seq: int) -> str:
    first = f"430121{19800101 + seq:08d}"[:14] + f"{seq:03d}"
    return first + check_character(first)


def _secrets(world) -> set[str]:
    vault = PiiVault.from_env()
    numbers = {_id_number(n) for n in (11, 12)}
    with transaction(world.factory) as s:
        clerk = regions.get_user(s, "k_clerk")
        for n, number in zip((1, 2), sorted(numbers)):
            households.add_member(s, clerk, vault, household_code=f"KH-{n}", name=f"成员{n}",
                                  relation="配偶", id_number=number)
        complaints.file_complaint(s, ComplaintChannel.COUNTY_PHONE, ComplaintSubject.VILLAGE,
                                  VILLAGE, "补贴没有到账", vault=vault, actor=clerk,
                                  complainant={"name": "举报人甲", "phone": "13907311234"})
        cards = {vault.decrypt(h.bank_card) for h in s.query(households.Household).all()
                 if h.bank_card}
    return numbers | cards | {"13907311234", "举报人甲"}


def _text(response) -> str:
    if response.mimetype == "application/pdf":
        return subprocess.run(["pdftotext", "-", "-"], input=response.data, check=True,
                              capture_output=True).stdout.decode("utf-8")
    return response.get_data(as_text=True)


def test_no_public_page_or_pdf_shows_an_id_card_or_phone_number(app, scene, browser, world):
    _publish_roll_notice(world, scene)
    secrets = _secrets(world)
    visitor = browser()
    seen, queue, pages = set(), ["/"], 0
    while queue:
        url = queue.pop()
        if url in seen or urlparse(url).netloc:
            continue
        seen.add(url)
        response = visitor.get(url)
        if response.status_code != 200:
            continue  # staff pages send a visitor to the sign-in page
        pages += 1
        text = _text(response)
        for secret in secrets:
            assert secret not in text, f"{url} shows {secret}"
        assert not LONG_DIGITS.findall(text), f"{url}: {LONG_DIGITS.findall(text)[:3]}"
        if response.mimetype == "text/html":
            queue += [urljoin(url, link) for link in LINK.findall(text)
                      if not link.startswith(("/login", "/lang/", "/static/"))]
    assert pages >= 8 and any(u.endswith(".pdf") for u in seen), sorted(seen)
