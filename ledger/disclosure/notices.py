"""Public disclosure (公告公示): publish a notice into the audit log, prepare it for printing
with a QR that proves it, and check such a QR.

The workflow has three steps because a proof needs a checkpoint that covers its entry:

1. `publish_*` records the notice (a `notices` row: kind, subject, display dates and the
   SHA-256 of the rows it prints) as one audit-log entry, through `record_change`.
2. The bureau signs a checkpoint and the cosigners cosign it (`fundtrail checkpoint sign`,
   `fundtrail checkpoint cosign`), as for any other entry.
3. `printable` finds the newest checkpoint that covers the entry and meets the policy's
   quorum, builds the inclusion proof (C2SP tlog-proof, compact form, with the entry bytes as
   its extra data), and makes the QR's text: a link to the public verify page whose fragment
   is the Base45 of that proof (`proofs.proof_link`).

`check_qr_payload` reverses step 3: it verifies the proof against the policy and checks that
the rows digest in the notice entry matches the rows (recomputed from the ledger as it stood
at that entry, see ledger.disclosure.content, or supplied by the caller).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit import checkpoints as cps
from ledger.audit.entries import EntryFormatError, decode_entry
from ledger.audit.log import entry_bytes, lock_head, record_change
from ledger.audit.tlog import merkle, proofs
from ledger.core.config import DEFAULT_PUBLIC_URL
from ledger.core.errors import LedgerError
from ledger.disclosure import content as nc
from ledger.funds.posting import check_date
from ledger.models import (
    Checkpoint,
    Household,
    PaymentRoll,
    Project,
    ProjectStatus,
    RegionLevel,
    User,
)
from ledger.models.disclosure import (
    HouseholdSupport,
    Notice,
    NoticeKind,
    ProjectDetails,
    ProjectNotice,
    ProjectNoticeKind,
    SupervisionContact,
)
from ledger.org.regions import get_region
from ledger.store.access import Action, ancestors, require

# ----------------------------------------------------------------------------- subjects


def subject_text(**parts: str) -> str:
    """Canonical subject: sorted key=value pairs joined by ';' (values never hold ';' or '=')."""
    for key, value in parts.items():
        if ";" in str(value) or "=" in str(value):
            raise LedgerError(f"{key} {value!r} may not contain ';' or '='",
                              code="subject_separator", field=key, value=repr(value))
    return ";".join(f"{k}={parts[k]}" for k in sorted(parts))


def parse_subject(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(";") if part)


# ----------------------------------------------------------------------------- details


def record_project_details(session: Session, actor: User, *, project_code: str,
                           village_codes: list[str], place: str, content: str,
                           subsidy_standard: str, start_date: dt.date, end_date: dt.date,
                           implementer: str, responsible_person: str,
                           performance_targets: str, benefit_mechanism: str,
                           supervision_phone: str, issuing_unit: str) -> ProjectDetails:
    """Record (or correct, by a newer record) what the project notice prints."""
    project = session.get(Project, project_code)
    if project is None:
        raise LedgerError(f"project {project_code!r} does not exist", code="not_found",
                          what="project", key=project_code)
    require(session, actor, Action.RECORD, project.county_code)
    if not village_codes:
        raise LedgerError("name at least one village whose board posts the notice",
                          code="notice_without_village")
    for code in village_codes:
        village = get_region(session, code)
        if village.level is not RegionLevel.VILLAGE or \
                project.county_code not in ancestors(session, code):
            raise LedgerError(f"{code} is not a village of county {project.county_code}",
                              code="not_a_village_of_county", region=code,
                              county=project.county_code)
    check_date(start_date, "start date")
    check_date(end_date, "end date")
    if end_date < start_date:
        raise LedgerError(f"the period ends ({end_date}) before it starts ({start_date})",
                          code="dates_reversed", field="project_period", start=start_date,
                          end=end_date)
    texts = {"place": place, "content": content, "subsidy standard": subsidy_standard,
             "implementer": implementer, "responsible person": responsible_person,
             "performance targets": performance_targets, "benefit mechanism": benefit_mechanism,
             "supervision phone": supervision_phone, "issuing unit": issuing_unit}
    empty = [name for name, value in texts.items() if not (value or "").strip()]
    if empty:
        raise LedgerError(f"project details need every field; empty: {', '.join(empty)}",
                          code="required_fields", fields=empty)
    row = ProjectDetails(
        project_code=project_code, village_codes=list(village_codes), place=place.strip(),
        content=content.strip(), subsidy_standard=subsidy_standard.strip(),
        start_date=start_date, end_date=end_date, implementer=implementer.strip(),
        responsible_person=responsible_person.strip(),
        performance_targets=performance_targets.strip(),
        benefit_mechanism=benefit_mechanism.strip(), supervision_phone=supervision_phone.strip(),
        issuing_unit=issuing_unit.strip(), recorded_by=actor.id)
    with record_change(session, actor.username, "project.details") as change:
        change.add(row)
    return row


def record_household_support(session: Session, actor: User, *, household_code: str,
                             cadre_name: str, cadre_phone: str, village_phone: str,
                             county_phone: str) -> HouseholdSupport:
    """Record the assistance cadre and the phones printed on the household card. (Its
    micro-credit loans come from ledger.households.credit.)"""
    household = session.get(Household, household_code)
    if household is None:
        raise LedgerError(f"household {household_code!r} does not exist", code="not_found",
                          what="household", key=household_code)
    require(session, actor, Action.RECORD, household.village_code)
    if not all(v.strip() for v in (cadre_name, cadre_phone, village_phone, county_phone)):
        raise LedgerError("the cadre's name and phone, the village and the county phone are "
                          "all needed", code="required_fields",
                          fields=[name for name, v in (
                              ("cadre name", cadre_name), ("cadre phone", cadre_phone),
                              ("village phone", village_phone),
                              ("county phone", county_phone)) if not v.strip()])
    row = HouseholdSupport(household_code=household_code, cadre_name=cadre_name.strip(),
                           cadre_phone=cadre_phone.strip(), village_phone=village_phone.strip(),
                           county_phone=county_phone.strip(), recorded_by=actor.id)
    with record_change(session, actor.username, "household.support") as change:
        change.add(row)
    return row


def record_contact(session: Session, actor: User, *, region_code: str, office: str,
                   phone: str) -> SupervisionContact:
    """Record (or replace, by a newer record) a region's supervision phone for notices."""
    get_region(session, region_code)
    require(session, actor, Action.RECORD, region_code)
    if not office.strip() or not phone.strip():
        raise LedgerError("a supervision contact needs the office and the phone",
                          code="required_fields",
                          fields=[name for name, v in (("office", office), ("phone", phone))
                                  if not v.strip()])
    row = SupervisionContact(region_code=region_code, office=office.strip(),
                             phone=phone.strip(), recorded_by=actor.id)
    with record_change(session, actor.username, "supervision.contact") as change:
        change.add(row)
    return row


