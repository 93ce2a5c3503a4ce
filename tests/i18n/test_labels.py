"""Every enum value a person sees has its label, in Chinese and in English (ledger/i18n/labels.py).

The table is keyed by the enum's class name, so that ledger.i18n needs no model; this test is
where the table meets the enums: a member added to an enum without a label fails here, and so
does a label for a member that no longer exists.
"""
from __future__ import annotations

import enum
import re

import pytest

from ledger import i18n
from ledger.alerts.catalogue import RULES, SEVERITY_ORDER
from ledger.alerts.service import REASON_CODES
from ledger.audit.tlog import personal
from ledger.core.classification import FUNCTION_CODES, PROHIBITED_USES, USES
from ledger.i18n import labels
from ledger.models import alerts, disclosure, ledger, oversight, registers, rolls
from ledger.org import admin_requests, personal_keys
from ledger.store import access
from ledger.store.access import Action

CJK = re.compile(r"[\u3400-\u9fff]")

ENUMS = [ledger.RegionLevel, ledger.SourceLevel, ledger.Role, ledger.AccountKind,
         ledger.TransferKind, ledger.Decision, ledger.PayeeKind, ledger.ProjectStatus,
         ledger.HouseholdStatus, ledger.CardKind, ledger.RollEventKind, ledger.MemberEventKind,
         ledger.HouseholdLinkKind, ledger.LoanEventKind, alerts.AlertState, alerts.AlertEventKind,
         rolls.StandardTier, rolls.StandardPer, rolls.BankDifference, registers.ListKind,
         registers.RegisterKind, oversight.ComplaintChannel, oversight.ComplaintSubject,
         oversight.ComplaintStep, oversight.SampleStrata, oversight.VisitOutcome,
         disclosure.NoticeKind, disclosure.ProjectNoticeKind, Action]

# value sets that are not enum classes: the table's name → the values the code uses
VALUE_SETS = {
    "Severity": set(SEVERITY_ORDER) | {rule.severity for rule in RULES.values()},
    "Use": set(USES) | set(PROHIBITED_USES),
    "FunctionCode": set(FUNCTION_CODES),
    "LineState": {"open", "held", "withdrawn"},
    "ComplaintState": {"received"} | {step.value for step in oversight.ComplaintStep},
    "DismissalReason": set(REASON_CODES),
    "AdminRequestKind": set(admin_requests.KINDS) | {access.DISABLE, access.ENABLE},
    "KeyRequestAction": {personal_keys.ENROL, personal_keys.REVOKE},
    "KeyKind": set(personal.KINDS),
    # IdNumberError / CreditCodeError `problem` (their docstrings name them)
    "NumberProblem": {"length", "characters", "birth_date", "check_character", "department",
                      "division"},
}


def english(text: str) -> str:
    with i18n.use("en"):
        return i18n.gettext(text)


def test_every_enum_a_person_sees_is_in_the_table():
    models = [alerts, disclosure, ledger, oversight, registers, rolls]
    defined = {obj for module in models for obj in vars(module).values()
               if isinstance(obj, type) and issubclass(obj, enum.Enum)
               and obj.__module__ == module.__name__}
    assert defined <= set(ENUMS), f"enums without labels: {defined - set(ENUMS)}"


def test_the_table_lists_each_member_once_and_no_other():
    for cls in ENUMS:
        assert set(labels.LABELS[cls.__name__]) == {m.value for m in cls}, cls.__name__
    for kind, values in VALUE_SETS.items():
        assert set(labels.LABELS[kind]) == values, kind
    named = {cls.__name__ for cls in ENUMS} | set(VALUE_SETS) | {"Thing", "Field"}
    assert set(labels.LABELS) == named, set(labels.LABELS) ^ named


@pytest.mark.parametrize("kind", sorted(labels.LABELS))
def test_every_label_is_chinese_with_its_english(kind):
    for value, text in labels.LABELS[kind].items():
        assert CJK.search(text), (kind, value, text)
        assert not CJK.search(english(text)) and english(text) != text, (kind, value, text)


