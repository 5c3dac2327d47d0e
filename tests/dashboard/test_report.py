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
from sales_analytics.reports.bundle import BUNDLE_TYPE
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
    # one chart div + JSON per chart, drawn by the one (compressed) plotly.js
    for div in ("revenue-yoy", "revenue-weekly", "segments", "categories", "country-bars"):
        assert f'id="{div}"' in text and f'data-chart="{div}"' in text
    assert text.count(f'<script type="{BUNDLE_TYPE}">') == 1
    assert "No forecast model is trained: run `sales-analytics train`" in text
    assert "No CLV model is trained" in text
    assert result.pdf is None and result.pdf_message is None


def test_calendar_comparison_equals_the_metrics(loaded_db, tmp_path):
    """The report's "<year> against <year - 1>" table: this year to the last day against the same
    days of last year, each value the catalogue's KPI for that window, the change coloured by the
    KPI's good direction."""
    import html as html_lib

    from sales_analytics.insights import outlook
    from sales_analytics.present import format as fmt
    from sales_analytics.reports.page import change

    text = write_report(loaded_db, tmp_path / "report.html", models_dir=tmp_path / "none").html.read_text("utf-8")
    end = default_filters(loaded_db).end
    cur = outlook.year_to_date(end)
    prev = outlook.same_days_last_year(*cur)
    section = text.split(f"<h2>{end.year} against {end.year - 1}</h2>", 1)[1].split("</table>", 1)[0]
    cells = [[html_lib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
             for row in re.findall(r"<tr><td>.*?</tr>", section)]  # fmt: skip
    classes = re.findall(r'<td class="(up|down|flat)">', section)
    kc, kp = metrics.kpis(loaded_db, Filters(*cur)), metrics.kpis(loaded_db, Filters(*prev))
    comparison = insights.kpi_comparison(kc, kp).set_index("kpi")
    assert f"{cur[0]:%d %b} – {cur[1]:%d %b %Y}" in section and f"{prev[0]:%d %b} – {prev[1]:%d %b %Y}" in section
    keys = executive.CALENDAR_KPIS
    assert [c[0] for c in cells] == [metrics.get("kpis").column(k).label for k in keys]
    for key, row, cls in zip(keys, cells, classes, strict=True):
        column = metrics.get("kpis").column(key)
        assert row[1:3] == [fmt.value(kc[key], column.unit), fmt.value(kp[key], column.unit)], key
        assert (row[3], cls) == change(comparison.loc[key], column), key


def test_report_is_small_and_self_contained(shop_url, tmp_path):
    """plotly.js once, compressed: the HTML stays under 2 MB (4.8 MB of plotly.js alone before),
    fetches nothing, and every chart has no toolbar."""
    import json

    from sales_analytics.storage import connect

    with connect(shop_url) as db:
        text = write_report(db, tmp_path / "r.html", models_dir=tmp_path).html.read_text("utf-8")
    assert len(text.encode("utf-8")) <= 2_000_000
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"""(?:src|href)=["']https?://(?!localhost)""", text)  # dashboard links only
    assert text.count("plotly.js v") == 0  # plotly.js is not there in clear
    specs = re.findall(r'<script type="application/json" data-chart="[^"]+">(.*?)</script>', text)
    assert len(specs) >= 5
    for spec in map(json.loads, specs):
        assert spec["config"]["displayModeBar"] is False
        assert "template" not in spec["layout"]  # shared once: id="report-template"
    assert text.count('id="report-template"') == 1
    assert "@media print" in text and ".modebar" in text


def test_bundle_decodes_to_plotly_js():
    """The base85 text is plotly.js deflated (what the page's loader inflates), and can never
    close its script element early."""
    import base64
    import zlib

    from plotly.offline import get_plotlyjs

    from sales_analytics.reports.bundle import plotly_b85

    text = plotly_b85()
    assert "/" not in text and "<!--" not in text
    assert zlib.decompress(base64.b85decode(text)).decode("utf-8") == get_plotlyjs()


def test_report_dashboard_links(shop_url, tmp_path):
    """Links to the dashboard views carry the report's filters in the dashboard's URL format,
    under the configured base URL."""
    import html as html_lib

    from sales_analytics.storage import connect

    f = Filters("2025-01-01", "2025-06-30", countries=("Germany",))
    with connect(shop_url) as db:
        text = write_report(
            db, tmp_path / "r.html", f, models_dir=tmp_path, dashboard_url="https://bi.example.com/shop/"
        ).html.read_text("utf-8")
    links = {html_lib.unescape(u) for u in re.findall(r'href="([^"]+)"', text)}
    assert "https://bi.example.com/shop/?page=revenue&start=2025-01-01&end=2025-06-30&country=Germany" in links
    assert any(u.startswith("https://bi.example.com/shop/?page=customers&") for u in links)
    assert all(u.startswith("https://bi.example.com/shop/?page=") for u in links)


