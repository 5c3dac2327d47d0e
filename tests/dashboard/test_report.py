"""The executive report: its numbers equal the metric layer's, it is self-contained, CLI and PDF."""

from __future__ import annotations

import math
import re

import pytest
from typer.testing import CliRunner

from sales_analytics import insights, metrics
from sales_analytics.cli import app
from sales_analytics.insights import KPI_LABELS
from sales_analytics.metrics import Filters
from sales_analytics.reports import executive
from sales_analytics.reports.executive import default_filters, parse_kpis, write_report


def assert_kpis_equal(parsed: dict[str, float], expected: dict) -> None:
    assert set(parsed) == set(KPI_LABELS)
    for key, value in parsed.items():
        want = expected[key]
        if want is None:
            assert math.isnan(value), key
        else:
            assert value == float(want), key  # exact: the cell carries repr(float)


def test_report_numbers_equal_the_metrics(loaded_db, tmp_path):
    result = write_report(loaded_db, tmp_path / "report.html", models_dir=tmp_path / "none")
    text = result.html.read_text(encoding="utf-8")
    f = default_filters(loaded_db)
    bounds = insights.data_bounds(loaded_db)
    parsed = parse_kpis(text)
    assert_kpis_equal(parsed["current"], metrics.kpis(loaded_db, f))
    prev = insights.previous_period(f, *bounds)
    assert_kpis_equal(parsed["previous"], metrics.kpis(loaded_db, prev))
    assert f"UTC (version {loaded_db.data_version().version})" in text  # data as of
    # the findings are the computed ones, HTML-escaped
    for finding in insights.compute_insights(loaded_db, f)[:5]:
        assert finding.title.replace("'", "&#x27;") in text
    # self-contained: plotly.js inline exactly once, no external scripts, one div per chart
    assert len(re.findall(r"<script type=\"text/javascript\">/\*\*\s*\n?\s*\* plotly\.js", text)) == 1
    assert not re.search(r"<script[^>]+src=", text)
    for div in ("revenue-daily", "segments", "categories", "treemap", "country-map"):
        assert f'id="{div}"' in text
    assert "sales-analytics train" in text  # no saved forecast: says how to get one
    assert result.pdf is None and result.pdf_message is None


def _assets_object(text: str) -> dict:
    """The topojson the report hands plotly.js in ``window.PlotlyGeoAssets``."""
    import json

    m = re.search(r'window\.PlotlyGeoAssets\.topojson\["world_110m"\] = (\{.*?\});</script>', text)
    assert m, "no PlotlyGeoAssets script in the report"
    return json.loads(m.group(1))


def test_report_inlines_the_map_outlines(loaded_db, tmp_path):
    """The map needs nothing from plotly's CDN: the shipped world_110m topojson is inlined once,
    and the map is the world at resolution 110, the figure plotly.js would look that file up for."""
    import json

    from sales_analytics.present import geo_assets

    text = write_report(loaded_db, tmp_path / "r.html", models_dir=tmp_path).html.read_text("utf-8")
    assert text.count("window.PlotlyGeoAssets.topojson[") == 1
    assert _assets_object(text) == json.loads(geo_assets.topojson_text())
    head, body = text.split("<body>", 1)
    assert "PlotlyGeoAssets" in head  # before any figure draws
    assert not re.search(r"""(?:src|href)=["']https?://""", body)  # no external resource
    fig = re.search(r'Plotly\.newPlot\(\s*"country-map",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"displaylogo', body, re.S)
    assert fig, "no map figure"
    layout = json.loads(fig.group(2))
    assert layout["geo"]["scope"] == "world" and layout["geo"]["resolution"] == 110
    assert layout["geo"]["fitbounds"] is False  # the whole world, not cropped to the data
    assert json.loads(fig.group(1))[0]["type"] == "choropleth"


