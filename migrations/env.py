"""Alembic environment. Imports only ledger's metadata (DESIGN.md layers).

The caller passes a live connection in `config.attributes["connection"]` (see ledger.store.migrate);
when run from the `alembic` command line, the URL comes from the fundtrail settings.
"""
from alembic import context

from ledger.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from ledger.core.config import load_settings
    from ledger.store.db import make_engine
    engine = make_engine(load_settings().require_database_url())
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("fundtrail migrations run online only (fundtrail db upgrade)")
run_migrations_online()
