"""api/ is a thin adapter: no database driver imported, no SQL written (both live in storage/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sales_analytics.api

API = Path(sales_analytics.api.__file__).parent
DRIVERS = {"psycopg", "psycopg2", "psycopg_pool", "duckdb", "pyspark", "sqlalchemy", "sqlite3"}
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|SET|LOCK|CREATE|DROP|ALTER|ATTACH|USE)\s")


def _modules() -> list[Path]:
    found = sorted(API.rglob("*.py"))
    assert found
    return found


def test_api_imports_no_database_driver():
    offending = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offending += [
                f"{path.relative_to(API)}:{node.lineno} {n}"
                for n in names
                if n.split(".")[0] in DRIVERS or n.startswith("ibis.backends")
            ]
    assert not offending, f"database drivers belong in storage/: {offending}"


def test_api_writes_no_sql():
    offending = [
        f"{path.relative_to(API)}:{node.lineno}"
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value)
    ]
    assert not offending, f"SQL belongs in storage/: {offending}"