def test_shipped_topojson_covers_the_mapped_countries():
    """world_110m.json is in the package (and its package data) and holds the countries the map
    colours; at 110m only Hong Kong and Singapore have no outline."""
    import fnmatch
    import json
    import tomllib
    from pathlib import Path

    from sales_analytics.present import charts, geo_assets

    topo = json.loads(geo_assets.topojson_text())
    assert topo["type"] == "Topology"
    assert {"countries", "land", "coastlines", "ocean"} <= set(topo["objects"])
    ids = {g.get("id") for g in topo["objects"]["countries"]["geometries"]}
    assert set(charts.ISO3.values()) - ids == {"HKG", "SGP"}
    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    rel = "dashboard/static/world_110m.json"
    assert any(fnmatch.fnmatch(rel, pat) for pat in data["sales_analytics"]), "not package data"
    assert (root / "src" / "sales_analytics" / rel).read_text() == geo_assets.topojson_text()
    assert "MIT" in (root / "src" / "sales_analytics" / "dashboard" / "static" / "README.md").read_text()


def test_dashboard_topojson_url():
    from sales_analytics.present.geo_assets import static_url

    assert static_url() == static_url("/") == "/app/static/"
    assert static_url("/shop/") == static_url("shop") == "/shop/app/static/"


def test_report_follows_filters_and_includes_the_forecast(shop_url, trained_models, tmp_path):
    from sales_analytics.storage import connect

    f = Filters("2024-03-01", "2024-08-31", countries=("Germany", "France"))
    with connect(shop_url) as db:
        result = write_report(db, tmp_path / "r.html", f, models_dir=trained_models)
        expected = metrics.kpis(db, f)
    text = result.html.read_text(encoding="utf-8")
    assert_kpis_equal(parse_kpis(text)["current"], expected)
    assert 'id="forecast"' in text and "Backtest accuracy" in text and "seasonal_naive" in text
    assert "Germany, France" in text


def test_pdf_is_skipped_with_a_reason_without_chromium(loaded_db, tmp_path, monkeypatch):
    monkeypatch.setattr(executive, "find_chromium", lambda: None)
    result = write_report(loaded_db, tmp_path / "r.html", pdf=True, models_dir=tmp_path)
    assert result.html.is_file() and result.pdf is None
    assert "chromium" in result.pdf_message and not (tmp_path / "r.pdf").exists()


def test_cli_report(shop_url, tmp_path, monkeypatch):
    from sales_analytics.storage import connect

    monkeypatch.setattr(executive, "find_chromium", lambda: None)
    out = tmp_path / "cli" / "report.html"
    args = ["report", "--out", str(out), "-d", shop_url, "--start", "2024-01-01",
            "--end", "2024-12-31", "--country", "Germany", "--pdf", "--models-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "report written to" in result.output and "PDF skipped" in result.output
    with connect(shop_url) as db:
        expected = metrics.kpis(db, Filters("2024-01-01", "2024-12-31", countries=("Germany",)))
    assert_kpis_equal(parse_kpis(out.read_text(encoding="utf-8"))["current"], expected)


def test_cli_report_and_dashboard_need_a_schema(tmp_path):
    import duckdb

    missing = tmp_path / "missing.duckdb"
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    for path, message in ((missing, "no DuckDB database at"), (empty, "no sales-analytics schema")):
        for args in (["report", "--out", str(tmp_path / "r.html")], ["dashboard"]):
            result = CliRunner().invoke(app, [*args, "-d", f"duckdb:///{path}"], env={"COLUMNS": "200"})
            assert result.exit_code == 1
            assert message in result.output and "Traceback" not in result.output
    assert not missing.exists()


@pytest.mark.parametrize("bad", ["2024-13-01"])
def test_cli_report_bad_date_is_one_line(shop_url, tmp_path, bad):
    result = CliRunner().invoke(
        app, ["report", "--out", str(tmp_path / "r.html"), "-d", shop_url, "--start", bad]
    )
    assert result.exit_code == 1 and "error" in result.output.lower()


def test_report_with_an_unusable_model(loaded_db, tmp_path):
    (tmp_path / "forecast.joblib").write_bytes(b"not a model")
    result = write_report(loaded_db, tmp_path / "r.html", models_dir=tmp_path)
    text = result.html.read_text(encoding="utf-8")
    assert "could not be used" in text and 'id="forecast"' not in text
