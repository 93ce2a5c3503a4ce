#!/usr/bin/env bash
# The README's second command: set up, then run the whole suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    # CI machines run PostgreSQL 15; start it if it is installed but stopped.
    if command -v pg_ctlcluster >/dev/null; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
fi
# Lint first (pyproject.toml, [tool.ruff]): a few seconds, and a red lint stops the run.
.venv/bin/ruff check --no-cache .
exec .venv/bin/python -m pytest -n 2 "$@"
