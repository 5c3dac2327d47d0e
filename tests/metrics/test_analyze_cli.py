"""`sales-analytics analyze`: KPI table on stdout, one file per metric, filters, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from sales_analytics.cli import app
from sales_analytics.metrics import METRICS, Filters, kpis

runner = CliRunner()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_analyze_writes_every_metric(loaded_db, tmp_path, fmt):
    out = tmp_path / "analysis"
    result = runner.invoke(
        app,
        ["analyze", "-d", loaded_db.url, "--out", str(out), "--format", fmt, "--start", "2024-01-01"],
    )
    assert result.exit_code == 0, result.output
    assert "net revenue" in result.output
    assert {p.name for p in out.iterdir()} == {f"{name}.{fmt}" for name in METRICS}
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
            "--country", "France", "--metric", "geography_country", "--metric", "kpis",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    geo = pd.read_parquet(out / "geography_country.parquet")
    assert set(geo.country) <= {"Germany", "France"}
    assert {p.name for p in out.iterdir()} == {"geography_country.parquet", "kpis.parquet"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xlsx"], "--format must be parquet or csv"),
        (["--start", "2024-13-01"], "month must be in 1..12"),
        (["--start", "2025-01-01", "--end", "2024-01-01"], "is after end"),
        (["--segment", "Heroes"], "unknown segment"),
        (["--metric", "nope"], "unknown metric"),
    ],
)
def test_analyze_bad_input_is_one_line(loaded_db, tmp_path, args, message):
    result = runner.invoke(app, ["analyze", "-d", loaded_db.url, "--out", str(tmp_path), *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
