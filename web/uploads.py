"""Uploaded files waiting between preview and confirmation.

The file is kept on the server under a random token that is also stored in the signed-in
user's session, so one person cannot confirm another's upload by guessing or replaying a token.
"""
from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from flask import abort, session

_DIR = Path(tempfile.mkdtemp(prefix="fundtrail-uploads-"))


def keep(storage, meta: dict) -> tuple[str, Path]:
    token = secrets.token_urlsafe(24)
    path = _DIR / f"{token}.csv"
    storage.save(path)
    session.setdefault("uploads", {})[token] = meta
    session.modified = True
    return token, path


def get(token: str) -> tuple[dict, Path]:
    meta = session.get("uploads", {}).get(token)
    path = _DIR / f"{token}.csv"
    if meta is None or not token.replace("-", "").replace("_", "").isalnum() \
            or not path.exists():
        abort(400)
    return meta, path


def drop(token: str) -> None:
    session.get("uploads", {}).pop(token, None)
    session.modified = True
    (_DIR / f"{token}.csv").unlink(missing_ok=True)
