"""Comparing what two code paths wrote from the same starting state: the rows of some tables and
the audit entries from a log index on, with the clock (and whatever else the caller names) left
out. Used to show that a bulk service writes exactly what the one-by-one services write."""
from __future__ import annotations

import cbor2
from sqlalchemy import func, select

from ledger.models import AuditEntry, Base


def _has_id(model) -> bool:
    return "id" in model.__table__.c


def marks(s, models) -> dict:
    """The highest id of each table (with an id column) before a path runs."""
    return {m.__tablename__: s.execute(select(func.coalesce(func.max(m.id), 0))).scalar_one()
            for m in models if _has_id(m)}


def state(s, since: int, before: dict, models, skip: set) -> dict:
    """Every row of `models`, and the log entries from index `since`, without the columns in
    `skip`.

    New rows are numbered by their order, not their id: PostgreSQL does not give back the ids
    a rolled-back transaction took from a sequence, so the second path's ids start later."""
    renumber = {}
    for m in models:
        if not _has_id(m):
            continue
        new = s.execute(select(m.id).where(m.id > before[m.__tablename__]).order_by(m.id))
        renumber[m.__tablename__] = {i: f"new-{rank}" for rank, (i,) in enumerate(new)}

    def value(table, column, v):
        if type(v) is not int:
            return repr(v) if isinstance(v, (dict, list)) else v
        columns = Base.metadata.tables[table].c
        if column not in columns:
            return v
        target = table if column == "id" else next(
            (fk.column.table.name for fk in columns[column].foreign_keys), None)
        if target is None:
            return v
        return renumber.get(target, {}).get(v, f"old-{v}")

    def rows(model):
        name = model.__tablename__
        return sorted(tuple((c.key, value(name, c.key, getattr(r, c.key)))
                            for c in model.__table__.columns if c.key not in skip)
                      for r in s.execute(select(model)).scalars())
    entries = []
    for e in s.execute(select(AuditEntry).where(AuditEntry.idx >= since)
                       .order_by(AuditEntry.idx)).scalars():
        body = cbor2.loads(e.entry)
        body[3] = None   # the previous root: depends on earlier entries' times
        body[4] = None   # time_us
        for row in body[7]:
            row[1] = [value(row[0], "id", k) for k in row[1]]
            row[4] = {c: value(row[0], c, v) for c, v in row[4].items() if c not in skip}
        body[8] = {k: value("approvals", "transfer_id", v) for k, v in body[8].items()}
        entries.append(body)
    result = {m.__tablename__: rows(m) for m in models}
    result["entries"] = entries
    return result