def supervision_contacts(session: Session, region_code: str) -> list[SupervisionContact]:
    """The supervision phones a board of `region_code` shows, nearest level first (village,
    township, county, city…): the latest record of each level that has one. The notices print
    the same levels (content.supervision_phones), then 12317 (content.SUPERVISION_HOTLINE)."""
    chain = ancestors(session, region_code)
    latest: dict[str, SupervisionContact] = {}
    for contact in session.execute(select(SupervisionContact).where(
            SupervisionContact.region_code.in_(chain)).order_by(SupervisionContact.id.desc())
            ).scalars():
        latest.setdefault(contact.region_code, contact)
    return [latest[code] for code in chain if code in latest]


# ----------------------------------------------------------------------------- content


def content_for(session: Session, kind: NoticeKind, subject: dict, display_from: dt.date,
                display_to: dt.date, before: int, vault=None) -> dict:
    """The rows of a notice of `kind` about `subject`, as the ledger stood before entry
    `before`."""
    if kind is NoticeKind.PROJECT:
        return nc.project_notice(session, subject["project"], subject["village"],
                                 display_from, display_to, before)
    if kind is NoticeKind.ROLL:
        if vault is None:
            from ledger.core.pii import PiiVault
            vault = PiiVault.from_env()
        return nc.roll_notice(session, vault, subject["roll"], subject["village"],
                              display_from, display_to, before, subject.get("names", "full"))
    return nc.county_annual(session, subject["county"], int(subject["year"]), display_from,
                            display_to, before)


