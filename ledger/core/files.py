"""Writing files that hold personal data (bank files with full card numbers, visit lists):
whole or not at all.

The bytes go to a temporary file in the target's own folder (owner-only from its creation),
are flushed to the disk, and only then renamed over the target, so a reader never sees half a
file. When anything fails on the way — a full disk (ENOSPC), a file-size limit (EFBIG), a
permission — the temporary file is removed before the error is reported, so no stray copy of
the card numbers is left behind, and the caller gets one refusal it can print as one line.
(A process killed outright cannot clean up: callers that write such files sweep the temporary
copies of dead processes on their next run, e.g. `ledger.imports.bank`.)
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

from ledger.core.errors import LedgerError

# What a person is told, Chinese first, for the errors a disk gives.
_REASONS = {
    errno.ENOSPC: "磁盘已满 the disk is full",
    errno.EFBIG: "文件超过允许的大小 the file is larger than this system allows",
    errno.EDQUOT: "超出磁盘配额 the disk quota is used up",
    errno.EACCES: "没有写入权限 no permission to write there",
    errno.EROFS: "文件系统只读 the file system is read-only",
}


def temporary_name(path: Path) -> Path:
    """Where `write_private_file` writes before the rename (named after this process, so
    a later run can tell a dead process's leftover from a running one's)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_private_file(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` (mode 0600) atomically; raise `file_not_written` on failure."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, path)  # replaces any older file, with its looser mode, atomically
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = _REASONS.get(exc.errno, exc.strerror or str(exc))
        raise LedgerError(f"文件未写成 {path} was not written ({reason}); no partial copy was "
                          "left", code="file_not_written", path=str(path),
                          reason=reason) from None
    return path
