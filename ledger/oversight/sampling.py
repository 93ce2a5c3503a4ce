"""Field-check samples nobody can choose (入户核查, 随机抽查; DOMAIN.md §5).

An inspector first commits to the frame (every eligible household of a county, by stratum)
and the sample size: an audit entry at some log index i. Only then does the randomness come
into being: the root of the first signed checkpoint whose size is greater than i, a tree that
includes the commitment itself. The draw is a pure function of that root and the frame
(ledger.oversight.sampling_verify), so anyone holding the published frame and checkpoint
recomputes it.
Visit results are appended, never edited; discrepancies are listed for the alert desk.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.audit import checkpoints as cps
from ledger.audit.log import log_origin, record_change
from ledger.audit.tlog.checkpoint import CheckpointError
from ledger.audit.tlog.policy import Policy, QuorumError
from ledger.core.errors import LedgerError
from ledger.models import (
    Checkpoint,
    Household,
    HouseholdEvent,
    HouseholdStatus,
    Region,
    RegionLevel,
    User,
)
from ledger.models.oversight import (
    SampleCommitment,
    SampleDraw,
    SampleStrata,
    SampleVisit,
    VisitOutcome,
)
from ledger.org.regions import get_region
from ledger.oversight.sampling_verify import (
    FRAME_FORMAT,
    SampleError,
    allocate,
    beacon_of,
    canonical_json,
    draw,
    frame_digest,
    read_checkpoint,
    sample_seed,
)
from ledger.store.access import Action, require
from ledger.store.db import fetch

NOT_ELIGIBLE = frozenset({HouseholdStatus.REMOVED, HouseholdStatus.CANCELLED})


def eligible_households(session: Session, county_code: str) -> dict[str, list[str]]:
    """Village code → sorted codes of the county's households that are still registered."""
    village, township = aliased(Region), aliased(Region)
    rows = session.execute(
        select(Household.code, Household.village_code, HouseholdEvent.status)
        .join(village, village.code == Household.village_code)
        .join(township, township.code == village.parent_code)
        .join(HouseholdEvent, HouseholdEvent.household_code == Household.code)
        .where(township.parent_code == county_code)
        .order_by(Household.code, HouseholdEvent.effective_date, HouseholdEvent.id)).all()
    latest = {code: (vil, status) for code, vil, status in rows}  # last event wins
    frame: dict[str, list[str]] = {}
    for code, (vil, status) in sorted(latest.items()):
        if status not in NOT_ELIGIBLE:
            frame.setdefault(vil, []).append(code)
    return frame


def build_frame(by_village: dict[str, list[str]], *, origin: str, county_code: str, size: int,
                strata: SampleStrata, risk_codes: set[str], risk_weight: int, log_index: int,
                as_of: dt.date, beacon: dict | None = None,
                policy_sha256: str | None = None) -> dict:
    """The frame document (docs/oversight.md): strata sorted by name, codes sorted."""
    if risk_weight < 1:
        raise LedgerError("the risk weight must be a whole number of at least 1",
                          code="sample_risk_weight", value=repr(risk_weight))
    rows = []
    for village_code, codes in sorted(by_village.items()):
        if strata is SampleStrata.VILLAGE:
            rows.append((village_code, village_code, False, 1, codes))
            continue
        risky = [c for c in codes if c in risk_codes]
        other = [c for c in codes if c not in risk_codes]
        if risky:
            rows.append((f"{village_code}:risk", village_code, True, risk_weight, risky))
        if other:
            rows.append((f"{village_code}:other", village_code, False, 1, other))
    rows.sort(key=lambda row: row[0])
    try:
        takes = allocate(size, [(name, len(codes), w) for name, _, _, w, codes in rows])
    except SampleError as exc:
        raise LedgerError(f"county {county_code}: {exc}", code="sample_too_large",
                          county=county_code, size=size, detail=str(exc)) from None
    return {"format": FRAME_FORMAT, "origin": origin, "county": county_code, "size": size,
            "strata_mode": strata.value, "risk_weight": risk_weight,
            "commitment_log_index": log_index, "as_of": as_of.isoformat(), "beacon": beacon,
            "policy_sha256": policy_sha256,
            "strata": [{"name": name, "village": vil, "risk": risk, "weight": w,
                        "households": codes, "take": takes[name]}
                       for name, vil, risk, w, codes in rows]}


