"""Throwaway PostgreSQL databases for the figures that run on PostgreSQL (`--pg URL`)."""
from __future__ import annotations

import os

from sqlalchemy import create_engine, text

_created: list[tuple[str, str]] = []


def _admin(url: str):
    return create_engine(url, isolation_level="AUTOCOMMIT")


def create_database(admin_url: str, name: str) -> str:
    db = f"ftbench_{name}_{os.getpid()}"
    engine = _admin(admin_url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    engine.dispose()
    _created.append((admin_url, db))
    return admin_url.rsplit("/", 1)[0] + "/" + db


def drop_created() -> None:
    while _created:
        admin_url, db = _created.pop()
        engine = _admin(admin_url)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        engine.dispose()
