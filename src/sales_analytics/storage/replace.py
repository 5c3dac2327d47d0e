"""Replace rows by key inside a write's transaction: the delete half of an upsert.

An import that updates orders deletes every row of the changed orders (children first) and
inserts them again, inside the SAME transaction as the rest of the write (``Database.write(...,
delete=...)``), so a failure or a kill leaves the previous rows as they were.

DuckDB refuses to delete a row that another table references while the referencing rows were
deleted in the same transaction ("still referenced by a foreign key", a documented limitation of
its foreign keys). On a DuckDB file the write runs on a private copy that is swapped in only after
the whole block committed (:mod:`.swap`), so there the children's deletes are committed on the copy
first and the rest continues in a new transaction on the copy: nobody else ever sees the copy, and
a failure or kill anywhere discards it. An in-memory DuckDB has no copy: replacing referenced rows
there is refused with a one-line error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from sales_analytics.storage.errors import StorageError
from sales_analytics.storage.schema import FOREIGN_KEYS, TABLES

if TYPE_CHECKING:
    from sales_analytics.storage.connection import Database

#: the largest key list sent as one PostgreSQL array parameter
_PG_CHUNK = 100_000


def referenced(table: str) -> bool:
    """Another table's foreign key points at ``table``."""
    return any(f"REFERENCES {table} " in clause for _, clause in FOREIGN_KEYS.values())


def delete_keys(cur: Any, db: Database, deletes: Mapping[str, tuple[str, pa.Array]]) -> int:
    """Delete from each table the rows whose ``column`` is in the given keys (children first).

    ``deletes``: table -> (key column, int64 keys). Returns the rows deleted.
    """
    unknown = set(deletes) - set(TABLES)
    if unknown:
        raise StorageError(f"unknown table(s): {', '.join(sorted(unknown))}")
    order = [name for name in reversed(TABLES) if name in deletes and len(deletes[name][1])]
    deleted = 0
    committed_children = False
    for name in order:
        column, keys = deletes[name]
        if db.kind == "duckdb" and referenced(name) and not committed_children and deleted:
            if not db.is_file:
                raise StorageError(
                    "replacing rows that other tables reference needs a DuckDB file or "
                    "PostgreSQL (an in-memory DuckDB cannot do it in one transaction)"
                )
            cur.execute("COMMIT")  # on the private copy only: see the module docstring
            cur.execute("BEGIN TRANSACTION")
            committed_children = True
        deleted += _delete(cur, db, name, column, keys)
    return deleted


def _delete(cur: Any, db: Database, table: str, column: str, keys: pa.Array) -> int:
    keys = pa.array(keys, pa.int64()) if not isinstance(keys, pa.Array) else keys.cast(pa.int64())
    if db.kind == "duckdb":
        view = f"_delete_{table}"
        cur.register(view, pa.table({"k": keys}))
        try:
            cur.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT k FROM {view})")
            row = cur.fetchone()
        finally:
            cur.unregister(view)
        return int(row[0]) if row else 0
    total = 0
    values = keys.to_pylist()
    for start in range(0, len(values), _PG_CHUNK):
        cur.execute(
            f"DELETE FROM {table} WHERE {column} = ANY(%s)", (values[start : start + _PG_CHUNK],)
        )
        total += max(cur.rowcount, 0)
    return total