def _county_of(session: Session, kind: NoticeKind, subject: dict) -> str:
    if kind is NoticeKind.PROJECT:
        project = session.get(Project, subject["project"])
        if project is None:
            raise LedgerError(f"project {subject['project']!r} does not exist",
                              code="not_found", what="project", key=subject["project"])
        return project.county_code
    if kind is NoticeKind.ROLL:
        roll = session.execute(select(PaymentRoll).where(PaymentRoll.code == subject["roll"])) \
            .scalar_one_or_none()
        if roll is None:
            raise LedgerError(f"payment roll {subject['roll']!r} does not exist",
                              code="not_found", what="roll", key=subject["roll"])
        return roll.county_code
    return subject["county"]


def publish(session: Session, actor: User, kind: NoticeKind, subject: dict,
            display_from: dt.date, display_to: dt.date, vault=None) -> Notice:
    """Record a notice as it stands now. Publishing the same rows and dates again returns the
    notice already recorded (no new entry); changed rows make a new notice."""
    check_date(display_from, "display start")
    if display_to < display_from:
        raise LedgerError(f"the display ends ({display_to}) before it starts ({display_from})",
                          code="dates_reversed", field="display", start=display_from,
                          end=display_to)
    require(session, actor, Action.RECORD, _county_of(session, kind, subject))
    text = subject_text(**subject)
    head = lock_head(session)  # the notice will be entry head.size: its rows are all before it
    content = content_for(session, kind, subject, display_from, display_to, head.size, vault)
    rows_digest = nc.digest(content)
    existing = latest_notice(session, kind, text)
    if existing is not None and existing.rows_digest == rows_digest:
        if kind is NoticeKind.PROJECT:  # published before project notices were kept as data
            _record_published_window(session, actor, existing, subject, content)
        return existing
    notice = Notice(kind=kind, subject=text, rows_digest=rows_digest,
                    row_count=nc.row_count(content), display_from=display_from,
                    display_to=display_to, recorded_by=actor.id)
    with record_change(session, actor.username, "notice.publish") as change:
        change.add(notice)
    if kind is NoticeKind.PROJECT:
        _record_published_window(session, actor, notice, subject, content)
    return notice


# ----------------------------------------------------------------------------- project notices
#
# Every display window of a project notice, in one table (`project_notices`): imported for the
# past (ledger.imports.project_notices) and added when a village project notice is published.
# The published row is its own entry after the notice's: the notice entry travels in the QR and
# must stay small, and its rows digest must not change.

BOARD = "村务公开栏"


def _record_published_window(session: Session, actor: User, notice: Notice, subject: dict,
                             content: dict) -> ProjectNotice | None:
    if session.execute(select(ProjectNotice.id).where(ProjectNotice.notice_id == notice.id)
                       .limit(1)).first() is not None:
        return None
    stage = nc.project_stage_before(session, subject["project"], notice.log_index)
    after = stage in (ProjectStatus.ACCEPTED, ProjectStatus.CLOSED)
    details = nc.latest_details(session, subject["project"], notice.log_index)
    row = ProjectNotice(
        project_code=subject["project"], region_code=subject["village"],
        kind=ProjectNoticeKind.ANNOUNCEMENT if after else ProjectNoticeKind.PUBLICITY,
        display_from=notice.display_from, display_to=notice.display_to,
        place=nc.region_name(session, subject["village"]) + BOARD,
        issuer=details.issuing_unit, doc_number=None, title=content["title"],
        notice_id=notice.id, recorded_by=actor.id)
    with record_change(session, actor.username, "project_notice.publish",
                       notice_id=notice.id) as change:
        change.add(row)
    return row


@dataclass(frozen=True)
class ProjectNoticeLine:
    """A project notice as a county kept it (one line of a `project_notices` file)."""
    project_code: str
    region_code: str
    kind: ProjectNoticeKind
    display_from: dt.date
    display_to: dt.date
    place: str
    issuer: str
    doc_number: str | None = None
    title: str | None = None

    def key(self) -> tuple:
        return (self.project_code, self.region_code, self.kind, self.display_from)


def notice_differences(row: ProjectNotice, recorded: ProjectNotice) -> list[str]:
    """The fields of the same notice (project, board, kind, first day) that differ."""
    return [name for name in ("display_to", "place", "issuer", "doc_number", "title")
            if getattr(row, name) != getattr(recorded, name)]


