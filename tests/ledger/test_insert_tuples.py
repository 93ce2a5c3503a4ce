"""`db.insert_tuples` (the driver's executemany, used by bulk services) stores what an ORM insert
stores: enums, dates and date-times go through the column types' own conversions, so the rows
read back identically through the ORM and are the same in the database, on SQLite and
PostgreSQL."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ledger.models import Transfer, TransferKind
from ledger.org.regions import get_user
from ledger.store.db import insert_tuples, new_ids, transaction
from tests.world import COUNTY

COLUMNS = [c.key for c in Transfer.__table__.columns]


def values(world, clerk, key):
    return {"idempotency_key": key, "content_hash": "0" * 64, "request": "{}",
            "kind": TransferKind.PAY, "lot_id": world.lot_id, "amount_fen": 12_345,
            "effective_date": dt.date(2024, 3, 28), "function_code": "2130505",
            "use_code": "household_subsidy", "memo": "产业奖补", "region_code": COUNTY,
            "recorded_by": clerk.id,
            "recorded_at": dt.datetime(2024, 3, 28, 9, 30, 1, 123456, tzinfo=dt.timezone.utc),
            "reverses_id": None, "log_index": 0, "log_id": 1,
            "voucher_date": dt.date(2024, 3, 20), "value_date": None}


def test_rows_inserted_by_the_driver_read_back_as_orm_inserted_ones(world):
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        s.add(Transfer(**values(world, clerk, "orm")))
        s.flush()
        bulk = [values(world, clerk, f"bulk-{n}") for n in range(3)]
        for row, new_id in zip(bulk, new_ids(s, Transfer.__table__, len(bulk))):
            row["id"] = new_id
        insert_tuples(s, Transfer.__table__, COLUMNS,
                    [tuple(row[c] for c in COLUMNS) for row in bulk])
    with transaction(world.factory) as s:
        read = {t.idempotency_key: t for t in s.execute(
            select(Transfer).where(Transfer.idempotency_key.in_(
                ["orm", "bulk-0", "bulk-1", "bulk-2"]))).scalars()}
        ids = sorted(t.id for t in read.values())
        assert ids == list(range(ids[0], ids[0] + 4))  # ids as autoincrement gives them
        orm = {c: getattr(read["orm"], c) for c in COLUMNS if c not in ("id", "idempotency_key")}
        for n in range(3):
            assert {c: getattr(read[f"bulk-{n}"], c) for c in orm} == orm
        # … and stored alike: the same text for dates and date-times on SQLite.
        raw = s.connection().exec_driver_sql(
            "SELECT idempotency_key, kind, effective_date, recorded_at FROM transfers").all()
        stored = {key: rest for key, *rest in raw}
        assert stored["bulk-0"] == stored["orm"]


def test_many_rows_go_in_alike_and_a_refusal_is_sqlalchemys(world):
    """Past `bulk.COPY_FROM_ROWS` rows PostgreSQL takes them with COPY: stored as the ORM
    stores them, and a duplicate key refused as an INSERT's IntegrityError (rolled back)."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from ledger.store.bulk import COPY_FROM_ROWS
    count = COPY_FROM_ROWS + 5
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        s.add(Transfer(**values(world, clerk, "orm")))
        s.flush()
        bulk = [values(world, clerk, f"copy-{n}") | {"request": f'{{"n": {n}}}\t\\ 汉字'}
                for n in range(count)]
        for row, new_id in zip(bulk, new_ids(s, Transfer.__table__, len(bulk))):
            row["id"] = new_id
        insert_tuples(s, Transfer.__table__, COLUMNS,
                      [tuple(row[c] for c in COLUMNS) for row in bulk])
    with transaction(world.factory) as s:
        read = {t.idempotency_key: t for t in s.execute(select(Transfer)).scalars()}
        orm = {c: getattr(read["orm"], c) for c in COLUMNS
               if c not in ("id", "idempotency_key", "request")}
        for n in range(count):
            assert {c: getattr(read[f"copy-{n}"], c) for c in orm} == orm
            assert read[f"copy-{n}"].request == f'{{"n": {n}}}\t\\ 汉字'
        raw = dict(s.connection().exec_driver_sql(
            "SELECT idempotency_key, recorded_at FROM transfers").all())
        assert raw["copy-0"] == raw["orm"]
        stored = len(read)
    with pytest.raises(IntegrityError), transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        again = [values(world, clerk, f"copy-{n}") for n in range(count)]
        for row, new_id in zip(again, new_ids(s, Transfer.__table__, len(again))):
            row["id"] = new_id
        insert_tuples(s, Transfer.__table__, COLUMNS,
                      [tuple(row[c] for c in COLUMNS) for row in again])
    with transaction(world.factory) as s:
        assert len(s.execute(select(Transfer.id)).all()) == stored   # nothing of it kept
