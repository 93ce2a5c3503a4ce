"""Projects in the county project library (项目库), and payees that money can be paid to.

A project moves proposed → in library → approved → implementing → accepted → closed. The county
decides (clerks record the steps, an approver approves and accepts); province and city only
file it (备案). Money may be put behind a project only while it is approved, implementing or
adjusted, and paid out of it until it is accepted; a closed project takes and pays nothing.

Two stages leave the straight line (docs/formats.md, "Project stages"):
- rejected (不予立项 / 未通过), from proposed or in library: the end of that proposal. It moves
  no money, so a clerk records it (with the decision's document number); a new proposal is a
  new project.
- adjusted (项目调整), from approved or implementing (or adjusted again): the approved plan
  changed, what changed in the comment. It changes what the money was approved for, so an
  approver records it. The project continues: from adjusted it takes the moves of the stage it
  was adjusted in (an adjusted approved project goes on to implementing, an adjusted
  implementing one to accepted), and it may take and pay money as that stage did.

Every stage event may carry its document number (批复文号, 调整批复文号 …); the proposal
(申报) keeps its own date, not the day it was typed in.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import lock_head, record_change
from ledger.core import creditcode, idcard
from ledger.core.classification import ADMINISTRATIVE_CODES, FUNCTION_CODES
from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.funds.posting import check_date
from ledger.models import (
    Payee,
    PayeeKind,
    Project,
    ProjectEvent,
    ProjectStatus,
    Region,
    RegionLevel,
    User,
)
from ledger.org.regions import get_region
from ledger.store.access import Action, ancestors, require
from ledger.store.db import fetch


def get_project(session: Session, code: str) -> Project:
    return fetch(session, Project, code, f"project {code!r}")


def get_payee(session: Session, code: str) -> Payee:
    return fetch(session, Payee, code, f"payee {code!r}")


def register_project(session: Session, actor: User, *, code: str, name: str,
                     county_code: str, function_code: str,
                     proposed_on: dt.date | None = None,
                     doc_number: str | None = None,
                     implementing_unit: str | None = None) -> Project:
    """Register a project as proposed (申报) on `proposed_on` (default: the day it is
    recorded), with the proposal's document number if it has one, and the unit named to carry
    it out (实施单位) if the library names one."""
    if proposed_on is not None:
        check_date(proposed_on, "proposal date")
    doc_number = _doc(doc_number)
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
    unit = " ".join((implementing_unit or "").split())[:200] or None
    project = Project(code=code, name=name, county_code=county_code, function_code=function_code,
                      implementing_unit=unit)
    with record_change(session, actor.username, "project.register") as change:
        change.add(project)
        session.flush()
        change.add(ProjectEvent(project_code=code, status=ProjectStatus.PROPOSED,
                                region_code=county_code,
                                effective_date=proposed_on or change.time.date(),
                                recorded_by=actor.id, comment="申报", doc_number=doc_number))
    return project


def _doc(doc_number: str | None) -> str | None:
    """A document number as kept: trimmed, and None where the county has none (its length is
    checked with every text column, `text_too_long`)."""
    return (doc_number or "").strip() or None


# stage → the stages it may move to, each with who may move it there. The forward move comes
# first (it is the `next_stage` a refusal names). ADJUSTED takes the moves of the stage it was
# adjusted in (`_moves`); REJECTED and CLOSED are ends.
NEXT_STAGES: dict[ProjectStatus, tuple[tuple[ProjectStatus, Action], ...]] = {
    ProjectStatus.PROPOSED: ((ProjectStatus.IN_LIBRARY, Action.RECORD),
                             (ProjectStatus.REJECTED, Action.RECORD)),
    ProjectStatus.IN_LIBRARY: ((ProjectStatus.APPROVED, Action.APPROVE),
                               (ProjectStatus.REJECTED, Action.RECORD)),
    ProjectStatus.APPROVED: ((ProjectStatus.IMPLEMENTING, Action.RECORD),
                             (ProjectStatus.ADJUSTED, Action.APPROVE)),
    ProjectStatus.IMPLEMENTING: ((ProjectStatus.ACCEPTED, Action.APPROVE),
                                 (ProjectStatus.ADJUSTED, Action.APPROVE)),
    ProjectStatus.ACCEPTED: ((ProjectStatus.CLOSED, Action.RECORD),),
}
# the old one-way table, kept for readers of the forward path
NEXT_STAGE = {stage: moves[0] for stage, moves in NEXT_STAGES.items()}
FUNDABLE = frozenset({ProjectStatus.APPROVED, ProjectStatus.IMPLEMENTING,
                      ProjectStatus.ADJUSTED})
PAYABLE = frozenset({ProjectStatus.APPROVED, ProjectStatus.IMPLEMENTING, ProjectStatus.ACCEPTED,
                     ProjectStatus.ADJUSTED})
# records that are not stages: filing at city or province
NOT_STAGES = (ProjectStatus.FILED,)


def project_stage(session: Session, code: str) -> ProjectStatus:
    return session.execute(
        select(ProjectEvent.status).where(ProjectEvent.project_code == code,
                                          ProjectEvent.status.not_in(NOT_STAGES))
        .order_by(ProjectEvent.id.desc()).limit(1)).scalar_one()


def stage_events(session: Session, code: str) -> list[ProjectEvent]:
    """The project's steps in the order they were recorded (filings included)."""
    return list(session.execute(select(ProjectEvent).where(ProjectEvent.project_code == code)
                                .order_by(ProjectEvent.id)).scalars())