def check_project_notice(session: Session, actor: User, line: ProjectNoticeLine) -> ProjectNotice:
    """The row `line` would add, checked (project, board region inside its county, dates,
    place and issuer); nothing is written."""
    project = session.get(Project, line.project_code)
    if project is None:
        raise LedgerError(f"project {line.project_code!r} does not exist", code="not_found",
                          what="project", key=line.project_code)
    require(session, actor, Action.RECORD, project.county_code)
    get_region(session, line.region_code)
    if project.county_code not in ancestors(session, line.region_code):
        raise LedgerError(f"{line.region_code} is not in county {project.county_code} of "
                          f"project {line.project_code}", code="project_notice_region",
                          project=line.project_code, region=line.region_code,
                          county=project.county_code)
    check_date(line.display_from, "display start")
    check_date(line.display_to, "display end")
    if line.display_to < line.display_from:
        raise LedgerError(f"the display ends ({line.display_to}) before it starts "
                          f"({line.display_from})", code="dates_reversed", field="display",
                          start=line.display_from, end=line.display_to)
    empty = [name for name, value in (("place", line.place), ("issuer", line.issuer))
             if not (value or "").strip()]
    if empty:
        raise LedgerError(f"a project notice needs its {' and '.join(empty)}",
                          code="required_fields", fields=empty)
    return ProjectNotice(project_code=line.project_code, region_code=line.region_code,
                         kind=line.kind, display_from=line.display_from,
                         display_to=line.display_to, place=line.place.strip(),
                         issuer=line.issuer.strip(),
                         doc_number=(line.doc_number or "").strip() or None,
                         title=(line.title or "").strip() or None, recorded_by=actor.id)


def find_project_notice(session: Session, project_code: str, region_code: str,
                        kind: ProjectNoticeKind, display_from: dt.date) -> ProjectNotice | None:
    """The latest row for one board's notice of a project first displayed on `display_from`."""
    return session.execute(
        select(ProjectNotice).where(ProjectNotice.project_code == project_code,
                                    ProjectNotice.region_code == region_code,
                                    ProjectNotice.kind == kind,
                                    ProjectNotice.display_from == display_from)
        .order_by(ProjectNotice.id.desc()).limit(1)).scalar_one_or_none()


def record_project_notices(session: Session, actor: User, lines: list[ProjectNoticeLine],
                           kind: str = "project_notice.record") -> list[ProjectNotice]:
    """Record project notices as displayed in the past, all in one audit entry. Each line is
    checked as `check_project_notice` does; a line whose notice is already recorded with the
    same content is left out, with other content it is refused (`import_reused`)."""
    rows = []
    for line in lines:
        row = check_project_notice(session, actor, line)
        existing = find_project_notice(session, *line.key())
        if existing is not None:
            if notice_differences(row, existing):
                raise LedgerError(f"project notice {_notice_key(line)} was recorded before "
                                  f"(log entry {existing.log_index}) with other values: "
                                  f"{', '.join(notice_differences(row, existing))}",
                                  code="import_reused", what="project notice",
                                  key=_notice_key(line), log_index=existing.log_index)
            continue
        rows.append(row)
    if rows:
        with record_change(session, actor.username, kind, count=len(rows)) as change:
            for row in rows:
                change.add(row)
    return rows


def _notice_key(line: ProjectNoticeLine) -> str:
    return (f"{line.project_code}/{line.region_code}/{line.kind.value}/"
            f"{line.display_from.isoformat()}")


def project_notices(session: Session, project_code: str | None = None,
                    region_code: str | None = None) -> list[ProjectNotice]:
    """Every display window recorded (imported or published), oldest first: what a rule on
    display windows reads."""
    stmt = select(ProjectNotice).order_by(ProjectNotice.id)
    if project_code is not None:
        stmt = stmt.where(ProjectNotice.project_code == project_code)
    if region_code is not None:
        stmt = stmt.where(ProjectNotice.region_code == region_code)
    return list(session.execute(stmt).scalars())


def project_window(display_from: dt.date, days: int, minimum: int) -> dt.date:
    """Last display day of a project notice posted for `days` calendar days (≥ minimum)."""
    if days < minimum:
        raise LedgerError(f"a project notice is displayed for at least {minimum} days "
                          f"([publicity] project_notice_days), not {days}",
                          code="notice_too_short", days=days, minimum=minimum)
    return display_from + dt.timedelta(days=days - 1)


def roll_window(display_from: dt.date, working_days: int) -> dt.date:
    """Last display day of a payment roll: the day before it may be approved."""
    from ledger.rolls.lifecycle import publicity_ends
    return publicity_ends(display_from, working_days) - dt.timedelta(days=1)


