"""Computing catalogue metrics by name, materialized or live, and defining their materializations.

A metric declared with ``materialize=True`` gets a copy ``mv_<name>`` in the database: its live
expression run with no filters and default params, compiled by ibis for that database's dialect.
An unfiltered call with default params reads the copy; any other call computes live. The copy is
the live expression, so both reads give the same rows (tested for every such metric and backend).
Each copy is stored with the digest of its compiled definition: a copy made by another version's
definition is never read (it is live until the next :func:`refresh`).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd

from sales_analytics.metrics import compiled
from sales_analytics.metrics.catalog import get
from sales_analytics.metrics.filters import NO_FILTERS, Filters
from sales_analytics.metrics.source import (
    TableSource,
    definition_table,
    forget,
    live_only,
    materialized_table,
    to_pandas,
)
from sales_analytics.metrics.spec import Metric

#: Params that shape the result after the builder (applied here, never passed to a builder).
_AFTER = ("limit",)


@dataclass(frozen=True)
class Definition:
    """A materialized copy's definition in one database's dialect."""

    name: str  # the copy's table, mv_<metric>
    sql: str
    digest: str
    key: tuple[str, ...]
    indexed: tuple[str, ...]
    #: the live expression's output types; a copy is read cast to them (a database may store a
    #: wider type, e.g. DuckDB keeps integer sums as HUGEINT where ibis says int64)
    schema: ibis.Schema
    #: the live expression the SQL was compiled from
    expr: ir.Table = field(repr=False, compare=False)

    @cached_property
    def duckdb_sql(self) -> str:
        """The same expression compiled for DuckDB: a Spark lake's writer, an in-memory DuckDB
        over the new version's Parquet files, builds the copies with it (``storage.lake_write``).
        Compiled when first asked for (a lake's write), not with every definition."""
        return str(ibis.to_sql(stored(self.expr), dialect="duckdb"))


_DEFINITIONS: weakref.WeakKeyDictionary[Any, dict[str, Definition]] = weakref.WeakKeyDictionary()


def definition(source: TableSource, name: str) -> Definition:
    """The materialized copy of metric ``name`` for ``source``'s dialect (compiled once)."""
    cache = _DEFINITIONS.setdefault(source, {})
    if name not in cache:
        metric = get(name)
        with live_only():
            expr = metric.builder(source, NO_FILTERS, **_builder_params(metric.defaults()))
        sql = str(ibis.to_sql(stored(expr)))
        text = "\n".join([sql, repr(metric.key), repr(metric.indexed)])
        cache[name] = Definition(
            name=definition_table(name),
            sql=sql,
            digest=hashlib.sha256(text.encode()).hexdigest()[:16],
            key=metric.key,
            indexed=metric.indexed,
            schema=expr.schema(),
            expr=expr,
        )
    return cache[name]


def stored(expr: ir.Table) -> ir.Table:
    """``expr`` with every integer and (sized) decimal column cast to its ibis type in the SQL.

    ibis leaves out a cast to the type it already infers, but the database may infer a wider one:
    DuckDB sums integers into HUGEINT (PostgreSQL into NUMERIC) where ibis says int64. A copy
    stored that wide is read many times slower (summing 2.6M stored HUGEINTs took seconds at
    scale 100, BIGINTs milliseconds) and cast on every read; stored as declared it is neither.
    The values do not change (a value that does not fit fails the refresh, never wraps).
    """
    def typed(name: str, dtype) -> ir.Value:
        narrow = dtype.is_integer() or (dtype.is_decimal() and dtype.precision is not None)
        return ops.Cast(expr[name], to=dtype).to_expr().name(name) if narrow else expr[name]

    return expr.select(*[typed(n, t) for n, t in expr.schema().items()])


def definitions(source: TableSource) -> list[Definition]:
    """The definitions of every materialized metric, in catalogue order."""
    from sales_analytics.metrics.catalog import CATALOG

    return [definition(source, m.name) for m in CATALOG.values() if m.materialize]


def refresh(db) -> list[str]:
    """Rebuild every materialized copy in ``db`` in one transaction (which bumps the data
    version); returns their table names."""
    defs = definitions(db)
    db.refresh(defs)
    return [d.name for d in defs]


def load(db, frames, *, replace: bool = False, delete=None) -> dict[str, int]:
    """Write ``frames`` to ``db`` with every materialized copy rebuilt, all in ONE transaction
    (``replace`` drops and recreates the schema first, in that transaction): a failure or a kill
    leaves the previous data and copies as they were.

    The copies are compiled from the tables, so a database without the schema gets it first, in
    its own transaction (there is nothing to lose then). ``delete`` (table -> (key column, keys))
    removes the rows an import replaces, in the same transaction.
    """
    if not db.has_schema():
        db.create_schema()
    forget(db)  # the schema may have been recreated since the tables were looked up
    return db.write(frames, replace=replace, materialize=definitions(db), delete=delete)


# ------------------------------------------------------------------------------------ computing
def _builder_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in _AFTER}