def _moves(session: Session, code: str, stage: ProjectStatus):
    """The moves open to a project at `stage`; an adjusted project's are those of the stage it
    was adjusted in, the latest one before its adjustments."""
    if stage is ProjectStatus.ADJUSTED:
        stage = session.execute(
            select(ProjectEvent.status).where(
                ProjectEvent.project_code == code,
                ProjectEvent.status.not_in(NOT_STAGES + (ProjectStatus.ADJUSTED,)))
            .order_by(ProjectEvent.id.desc()).limit(1)).scalar_one()
    return NEXT_STAGES.get(stage, ())


def advance_project(session: Session, actor: User, code: str, to: ProjectStatus,
                    effective_date: dt.date, comment: str = "",
                    doc_number: str | None = None) -> ProjectEvent:
    """Move a project one stage on (or to rejected or adjusted, where its stage allows it);
    the county's clerk or approver, as the move requires. `doc_number` is the decision's
    document number (批复文号), where there is one."""
    check_date(effective_date)
    doc_number = _doc(doc_number)
    lock_head(session)  # decide under the log lock, as posting.replay does
    project = get_project(session, code)
    # Scope before anything about the project is told: another county learns nothing of its
    # stage from a refusal (the role the move needs is checked below, once the move is known).
    require(session, actor, Action.READ, project.county_code)
    stage = project_stage(session, code)
    moves = dict(_moves(session, code, stage))
    if to not in moves:
        expected = next(iter(moves), None)
        allowed = list(moves)
        others = f" (or {', '.join(s.value for s in allowed[1:])})" if allowed[1:] else ""
        raise LedgerError(f"project {code} is {stage.value}; its next stage is "
                          f"{expected.value if expected else 'none (' + stage.value + ')'}"
                          f"{others}, not {to.value}",
                          code="project_stage_skipped", project=code, stage=stage,
                          next_stage=expected, requested=to, allowed=allowed)
    if to is ProjectStatus.ADJUSTED and not comment.strip():
        raise LedgerError(f"project {code}: an adjustment says what changed (the comment)",
                          code="project_adjustment_unexplained", project=code)
    require(session, actor, moves[to], project.county_code)
    event = ProjectEvent(project_code=code, status=to, region_code=project.county_code,
                         effective_date=effective_date, recorded_by=actor.id, comment=comment,
                         doc_number=doc_number)
    with record_change(session, actor.username, f"project.{to.value}") as change:
        change.add(event)
    return event


def file_project(session: Session, actor: User, code: str, effective_date: dt.date,
                 comment: str = "", doc_number: str | None = None) -> ProjectEvent:
    """备案: a city or the province records that it has the county's approved project on file."""
    check_date(effective_date)
    doc_number = _doc(doc_number)
    project = get_project(session, code)
    if project_stage(session, code) in (ProjectStatus.PROPOSED, ProjectStatus.IN_LIBRARY,
                                        ProjectStatus.REJECTED):
        raise LedgerError(f"project {code} is not approved yet; only approved projects are filed",
                          code="project_not_approved", project=code)
    if actor.region_code == project.county_code:
        raise LedgerError("filing (备案) is done by the city or the province, not the county",
                          code="filing_by_county", project=code, region=actor.region_code)
    require(session, actor, Action.RECORD, project.county_code)
    event = ProjectEvent(project_code=code, status=ProjectStatus.FILED,
                         region_code=actor.region_code, effective_date=effective_date,
                         recorded_by=actor.id, comment=comment, doc_number=doc_number)
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


# What identifies a payee of each kind (docs/ledger.md, "Payees"): households are known by
# their pseudonymous code and their members; contractors were registered before kinds carried
# an identity and take none.
IDENTITY = {PayeeKind.BUSINESS: "credit_code", PayeeKind.UNIT: "credit_code",
            PayeeKind.PERSON: "id_number"}
# A registration department that cannot issue the code of a payee of that kind (GB 32100):
# a business is not registered by the staffing office (机构编制, 1), nor a government unit by
# market regulation (工商, 9) — such a line has its kind wrong, not its code.
FOREIGN_DEPARTMENT = {PayeeKind.BUSINESS: creditcode.GOVERNMENT,
                      PayeeKind.UNIT: creditcode.COMMERCIAL}


