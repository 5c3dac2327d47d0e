"""The schema's constraints, read from its DDL, checked on a Spark lake version before it is served.

The queries are plain SQL over views named like the tables (run by the version writer's DuckDB,
see :mod:`~sales_analytics.storage.lake_write`; Spark SQL runs them too). Spark enforces no keys, foreign keys, NOT NULL, CHECK or enum types, so a write to the lake checks
them itself, on the new version and before ``_current`` points at it: a version that breaks one is
never served (``load failed, nothing was written: orders: 2 rows break PRIMARY KEY (order_id)``).
The rules come from :func:`~sales_analytics.storage.schema.table_ddl` (the DDL DuckDB and
PostgreSQL run), so a table or constraint added there is checked here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from sales_analytics.storage.schema import TABLES, statements, table_ddl

_CREATE = re.compile(r"CREATE TABLE (\w+)\s*\((.*)\)\s*$", re.S | re.I)
_REF = re.compile(r"REFERENCES\s+(\w+)\s*\(([^)]*)\)", re.I)
_ENUM = re.compile(r"CREATE TYPE (\w+) AS ENUM \(([^)]*)\)", re.I)


@dataclass
class TableRules:
    """One table's constraints as SQL fragments over its columns."""

    not_null: list[str] = field(default_factory=list)
    #: (label, boolean SQL that must not be false)
    checks: list[tuple[str, str]] = field(default_factory=list)
    #: column sets that are unique (primary key and UNIQUE)
    unique: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    #: (columns, parent table, parent columns)
    references: list[tuple[tuple[str, ...], str, tuple[str, ...]]] = field(default_factory=list)


def _split(body: str) -> list[str]:
    """Split a CREATE TABLE body on the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return [p for p in parts if p]


def _paren(text: str, start: int) -> str:
    """The text inside the parentheses that open at or after ``start``."""
    i = text.index("(", start)
    depth = 0
    for j in range(i, len(text)):
        depth += text[j] == "("
        depth -= text[j] == ")"
        if depth == 0:
            return text[i + 1 : j].strip()
    raise ValueError(f"unbalanced parentheses in {text!r}")


def _cols(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _enums() -> dict[str, tuple[str, ...]]:
    from sales_analytics.storage.dialects import Dialect

    found = {}
    for m in _ENUM.finditer(Dialect.create_status_type):
        found[m.group(1).lower()] = tuple(v.strip().strip("'") for v in m.group(2).split(","))
    return found


@cache
def rules() -> dict[str, TableRules]:
    """Table -> its constraints, parsed from the schema DDL."""
    enums = _enums()
    out: dict[str, TableRules] = {}
    for stmt in statements(table_ddl("DECIMAL(12, 2)")):
        m = _CREATE.match(stmt)
        if not m:
            continue
        table, r = m.group(1), TableRules()
        out[table] = r
        for part in _split(m.group(2)):
            if part.upper().startswith("CONSTRAINT"):
                part = part.split(None, 2)[2]
            head = part.upper()
            if head.startswith("PRIMARY KEY"):
                cols = _cols(_paren(part, 0))
                r.unique.append((f"PRIMARY KEY ({', '.join(cols)})", cols))
                r.not_null.extend(cols)
            elif head.startswith("UNIQUE"):
                cols = _cols(_paren(part, 0))
                r.unique.append((f"UNIQUE ({', '.join(cols)})", cols))
            elif head.startswith("FOREIGN KEY"):
                cols = _cols(_paren(part, 0))
                ref = _REF.search(part)
                r.references.append((cols, ref.group(1), _cols(ref.group(2))))
            elif head.startswith("CHECK"):
                expr = _paren(part, 0)
                r.checks.append((f"CHECK ({expr})", expr))
            else:
                _column(part, r, enums)
    return out


def _column(part: str, r: TableRules, enums: dict[str, tuple[str, ...]]) -> None:
    words = part.split()
    name, kind = words[0], words[1].lower()
    upper = part.upper()
    if "NOT NULL" in upper or "PRIMARY KEY" in upper:
        r.not_null.append(name)
    if "PRIMARY KEY" in upper:
        r.unique.append((f"PRIMARY KEY ({name})", (name,)))
    elif re.search(r"\bUNIQUE\b", upper):
        r.unique.append((f"UNIQUE ({name})", (name,)))
    if "CHECK" in upper:
        expr = _paren(part, upper.index("CHECK"))
        r.checks.append((f"CHECK ({expr})", expr))
    ref = _REF.search(part)
    if ref:
        r.references.append(((name,), ref.group(1), _cols(ref.group(2))))
    if kind in enums:
        values = ", ".join(f"'{v}'" for v in enums[kind])
        r.checks.append((f"{name} in ({values})", f"{name} IN ({values})"))


def table_query(table: str) -> tuple[str, list[str]] | None:
    """One aggregate over ``table`` counting the rows that break each of its constraints
    (NOT NULL, CHECK, enum, keys); returns the SQL and the label of each output column."""
    r = rules().get(table)
    if r is None:
        return None
    exprs, labels = [], []
    for col in r.not_null:
        exprs.append(f"count_if({col} IS NULL)")
        labels.append(f"NOT NULL {col}")
    for label, expr in r.checks:
        exprs.append(f"count_if(NOT ({expr}))")
        labels.append(label)
    for label, cols in r.unique:
        key = cols[0] if len(cols) == 1 else f"({', '.join(cols)})"
        exprs.append(f"count(*) - count(DISTINCT {key})")
        labels.append(label)
    if not exprs:
        return None
    return f"SELECT {', '.join(exprs)} FROM {table}", labels


def reference_queries(tables: set[str]) -> list[tuple[str, str]]:
    """(label, SQL counting orphans) for each foreign key whose child or parent is in
    ``tables``."""
    out = []
    for child, r in rules().items():
        for cols, parent, pcols in r.references:
            if child not in tables and parent not in tables:
                continue
            on = " AND ".join(f"p.{b} = c.{a}" for a, b in zip(cols, pcols, strict=True))
            nonnull = " AND ".join(f"c.{a} IS NOT NULL" for a in cols)
            label = f"FOREIGN KEY ({', '.join(cols)}) REFERENCES {parent} ({', '.join(pcols)})"
            sql = (
                f"SELECT count(*) FROM {child} c WHERE {nonnull} "
                f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {on})"
            )
            out.append((f"{child}: {label}", sql))
    return out


def violations(query, tables: set[str]) -> list[str]:
    """What breaks a constraint of ``tables`` (and the foreign keys touching them), as
    ``'orders: 2 rows break PRIMARY KEY (order_id)'``; ``query(sql)`` runs one statement."""
    found = []
    for table in (t for t in TABLES if t in tables):
        made = table_query(table)
        if made is None:
            continue
        sql, labels = made
        row = query(sql)[0]
        found += [
            f"{table}: {n:,} rows break {lab}" for lab, n in zip(labels, row, strict=True) if n
        ]
    for label, sql in reference_queries(tables):
        n = query(sql)[0][0]
        if n:
            table, what = label.split(": ", 1)
            found.append(f"{table}: {n:,} rows break {what}")
    return found