def commit_sample(session: Session, actor: User, *, county_code: str, size: int,
                  strata: SampleStrata = SampleStrata.VILLAGE, risk_codes=None,
                  risk_weight: int = 3, as_of: dt.date | None = None,
                  beacon: dict | None = None,
                  policy_text: str | bytes | None = None) -> SampleCommitment:
    """Fix the frame and the size in the log, before the randomness exists.

    `policy_text` (the published tlog-policy file) is fixed in the frame by its SHA-256: the
    draw then uses the first checkpoint after the commitment that meets that policy's quorum,
    and the public check verifies the checkpoint's signatures under it. Fixing it here, not at
    the draw, leaves the inspector no choice between checkpoints.

    `beacon` ({"witness": policy name, "vkey": its cosigner key}) names an independent witness
    whose cosignature on the draw checkpoint is mixed into the seed (docs/oversight.md).
    """
    county = get_region(session, county_code)
    if county.level is not RegionLevel.COUNTY:
        raise LedgerError(f"samples are drawn per county; {county_code} is a {county.level.value}",
                          code="not_a_county", region=county_code, level=county.level)
    require(session, actor, Action.AUDIT, county_code)
    if size < 1:
        raise LedgerError("the sample size must be at least 1", code="sample_size",
                          value=repr(size))
    risk = set(risk_codes or ())
    if risk and strata is not SampleStrata.VILLAGE_RISK:
        raise LedgerError("risk households are used only with strata 'village+risk'",
                          code="sample_risk_without_strata", strata=strata)
    _check_beacon(beacon)
    policy_digest = None
    if policy_text is not None:
        _parse_policy_text(policy_text)
        policy_digest = policy_sha256(policy_text)
    by_village = eligible_households(session, county_code)
    if not by_village:
        raise LedgerError(f"county {county_code} has no registered households to sample",
                          code="sample_frame_empty", county=county_code)
    with record_change(session, actor.username, "sample.commit", county=county_code,
                       size=size, strata=strata.value) as change:
        frame = build_frame(by_village, origin=log_origin(session), county_code=county_code,
                            size=size, strata=strata, risk_codes=risk, risk_weight=risk_weight,
                            log_index=change.index, as_of=as_of or change.time.date(),
                            beacon=beacon, policy_sha256=policy_digest)
        text = canonical_json(frame)
        commitment = SampleCommitment(county_code=county_code, size=size, strata=strata,
                                      frame=text.decode("utf-8"),
                                      frame_digest=frame_digest(text).hex(),
                                      committed_by=actor.id)
        change.details["frame_digest"] = commitment.frame_digest
        change.add(commitment)
    return commitment


def _check_beacon(beacon: dict | None) -> None:
    if beacon is None:
        return
    from ledger.audit.tlog.checkpoint import CosignatureVerifier
    from ledger.audit.tlog.note import NoteError
    try:
        CosignatureVerifier.from_vkey(beacon["vkey"])
    except (NoteError, KeyError, TypeError) as exc:
        raise LedgerError(f"beacon witness {beacon!r}: not a cosigner key ({exc})",
                          code="beacon_invalid", detail=str(exc)) from None
    if set(beacon) != {"witness", "vkey"}:
        raise LedgerError("a beacon names exactly a witness and its vkey",
                          code="beacon_invalid", detail="fields")


def get_commitment(session: Session, commitment_id: int) -> SampleCommitment:
    return fetch(session, SampleCommitment, commitment_id, f"sample {commitment_id}")


def first_checkpoint_after(session: Session, commitment: SampleCommitment,
                           policy: Policy | None = None) -> Checkpoint | None:
    """The checkpoint the draw must use: the first signed one that includes the commitment.

    With a policy, the first one that also has its cosignature quorum. (Cosigners sign the
    newest checkpoint only, so a checkpoint passed over before its quorum came never gets it
    later: the choice, once made, stays.)
    """
    candidates = session.execute(
        select(Checkpoint).where(Checkpoint.origin == log_origin(session),
                                 Checkpoint.size > commitment.log_index)
        .order_by(Checkpoint.size, Checkpoint.id)).scalars()
    beacon = json.loads(commitment.frame)["beacon"]
    for checkpoint in candidates:
        if (policy is None or _meets_quorum(session, policy, checkpoint)) \
                and _has_beacon(session, checkpoint, beacon):
            return checkpoint
    return None


def _has_beacon(session, checkpoint: Checkpoint, beacon: dict | None) -> bool:
    try:
        beacon_of(cps.with_cosignatures(session, checkpoint), beacon)
    except SampleError:
        return False
    return True


def _meets_quorum(session, policy: Policy, checkpoint: Checkpoint) -> bool:
    try:
        policy.verify_checkpoint(cps.with_cosignatures(session, checkpoint))
    except QuorumError:
        return False
    except CheckpointError as exc:
        raise LedgerError(f"checkpoint {checkpoint.size} does not verify under the policy: "
                          f"{exc}", code="checkpoint_invalid", size=checkpoint.size,
                          detail=str(exc)) from None
    return True


