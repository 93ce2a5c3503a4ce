"""Uploaded files waiting between preview and confirmation.

The file is kept on the server under a random token that is also stored in the signed-in
user's session, so one person cannot confirm another's upload by guessing or replaying a token.
Each upload has its own directory and keeps the clerk's file name, so that errors name it.

These files hold personal data (ID, card and phone numbers): one is removed when its preview
finds errors, when it is confirmed (imported or refused), when the view fails, and at the
latest `KEEP_SECONDS` after it came (a preview nobody confirms or cancels); the folder goes when
the process ends (red-team, issue 20).
"""
from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from flask import abort, session

from ledger.core.errors import LedgerError
from ledger.imports.csvfile import ImportProblems, Problem

_DIR = Path(tempfile.mkdtemp(prefix="fundtrail-uploads-"))
os.chmod(_DIR, 0o700)
atexit.register(shutil.rmtree, _DIR, True)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
KEEP_SECONDS = 30 * 60   # a staff session confirms within minutes; past this it re-uploads


def sweep(now: float | None = None) -> int:
    """Remove the uploads older than KEEP_SECONDS; how many went."""
    now = time.time() if now is None else now
    gone = 0
    for folder in _DIR.iterdir():
        try:
            if now - folder.stat().st_mtime > KEEP_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
                gone += 1
        except FileNotFoundError:   # another thread's sweep took it
            continue
    return gone


def _safe_name(name: str | None) -> str:
    """The clerk's file name without any directory part (POSIX or Windows) and without leading
    dots, so that neither "../x" nor ".." nor ".hidden" names anything but a plain file."""
    name = Path((name or "").replace("\\", "/")).name
    name = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", name)[:80].lstrip(".")
    return name or "upload.csv"


def keep(storage, meta: dict) -> tuple[str, Path]:
    sweep()
    token = secrets.token_urlsafe(24)
    folder = _DIR / token
    folder.mkdir()
    path = folder / _safe_name(storage.filename)
    storage.save(path)
    meta = dict(meta, stored=path.name)
    session.setdefault("uploads", {})[token] = meta
    session.modified = True
    return token, path


def get(token: str) -> tuple[dict, Path]:
    meta = session.get("uploads", {}).get(token) if _TOKEN.fullmatch(token or "") else None
    if meta is None or not (_DIR / token / meta["stored"]).exists():
        abort(400)
    return meta, _DIR / token / meta["stored"]


def drop(token: str) -> None:
    session.get("uploads", {}).pop(token, None)
    session.modified = True
    if _TOKEN.fullmatch(token or ""):
        shutil.rmtree(_DIR / token, ignore_errors=True)


def problems_of(refusal: LedgerError, filename: str) -> list[Problem]:
    """What a preview lists for a refused upload: every problem with its line and column, or
    the one refusal at the line its params name. The uploads that refuse line by line outside
    an ImportProblems (a roll's households, the bank's result file) name the roll's line
    number, which is the file's line below the header; without a line the row says 0."""
    if isinstance(refusal, ImportProblems):
        return refusal.problems
    line = refusal.params.get("line")
    return [Problem(filename, line + 1 if isinstance(line, int) else 0, "", str(refusal),
                    code=refusal.code, params=refusal.params)]
