"""`sales-analytics analyze` and `metrics`: every catalogue entry, KPI table on stdout, one file per
metric, filters, clear errors; docs/metrics.md is the catalogue."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sales_analytics import metrics
from sales_analytics.cli import app
from sales_analytics.cli.analytics import runs
from sales_analytics.metrics import Filters, kpis
from sales_analytics.present.catalog_doc import markdown

runner = CliRunner()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_analyze_writes_every_metric(loaded_db, tmp_path, fmt):
    out = tmp_path / "analysis"
    result = runner.invoke(
        app,
        ["analyze", "-d", loaded_db.url, "--out", str(out), "--format", fmt, "--start", "2024-01-01"],
    )
    assert result.exit_code == 0, result.output
    assert "Net revenue" in result.output and "$" in result.output
    every = [m.name for m in metrics.public() if not any(p.required for p in m.params)]
    expected = {f"{stem}.{fmt}" for stem, *_ in runs(every)}
    written = {p.name for p in out.iterdir()}
    # the decomposition needs two seasons: too few months of data is reported as skipped
    assert written <= expected and {n.split(".")[0] for n in expected - written} <= {"decomposition_month"}
    assert all(f"{n.split('.')[0]}" in result.output for n in expected - written)
    assert {"revenue_day.parquet", "revenue_month.parquet", "geography_region.parquet"} <= {
        f"{stem}.parquet" for stem, *_ in runs(every)
    }
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    k = read(out / f"kpis.{fmt}")
    expected = kpis(loaded_db, Filters(start=pd.Timestamp("2024-01-01").date()))
    assert k.loc[0, "revenue"] == pytest.approx(expected["revenue"])
    assert k.loc[0, "orders"] == expected["orders"]


def test_analyze_country_and_metric_subset(loaded_db, tmp_path):
    out = tmp_path / "a"
    result = runner.invoke(
        app,
        [
            "analyze", "-d", loaded_db.url, "--out", str(out), "--country", "Germany",
            "--country", "France", "--metric", "geography", "--metric", "kpis",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    geo = pd.read_parquet(out / "geography_country.parquet")
    assert set(geo.country) <= {"Germany", "France"}
    assert {p.name for p in out.iterdir()} == {
        "geography_country.parquet", "geography_region.parquet", "kpis.parquet"
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xlsx"], "--format must be parquet or csv"),
        (["--start", "2024-13-01"], "month must be in 1..12"),
        (["--start", "2025-01-01", "--end", "2024-01-01"], "is after end"),
        (["--segment", "Heroes"], "unknown segment"),
        (["--metric", "nope"], "unknown metric"),
        (["--metric", "product_lines"], "not a metric analyze can write"),
        (["--country", "Germny"], "unknown country 'Germny': this shop's customers are in"),
    ],
)
def test_analyze_bad_input_is_one_line(loaded_db, tmp_path, args, message):
    result = runner.invoke(app, ["analyze", "-d", loaded_db.url, "--out", str(tmp_path), *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_new_catalogue_entry_appears_in_analyze_and_metrics(loaded_db, tmp_path):
    """One declaration, no other edit: analyze writes it, `metrics` lists it."""
    from sales_analytics.metrics.rules import orders

    def orders_by_status(source, filters):
        o = orders(source, filters)
        return o.group_by("status").aggregate(order_count=o.count().cast("int64"))

    entry = metrics.Metric(
        name="orders_by_status", builder=orders_by_status, label="Orders by status",
        grain="one row per order status with orders in the window",
        columns=(metrics.Column("status", "string", "text", "Status"), metrics.COLUMNS["order_count"]),
        sort=("status",),
    )  # fmt: skip
    metrics.register(entry)
    try:
        out = tmp_path / "a"
        result = runner.invoke(app, ["analyze", "-d", loaded_db.url, "--out", str(out)])
        assert result.exit_code == 0, result.output
        frame = pd.read_parquet(out / "orders_by_status.parquet")
        k = kpis(loaded_db)
        assert frame.set_index("status").order_count.to_dict() == {
            "cancelled": k["cancelled_orders"], "completed": k["orders"],
            "returned": k["returned_orders"],
        }  # fmt: skip
        listing = runner.invoke(app, ["metrics"])
        assert listing.exit_code == 0 and "orders_by_status" in listing.output
    finally:
        metrics.unregister("orders_by_status")


def test_metrics_command_and_generated_docs():
    result = runner.invoke(app, ["metrics", "segment_summary"])
    assert result.exit_code == 0 and "active_customers" in result.output
    md = runner.invoke(app, ["metrics", "--markdown"])
    assert md.exit_code == 0 and md.output == markdown()
    docs = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
    assert docs.read_text() == markdown(), "regenerate: sales-analytics metrics --markdown > docs/metrics.md"
    bad = runner.invoke(app, ["metrics", "nope"])
    assert bad.exit_code == 1 and "unknown metric 'nope'" in bad.output
