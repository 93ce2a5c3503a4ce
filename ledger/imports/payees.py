"""Import kind `payees`: the businesses, persons and government units a county pays (收款人名录),
each with its identity and home county (columns: docs/formats.md, `payees`).

Same rules as every import: every line is checked first and problems name file, line and
column; nothing is written unless every line goes in; a payee already registered with the same
content is unchanged. Households are not imported here (`households` registers them, with
their members); contractors registered before payee kinds existed keep their kind.

A payee whose home county is another county than the one paying it goes in as it is, and
is found afterwards by `ledger.funds.projects.payees_from_other_counties` (DOMAIN.md: records
go in as they are, and what looks wrong is flagged, not refused).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from ledger.core import creditcode, idcard
from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.funds import projects
from ledger.imports.csvfile import Column, ImportProblems, Problem, every_line, not_one_of, read
from ledger.imports.households import ImportResult
from ledger.models import Payee, PayeeKind, User
from ledger.store.access import Action, require

KIND_WORDS = {
    "企业": PayeeKind.BUSINESS, "公司": PayeeKind.BUSINESS, "个体工商户": PayeeKind.BUSINESS,
    "合作社": PayeeKind.BUSINESS, "business": PayeeKind.BUSINESS,
    "个人": PayeeKind.PERSON, "自然人": PayeeKind.PERSON, "person": PayeeKind.PERSON,
    "单位": PayeeKind.UNIT, "机关": PayeeKind.UNIT, "事业单位": PayeeKind.UNIT,
    "村集体": PayeeKind.UNIT, "unit": PayeeKind.UNIT,
}


def _kind(text: str) -> PayeeKind:
    kind = KIND_WORDS.get(text) or KIND_WORDS.get(text.lower())
    if kind is None:
        raise not_one_of(text, ("企业", "个人", "单位"))
    return kind


def _credit_code(text: str) -> str:
    try:
        return creditcode.read_credit_code(text)
    except creditcode.CreditCodeError as exc:
        raise LedgerError(str(exc), code="credit_code_invalid", problem=exc.problem) from None


def _id_number(text: str) -> str:
    # A payee is paid against this number: a wrong check character is refused here, whatever
    # [imports] accept_wrong_check_character says for historical household registers.
    try:
        return idcard.normalise(text)
    except idcard.IdNumberError as exc:
        raise LedgerError(str(exc), code="id_number_invalid", problem=exc.problem) from None


COLUMNS = [
    Column("code", ("收款人编码", "code")),
    Column("name", ("收款人名称", "name")),
    Column("kind", ("收款人类型", "kind"), _kind),
    Column("region", ("所在区划", "region_code")),
    Column("credit_code", ("统一社会信用代码", "credit_code"), _credit_code, required=False),
    Column("id_number", ("身份证号", "id_number"), _id_number, required=False),
    Column("home_county", ("注册地县代码", "home_county"), required=False),
]

HEADER = {"credit_code": "统一社会信用代码", "id_number": "身份证号",
          "home_county": "注册地县代码"}


def _same(payee: Payee, v: dict, vault: PiiVault) -> bool:
    derived = (v["credit_code"][2:8] if v.get("credit_code")
               else v["id_number"][:6] if v.get("id_number") else None)
    digest = vault.digest(v["id_number"]) if v.get("id_number") else None
    return (payee.kind, payee.name, payee.region_code, payee.credit_code, payee.id_digest,
            payee.home_county) == (v["kind"], v["name"], v["region"], v.get("credit_code"),
                                   digest, v.get("home_county") or derived)


def import_payees(session: Session, actor: User, vault: PiiVault, path) -> ImportResult:
    require(session, actor, Action.RECORD, actor.region_code)
    rows = read(path, COLUMNS)
    name = Path(path).name
    problems: list[Problem] = []
    seen: dict = {}
    for row in rows:
        v = row.values
        for key in ("code", "credit_code", "id_number"):
            value = v.get(key)
            if value is None:
                continue
            if (key, value) in seen:
                first = seen[(key, value)]
                problems.append(Problem(name, row.line, HEADER.get(key, "收款人编码"),
                                        f"also on line {first}", "line_repeated",
                                        {"first_line": first}))
            seen.setdefault((key, value), row.line)
    if problems:
        raise ImportProblems(problems)
    count = {"added": 0, "same": 0}

    def line(row):
        v = row.values
        existing = session.get(Payee, v["code"])
        if existing is not None:
            # Scope first: a clerk of another county learns nothing of this payee.
            require(session, actor, Action.RECORD, existing.region_code)
            if not _same(existing, v, vault):
                raise ImportProblems([Problem(name, row.line, "收款人编码",
                                              f"payee {v['code']} exists with other content",
                                              "already_exists",
                                              {"what": "payee", "key": v["code"]})])
            count["same"] += 1
            return
        projects.register_payee(
            session, actor, code=v["code"], kind=v["kind"], name=v["name"],
            region_code=v["region"], credit_code=v.get("credit_code"),
            id_number=v.get("id_number"), home_county=v.get("home_county"), vault=vault)
        count["added"] += 1

    # Every line's refusal with its column; a refused line rolls back alone (issue 19).
    problems = every_line(name, rows, line, session=session, columns=COLUMNS,
                          by_code={"not_found": "所在区划", "out_of_scope": "所在区划",
                                   "id_number_invalid": "身份证号",
                                   "number_character": "身份证号"},
                          default="收款人编码")
    if problems:
        raise ImportProblems(problems)
    return ImportResult("payees", count["added"], count["same"], rows.report)
