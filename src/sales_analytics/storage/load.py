"""Bulk loads of Arrow tables: all tables in one transaction, all-or-nothing.

DuckDB inserts straight from the Arrow tables; PostgreSQL streams them as CSV through COPY, and into
empty tables it drops the keys, foreign keys and secondary indexes first and restores them before
COMMIT. Each dialect's ``write`` picks its way.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

from sales_analytics.storage import materialized
from sales_analytics.storage.errors import StorageError, first_line
from sales_analytics.storage.schema import FOREIGN_KEYS, KEYS, TABLES, secondary_indexes

if TYPE_CHECKING:
    from sales_analytics.storage.connection import Database

_COPY_CHUNK = 8 << 20


def load(
    db: Database,
    frames: Mapping[str, pa.Table],
    *,
    materialize: Sequence[materialized.Copy] | None = None,
) -> dict[str, int]:
    """Append Arrow tables to the schema's tables and rebuild the materialized copies (or drop
    them, without ``materialize``), all in ONE transaction (see ``Database.load``)."""
    unknown = set(frames) - set(TABLES)
    if unknown:
        raise StorageError(f"unknown table(s): {', '.join(sorted(unknown))}")
    ordered = [(name, _conform(name, frames[name])) for name in TABLES if name in frames]
    try:
        with db.transaction() as cur:
            db.dialect.write(cur, ordered)
            if materialize is None:  # stale copies would be read: they go until the next refresh
                materialized.drop_copies(cur, db.dialect, materialized.recorded_names(cur))
            else:
                materialized.build_copies(cur, db, materialize)
    except Exception as exc:  # driver errors -> one clear line, nothing loaded
        raise StorageError(f"load failed, nothing was written: {first_line(exc)}") from exc
    return {name: table.num_rows for name, table in ordered}


def _conform(name: str, table: pa.Table) -> pa.Table:
    schema = TABLES[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise StorageError(f"{name}: missing column(s) {', '.join(missing)}")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise StorageError(f"{name}: column types do not fit the schema: {exc}") from exc


# ---------------------------------------------------------------------------------------- DuckDB
def insert_arrow(cur, tables: list[tuple[str, pa.Table]]) -> None:
    """DuckDB: INSERT ... SELECT from each Arrow table, registered as a view for the statement."""
    for name, table in tables:
        view = f"_load_{name}"
        cur.register(view, table)
        try:
            cols = ", ".join(table.column_names)
            cur.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {view}")
        finally:
            cur.unregister(view)


# ------------------------------------------------------------------------------------ PostgreSQL
def copy_tables(cur, tables: list[tuple[str, pa.Table]]) -> None:
    """PostgreSQL: COPY each table; into empty tables with the checks dropped and then restored."""
    bulk = all(_is_empty(cur, name) for name, _ in tables)
    dropped = _drop_checks(cur, [n for n, _ in tables]) if bulk else ([], [], [])
    for name, table in tables:
        _copy(cur, name, table)
    _restore_checks(cur, *dropped)


def _is_empty(cur, name: str) -> bool:
    cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {name})")
    return bool(cur.fetchone()[0])


def _drop_checks(cur, tables: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Bulk load into empty tables: drop FKs and secondary indexes inside the load's transaction,
    and the keys too when all four tables are loaded (no other table references them then).

    They come back (keys and indexes built once, FKs validated in one pass) before COMMIT, so the load
    is still all-or-nothing and no row escapes a check; it is just ~5x faster than row-by-row checks.
    """
    fks = [n for n, (t, _) in FOREIGN_KEYS.items() if t in tables]
    keys = list(KEYS) if set(tables) == set(TABLES) else []
    idx = [n for n, (t, _) in secondary_indexes().items() if t in tables]
    for name in fks:
        cur.execute(f"ALTER TABLE {FOREIGN_KEYS[name][0]} DROP CONSTRAINT {name}")
    for name in keys:
        cur.execute(f"ALTER TABLE {KEYS[name][0]} DROP CONSTRAINT {name}")
    for name in idx:
        cur.execute(f"DROP INDEX {name}")
    return fks, keys, idx


def _restore_checks(cur, fks: list[str], keys: list[str], idx: list[str]) -> None:
    for name in keys:
        table, clause = KEYS[name]
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {clause}")
    indexes = secondary_indexes()
    for name in idx:
        cur.execute(indexes[name][1])
    for name in fks:
        table, clause = FOREIGN_KEYS[name]
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {clause}")


def _copy(cur, name: str, table: pa.Table) -> None:
    cols = ", ".join(table.column_names)
    buf = io.BytesIO()
    pacsv.write_csv(
        table,
        buf,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    data = buf.getbuffer()
    with cur.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as copy:
        for start in range(0, len(data), _COPY_CHUNK):
            copy.write(data[start : start + _COPY_CHUNK])
