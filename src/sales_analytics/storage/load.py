"""Writes: replace, bulk load of Arrow tables, copies and data version in one transaction.

DuckDB inserts straight from the Arrow tables; PostgreSQL streams them as CSV through COPY, and into
empty tables it drops the keys, foreign keys and secondary indexes first and restores them before
COMMIT. Each dialect's ``write`` picks its way. A write takes one mapping of tables or an iterable
of them (blocks, e.g. from the streaming generator or a Parquet reader): every block is appended in
the same transaction, and only one block is in memory at a time.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

from sales_analytics.storage import ddl, key_checks, materialized
from sales_analytics.storage import replace as replace_rows
from sales_analytics.storage.ddl import VERSION_DDL, VERSION_TABLE
from sales_analytics.storage.errors import StorageError, first_line
from sales_analytics.storage.faults import pauser
from sales_analytics.storage.schema import (
    DEFAULTS,
    FOREIGN_KEYS,
    KEYS,
    SETTINGS_TABLE,
    TABLES,
    secondary_indexes,
)

if TYPE_CHECKING:
    from sales_analytics.storage.connection import Database
    from sales_analytics.storage.dialects import Dialect

_COPY_CHUNK = 8 << 20


#: what a write records as its kind in the data version, and how its failure reads
FAILED = {
    "load": "load failed, nothing was written",
    "replace": "replace failed, nothing was changed (the previous data is still there)",
    "refresh": "refresh failed, nothing was changed",
    "drop": "drop failed, nothing was changed",
}


Frames = Mapping[str, pa.Table] | Iterable[Mapping[str, pa.Table]]
#: table -> (key column, keys): rows a write deletes before it appends (``replace.delete_keys``)
KeyDeletes = Mapping[str, tuple[str, pa.Array]]


def write(
    db: Database,
    frames: Frames,
    *,
    replace: bool = False,
    materialize: Sequence[materialized.Copy] | None = None,
    kind: str | None = None,
    create: bool = True,
    delete: KeyDeletes | None = None,
) -> dict[str, int]:
    """The one write (see ``Database.write``): replace, append, copies and the data version in
    ONE transaction. ``create=False`` with ``replace`` only drops (``Database.drop_all``).
    ``frames`` is one mapping or an iterable of mappings (blocks), appended in order.
    ``delete`` (table -> (key column, keys)) removes rows before the append, in the same
    transaction (:mod:`.replace`: how an import replaces the rows of changed orders)."""
    kind = kind or ("replace" if replace else "load")
    if replace and not create:
        kind = "drop"
    blocks = [frames] if isinstance(frames, Mapping) else frames
    counts: dict[str, int] = {}
    pause = pauser()
    dialect = db.dialect
    try:
        with db.transaction() as cur:
            if replace:
                ddl.drop(cur, dialect)
                pause("after_drop")
                if create:
                    ddl.create(cur, dialect)
            if delete:
                replace_rows.delete_keys(cur, db, delete)
            settings = f"DELETE FROM {SETTINGS_TABLE}"  # one row, written whole
            conformed = _conformed(blocks, counts, lambda: cur.execute(settings))
            if db.kind == "duckdb" and db.is_file:
                conformed = _committed(cur, conformed)
            dialect.write_blocks(cur, conformed)
            pause("after_load")
            if not dialect.declared_keys:
                _check_keys(cur, {n for n, rows in counts.items() if rows} | set(delete or ()))
            if materialize is not None:
                materialized.build_copies(cur, db, materialize)
            elif create:  # stale copies would be read: they go until the next refresh
                materialized.drop_copies(cur, dialect, materialized.recorded_names(cur))
            pause("after_copies")
            bump_version(cur, dialect, kind, sum(counts.values()))
            pause("before_commit")
    except Exception as exc:  # driver errors -> one clear line, nothing changed
        raise StorageError(f"{FAILED.get(kind, FAILED['load'])}: {first_line(exc)}") from exc
    return {name: counts[name] for name in TABLES if name in counts}


def _committed(cur, blocks: Iterator[list[tuple[str, pa.Table]]]) -> Iterator[list]:
    """``blocks``, with a COMMIT after each one is written and a new transaction for the next.

    Only for a DuckDB file: the write runs on a private copy that is swapped in after the whole
    write committed (:mod:`.swap`), so nobody sees the copy in between and a failure or a kill
    anywhere discards it. DuckDB holds the rows a transaction appends in memory until COMMIT;
    committing each block keeps a load of any size within a bounded memory."""
    for block in blocks:
        yield block
        cur.execute("COMMIT")
        cur.execute("BEGIN TRANSACTION")


def _check_keys(cur, tables: set[str]) -> None:
    """The keys and foreign keys of ``tables``, checked by query (``key_checks``)."""
    found = key_checks.violations(lambda sql: cur.execute(sql).fetchall(), tables)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise StorageError(found[0] + more)


def _conformed(
    blocks: Iterable[Mapping[str, pa.Table]],
    counts: dict[str, int],
    clear_settings: Callable[[], object],
) -> Iterator[list[tuple[str, pa.Table]]]:
    """Each block's tables checked and conformed to the schema, parents first (rows counted);
    ``clear_settings`` runs before a block that writes the one-row ``shop_settings``."""
    for block in blocks:
        unknown = set(block) - set(TABLES)
        if unknown:
            raise StorageError(f"unknown table(s): {', '.join(sorted(unknown))}")
        if SETTINGS_TABLE in block:
            clear_settings()
        ordered = [(name, _conform(name, block[name])) for name in TABLES if name in block]
        for name, table in ordered:
            counts[name] = counts.get(name, 0) + table.num_rows
        if ordered:
            yield ordered


def bump_version(cur, dialect: Dialect, kind: str, rows: int) -> None:
    """Record this write's data version (the last one + 1) inside its transaction."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    cur.execute(VERSION_DDL)
    cur.execute(
        f"INSERT INTO {VERSION_TABLE} (version, committed_at, kind, rows) "
        f"SELECT coalesce(max(version), 0) + 1, TIMESTAMP '{now}', '{kind}', {int(rows)} "
        f"FROM {VERSION_TABLE}"
    )