def test_a_member_reads_in_the_language_of_the_moment():
    with i18n.use("zh_CN"):
        assert labels.label(ledger.TransferKind.PAY) == "支付"
        assert labels.label(alerts.AlertState.INVESTIGATING) == "核查中"
        assert labels.label("household_subsidy", "Use") == "到户补助"
        assert labels.label("critical", "Severity") == "严重"
        # the same word in two enums: the member's class decides
        assert labels.label(ledger.ProjectStatus.APPROVED) == "批复"
        assert labels.label(ledger.Decision.APPROVED) == "已通过"
        assert labels.label("approved", "Decision") == "已通过"
        assert labels.label(None) == "—"
        assert labels.label("no_such_value", "Use") == "no_such_value"
    with i18n.use("en"):
        assert labels.label(ledger.TransferKind.FUND_PROJECT) == "Project funding"
        assert labels.label(alerts.AlertState.INVESTIGATING) == "investigating"
        assert labels.choices("Severity")[0] == ("critical", "critical")


def test_the_web_filter_uses_the_table():
    from jinja2 import Environment

    from web import format as web_format

    class App:
        jinja_env = Environment()
    app = App()
    web_format.register_filters(app)
    env = app.jinja_env
    with i18n.use("zh_CN"):
        assert env.from_string("{{ v|label }}").render(v=ledger.TransferKind.PAY) == "支付"
        assert env.from_string("{{ v|label('Severity') }}").render(v="critical") == "严重"
        assert env.from_string("{{ v|role }}").render(v="approver") == "审核员"
        assert env.from_string("{{ v|stage }}").render(v="in_library") == "入库"
        assert env.from_string("{{ v|line_state }}").render(v="held") == "有异议，暂缓"
        assert env.from_string("{{ v|roll_event }}").render(v="sent") == "已送银行"
        assert env.from_string("{{ v|decision }}").render(v=None) == "待审"
    with i18n.use("en"):
        assert env.from_string("{{ v|label }}").render(v=alerts.AlertState.OPEN) == "open"


def test_a_chinese_refusal_names_enum_values_by_their_labels():
    from ledger.core import refusals
    params = {"account_kind": "unit", "holder": "430121", "lot": 1,
              "available_fen": 6890000, "requested_fen": 50000000}
    assert "的单位账户" in refusals.render("overdraft", params, locale="zh_CN")
    assert "the unit account" in refusals.render("overdraft", params, locale="en")
    text = refusals.render("alert_transition", {"alert": 7, "state": "open",
                                                "requested": "recovered",
                                                "allowed": ["investigating", "dismissed"]},
                           locale="zh_CN")
    assert text == "预警 #7 当前为“待处理”，只能转为：核查中、已排除，不能转为“已追回”"
    assert refusals.render("not_found", {"what": "lot", "key": 3}, locale="zh_CN") == \
        "批次 3 不存在"
    # a value no table knows is shown as it is
    assert "用途“teleport”" in refusals.render("use_unknown", {"use": "teleport"},
                                                locale="zh_CN")


def test_the_labelled_refusal_parameters_exist():
    from ledger.core import refusals
    for name, kinds in refusals.LABELLED.items():
        assert any(name in r.params + r.optional for r in refusals.CATALOGUE), name
        assert set((kinds,) if isinstance(kinds, str) else kinds) <= set(labels.LABELS), name
    for code, names in refusals.LABELLED_BY_CODE.items():
        entry = refusals.BY_CODE[code]
        for name, kinds in names.items():
            assert name in entry.params + entry.optional, (code, name)
            assert set((kinds,) if isinstance(kinds, str) else kinds) <= set(labels.LABELS)


def test_the_older_tables_say_what_the_labels_say():
    """Tables of the same values kept where they were first needed agree with labels.py (so
    that a page and a notice never call one value two names; they may read labels.py)."""
    from ledger.disclosure.content import LEVEL_NAMES
    from ledger.rolls.settlement import DIFFERENCE_LABELS
    from ledger.rolls.standards import TIER_LABELS
    for table in (DIFFERENCE_LABELS, TIER_LABELS, LEVEL_NAMES):
        for member, text in table.items():
            assert labels.source(member) == text, (member, text)
