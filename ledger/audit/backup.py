"""Backup and restore of a SQLite ledger (PostgreSQL: pg_dump / pg_restore, docs/reliability.md).

A backup is a consistent copy taken while the ledger is in use, with SQLite's online backup API
(`sqlite3.Connection.backup`): readers and writers carry on, and the copy is one snapshot. The
copy is written beside its destination and renamed into place only after SQLite's integrity
check and a full `verify` of the copy pass, so a backup file that exists is a good one.
Restore checks the backup the same way before it copies it into the configured database, and
refuses to replace a ledger that already holds entries unless told to (`replace=True`): an old
backup restored over a newer ledger would make entries disappear, which is what a dishonest
operator would want — auditors' kept checkpoints and cosigners' state files catch that
(docs/threat-model.md), but the tool does not help by default.
"""
from __future__ import annotations

import dataclasses
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from ledger.core.errors import LedgerError
from ledger.store.context import LedgerContext


class BackupError(LedgerError):
    """A backup or restore that cannot be done; nothing was changed."""


@dataclass(frozen=True)
class Snapshot:
    """What a backup holds: the log's origin, size and root, and its newest checkpoint."""
    path: str
    origin: str
    size: int
    root: str
    checkpoint_size: int | None
    checkpoint_note: str | None


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            "fundtrail backup/restore copy SQLite files; for PostgreSQL use pg_dump and "
            "pg_restore (docs/reliability.md, 'Backup and restore')",
            code="backup_not_sqlite", backend=parsed.get_backend_name())
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("the database is not a file; there is nothing to back up",
                          code="backup_not_a_file")
    return Path(parsed.database)


def backup(url: str, destination: str | os.PathLike, log_origin: str, policy=None) -> Snapshot:
    """Copy the live database at `url` to `destination` (never a half-written file)."""
    source = sqlite_path(url)
    if not source.exists():
        raise BackupError(f"{source}: no such database", code="not_found", what="database",
                          key=str(source))
    destination = Path(destination)
    if destination.resolve() == source.resolve():
        raise BackupError("the backup must go to another file than the database itself",
                          code="backup_onto_itself", path=str(destination))
    tmp = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    try:
        _copy(source, tmp)
        snapshot = inspect_file(tmp, log_origin, policy)
        _fsync(tmp)
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)
    return dataclasses.replace(snapshot, path=str(destination))


def restore(backup_file: str | os.PathLike, url: str, log_origin: str, policy=None,
            replace: bool = False) -> Snapshot:
    """Copy a checked backup into the database at `url`."""
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such backup file", code="not_found",
                          what="backup", key=str(backup_file))
    snapshot = inspect_file(backup_file, log_origin, policy)
    target = sqlite_path(url)
    if target.exists() and target.stat().st_size and not replace:
        held = _entries(target)
        if held:
            raise BackupError(
                f"{target} already holds a ledger with {held} log entries (the backup has "
                f"{snapshot.size}); restoring would replace it. Say --replace if that is "
                "what you mean, and keep a backup of the current one first",
                code="restore_would_replace", path=str(target), entries=held,
                backup_entries=snapshot.size)
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_file, target)
    return dataclasses.replace(snapshot, path=str(target))


def inspect_file(path: Path, log_origin: str, policy=None) -> Snapshot:
    """Prove a copy sound: SQLite's integrity check, then `verify` (with the policy, if
    given, checkpoint signatures too)."""
    conn = sqlite3.connect(path)
    try:
        problem = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a SQLite database ({exc})", code="backup_unreadable",
                          path=str(path), detail=str(exc)) from None
    finally:
        conn.close()
    if problem != "ok":
        raise BackupError(f"{path}: SQLite integrity check failed: {problem}",
                          code="backup_unreadable", path=str(path), detail=problem)
    return _verified(path, log_origin, policy)


def _verified(path: Path, log_origin: str, policy) -> Snapshot:
    from ledger.audit.checkpoints import latest
    from ledger.audit.verify import verify
    from ledger.store.db import make_engine, make_sessionmaker, transaction
    engine = make_engine(f"sqlite:///{path}")
    try:
        with transaction(make_sessionmaker(engine, LedgerContext(log_origin))) as s:
            try:
                report = verify(s, policy=policy)
            except Exception as exc:  # a file that is SQLite but not a fundtrail ledger
                raise BackupError(f"{path}: not a fundtrail ledger ({exc.__class__.__name__})",
                                  code="backup_not_a_ledger", path=str(path),
                                  detail=exc.__class__.__name__) from None
            if not report.intact:
                raise BackupError(f"{path}: the copy does not verify: "
                                  + "; ".join(f.message for f in report.findings[:5]),
                                  code="backup_not_intact", path=str(path),
                                  findings=[f.message for f in report.findings[:5]])
            cp = latest(s)
            return Snapshot(str(path), report.origin, report.size, report.root.hex(),
                            cp.size if cp else None, cp.note if cp else None)
    finally:
        engine.dispose()


def _copy(source: Path, destination: Path) -> None:
    if not destination.exists():  # owner-only from birth: names and encrypted personal data
        os.close(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(source)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)  # one consistent snapshot, page by page, while others keep working
    except sqlite3.Error as exc:
        raise BackupError(f"copying {source} to {destination} failed: {exc}",
                          code="backup_copy_failed", source=str(source),
                          destination=str(destination), detail=str(exc)) from None
    finally:
        dst.close()
        src.close()
    os.chmod(destination, 0o600)


def _entries(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM audit_entries").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
