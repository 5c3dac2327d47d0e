"""The analytics views and their materialized copies: create, check, refresh.

The views are the SELECTs under ``sql/`` (:data:`~sales_analytics.storage.schema.VIEWS`); each
entry of :data:`~sales_analytics.storage.schema.MATERIALIZED` is a copy of one of them with a unique
index on its key (a materialized view on PostgreSQL, a table rebuilt from the view on DuckDB).
Everything that creates, checks or refreshes them lives in this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sales_analytics.storage.schema import MATERIALIZED, VIEWS, view_sql

if TYPE_CHECKING:
    from sales_analytics.storage.connection import Database
    from sales_analytics.storage.dialects import Dialect


def drop_views(cur: Any, dialect: Dialect) -> None:
    """Drop every materialized copy, then every view (inside the caller's transaction)."""
    for name in MATERIALIZED:
        cur.execute(dialect.drop_materialized.format(name=name))
    for name in VIEWS:
        cur.execute(dialect.drop_view.format(name=name))


def create_views(db: Database) -> None:
    """(Re)create the analytics views and their materialized copies."""
    dialect = db.dialect
    with db.transaction() as cur:
        for name in MATERIALIZED:
            cur.execute(dialect.drop_materialized.format(name=name))
        for name in VIEWS:
            cur.execute(dialect.drop_view.format(name=name))
            cur.execute(f"CREATE VIEW {name} AS {view_sql(name)}")
        for stmt in dialect.analyze:  # planner statistics for the queries below (see refresh)
            cur.execute(stmt)
        _build_materialized(cur, dialect, dialect.create_materialized, index=True)


def _build_materialized(cur: Any, dialect: Dialect, statement: str, *, index: bool) -> None:
    """Fill every materialized copy with ``statement`` (a template with ``name`` and ``source``)
    and, when ``index``, build its unique and extra indexes."""
    for name, (source, key, indexed) in MATERIALIZED.items():
        cur.execute(statement.format(name=name, source=source))
        if not index:
            continue
        unique = dialect.materialized_index
        cur.execute(unique.format(name=name, key=", ".join(key), key_name="_".join(key)))
        for col in indexed:
            cur.execute(f"CREATE INDEX {name}_{col}_idx ON {name} ({col})")


def _columns(db: Database, relation: str) -> list[str] | None:
    """Column names of ``relation`` (a name or a parenthesised query), None if it fails."""
    return db.dialect.columns(db.raw, f"SELECT * FROM {relation} AS _r LIMIT 0")


def views_current(db: Database) -> bool:
    """Whether every view and materialized copy exists with the columns this version defines
    (a database made by an earlier version may lack a view or a column)."""
    defined = {name: _columns(db, f"({view_sql(name)})") for name in VIEWS}
    if any(columns is None for columns in defined.values()):
        return False
    return all(_columns(db, name) == defined[name] for name in VIEWS) and all(
        _columns(db, name) == defined[source] for name, (source, *_) in MATERIALIZED.items()
    )


def refresh(db: Database) -> None:
    """Bring the materialized copies up to date with the tables (see ``Database.refresh``)."""
    if not views_current(db):
        create_views(db)
        return
    dialect = db.dialect
    with dialect.refresh_session(db.raw) as session:
        for stmt in dialect.analyze:
            session.execute(stmt)
        _build_materialized(
            session, dialect, dialect.refresh_materialized, index=dialect.refresh_drops_indexes
        )
