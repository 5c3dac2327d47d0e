"""Compiled SQL kept per call shape (metrics/compiled.py): the same frames as compiling afresh."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from sales_analytics import metrics
from sales_analytics.metrics import Filters, compiled
from sales_analytics.metrics.run import expression
from sales_analytics.metrics.source import to_pandas
from sales_analytics.storage import connect

WINDOW = {"start": date(2025, 1, 1), "end": date(2025, 12, 31)}
CALLS = [
    ("kpis", {}),
    ("revenue", {"grain": "week"}),
    ("geography", {"level": "country"}),
    ("category_rollup", {}),
    ("segment_summary", {}),
    ("orders", {"limit": 50}),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory, small_frames):
    url = f"duckdb:///{tmp_path_factory.mktemp('compiled') / 'shop.duckdb'}"
    with connect(url) as db:
        db.create_schema()
        metrics.load(db, small_frames)
    with connect(url, read_only=True) as db:
        yield db


def fresh(db, name: str, f: Filters, params: dict) -> pd.DataFrame:
    """The metric compiled afresh (the path without this cache)."""
    return to_pandas(expression(db, name, f, **params))


def test_one_country_template_serves_every_country(shop):
    countries = list(shop.table("customers").country.value_counts().execute()["country"])[:3]
    assert len(countries) == 3
    for name, params in CALLS:
        first = Filters(**WINDOW, countries=(countries[0],))
        pd.testing.assert_frame_equal(metrics.compute(shop, name, first, **params),
                                      fresh(shop, name, first, params))  # fmt: skip
        key_entries = len(compiled.STORE.items)
        hits = compiled.STORE.hits
        # another country, a name SQL must quote, one that no customer has: no new entry
        for country in (countries[1], "Côte d'Ivoire", "Atlantis"):
            f = Filters(**WINDOW, countries=(country,))
            got = metrics.compute(shop, name, f, **params)
            pd.testing.assert_frame_equal(got, fresh(shop, name, f, params))
        assert len(compiled.STORE.items) == key_entries, name
        assert compiled.STORE.hits == hits + 3, name


def test_calls_without_countries_and_with_two(shop):
    for f in (Filters(**WINDOW), Filters(**WINDOW, segments=("Champions",)),
              Filters(countries=("Germany", "France")), Filters(countries=("France", "Germany"))):  # fmt: skip
        for name, params in CALLS:
            pd.testing.assert_frame_equal(metrics.compute(shop, name, f, **params),
                                          fresh(shop, name, f, params))  # fmt: skip


def test_entry_fill():
    import ibis

    schema = ibis.schema({"x": "int64"})
    template = compiled.Compiled("SELECT 1 WHERE c IN ('a_0', 'a_1')", schema, slots=("'a_0'", "'a_1'"))
    assert template.fill(("O'Brien", "X")) == "SELECT 1 WHERE c IN ('O''Brien', 'X')"
    exact = compiled.Compiled("SELECT 2", schema, countries=("X",))
    assert exact.fill(("X",)) == "SELECT 2" and exact.fill(("Y",)) is None


def test_a_new_data_version_compiles_again(tmp_path, small_frames):
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    with connect(url) as db:
        db.create_schema()
        metrics.load(db, small_frames)
        f = Filters(**WINDOW)
        metrics.compute(db, "kpis", f)
        misses = compiled.STORE.misses
        metrics.compute(db, "kpis", f)
        assert compiled.STORE.misses == misses  # the same call: compiled once
        metrics.refresh(db)  # a new data version
        metrics.compute(db, "kpis", f)
        assert compiled.STORE.misses == misses + 1


def test_live_only_calls_compile_live(shop):
    """A call inside ``live_only()`` never reuses the SQL of the same call that read a copy: the
    contract tests compare the two."""
    from sales_analytics.metrics.source import live_only

    metrics.compute(shop, "category_rollup")
    with live_only():
        metrics.compute(shop, "category_rollup")
    sqls = [e.sql for k, e in compiled.STORE.items.items() if k[1] == "category_rollup"]
    assert any("mv_category_rollup" in s for s in sqls)
    assert any("mv_category_rollup" not in s for s in sqls)