def _any_checkpoint_after(session, commitment) -> bool:
    return session.execute(select(Checkpoint.id).where(
        Checkpoint.origin == log_origin(session),
        Checkpoint.size > commitment.log_index).limit(1)).first() is not None


def policy_sha256(policy_text: str | bytes) -> str:
    data = policy_text.encode("utf-8") if isinstance(policy_text, str) else policy_text
    return hashlib.sha256(data).hexdigest()


def _parse_policy_text(policy_text: str | bytes) -> Policy:
    from ledger.audit.tlog.policy import PolicyError, parse_policy
    try:
        return parse_policy(policy_text)
    except PolicyError as exc:
        raise LedgerError(f"policy: {exc}", code="policy_invalid", detail=str(exc)) from None


def draw_sample(session: Session, actor: User, commitment_id: int, *,
                policy_text: str | bytes | None = None,
                checkpoint_note: str | None = None) -> SampleDraw:
    """Draw the households from the first checkpoint after the commitment.

    `checkpoint_note`, if given, is the checkpoint the caller expects to use: it is refused
    unless it is that first checkpoint. If the commitment fixed a policy, the same policy file
    must be given and only checkpoints with its quorum count; if it fixed none, none is used.
    """
    commitment = get_commitment(session, commitment_id)
    require(session, actor, Action.AUDIT, commitment.county_code)
    fixed = json.loads(commitment.frame).get("policy_sha256")
    if fixed is None and policy_text is not None:
        raise LedgerError(f"sample {commitment_id} was committed without a policy; it is drawn "
                          "from the first checkpoint after it, without one",
                          code="sample_policy_unexpected", sample=commitment_id)
    if fixed is not None and (policy_text is None or policy_sha256(policy_text) != fixed):
        raise LedgerError(f"sample {commitment_id} was committed under the policy file with "
                          f"SHA-256 {fixed[:16]}…; give that same file",
                          code="sample_policy_differs", sample=commitment_id,
                          policy_sha256=fixed)
    policy = _parse_policy_text(policy_text) if fixed is not None else None
    if session.execute(select(SampleDraw.id).where(
            SampleDraw.commitment_id == commitment_id)).first():
        raise LedgerError(f"sample {commitment_id} has been drawn already; a sample is drawn once",
                          code="sample_already_drawn", sample=commitment_id)
    checkpoint = _checkpoint_for(session, commitment, checkpoint_note, policy)
    frame = json.loads(commitment.frame)
    beacon = beacon_of(cps.with_cosignatures(session, checkpoint), frame["beacon"])
    seed = sample_seed(bytes(checkpoint.root), bytes.fromhex(commitment.frame_digest), beacon)
    visits = draw(frame, seed)
    row = SampleDraw(commitment_id=commitment_id, checkpoint_size=checkpoint.size,
                     checkpoint_root=bytes(checkpoint.root).hex(), seed=seed.hex(),
                     households=[[v["stratum"], v["household"]] for v in visits],
                     drawn_by=actor.id)
    with record_change(session, actor.username, "sample.draw", sample=commitment_id,
                       checkpoint_size=checkpoint.size) as change:
        change.add(row)
    return row


def _checkpoint_for(session, commitment, checkpoint_note, policy) -> Checkpoint:
    first = first_checkpoint_after(session, commitment, policy)
    if checkpoint_note is not None:
        try:
            _, size, root = read_checkpoint(checkpoint_note)
        except SampleError as exc:
            raise LedgerError(str(exc), code="checkpoint_invalid", size=None,
                              detail=str(exc)) from None
        if size <= commitment.log_index:
            raise LedgerError(f"checkpoint of size {size} is older than the commitment (log "
                              f"entry {commitment.log_index}): its root existed before the "
                              "frame and size were fixed, so it cannot choose the sample",
                              code="sample_checkpoint_too_old", size=size,
                              log_index=commitment.log_index)
        if first is None or (size, root) != (first.size, bytes(first.root)):
            raise LedgerError(f"the draw must use the first checkpoint after the commitment "
                              f"({'size ' + str(first.size) if first else 'none yet'}),"
                              f" not the one of size {size}",
                              code="sample_checkpoint_not_first", size=size,
                              first_size=first.size if first else None)
    if first is not None:
        return first
    if (policy is not None or json.loads(commitment.frame)["beacon"]) and \
            _any_checkpoint_after(session, commitment):
        raise LedgerError(f"no checkpoint after the commitment (log entry "
                          f"{commitment.log_index}) has the cosignatures the policy and the "
                          "beacon witness require yet: gather them with `fundtrail checkpoint "
                          "cosign`, then draw", code="sample_quorum_missing",
                          log_index=commitment.log_index)
    raise LedgerError(f"no checkpoint includes the commitment (log entry "
                      f"{commitment.log_index}) yet: run `fundtrail checkpoint sign`, "
                      "then draw", code="sample_not_checkpointed",
                      log_index=commitment.log_index)