def _use_copy(metric: Metric, filters: Filters, params: Mapping[str, Any]) -> bool:
    return (
        metric.materialize
        and filters.is_empty
        and _builder_params(params) == _builder_params(metric.defaults())
    )


def build(
    source: TableSource,
    name: str,
    filters: Filters = NO_FILTERS,
    params: Mapping[str, Any] | None = None,
) -> ir.Table:
    """Metric ``name`` as an unsorted ibis expression: its materialized copy where that serves
    (see the module docstring), else the live expression. SQL metrics only."""
    metric = get(name)
    if metric.engine != "sql":
        raise ValueError(f"metric {name!r} is computed in pandas: use compute()")
    values = metric.resolve(params or {})
    if _use_copy(metric, filters, values):
        copy = materialized_table(source, name)
        if copy is not None:
            return copy.select(*[c.name for c in metric.output(values)])
    return metric.builder(source, filters, **_builder_params(values))


def _sort_keys(metric: Metric, t: ir.Table) -> list:
    if callable(metric.sort):
        return metric.sort(t)
    return [
        ibis.desc(t[k[1:]]) if k.startswith("-") else ibis.asc(t[k]) for k in metric.sort
    ]


def expression(
    source: TableSource, name: str, filters: Filters = NO_FILTERS, **params: Any
) -> ir.Table:
    """Metric ``name`` as an ibis expression: sorted as declared (NULLs last), limited by its
    ``limit`` param when it has one. Run it with :func:`to_pandas` or page it."""
    metric = get(name)
    values = metric.resolve(params)
    t = build(source, name, filters, values)
    keys = _sort_keys(metric, t)
    t = t.order_by(keys) if keys else t
    limit = values.get("limit")
    return t.limit(limit) if limit is not None else t


def compute(
    source: TableSource, name: str, filters: Filters = NO_FILTERS, **params: Any
) -> pd.DataFrame:
    """Metric ``name`` for ``filters`` and ``params`` as a pandas frame (declared order)."""
    metric = get(name)
    if metric.engine == "sql":
        done = compiled.run(source, name, filters, params,
                            lambda f: expression(source, name, f, **params))  # fmt: skip
        return done if done is not None else to_pandas(expression(source, name, filters, **params))
    values = metric.resolve(params)
    frame = metric.builder(source, filters, **_builder_params(values))
    if metric.sort and not callable(metric.sort):
        by = [k.lstrip("-") for k in metric.sort]
        ascending = [not k.startswith("-") for k in metric.sort]
        frame = frame.sort_values(by, ascending=ascending, na_position="last", kind="stable")
    frame = frame.reset_index(drop=True)
    limit = values.get("limit")
    return frame.head(limit) if limit is not None else frame


def count(source: TableSource, name: str, filters: Filters = NO_FILTERS, **params: Any) -> int:
    """How many rows metric ``name`` has for ``filters`` and ``params``, counted in the database
    (its ``limit`` param does not apply: every row counts)."""
    metric = get(name)
    values = metric.resolve(params)
    if metric.engine != "sql":
        return len(compute(source, name, filters, **params))
    return int(build(source, name, filters, values).count().execute())


def kpis(source: TableSource, filters: Filters = NO_FILTERS) -> dict[str, Any]:
    """The ``kpis`` metric's one row as plain Python values (``None`` for missing)."""
    row = compute(source, "kpis", filters).iloc[0]
    out: dict[str, Any] = {}
    for key, value in row.items():
        if pd.isna(value):
            out[key] = None
        elif isinstance(value, pd.Timestamp):
            out[key] = value.to_pydatetime()
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def compute_all(
    source: TableSource, filters: Filters = NO_FILTERS, names: list[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Several metrics (default: every public one without required params, default params)."""
    from sales_analytics.metrics.catalog import public

    default = [m.name for m in public() if not any(p.required for p in m.params)]
    return {n: compute(source, n, filters) for n in (names or default)}