def latest_notice(session: Session, kind: NoticeKind, subject: str) -> Notice | None:
    return session.execute(select(Notice).where(Notice.kind == kind, Notice.subject == subject)
                           .order_by(Notice.id.desc()).limit(1)).scalar_one_or_none()


# ----------------------------------------------------------------------------- printing


@dataclass(frozen=True)
class PrintableNotice:
    """Everything a renderer needs: the notice, its rows, the QR text and the fingerprint."""
    notice: Notice
    content: dict
    qr_text: str
    origin: str
    size: int
    root_hex: str
    witnesses: tuple[str, ...]
    keys_fingerprint: str = ""   # of the published keys the QR verifies under (Policy)

    @property
    def fingerprint(self) -> str:
        root = "-".join(self.root_hex[i:i + 4] for i in range(0, 16, 4))
        return f"日志 {self.origin} · 第 {self.notice.log_index} 条 / 共 {self.size} 条 · 根 {root}"


def printable(session: Session, kind: NoticeKind, subject: dict, policy,
              vault=None, checkpoint_size: int | None = None,
              public_url: str = DEFAULT_PUBLIC_URL) -> PrintableNotice:
    """The newest notice on `subject`, proved against the newest checkpoint that covers it and
    meets the policy (or the checkpoint of `checkpoint_size`, to reprint an earlier paper
    byte for byte). Its QR text is the link to the verify page at `public_url` ([web]
    public_url) that carries the whole proof (proofs.proof_link)."""
    text = subject_text(**subject)
    notice = latest_notice(session, kind, text)
    if notice is None:
        raise LedgerError(f"no {kind.value} notice for {text} has been published: record it "
                          f"first with `fundtrail --as CLERK report publish {_cli_kind(kind)} "
                          f"...`, then sign and cosign a checkpoint",
                          code="notice_unpublished", kind=kind, subject=text)
    content = content_for(session, kind, subject, notice.display_from, notice.display_to,
                          notice.log_index, vault)
    if nc.digest(content) != notice.rows_digest:
        raise LedgerError(f"notice #{notice.id} (log entry {notice.log_index}) no longer "
                          "recomputes to the rows it published: run `fundtrail verify`",
                          code="notice_altered", notice=notice.id, log_index=notice.log_index)
    if policy is None:
        raise LedgerError("a policy file (the published keys and quorum) is needed to print a "
                          "verifiable notice: set [audit] policy_file", code="policy_missing")
    note, row = covering_checkpoint(session, notice.log_index, policy, checkpoint_size)
    entry = entry_bytes(session, notice.log_index)
    proof = proofs.build_proof(notice.log_index, note, cps.node_reader(session), extra=entry)
    verified = proofs.verify_entry_proof(proof, policy)  # never print a QR that fails
    qr = proofs.proof_link(public_url, proofs.encode_compact(proof))
    return PrintableNotice(notice, content, qr, row.origin, row.size, bytes(row.root).hex(),
                           tuple(sorted(verified.witnesses)), policy.keys_fingerprint())


def record_print(session: Session, actor: User, notice: Notice, pdf_sha256: str, paper: str,
                 checkpoint_size: int) -> int:
    """Log that a notice was printed, with the SHA-256 of the exact PDF. The PDF is
    deterministic, so anyone can print it again from the ledger and compare. Returns the entry
    index. (The hash cannot be inside the notice entry itself: the PDF carries that entry's
    proof.)"""
    subject = parse_subject(notice.subject)
    require(session, actor, Action.RECORD, _county_of(session, notice.kind, subject))
    with record_change(session, actor.username, "notice.printed", notice_id=notice.id,
                       notice_entry=notice.log_index, pdf_sha256=pdf_sha256, paper=paper,
                       checkpoint_size=checkpoint_size) as change:
        return change.index


def _cli_kind(kind: NoticeKind) -> str:
    return {NoticeKind.PROJECT: "village-notice", NoticeKind.ROLL: "payment-roll",
            NoticeKind.COUNTY_ANNUAL: "county-annual"}[kind]