def get_draw(session: Session, commitment_id: int) -> SampleDraw:
    row = session.execute(select(SampleDraw).where(
        SampleDraw.commitment_id == commitment_id)).scalar_one_or_none()
    if row is None:
        raise LedgerError(f"sample {commitment_id} has not been drawn yet (fundtrail sample draw)",
                          code="sample_not_drawn", sample=commitment_id)
    return row


def published(session: Session, actor: User, commitment_id: int) -> tuple[str, str]:
    """(frame file text, checkpoint note with cosignatures): what to publish for checking.

    Inspectors publish them once the visits are done: together they name the households, and a
    check announced in advance is no spot check (随机抽查).
    """
    commitment = get_commitment(session, commitment_id)
    require(session, actor, Action.AUDIT, commitment.county_code)
    drawn = get_draw(session, commitment_id)
    checkpoint = session.execute(select(Checkpoint).where(
        Checkpoint.origin == log_origin(session), Checkpoint.size == drawn.checkpoint_size)
        .order_by(Checkpoint.id).limit(1)).scalar_one()
    return commitment.frame, cps.with_cosignatures(session, checkpoint)


def visit_list(session: Session, actor: User, commitment_id: int) -> list[dict]:
    """The households to visit, with village name, head and the latest recorded result."""
    commitment = get_commitment(session, commitment_id)
    require(session, actor, Action.AUDIT, commitment.county_code)  # not the county checked
    drawn = get_draw(session, commitment_id)
    results = _latest_visits(session, [drawn.id])
    out = []
    for stratum, code in drawn.households:
        household = session.get(Household, code)
        village = session.get(Region, household.village_code)
        last = results.get((drawn.id, code))
        out.append({"sample": commitment_id, "stratum": stratum, "household": code,
                    "village": village.code, "village_name": village.name,
                    "head": household.head_name,
                    "result": last.outcome.value if last else "not visited",
                    "details": last.details if last else ""})
    return out


def record_visit(session: Session, actor: User, commitment_id: int, household_code: str, *,
                 outcome: VisitOutcome, details: str = "",
                 visited_on: dt.date) -> SampleVisit:
    """Record what the inspector found at a drawn household (a revisit appends a new row)."""
    commitment = get_commitment(session, commitment_id)
    require(session, actor, Action.AUDIT, commitment.county_code)
    drawn = get_draw(session, commitment_id)
    if household_code not in {code for _, code in drawn.households}:
        raise LedgerError(f"household {household_code} was not drawn in sample {commitment_id}; "
                          "only drawn households are visited", code="sample_household_not_drawn",
                          sample=commitment_id, household=household_code)
    if visited_on > dt.date.today():
        raise LedgerError(f"visit date {visited_on} is in the future", code="date_in_future",
                          field="visit date", date=visited_on)
    if outcome is VisitOutcome.DISCREPANCY and not details.strip():
        raise LedgerError("a discrepancy needs details: what differs from the ledger",
                          code="required", field="details")
    visit = SampleVisit(draw_id=drawn.id, household_code=household_code, outcome=outcome,
                        details=details.strip(), visited_on=visited_on, inspector_id=actor.id)
    with record_change(session, actor.username, "sample.visit", sample=commitment_id,
                       household=household_code, outcome=outcome.value) as change:
        change.add(visit)
    return visit


def _latest_visits(session: Session, draw_ids: list[int]) -> dict[tuple, SampleVisit]:
    rows = session.execute(select(SampleVisit).where(SampleVisit.draw_id.in_(draw_ids))
                           .order_by(SampleVisit.id)).scalars().all()
    return {(v.draw_id, v.household_code): v for v in rows}


def discrepancies(session: Session, county_code: str | None = None) -> list[dict]:
    """Households whose latest visit found a discrepancy: input for the alert desk."""
    query = select(SampleDraw.id, SampleDraw.commitment_id, SampleCommitment.county_code) \
        .join(SampleCommitment, SampleCommitment.id == SampleDraw.commitment_id)
    if county_code is not None:
        query = query.where(SampleCommitment.county_code == county_code)
    draws = {d.id: d for d in session.execute(query).all()}
    found = []
    for (draw_id, code), visit in sorted(_latest_visits(session, list(draws)).items()):
        if visit.outcome is VisitOutcome.DISCREPANCY:
            found.append({"sample": draws[draw_id].commitment_id,
                          "county": draws[draw_id].county_code, "household": code,
                          "details": visit.details, "visited_on": visit.visited_on.isoformat(),
                          "inspector_id": visit.inspector_id, "log_index": visit.log_index})
    return found