def test_rates_that_fall_are_green():
    """The change's colour follows the catalogue's higher_is_better: a falling return rate is
    good news (green, class up), a falling revenue bad news (red, class down)."""
    from sales_analytics.reports.page import change

    kpis = metrics.get("kpis")
    falling = {"change": -0.02, "change_pct": float("nan")}
    assert change(falling, kpis.column("return_rate")) == ("-2.0 pts", "up")
    assert change(falling | {"change": 0.02}, kpis.column("return_rate")) == ("+2.0 pts", "down")
    assert change({"change": -5.0, "change_pct": -0.1}, kpis.column("revenue")) == ("-10.0%", "down")
    assert change({"change": 5.0, "change_pct": 0.1}, kpis.column("revenue")) == ("+10.0%", "up")


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
    # the next days' total is the saved model's forecast summed (FAST_MODELS: a 28-day horizon)
    from sales_analytics.models import ModelStore

    pred = ModelStore(trained_models).model("forecast").predict()
    total = float(re.search(r'id="forecast-total".*?data-value="([^"]+)"', text, re.S).group(1))
    assert total == pytest.approx(float(pred["yhat"].sum()))
    assert "Next 28 days" in text and "80% range" in text
    assert "Whole shop: the country and segment filters do not apply." in text
    assert 'id="value-at-risk"' in text or "No high-value customer is at high churn risk" in text


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
    assert "The saved forecast model cannot be used" in text and 'id="forecast"' not in text


# ------------------------------------------------------------------------------ real chromium
@pytest.fixture(scope="module")
def chromium() -> str:
    import os

    path = executive.find_chromium()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required under CI=true: apt-get install -y chromium")
        pytest.skip("chromium not installed (apt-get install -y chromium; `make test` does it)")
    return path


@pytest.mark.browser
def test_report_pdf_has_2_to_4_pages_with_drawn_charts(chromium, shop_url, trained_models, tmp_path):
    """The real PDF: printed once every chart is drawn (the printer waits for the page's
    ``data-charts="drawn"``; a failed draw is an error), A4, 2-4 pages. Pages are rendered to PNG
    with pdftoppm when it is installed (artifacts in out/report/)."""
    import shutil
    import subprocess
    from pathlib import Path

    from sales_analytics.storage import connect

    with connect(shop_url) as db:
        result = write_report(db, tmp_path / "report.html", pdf=True, models_dir=trained_models)
    assert result.pdf_message is None and result.pdf is not None
    data = result.pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 50_000
    assert 2 <= result.pages <= 4 and result.pages == executive.pdf_pages(result.pdf)
    assert re.search(rb"/MediaBox\s*\[\s*0 0 59[45]\.\d+ 84[12]\.\d+\s*\]", data), "not A4"
    out = Path(__file__).resolve().parents[2] / "out" / "report"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(result.pdf, out / "report.pdf")
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(result.pdf), str(tmp_path / "page")], check=True)
        pngs = sorted(tmp_path.glob("page-*.png"))
        assert len(pngs) == result.pages
        for png in pngs:
            assert png.stat().st_size > 10_000, f"{png.name} looks blank"
            shutil.copy(png, out / png.name)


@pytest.mark.browser
def test_report_charts_draw_offline(chromium, shop_url, tmp_path):
    """Opened from a file in chromium, the loader inflates plotly.js and draws every chart; on a
    390 px phone nothing overflows sideways."""
    from sales_analytics.reports.browser import CHARTS_READY, Chromium
    from sales_analytics.storage import connect

    with connect(shop_url) as db:
        result = write_report(db, tmp_path / "report.html", models_dir=tmp_path)
    with Chromium(chromium) as browser:
        browser.open(result.html.resolve().as_uri(), ready=CHARTS_READY, timeout=60)
        charts = browser.evaluate("document.querySelectorAll('[data-chart]').length")
        drawn = browser.evaluate("document.querySelectorAll('.chart .main-svg').length")
        bars = browser.evaluate("document.querySelectorAll('#revenue-yoy .point').length")
        toolbars = browser.evaluate("document.querySelectorAll('.modebar-btn').length")
        browser.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=1, mobile=True)
        browser.open(result.html.resolve().as_uri(), ready=CHARTS_READY, timeout=60)
        phone_width = browser.evaluate("document.documentElement.scrollWidth")
        columns = browser.evaluate("getComputedStyle(document.querySelector('.kpis')).gridTemplateColumns")
    assert charts >= 5 and drawn >= charts and bars > 0 and toolbars == 0
    assert phone_width <= 390 and len(columns.split()) == 2  # a phone: two KPI cards a row, no sideways scroll


def test_report_links_are_the_dashboards_url_format():
    """present.links (reports, digest) writes the URLs dashboard.state reads back."""
    from sales_analytics.dashboard import state
    from sales_analytics.present.links import PAGES, filters_link

    assert PAGES == state.PAGES
    for f in (Filters("2025-01-01", "2025-06-30", countries=("United Kingdom", "Germany"), segments=("At Risk",)),
              Filters(), Filters(end="2025-03-31")):  # fmt: skip
        for page in PAGES:
            assert filters_link("http://bi:8501/", page, f) == state.url(f, page, "http://bi:8501")


def test_forecast_total_range_from_the_backtest():
    """The total's range comes from the backtest errors, block by block along the horizon:
    two windows erring +10 and -10 a day give totals off by -280, 0 or +280 over 28 days."""
    import pandas as pd

    from sales_analytics.insights.outlook import total_range

    days = pd.date_range("2025-01-01", periods=28, freq="D")
    cv = pd.concat([
        pd.DataFrame({"model": "m", "cutoff": cut, "ds": days + pd.Timedelta(days=k), "y": 100.0 + err, "yhat": 100.0})
        for k, (cut, err) in enumerate((("2024-12-31", 10.0), ("2025-03-31", -10.0)))
    ])  # fmt: skip
    assert total_range(cv, "m", 28, 80, block=14) == (-280.0, 280.0)
    assert total_range(cv, "other", 28) is None and total_range(None, "m", 28) is None
    lo, hi = total_range(cv.assign(y=cv["yhat"] + 5.0), "m", 28)
    assert lo == hi == 140.0  # always 5 too low a day: the range is shifted, not widened