def _conform(name: str, table: pa.Table) -> pa.Table:
    """``table`` with the schema's columns in order and types; a column of :data:`DEFAULTS` left
    out gets its default (zero money, NULL)."""
    schema = TABLES[name]
    for col, default in DEFAULTS.get(name, {}).items():
        if col not in table.column_names:
            field = schema.field(col)
            table = table.append_column(col, pa.array([default] * table.num_rows, type=field.type))
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
    copy_blocks(cur, [tables])


def copy_blocks(cur, blocks: Iterable[list[tuple[str, pa.Table]]]) -> None:
    """PostgreSQL: COPY every block's tables. When the first block's tables are empty (a bulk
    load, a replace), the checks of every empty table are dropped before the first block and
    restored after the last one (later blocks may hold tables the first one does not)."""
    it = iter(blocks)
    first = next(it, None)
    if first is None:
        return
    bulk = all(_is_empty(cur, name) for name, _ in first)
    empty = [name for name in TABLES if _is_empty(cur, name)] if bulk else []
    dropped = _drop_checks(cur, empty) if bulk else ([], [], [])
    for block in itertools.chain([first], it):
        for name, table in block:
            _copy(cur, name, table)
    _restore_checks(cur, *dropped)


def _is_empty(cur, name: str) -> bool:
    cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {name})")
    return bool(cur.fetchone()[0])


def _drop_checks(cur, tables: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Bulk load into empty tables: drop FKs and secondary indexes inside the load's transaction,
    and the keys of the tables that only these tables reference (their FKs go too).

    They come back (keys and indexes built once, FKs validated in one pass) before COMMIT, so the load
    is still all-or-nothing and no row escapes a check; it is just ~5x faster than row-by-row checks.
    """
    fks = [n for n, (t, _) in FOREIGN_KEYS.items() if t in tables]
    outside = {  # tables referenced by a foreign key of a table not dropped here
        clause.split("REFERENCES ")[1].split()[0]
        for table, clause in FOREIGN_KEYS.values()
        if table not in tables
    }
    keys = [n for n, (t, _) in KEYS.items() if t in tables and t not in outside]
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
