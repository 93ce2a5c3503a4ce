"""Import kind `cards`: the card register as a county keeps it — household, personal and
guardian cards with their bank, number, opening and closing dates and the card each replaced
(换卡) (columns: docs/formats.md, "cards").

Each line goes in through the services that record one card (ledger.households.cards), so an
imported card, closing or replacement is exactly what `fundtrail card add|close|replace`
records, and a line they refuse is refused with their code. Lines are read in order: a card may
replace a card of an earlier line of the same file.

All-or-nothing and idempotent: if any line is refused the error lists file, line and column of
each and nothing is written. A line is the same card as one in the register when household,
kind, member and number agree (the number through its keyed digest) and the opening date is
the same; it is then unchanged, or gains its closing if the file now gives one. The same card
with another opening date, bank or holder is refused (`import_reused`), and so is a closing on
another date than the one recorded (`card_already_closed`).

Text is read under Unicode NFKC (full-width digits and letters, as typed on a Chinese keyboard,
become ASCII), then card numbers as for households (12 to 19 digits, spaces or dashes allowed).
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.households.cards import add_card, close_card, household_cards, same_number
from ledger.households.registry import normalise_card
from ledger.imports.csvfile import (
    Column,
    ImportProblems,
    Problem,
    Problems,
    not_one_of,
    parse_date,
    read,
)
from ledger.imports.households import ImportResult, household_of_line, registered_id
from ledger.models import CardKind, Household, Member, User
from ledger.store.access import Action, require

KIND_WORDS = {"户卡": "household", "家庭卡": "household", "一卡通": "household",
              "个人卡": "personal", "本人卡": "personal", "监护人卡": "guardian"}


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_kind(text: str) -> CardKind:
    text = nfkc(text)
    try:
        return CardKind(KIND_WORDS.get(text, text.lower()))
    except ValueError:
        raise not_one_of(text, KIND_WORDS) from None


def card_number(text: str) -> str:
    return normalise_card(nfkc(text))


def person_id(text: str):
    return registered_id(nfkc(text))


COLUMNS = [
    Column("household", ("户编码", "household_code"), nfkc),
    Column("kind", ("卡类别", "card_kind"), parse_kind),
    Column("member", ("成员身份证号", "member_id_number"), person_id, required=False),
    Column("holder_name", ("持卡人姓名", "holder_name"), nfkc, required=False),
    Column("guardian", ("监护人身份证号", "guardian_id_number"), person_id, required=False),
    Column("bank", ("开户银行", "bank"), nfkc),
    Column("account", ("银行卡号", "account"), card_number),
    Column("opened_on", ("开卡日期", "opened_on"), parse_date),
    Column("closed_on", ("销户日期", "closed_on"), parse_date, required=False),
    Column("replaces", ("原卡号", "replaces_account"), card_number, required=False),
    Column("reason", ("原因", "reason"), nfkc, required=False),
]

# Which column a service's refusal points at.
_COLUMN_OF = {"card_member_by_kind": "成员身份证号", "card_member_unknown": "成员身份证号",
              "card_holder_needed": "持卡人姓名",
              "card_guardian_unknown": "监护人身份证号", "card_replaces_other": "原卡号",
              "card_replaced_unknown": "原卡号", "card_dates_reversed": "销户日期",
              "card_already_closed": "销户日期", "card_already_registered": "银行卡号",
              "bank_card_invalid": "银行卡号", "date_invalid": "开卡日期"}


def import_cards(session: Session, actor: User, vault: PiiVault, path) -> ImportResult:
    require(session, actor, Action.RECORD, actor.region_code)
    rows = read(path, COLUMNS)
    name = Path(path).name
    problems = Problems()
    added = same = 0
    seen: dict[tuple, int] = {}
    for row in rows:
        v = row.values
        household = household_of_line(session, actor, name, row.line, v["household"], problems)
        if household is None:
            continue
        try:
            member_id = _member(session, vault, household.code, v["member"])
            key = (household.code, v["kind"], member_id, v["account"], v["opened_on"])
            if key in seen:
                problems.append(Problem(name, row.line, "银行卡号", f"the same card is on line "
                                        f"{seen[key]}", "line_repeated",
                                        {"first_line": seen[key]}))
                continue
            seen[key] = row.line
            recorded = _recorded(session, actor, vault, household.code, v, member_id)
            if recorded is None:
                _add(session, actor, vault, household, v, member_id)
                added += 1
            elif recorded:
                added += 1   # the card was there; its closing is new
            else:
                same += 1
        except LedgerError as exc:
            problems.append(Problem(name, row.line, _COLUMN_OF.get(exc.code, "户编码"), str(exc),
                                    exc.code, exc.params))
    # Nothing is kept when a line was refused: the caller rolls the transaction back.
    if problems:
        raise ImportProblems(problems.sorted(key=lambda p: p.line))
    return ImportResult("cards", added, same, rows.report)


def _member(session, vault, household_code: str, number) -> int | None:
    """The id of the household's member with ID number `number` (as the members import matches:
    the keyed digest of its 18-character form), None without a number."""
    if number is None:
        return None
    member_id = session.execute(select(Member.id).where(
        Member.household_code == household_code,
        Member.id_digest == vault.digest(number.matching))).scalar_one_or_none()
    if member_id is None:
        raise LedgerError(f"no member of household {household_code} has this ID number",
                          code="card_member_unknown", household=household_code, member=None)
    return member_id


def _recorded(session, actor, vault, household_code: str, v: dict,
              member_id) -> bool | None:
    """None when the register does not hold the line's card; else whether the line adds its
    closing (False: unchanged). The same card with other content is refused."""
    for card, closing in household_cards(session, household_code):
        if (card.kind, card.member_id) != (v["kind"], member_id) \
                or not same_number(vault, card, v["account"]):
            continue
        if card.opened_on != v["opened_on"]:
            if closing is not None:
                continue   # an earlier card of the same number, closed: this one is another
            raise LedgerError(f"card #{card.id} of household {household_code} was imported "
                              f"before (log entry {card.log_index}) opened on {card.opened_on}",
                              code="import_reused", what="card", key=household_code,
                              log_index=card.log_index)
        if card.bank != v["bank"] or (v["holder_name"] and card.holder_name != v["holder_name"]):
            raise LedgerError(f"card #{card.id} of household {household_code} was imported "
                              f"before (log entry {card.log_index}) with another bank or holder",
                              code="import_reused", what="card", key=household_code,
                              log_index=card.log_index)
        if v["closed_on"] is None:
            return False
        if closing is None:
            close_card(session, actor, card.id, v["closed_on"], v["reason"] or "")
            return True
        if closing.closed_on != v["closed_on"]:
            raise LedgerError(f"card #{card.id} was closed on {closing.closed_on}",
                              code="card_already_closed", card=card.id,
                              closed=closing.closed_on)
        return False
    return None


def _add(session, actor, vault, household: Household, v: dict, member_id) -> None:
    replaces = None
    if v["replaces"] is not None:
        replaces = next((card.id for card, _closing in reversed(household_cards(
            session, household.code)) if (card.kind, card.member_id) == (v["kind"], member_id)
            and same_number(vault, card, v["replaces"])), None)
        if replaces is None and not _registration_card(vault, household, v):
            raise LedgerError(f"原卡号 names no card of household {household.code} of the same "
                              "kind and member", code="card_replaced_unknown",
                              household=household.code)
    holder_member = None
    if v["guardian"] is not None:
        holder_member = _guardian(session, vault, v["guardian"])
    card = add_card(session, actor, vault, household_code=household.code, kind=v["kind"],
                    account=v["account"], bank=v["bank"], opened_on=v["opened_on"],
                    member_id=member_id, holder_name=v["holder_name"],
                    holder_member_id=holder_member, replaces_card_id=replaces,
                    reason=v["reason"] or "")
    if v["closed_on"] is not None:
        close_card(session, actor, card.id, v["closed_on"], v["reason"] or "")


def _registration_card(vault, household: Household, v: dict) -> bool:
    """A household card replacing the card recorded at registration (which has no register
    row: the new household card supersedes it from its opening, ledger.households.cards)."""
    return v["kind"] is CardKind.HOUSEHOLD and household.bank_card is not None \
        and vault.decrypt(household.bank_card) == v["replaces"]


def _guardian(session, vault, number) -> int:
    """The registered member who is the guardian (the first registered, where the person is a
    member of several households)."""
    member_id = session.execute(select(Member.id).where(
        Member.id_digest == vault.digest(number.matching)).order_by(Member.id).limit(1)) \
        .scalar_one_or_none()
    if member_id is None:
        raise LedgerError("the guardian's ID number is no registered member's (give only the "
                          "name, 持卡人姓名, for a guardian outside the registry)",
                          code="card_guardian_unknown")
    return member_id