def covering_checkpoint(session: Session, index: int, policy,
                        size: int | None = None) -> tuple[str, Checkpoint]:
    """The newest checkpoint that covers entry `index` and meets the policy's quorum (of the
    given size only, if `size` is given)."""
    stmt = select(Checkpoint).where(Checkpoint.origin == policy_origin(session),
                                    Checkpoint.size > index)
    if size is not None:
        stmt = stmt.where(Checkpoint.size == size)
    rows = session.execute(stmt.order_by(Checkpoint.id.desc())).scalars().all()
    if not rows and size is not None:
        raise LedgerError(f"no checkpoint of size {size} covers the notice (log entry {index})",
                          code="notice_checkpoint_size", size=size, log_index=index)
    if not rows:
        raise LedgerError(f"no checkpoint covers the notice (log entry {index}) yet: run "
                          "`fundtrail checkpoint sign`, then each cosigner runs `fundtrail "
                          "checkpoint cosign --key KEY --state STATE`, then print again",
                          code="notice_not_checkpointed", log_index=index)
    problems = []
    for row in rows:
        note = cps.with_cosignatures(session, row)
        try:
            policy.verify_checkpoint(note)
            return note, row
        except ValueError as exc:
            problems.append(f"size {row.size}: {exc}")
    raise LedgerError(f"checkpoints cover the notice (log entry {index}) but none meets the "
                      f"policy's quorum ({problems[0]}): the cosigners must run `fundtrail "
                      "checkpoint cosign --key KEY --state STATE`, then print again",
                      code="notice_quorum_missing", log_index=index, detail=problems[0])


def policy_origin(session: Session) -> str:
    from ledger.audit.log import log_origin
    return log_origin(session)


# ----------------------------------------------------------------------------- checking a QR


@dataclass
class QrCheck:
    """What a QR on a printed notice proves. `ok` only if the proof verifies under the policy
    AND the rows digest in the entry equals the digest of the rows checked."""
    proof_verified: bool = False
    rows_match: bool | None = None
    problems: list[str] = field(default_factory=list)
    index: int | None = None
    origin: str = ""
    size: int | None = None
    root_hex: str = ""
    witnesses: tuple[str, ...] = ()
    kind: str = ""
    subject: str = ""
    rows_digest: str = ""
    display_from: str = ""
    display_to: str = ""
    content: dict | None = None

    @property
    def ok(self) -> bool:
        return self.proof_verified and self.rows_match is True and not self.problems


def check_qr_payload(text: str, policy, *, session: Session | None = None,
                     content: dict | None = None, vault=None) -> QrCheck:
    """Decode a notice's QR text (the verify link, or bare Base45 as printed before the QR
    became a link), verify its proof under `policy`, and check its rows.

    The rows are `content` if given (e.g. what the caller read off the paper), else they are
    recomputed from the ledger in `session` as it stood just before the notice's entry. With
    neither, only the proof is checked and `rows_match` stays None (so `ok` is False).
    """
    result = QrCheck()
    try:
        proof = proofs.decode_link(text)
        verified = proofs.verify_entry_proof(proof, policy)
    except (ValueError, merkle.ProofError) as exc:
        result.problems.append(f"the proof does not verify: {exc}")
        return result
    cp = verified.checkpoint
    result.proof_verified = True
    result.index, result.origin, result.size = proof.index, cp.origin, cp.size
    result.root_hex, result.witnesses = cp.root_hash.hex(), tuple(sorted(verified.witnesses))
    image = _notice_image(proof.extra, result)
    if image is None:
        return result
    result.kind, result.subject = image["kind"], image["subject"]
    result.rows_digest = image["rows_digest"]
    result.display_from, result.display_to = image["display_from"], image["display_to"]
    if content is None and session is not None:
        try:
            content = content_for(session, NoticeKind(result.kind),
                                  parse_subject(result.subject),
                                  dt.date.fromisoformat(result.display_from),
                                  dt.date.fromisoformat(result.display_to), proof.index, vault)
        except (LedgerError, KeyError, ValueError) as exc:
            result.problems.append(f"the rows cannot be recomputed from the ledger: {exc}")
            return result
    if content is not None:
        result.content = content
        result.rows_match = nc.digest(content) == result.rows_digest
        if not result.rows_match:
            result.problems.append("the rows differ from those the notice entry commits to")
    return result


def _notice_image(entry: bytes, result: QrCheck) -> dict | None:
    try:
        decoded = decode_entry(entry)
    except EntryFormatError as exc:
        result.problems.append(f"the entry in the proof is malformed: {exc}")
        return None
    if decoded["kind"] != "notice.publish":
        result.problems.append(f"entry {decoded['index']} is a {decoded['kind']!r}, not a "
                               "notice")
        return None
    images = [r[4] for r in decoded["rows"] if r[0] == "notices"]
    if len(images) != 1:
        result.problems.append("the entry does not hold exactly one notice")
        return None
    return images[0]
