"""Signing and cosigning checkpoints of the database's log; proofs from stored nodes.

The bureau signs a checkpoint (size and root of the log now). Each cosigner (an official or
auditor) keeps its own small state file with the last checkpoint it cosigned, and cosigns a new
one only after checking the log signature and a consistency proof from that checkpoint: so a log
that was rewritten after a cosigner saw it can never gather that cosigner's signature again.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import lock_head, log_origin, reading_log_id
from ledger.audit.tlog import merkle
from ledger.audit.tlog.checkpoint import Checkpoint as CheckpointBody
from ledger.audit.tlog.checkpoint import (
    CheckpointError,
    add_signatures,
    cosign,
    open_checkpoint,
    sign_checkpoint,
)
from ledger.audit.tlog.note import parse_note
from ledger.core.errors import LedgerError
from ledger.models import AuditEntry, AuditHead, AuditNode, Checkpoint, Cosignature


def node_reader(session: Session, origin: str | None = None):
    """merkle's NodeReader over the database's copy of log `origin` (the session's by default):
    leaves from entries, the rest from audit_nodes."""
    log_id = reading_log_id(session, origin)

    def read(level: int, index: int) -> bytes:
        if level == 0:
            value = session.execute(select(AuditEntry.leaf_hash).where(
                AuditEntry.log_id == log_id, AuditEntry.idx == index)).scalar_one_or_none()
        else:
            value = session.execute(select(AuditNode.hash).where(
                AuditNode.log_id == log_id, AuditNode.level == level,
                AuditNode.idx == index)).scalar_one_or_none()
        if value is None:
            raise LedgerError(f"audit tree node ({level}, {index}) is missing",
                              code="tree_node_missing", level=level, index=index)
        return bytes(value)

    def read_many(nodes):
        # A proof needs ~log2(n) nodes: two statements instead of one per node (figure 8 of
        # docs/performance.md). Written as SQL text: building ~20 SQLAlchemy conditions per
        # proof cost ten times what the database spends answering. Every value is an int(),
        # so the text holds nothing but digits from outside.
        connection = session.connection()
        leaves = [int(i) for lv, i in nodes if lv == 0]
        by_level: dict[int, list[int]] = {}
        for lv, i in nodes:
            if lv:
                by_level.setdefault(int(lv), []).append(int(i))
        found = {}
        if leaves:
            found.update(((0, i), bytes(h)) for i, h in connection.exec_driver_sql(
                f"SELECT idx, leaf_hash FROM audit_entries WHERE log_id = {int(log_id)} "
                f"AND idx IN ({', '.join(map(str, leaves))})"))
        if by_level:
            # One SELECT per level, in one UNION ALL: each is answered from the
            # (log_id, level, idx) primary key. An OR of the levels, or a row-value IN, made
            # SQLite scan the log's nodes through the (log_id, leaf_end) index instead.
            found.update(((lv, i), bytes(h)) for lv, i, h in connection.exec_driver_sql(
                " UNION ALL ".join(
                    f"SELECT level, idx, hash FROM audit_nodes WHERE log_id = {int(log_id)} "
                    f"AND level = {lv} AND idx IN ({', '.join(map(str, idxs))})"
                    for lv, idxs in by_level.items())))
        missing = [n for n in nodes if n not in found]
        if missing:
            raise LedgerError(f"audit tree node {missing[0]} is missing",
                              code="tree_node_missing", level=missing[0][0],
                              index=missing[0][1])
        return [found[n] for n in nodes]
    read.read_many = read_many
    return read


def head(session: Session) -> AuditHead | None:
    return session.get(AuditHead, log_origin(session))


def sign(session: Session, signer) -> Checkpoint:
    """Sign the log as it stands (the head is locked so the size cannot move meanwhile)."""
    current = lock_head(session)
    if signer.name != current.origin:
        raise LedgerError(f"the log key is named {signer.name!r} but this log's origin is "
                          f"{current.origin!r}", code="log_key_other_origin", key=signer.name,
                          origin=current.origin)
    body = CheckpointBody(current.origin, current.size, bytes(current.root))
    row = Checkpoint(origin=current.origin, size=current.size, root=bytes(current.root),
                     note=sign_checkpoint(body, signer),
                     signed_at=dt.datetime.now(dt.timezone.utc))
    session.add(row)
    session.flush()
    return row


def latest(session: Session) -> Checkpoint | None:
    return session.execute(select(Checkpoint).where(Checkpoint.origin == log_origin(session))
                           .order_by(Checkpoint.id.desc()).limit(1)).scalar_one_or_none()


def with_cosignatures(session: Session, checkpoint: Checkpoint) -> str:
    lines = session.execute(select(Cosignature.line).where(
        Cosignature.checkpoint_id == checkpoint.id).order_by(Cosignature.id)).scalars().all()
    return add_signatures(checkpoint.note, lines)


def cosign_latest(session: Session, cosigner, log_verifiers, state_path: str | os.PathLike,
                  now: int | None = None, *, fresh: bool = False) -> Cosignature:
    """Cosign the newest checkpoint after checking it against this cosigner's own state.

    Without a state file the cosigner has never seen this log, so it cannot tell a rewritten
    log from the real one: it refuses unless told `fresh` (its first cosignature, trust on
    first use, as C2SP tlog-witness allows a witness with no record of a log). `fresh` with a
    state file present is refused too: it would throw the cosigner's memory away."""
    require_state(state_path, fresh)
    checkpoint = latest(session)
    if checkpoint is None:
        raise LedgerError("no checkpoint has been signed yet (fundtrail checkpoint sign)",
                          code="no_checkpoint")
    try:
        if not isinstance(log_verifiers, (list, tuple)):
            log_verifiers = [log_verifiers]  # one key, or every key during a rotation
        verified = open_checkpoint(checkpoint.note, list(log_verifiers))
    except CheckpointError as exc:
        raise LedgerError(f"checkpoint {checkpoint.size} does not verify: {exc}",
                          code="checkpoint_invalid", size=checkpoint.size,
                          detail=str(exc)) from None
    body = verified.checkpoint
    state = read_state(state_path)
    if state and state["origin"] != body.origin:
        raise LedgerError(f"{state_path} belongs to log {state['origin']!r}, not {body.origin!r}",
                          code="cosigner_state_other_log", path=str(state_path),
                          state_origin=state["origin"], origin=body.origin)
    if state:
        old_size, old_root = state["size"], bytes.fromhex(state["root"])
        if body.size < old_size:
            raise LedgerError(f"the log shrank from {old_size} to {body.size} entries since "
                              "you last cosigned: refusing", code="log_shrank",
                              cosigned_size=old_size, size=body.size)
        proof = merkle.consistency_proof(old_size, body.size, node_reader(session)) \
            if 0 < old_size < body.size else []
        try:
            merkle.verify_consistency(old_size, body.size, old_root, body.root_hash, proof)
        except merkle.ProofError as exc:
            raise LedgerError(f"the log is not consistent with the checkpoint of size "
                              f"{old_size} you cosigned before: {exc}", code="log_inconsistent",
                              cosigned_size=old_size, size=body.size,
                              detail=str(exc)) from None
    # Cosigning the same checkpoint again (a script run twice, nothing new sealed) is a no-op:
    # the first cosignature stands (it was an IntegrityError with a traceback).
    earlier = session.execute(select(Cosignature).where(
        Cosignature.checkpoint_id == checkpoint.id,
        Cosignature.name == cosigner.name)).scalar_one_or_none()
    if earlier is not None:
        return earlier
    line = cosign(checkpoint.note, cosigner, int(now if now is not None else time.time()))
    row = Cosignature(checkpoint_id=checkpoint.id, name=cosigner.name, line=line,
                      added_at=dt.datetime.now(dt.timezone.utc))
    session.add(row)
    session.flush()
    write_state(state_path, {"origin": body.origin, "size": body.size,
                             "root": body.root_hash.hex()})
    return row


def require_state(state_path, fresh: bool) -> None:
    """A cosigner's state must exist, unless this is explicitly its first cosignature."""
    exists = Path(state_path).exists()
    if not exists and not fresh:
        raise LedgerError(f"{state_path}: no cosigner state: this cosigner has never seen the "
                          "log and cannot tell a rewritten log from the real one. Restore the "
                          "state from your backup; only for a cosigner's very first signature "
                          "say --fresh", code="cosigner_no_state", path=str(state_path))
    if exists and fresh:
        raise LedgerError(f"{state_path}: a cosigner state exists; starting fresh would forget "
                          "the checkpoint it holds", code="cosigner_state_exists",
                          path=str(state_path))


def latest_with_quorum(session: Session, policy) -> tuple[Checkpoint, str] | None:
    """The newest checkpoint of the session's log that meets the policy's quorum, with its
    note (cosignatures added), or None."""
    rows = session.execute(select(Checkpoint).where(Checkpoint.origin == log_origin(session))
                           .order_by(Checkpoint.id.desc())).scalars()
    for row in rows:
        note = with_cosignatures(session, row)
        try:
            policy.verify_checkpoint(note)
        except ValueError:
            continue
        return row, note
    return None


def seal(session: Session, signer) -> Checkpoint | None:
    """Sign a checkpoint if the log grew since the newest one (the sealing schedule and the
    bulk commands call this); None when the newest checkpoint already covers the log."""
    current = lock_head(session)
    newest = latest(session)
    if newest is not None and newest.size == current.size:
        return None
    return sign(session, signer)


def add_cosignatures(session: Session, note: str, policy) -> list[str]:
    """Store the cosignatures a witness publishes (C2SP tlog-cosignature lines on a checkpoint
    note of this log), each only if it verifies against a witness key of `policy`.

    The checkpoint must be one this database signed (same origin, size and body); returns the
    names of the witnesses whose cosignature was new. Lines from unknown keys are ignored, as
    C2SP tlog-witness asks of clients."""
    try:
        opened = open_checkpoint(note, list(policy.logs),
                                 [w.verifier for w in policy.witnesses.values()])
    except (CheckpointError, ValueError) as exc:
        raise LedgerError(f"not a checkpoint note of this log: {exc}", code="checkpoint_invalid",
                          size=None, detail=str(exc)) from None
    body = opened.checkpoint
    row = session.execute(select(Checkpoint).where(
        Checkpoint.origin == body.origin, Checkpoint.origin == log_origin(session),
        Checkpoint.size == body.size, Checkpoint.root == body.root_hash)
        .order_by(Checkpoint.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        raise LedgerError(f"this log signed no checkpoint of size {body.size} with that root",
                          code="checkpoint_unknown", size=body.size)
    verified = {(c.name, c.key_id) for c in opened.cosignatures}
    if not verified:
        raise LedgerError("no cosignature on the note verifies against a witness key of the "
                          "policy", code="cosignature_unverified", size=body.size)
    have = set(session.execute(select(Cosignature.name).where(
        Cosignature.checkpoint_id == row.id)).scalars())
    added = []
    for sig in parse_note(note).signatures:
        if (sig.name, sig.key_id) in verified and sig.name not in have:
            session.add(Cosignature(checkpoint_id=row.id, name=sig.name, line=sig.line(),
                                    added_at=dt.datetime.now(dt.timezone.utc)))
            have.add(sig.name)
            added.append(sig.name)
    session.flush()
    return added


def read_state(path) -> dict | None:
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        origin, size, root = state["origin"], state["size"], state["root"]
        # Exact types: a size of 1e310 or "5", a root that is not 32 bytes of hex, is damage.
        if not (isinstance(origin, str) and type(size) is int and size >= 0
                and isinstance(root, str) and len(bytes.fromhex(root)) == 32):
            raise ValueError("origin, size or root has the wrong type or length")
        return {"origin": origin, "size": size, "root": root}
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"{path}: cosigner state is damaged ({exc}); restore it from "
                          "your own backup rather than starting afresh",
                          code="cosigner_state_damaged", path=str(path),
                          detail=str(exc)) from None


def write_state(path, state: dict) -> None:
    path = Path(path)
    write_durably(path, json.dumps(state, indent=2) + "\n")


def write_durably(path, text: str) -> None:
    """Replace `path` with `text` atomically and on disk before returning: a cosigner's memory
    must survive a crash right after it signed (C2SP tlog-witness: persist before answering)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
