"""Every metric against an independent pandas computation on the same small data set.

One test body per metric runs on each backend through ``loaded_db`` (DuckDB and PostgreSQL here;
``test_metrics_spark.py`` reruns the same class on PySpark) and for every filter set of
``conftest.FILTER_SETS``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from sales_analytics import metrics as M
from sales_analytics.metrics import Filters

from . import reference as R


def _normalise(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return pd.to_datetime(s).astype("datetime64[ns]")
    if s.dtype == object:
        non_null = s.dropna()
        if not len(non_null):
            return s.astype("float64")
        if len(non_null) and all(isinstance(v, (date, pd.Timestamp)) for v in non_null):
            return pd.to_datetime(s).astype("datetime64[ns]")
        if len(non_null) and all(isinstance(v, (int, float, np.number)) for v in non_null):
            return s.astype("float64")
        return s.where(s.notna(), None)
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    return s


def assert_same(actual, expected: pd.DataFrame, keys: list[str], *, rtol: float = 1e-9) -> None:
    """Same rows (matched on ``keys``) and same values in every column of ``actual``."""
    if not isinstance(actual, pd.DataFrame):
        actual = actual.to_pandas()
    if len(actual) == 0 and len(expected) == 0:
        return
    cols = list(actual.columns)
    missing = [c for c in cols if c not in expected.columns]
    assert not missing, f"reference lacks {missing}"
    a = actual[cols].apply(_normalise)
    e = expected[cols].reset_index(drop=True).apply(_normalise)
    assert len(a) == len(e), f"{len(a)} rows, expected {len(e)}"
    if len(a) == 0:
        return
    a = a.sort_values(keys).reset_index(drop=True)
    e = e.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, e, check_dtype=False, rtol=rtol, atol=1e-9)


def assert_ordered(actual: pd.DataFrame, keys: list[str], ascending: list[bool] | bool = True):
    expected = actual.sort_values(keys, ascending=ascending, na_position="last")
    assert list(actual.index) == list(expected.index), f"not ordered by {keys}"


class TestMetrics:
    """The metric tests; ``loaded_db`` decides the backend."""

    # ------------------------------------------------------------------------------------- sales
    @pytest.mark.parametrize("grain", ["day", "week", "month"])
    def test_revenue_timeseries(self, loaded_db, ref, filt, grain):
        actual = M.compute(loaded_db, "revenue", filt, grain=grain)
        assert_same(actual, R.timeseries(ref, grain, filt), ["period"])
        assert_ordered(actual, ["period"])

    def test_kpis(self, loaded_db, ref, filt):
        actual = M.kpis(loaded_db, filt)
        expected = R.kpis(ref, filt)
        assert set(actual) == set(expected)
        for key, value in expected.items():
            if value is None:
                assert actual[key] is None, key
            elif isinstance(value, pd.Timestamp):
                assert pd.Timestamp(actual[key]) == value, key
            else:
                assert actual[key] == pytest.approx(value, rel=1e-9), key

    def test_net_revenue_rule(self, loaded_db, ref):
        """Net = gross - returned = completed; cancelled counts nowhere."""
        k = M.kpis(loaded_db)
        assert k["revenue"] == pytest.approx(k["gross_revenue"] - k["returned_revenue"])
        done = ref.orders[ref.orders.status == "completed"]
        assert k["revenue"] == pytest.approx(done.cents.sum() / 100)

    @pytest.mark.parametrize("grain", ["day", "week", "month"])
    def test_yoy_growth(self, loaded_db, ref, filt, grain):
        actual = M.compute(loaded_db, "yoy_growth", filt, grain=grain)
        assert_same(actual, R.compare(ref, grain, filt, "yoy"), ["period"])

    @pytest.mark.parametrize("grain", ["day", "week", "month"])
    def test_period_over_period(self, loaded_db, ref, filt, grain):
        actual = M.compute(loaded_db, "period_over_period", filt, grain=grain)
        assert_same(actual, R.compare(ref, grain, filt, "pop"), ["period"])

    def test_weekday_profile(self, loaded_db, ref, filt):
        assert_same(M.compute(loaded_db, "weekday_profile", filt), R.weekday_profile(ref, filt), ["weekday"])

    def test_month_profile(self, loaded_db, ref, filt):
        assert_same(M.compute(loaded_db, "month_profile", filt), R.month_profile(ref, filt), ["month"])

    @pytest.mark.parametrize("grain", ["day", "week"])
    def test_decomposition(self, loaded_db, ref, grain):
        from statsmodels.tsa.seasonal import STL

        actual = M.compute(loaded_db, "decomposition", grain=grain)
        s = R.revenue_series(ref, grain, Filters())
        res = STL(s.to_numpy(), period={"day": 7, "week": 52}[grain], robust=True).fit()
        assert [pd.Timestamp(d) for d in actual.period] == list(s.index)
        np.testing.assert_allclose(actual.observed, s.to_numpy(), rtol=1e-9)
        np.testing.assert_allclose(actual.trend, res.trend, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(actual.seasonal, res.seasonal, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(
            actual.trend + actual.seasonal + actual.resid, actual.observed, atol=1e-6
        )

    def test_decomposition_needs_enough_data(self, loaded_db):
        with pytest.raises(ValueError, match="decomposition needs at least"):
            M.compute(loaded_db, "decomposition", Filters(start=date(2025, 1, 1)), grain="month")

    # --------------------------------------------------------------------------------- customers
    def test_customer_summary(self, loaded_db, ref, filt):
        assert_same(
            M.compute(loaded_db, "customer_summary", filt), R.customer_summary(ref, filt), ["customer_id"]
        )

    def test_rfm_segments(self, loaded_db, ref, filt):
        actual = M.compute(loaded_db, "rfm_segments", filt)
        assert_same(actual, R.rfm(ref, filt), ["customer_id"])
        if len(actual):
            assert actual[["r_score", "f_score", "m_score"]].isin([1, 2, 3, 4, 5]).all().all()
            assert set(actual.segment) <= set(M.SEGMENT_NAMES)

    def test_rfm_as_of_the_window_end(self, loaded_db, ref):
        """Scores are as of the day after the window's end, over every customer's whole history:
        the window's start and a country filter do not change a customer's segment."""
        end = Filters(end=date(2025, 6, 30))
        actual = M.compute(loaded_db, "rfm_segments", end)
        assert_same(actual, R.rfm(ref, end), ["customer_id"])
        assert (actual.recency_days >= 1).all()
        assert (pd.to_datetime(actual.as_of) == pd.Timestamp(2025, 7, 1)).all()
        narrowed = M.compute(
            loaded_db, "rfm_segments", Filters(date(2025, 1, 1), date(2025, 6, 30), ("Germany",))
        )
        merged = narrowed.merge(actual, on="customer_id", suffixes=("", "_all"))
        assert len(merged) == len(narrowed) > 0
        assert (merged.segment == merged.segment_all).all()
        assert (merged.rfm_score == merged.rfm_score_all).all()

    def test_segment_rules_all_scores(self, loaded_db):
        """All 125 score triples: the SQL CASE equals the rules applied in order, first match wins."""
        import ibis

        from sales_analytics.metrics.rules import segment_case

        triples = [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
        t = ibis.memtable(pd.DataFrame(triples, columns=["r", "f", "m"]))
        out = loaded_db.ibis.to_pandas(t.mutate(segment=segment_case(t.r, t.f, t.m)))
        got = {(int(a), int(b), int(c)): s for a, b, c, s in out.itertuples(index=False)}
        assert got == {x: R.segment_of(*x) for x in triples}
        assert got[(5, 5, 5)] == "Champions"
        assert got[(5, 1, 1)] == "New Customers"  # the R package's order would shadow it
        assert got[(1, 5, 5)] == "Can't Lose Them"
        assert got[(1, 1, 1)] == "Lost"
        assert set(got.values()) == set(M.SEGMENT_NAMES) - {"Others"}  # every segment reachable

    def test_segment_summary(self, loaded_db, ref, filt):
        actual = M.compute(loaded_db, "segment_summary", filt)
        assert_same(actual, R.segment_summary(ref, filt), ["segment"])
        order = [M.SEGMENT_NAMES.index(s) for s in actual.segment]
        assert order == sorted(order)

    def test_cohorts(self, loaded_db, ref, filt):
        actual = M.compute(loaded_db, "cohorts", filt)
        assert_same(actual, R.cohorts(ref, filt), ["cohort", "months_since"])
        first = actual[actual.months_since == 0]
        assert (first.retention == 1.0).all()  # everyone buys in their acquisition month

    @pytest.mark.parametrize("grain", ["week", "month"])
    def test_new_vs_returning(self, loaded_db, ref, filt, grain):
        actual = M.compute(loaded_db, "new_vs_returning", filt, grain=grain)
        assert_same(actual, R.new_vs_returning(ref, grain, filt), ["period"])

    # ---------------------------------------------------------------------------------- products
    def test_product_performance(self, loaded_db, ref, filt):
        assert_same(
            M.compute(loaded_db, "product_performance", filt),
            R.product_performance(ref, filt),
            ["product_id"],
        )

    @pytest.mark.parametrize("key", ["category", "brand"])
    def test_rollups(self, loaded_db, ref, filt, key):
        actual = M.compute(loaded_db, f"{key}_rollup", filt)
        assert_same(actual, R.rollup(ref, key, filt), [key])
        assert_ordered(actual, ["revenue", key], [False, True])

    def test_abc_classes(self, loaded_db, ref, filt):
        actual = M.compute(loaded_db, "abc_classes", filt)
        assert_same(actual, R.abc_classes(ref, filt), ["product_id"])
        assert list(actual["rank"]) == list(range(1, len(actual) + 1))
        if actual.revenue.sum() > 0:
            assert actual.abc_class.iloc[0] == "A"

    def test_stock_cover(self, loaded_db, ref, filt):
        actual = M.compute(loaded_db, "stock_cover", filt)
        assert_same(actual, R.stock(ref, filt), ["product_id"])
        assert_ordered(actual, ["days_of_cover", "product_id"])

    def test_slow_movers(self, loaded_db, ref, filt):
        actual = M.compute(loaded_db, "slow_movers", filt, window_days=30, max_units=2)
        assert_same(actual, R.slow_movers(ref, filt, 30, 2), ["product_id"])

    def test_product_pairs(self, loaded_db, ref, filt):
        actual = M.compute(loaded_db, "product_pairs", filt, min_orders=2, limit=None)
        expected = R.product_pairs(ref, filt, min_orders=2)
        assert_same(actual, expected, ["product_a", "product_b"])
        top = M.compute(loaded_db, "product_pairs", filt, limit=10)
        pd.testing.assert_frame_equal(
            top[["product_a", "product_b"]],
            expected.head(10)[["product_a", "product_b"]].reset_index(drop=True),
            check_dtype=False,
        )

    # -------------------------------------------------------------------------------- drill-downs
    def test_orders_add_up_to_the_kpis(self, loaded_db, ref, filt):
        rows = M.compute(loaded_db, "orders", filt, limit=None)
        k = M.kpis(loaded_db, filt)
        counts = rows.status.value_counts()
        assert counts.get("completed", 0) == k["orders"]
        assert counts.get("cancelled", 0) == k["cancelled_orders"]
        assert counts.get("returned", 0) == k["returned_orders"]
        assert len(rows) == len(R.orders(ref, filt))
        assert M.count(loaded_db, "orders", filt) == len(rows)  # counted in the database
        assert_ordered(rows, ["order_date", "order_id"], [False, True])

    def test_customers_drilldown(self, loaded_db, ref, filt):
        actual = M.compute(loaded_db, "customers", filt, limit=None)
        assert_same(actual, R.customer_list(ref, filt), ["customer_id"])
        k = M.kpis(loaded_db, filt)
        assert (actual.orders > 0).sum() == k["customers"]
        assert actual.revenue.sum() == pytest.approx(k["revenue"])

    def test_product_lines_add_up_to_the_product(self, loaded_db, filt):
        perf = M.compute(loaded_db, "product_performance", filt)
        top = perf.sort_values(["units_sold", "product_id"], ascending=[False, True]).iloc[0]
        lines = M.compute(loaded_db, "product_lines", filt, product_id=int(top.product_id), limit=None)
        done = lines[lines.status == "completed"]
        assert done.quantity.sum() == top.units_sold
        assert done.line_total.sum() == pytest.approx(top.revenue)
        assert done.order_id.nunique() == top.order_count

    # --------------------------------------------------------------------------------- geography
    @pytest.mark.parametrize("level", ["country", "region"])
    def test_geography(self, loaded_db, ref, filt, level):
        keys = ["country"] if level == "country" else ["country", "region"]
        assert_same(M.compute(loaded_db, "geography", filt, level=level), R.geography(ref, level, filt), keys)

    @pytest.mark.parametrize("level", ["country", "region"])
    def test_penetration(self, loaded_db, ref, filt, level):
        keys = ["country"] if level == "country" else ["country", "region"]
        assert_same(
            M.compute(loaded_db, "penetration", filt, level=level), R.penetration(ref, level, filt), keys
        )

    # ---------------------------------------------------------------------------------- registry
    def test_compute_all_runs_every_metric(self, loaded_db):
        out = M.compute_all(loaded_db, Filters(start=date(2023, 1, 1)))
        assert set(out) == {m.name for m in M.public() if not any(p.required for p in m.params)}
        for name, frame in out.items():
            assert isinstance(frame, pd.DataFrame), name
            assert len(frame.columns), name
