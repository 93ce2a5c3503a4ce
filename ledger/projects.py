"""Projects and payees that money can be paid to.

The project library's lifecycle (proposed → approved → accepted, 项目库) and household details
belong to the fund-flow work (issue 4); here a project is registered once to a county.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from ledger.access import Action, require
from ledger.audit.log import record_change
from ledger.classification import ADMINISTRATIVE_CODES, FUNCTION_CODES
from ledger.errors import LedgerError, NotFound
from ledger.models import Payee, PayeeKind, Project, RegionLevel, User
from ledger.regions import get_region


def get_project(session: Session, code: str) -> Project:
    project = session.get(Project, code)
    if project is None:
        raise NotFound(f"project {code!r} does not exist")
    return project


def get_payee(session: Session, code: str) -> Payee:
    payee = session.get(Payee, code)
    if payee is None:
        raise NotFound(f"payee {code!r} does not exist")
    return payee


def register_project(session: Session, actor: User, *, code: str, name: str,
                     county_code: str, function_code: str) -> Project:
    county = get_region(session, county_code)
    if county.level is not RegionLevel.COUNTY:
        raise LedgerError(f"projects belong to a county; {county_code} is a {county.level.value}")
    require(session, actor, Action.RECORD, county_code)
    if function_code not in FUNCTION_CODES or function_code in ADMINISTRATIVE_CODES:
        raise LedgerError(f"project {code}: function code {function_code!r} is not allowed")
    if session.get(Project, code) is not None:
        raise LedgerError(f"project {code!r} already exists")
    project = Project(code=code, name=name, county_code=county_code, function_code=function_code)
    with record_change(session, actor.username, "project.register") as change:
        change.add(project)
    return project


def register_payee(session: Session, actor: User, *, code: str, kind: PayeeKind, name: str,
                   region_code: str) -> Payee:
    get_region(session, region_code)
    require(session, actor, Action.RECORD, region_code)
    if session.get(Payee, code) is not None:
        raise LedgerError(f"payee {code!r} already exists")
    payee = Payee(code=code, kind=kind, name=name, region_code=region_code)
    with record_change(session, actor.username, "payee.register") as change:
        change.add(payee)
    return payee
