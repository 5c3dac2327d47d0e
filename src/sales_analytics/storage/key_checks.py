"""Primary keys, UNIQUE and foreign keys checked with queries inside a DuckDB write.

DuckDB enforces a key or foreign key through an ART index, and its ART indexes must fit in memory
while a transaction appends to them (a documented limit): a load of scale 1000 (145M order items)
would need tens of GB. So DuckDB tables are created without them (``table_ddl(keys=False)``; NOT
NULL, CHECK and the status type stay declared) and every write checks them here, after its rows
are in and before COMMIT, with grouped aggregates and anti-joins that DuckDB spills to disk under
its ``memory_limit``. A write that breaks one fails whole, as it did with declared keys:
``load failed, nothing was written: orders: 2 rows break PRIMARY KEY (order_id)``.
PostgreSQL keeps its declared constraints; a Spark lake checks all of them (:mod:`.lake_checks`,
whose rules, parsed from the same DDL, are used here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sales_analytics.storage.lake_checks import reference_queries, rules
from sales_analytics.storage.schema import TABLES


def unique_queries(tables: Iterable[str]) -> list[tuple[str, str]]:
    """(label, SQL counting the rows beyond the first of each key) for the primary keys and
    UNIQUE columns of ``tables`` (a grouped aggregate: DuckDB spills it, unlike a DISTINCT)."""
    wanted = set(tables)
    out = []
    for table in (t for t in TABLES if t in wanted and t in rules()):
        for label, cols in rules()[table].unique:
            out.append((f"{table}: {label}", duplicates_sql(table, cols)))
    return out


def duplicates_sql(table: str, cols: Iterable[str], *, skip_nulls: bool = False) -> str:
    """SQL counting the rows of ``table`` beyond the first of each value of ``cols`` (a grouped
    aggregate, which DuckDB spills). ``skip_nulls``: rows with a NULL in ``cols`` are not
    counted, as a UNIQUE index does not count them."""
    key = ", ".join(cols)
    where = " WHERE " + " AND ".join(f"{c} IS NOT NULL" for c in cols) if skip_nulls else ""
    return (
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {table}{where} "
        f"GROUP BY {key} HAVING count(*) > 1)"
    )


def violations(query: Callable[[str], list[tuple]], tables: Iterable[str]) -> list[str]:
    """What breaks a key of ``tables`` or a foreign key from or to them, as
    ``'orders: 2 rows break PRIMARY KEY (order_id)'``; ``query(sql)`` runs one statement."""
    touched = set(tables)
    found = []
    for label, sql in unique_queries(touched) + reference_queries(touched):
        n = int(query(sql)[0][0] or 0)
        if n:
            table, what = label.split(": ", 1)
            found.append(f"{table}: {n:,} rows break {what}")
    return found
