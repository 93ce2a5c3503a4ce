"""Projects in the county project library (项目库), and payees that money can be paid to.

A project moves proposed → in library → approved → implementing → accepted → closed. The county
decides (clerks record the steps, an approver approves and accepts); province and city only
file it (备案). Money may be put behind a project only while it is approved or implementing,
and paid out of it until it is accepted; a closed project takes and pays nothing.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import lock_head, record_change
from ledger.core.classification import ADMINISTRATIVE_CODES, FUNCTION_CODES
from ledger.core.errors import LedgerError
from ledger.funds.posting import check_date
from ledger.models import (
    Payee,
    PayeeKind,
    Project,
    ProjectEvent,
    ProjectStatus,
    RegionLevel,
    User,
)
from ledger.org.regions import get_region
from ledger.store.access import Action, require
from ledger.store.db import fetch


def get_project(session: Session, code: str) -> Project:
    return fetch(session, Project, code, f"project {code!r}")


def get_payee(session: Session, code: str) -> Payee:
    return fetch(session, Payee, code, f"payee {code!r}")


def register_project(session: Session, actor: User, *, code: str, name: str,
                     county_code: str, function_code: str) -> Project:
    lock_head(session)  # decide under the log lock, as posting.replay does
    county = get_region(session, county_code)
    if county.level is not RegionLevel.COUNTY:
        raise LedgerError(f"projects belong to a county; {county_code} is a {county.level.value}",
                          code="not_a_county", region=county_code, level=county.level)
    require(session, actor, Action.RECORD, county_code)
    if function_code not in FUNCTION_CODES or function_code in ADMINISTRATIVE_CODES:
        raise LedgerError(f"project {code}: function code {function_code!r} is not allowed",
                          code="project_function_code", project=code,
                          function_code=function_code)
    if session.get(Project, code) is not None:
        raise LedgerError(f"project {code!r} already exists", code="already_exists",
                          what="project", key=code)
    project = Project(code=code, name=name, county_code=county_code, function_code=function_code)
    with record_change(session, actor.username, "project.register") as change:
        change.add(project)
        session.flush()
        change.add(ProjectEvent(project_code=code, status=ProjectStatus.PROPOSED,
                                region_code=county_code, effective_date=change.time.date(),
                                recorded_by=actor.id, comment="申报"))
    return project


# stage → (next stage, who may move it there)
NEXT_STAGE = {
    ProjectStatus.PROPOSED: (ProjectStatus.IN_LIBRARY, Action.RECORD),
    ProjectStatus.IN_LIBRARY: (ProjectStatus.APPROVED, Action.APPROVE),
    ProjectStatus.APPROVED: (ProjectStatus.IMPLEMENTING, Action.RECORD),
    ProjectStatus.IMPLEMENTING: (ProjectStatus.ACCEPTED, Action.APPROVE),
    ProjectStatus.ACCEPTED: (ProjectStatus.CLOSED, Action.RECORD),
}
FUNDABLE = frozenset({ProjectStatus.APPROVED, ProjectStatus.IMPLEMENTING})
PAYABLE = frozenset({ProjectStatus.APPROVED, ProjectStatus.IMPLEMENTING, ProjectStatus.ACCEPTED})


def project_stage(session: Session, code: str) -> ProjectStatus:
    return session.execute(
        select(ProjectEvent.status).where(ProjectEvent.project_code == code,
                                          ProjectEvent.status != ProjectStatus.FILED)
        .order_by(ProjectEvent.id.desc()).limit(1)).scalar_one()


def advance_project(session: Session, actor: User, code: str, to: ProjectStatus,
                    effective_date: dt.date, comment: str = "") -> ProjectEvent:
    """Move a project one stage on; the county's clerk or approver, as the stage requires."""
    check_date(effective_date)
    lock_head(session)  # decide under the log lock, as posting.replay does
    project = get_project(session, code)
    stage = project_stage(session, code)
    expected, action = NEXT_STAGE.get(stage, (None, None))
    if to is not expected:
        raise LedgerError(f"project {code} is {stage.value}; its next stage is "
                          f"{expected.value if expected else 'none (closed)'}, not {to.value}",
                          code="project_stage_skipped", project=code, stage=stage,
                          next_stage=expected, requested=to)
    require(session, actor, action, project.county_code)
    event = ProjectEvent(project_code=code, status=to, region_code=project.county_code,
                         effective_date=effective_date, recorded_by=actor.id, comment=comment)
    with record_change(session, actor.username, f"project.{to.value}") as change:
        change.add(event)
    return event


def file_project(session: Session, actor: User, code: str, effective_date: dt.date,
                 comment: str = "") -> ProjectEvent:
    """备案: a city or the province records that it has the county's approved project on file."""
    check_date(effective_date)
    project = get_project(session, code)
    if project_stage(session, code) in (ProjectStatus.PROPOSED, ProjectStatus.IN_LIBRARY):
        raise LedgerError(f"project {code} is not approved yet; only approved projects are filed",
                          code="project_not_approved", project=code)
    if actor.region_code == project.county_code:
        raise LedgerError("filing (备案) is done by the city or the province, not the county",
                          code="filing_by_county", project=code, region=actor.region_code)
    require(session, actor, Action.RECORD, project.county_code)
    event = ProjectEvent(project_code=code, status=ProjectStatus.FILED,
                         region_code=actor.region_code, effective_date=effective_date,
                         recorded_by=actor.id, comment=comment)
    with record_change(session, actor.username, "project.filed") as change:
        change.add(event)
    return event


def require_stage(session: Session, code: str, allowed: frozenset, doing: str) -> None:
    stage = project_stage(session, code)
    if stage not in allowed:
        raise LedgerError(f"project {code} is {stage.value}: cannot {doing} "
                          f"(allowed while {', '.join(sorted(s.value for s in allowed))})",
                          code="project_stage", project=code, stage=stage, doing=doing,
                          allowed=allowed)


def register_payee(session: Session, actor: User, *, code: str, kind: PayeeKind, name: str,
                   region_code: str) -> Payee:
    lock_head(session)  # decide under the log lock, as posting.replay does
    get_region(session, region_code)
    require(session, actor, Action.RECORD, region_code)
    if session.get(Payee, code) is not None:
        raise LedgerError(f"payee {code!r} already exists", code="already_exists",
                          what="payee", key=code)
    payee = Payee(code=code, kind=kind, name=name, region_code=region_code)
    with record_change(session, actor.username, "payee.register") as change:
        change.add(payee)
    return payee