def _payee_identity(kind: PayeeKind, credit_code, id_number):
    """(credit code, ID number's 18-character form, division it names) of a new payee."""
    for field, given in (("credit_code", credit_code), ("id_number", id_number)):
        if given and IDENTITY.get(kind) != field:
            raise LedgerError(f"a {kind.value} payee is not identified by {field}",
                              code="payee_identity_mismatch", kind=kind, field=field)
    wanted = IDENTITY.get(kind)
    if wanted and not (credit_code if wanted == "credit_code" else id_number):
        raise LedgerError(f"a {kind.value} payee needs its {wanted}", code="required",
                          field=wanted)
    if wanted == "credit_code":
        try:
            code = creditcode.read_credit_code(credit_code)
        except creditcode.CreditCodeError as exc:
            raise LedgerError(str(exc), code="credit_code_invalid",
                              problem=exc.problem) from None
        if code[0] == FOREIGN_DEPARTMENT[kind]:
            raise LedgerError(f"{code} is issued by registration department {code[0]}; a "
                              f"{kind.value} payee's is not", code="credit_code_department",
                              kind=kind, department=code[0])
        return code, None, creditcode.registration_division(code)
    if wanted == "id_number":
        try:
            number = idcard.normalise(id_number)
        except idcard.IdNumberError as exc:
            raise LedgerError(str(exc), code="id_number_invalid", problem=exc.problem) from None
        return None, number, number[:6]
    return None, None, None


def _home_county(given: str | None, derived: str | None) -> str | None:
    if not given:
        return derived
    value = given.strip()
    if not (len(value) == 6 and value.isascii() and value.isdigit()):
        raise LedgerError(f"home county {given!r} is not a six-digit division code",
                          code="home_county_format", value=repr(given))
    return value


def county_of(session: Session, region_code: str) -> str | None:
    """The county a region lies in (itself when it is one); None above county level."""
    levels = dict(session.execute(select(Region.code, Region.level).where(
        Region.code.in_(ancestors(session, region_code)))).all())
    return next((code for code in ancestors(session, region_code)
                 if levels.get(code) is RegionLevel.COUNTY), None)


def register_payee(session: Session, actor: User, *, code: str, kind: PayeeKind, name: str,
                   region_code: str, credit_code: str | None = None,
                   id_number: str | None = None, home_county: str | None = None,
                   vault: PiiVault | None = None) -> Payee:
    """Register a payee in `region_code` (the county that pays it, or a place below).

    A business or unit gives its unified social credit code (GB 32100, check character
    verified), a person their ID number (stored encrypted: `vault`). `home_county` is where the
    payee is registered; left out, it is the division of the code's registering office or of
    the ID number. A payee from another county is recorded as such, not refused: a contractor
    of the next county may win a tender here, and the alerts read
    `payees_from_other_counties`."""
    lock_head(session)  # decide under the log lock, as posting.replay does
    get_region(session, region_code)
    require(session, actor, Action.RECORD, region_code)
    if session.get(Payee, code) is not None:
        raise LedgerError(f"payee {code!r} already exists", code="already_exists",
                          what="payee", key=code)
    credit, number, derived = _payee_identity(kind, credit_code, id_number)
    home = _home_county(home_county, derived)
    if number is not None and vault is None:
        raise LedgerError("no PII encryption key: set FUNDTRAIL_PII_KEYS",
                          code="pii_key_missing")
    digest = vault.digest(number) if number is not None else None
    same = same_identity(session, kind, credit, digest, county_of(session, region_code))
    if same is not None:
        raise LedgerError(f"payee {same} of the same county has this identity",
                          code="payee_identity_taken", payee=same)
    payee = Payee(code=code, kind=kind, name=name, region_code=region_code, credit_code=credit,
                  id_number=vault.encrypt(number) if number is not None else None,
                  id_digest=digest, home_county=home)
    with record_change(session, actor.username, "payee.register") as change:
        change.add(payee)
    return payee


def same_identity(session: Session, kind: PayeeKind, credit_code: str | None,
                  id_digest: str | None, county: str | None) -> str | None:
    """The code of a payee paid in `county` with this credit code or ID number, or None: one
    business or person under two codes would escape the duplicate-payment checks."""
    if credit_code is None and id_digest is None:
        return None
    column, value = ((Payee.credit_code, credit_code) if credit_code is not None
                     else (Payee.id_digest, id_digest))
    for other, region in session.execute(select(Payee.code, Payee.region_code)
                                         .where(column == value).order_by(Payee.code)):
        if county_of(session, region) == county:
            return other
    return None


@dataclass(frozen=True)
class OutsidePayee:
    """A payee paid in `county` whose home county (`home_county`) is another."""
    payee: str
    name: str
    kind: PayeeKind
    county: str | None
    home_county: str


def payees_from_other_counties(session: Session,
                               county: str | None = None) -> list[OutsidePayee]:
    """Payees registered in another county than the one that pays them (DOMAIN.md: recorded
    and flagged, not refused), of `county` or of all; households and payees without a home
    county are not among them. What the flag is worth is an alert's decision, not this one's."""
    query = select(Payee).where(Payee.home_county.is_not(None)).order_by(Payee.code)
    found = []
    for payee in session.execute(query).scalars():
        paying = county_of(session, payee.region_code)
        if paying != payee.home_county and (county is None or paying == county):
            found.append(OutsidePayee(payee.code, payee.name, payee.kind, paying,
                                      payee.home_county))
    return found
