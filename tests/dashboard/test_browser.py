"""Real browser: `streamlit run` on a free port with the launcher's options, Debian chromium driven
over the DevTools protocol (tests/dashboard/chromium.py), every page loaded at 1440 and at 390 px
wide until its Plotly charts are drawn, then screenshotted (the whole page; the fold is at 900 /
844 px). What an owner sees is checked on the page itself: money with its currency, no raw column
names, the headline and the key chart above the fold, every chart's title inside its chart and
clear of colour bars, two KPI cards a row on the phone, no mode bar or Deploy button, the risk matrix's axes low -> high, a shared link's filters, the dark theme.
The world map must draw its countries from the shipped topojson, never from plotly's CDN.

Screenshots go to the test's tmp dir and, for people, to ``out/screenshots/<page>-<width>.png``.
Chromium comes from ``apt-get install chromium`` (``make test`` installs it when missing); without
it the test fails under CI=true and skips with the reason elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sales_analytics import metrics
from sales_analytics.reports.executive import find_chromium
from sales_analytics.storage import connect
from tests.dashboard.chromium import (
    DESKTOP,
    PHONE,
    DevTools,
    chromium_page,
    navigate,
    settled,
    streamlit_server,
    wait_for,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "screenshots"
PAGES = {  # url path -> page title
    "revenue": "Revenue",
    "customers": "Customers",
    "products": "Products",
    "geography": "Geography",
    "predictions": "Predictions",
    "metrics": "Metric explorer",
}
#: Plotly charts each page draws at least
MIN_CHARTS = {
    "Revenue": 3, "Customers": 3, "Products": 4, "Geography": 2, "Predictions": 4,
    "Metric explorer": 0,  # tables only
}  # fmt: skip
#: Viewports for the screenshots: the real widths, tall enough for the whole page (Streamlit
#: scrolls inside its own container); FOLD is the real screen's height.
WIDTHS = {"1440": DESKTOP | {"height": 2600}, "390": PHONE | {"height": 3400, "deviceScaleFactor": 1}}
FOLD = {"1440": DESKTOP["height"], "390": PHONE["height"]}
#: Raw column names and statistics jargon that must not reach the page's visible text.
RAW = re.compile(
    r"\b(is_anomaly|abc_class|z_revenue|z_orders|z-score|growth_12m|widened_out_of_window|"
    r"margin_pct|customer_share|revenue_share|churn_probability|value_tier|risk_tier|"
    r"months_since|p_alive|mae_vs_naive|aov)\b"
)
MONEY_KPIS = ("Net revenue", "Average order value", "Revenue per customer")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required under CI=true: apt-get install -y chromium")
        pytest.skip("chromium not installed (apt-get install -y chromium; `make test` does it)")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, small_frames, trained_models) -> Iterator[str]:
    """`streamlit run app.py` on its own DuckDB file (DuckDB locks a file to one process)."""
    folder = tmp_path_factory.mktemp("browser")
    path = folder / "shop.duckdb"
    with connect(f"duckdb:///{path}") as db:
        db.create_schema()
        metrics.load(db, small_frames)
    with streamlit_server(f"duckdb:///{path}", trained_models, folder) as base:
        yield base


@pytest.fixture(scope="module")
def browser(chromium) -> Iterator[DevTools]:
    with chromium_page(chromium) as tools:
        yield tools


#: What an owner sees, read from the page: the main area's text, the KPI cards (label, value,
#: top, left), where the headline and the first chart start, mode bars, the Deploy button.
VISIBLE = """(() => {
  const q = (s) => [...document.querySelectorAll(s)];
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const top = (e) => e ? e.getBoundingClientRect().top : null;
  return {
    text: main.innerText,
    kpis: q('[data-testid="stMetric"]').map(m => ({
      label: (m.querySelector('[data-testid="stMetricLabel"]') || {}).innerText || '',
      value: (m.querySelector('[data-testid="stMetricValue"]') || {}).innerText || '',
      top: Math.round(m.getBoundingClientRect().top), left: Math.round(m.getBoundingClientRect().left),
    })),
    headline: top(document.querySelector('[class*="st-key-headline"]')),
    firstChart: top(document.querySelector('[data-testid="stPlotlyChart"]')),
    modebars: q('.modebar').length,
    deploy: q('[data-testid="stAppDeployButton"], [data-testid="stMainMenu"] button[kind="header"]')
      .filter(e => /deploy/i.test(e.innerText)).length + q('[data-testid="stAppDeployButton"]').length,
    background: getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor,
  };
})()"""

#: The risk matrix's tick labels in drawing order: x left -> right, y bottom -> top.
RISK_TICKS = """(() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')]
    .find(g => (g.data || []).some(t => t.type === 'heatmap' && (g.layout.title || {}).text
      && g.layout.title.text.includes('Risk matrix')));
  if (!gd) return null;
  const ticks = (sel, key, sign) => [...gd.querySelectorAll(sel)]
    .map(t => [t.getBoundingClientRect()[key] * sign, t.textContent])
    .sort((a, b) => a[0] - b[0]).map(p => p[1]);
  return {x: ticks('.xtick text', 'left', 1), y: ticks('.ytick text', 'top', -1),
          text: [...gd.querySelectorAll('.hm text, text.textpoint, g.textpoint text')].map(t => t.textContent)};
})()"""


#: Each chart's drawn title: its text, whether it lies inside its chart (not cut at a phone's edge), and whether a colour
#: bar's box overlaps it (plotly.js pushed a title out of view above a colour bar at the top).
TITLES = """(() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(g => ((g.layout || {}).title || {}).text).map(g => {
    const t = g.querySelector('.gtitle'), box = t && t.getBoundingClientRect();
    const chart = g.getBoundingClientRect();
    const hit = (b) => box && b.left < box.right && b.right > box.left && b.top < box.bottom
                      && b.bottom > box.top;
    return {
      title: g.layout.title.text,
      drawn: !!box && box.width > 0 && box.top >= chart.top - 1 && box.bottom <= chart.bottom + 1
             && box.left >= chart.left - 1 && box.right <= chart.right + 1,
      covered: [...g.querySelectorAll('.colorbar')].some(c => hit(c.getBoundingClientRect())),
    };
  }))()"""


def load(browser: DevTools, url: str, title: str) -> dict:
    navigate(browser, url)
    state = settled(browser, min_charts=MIN_CHARTS[title])
    assert state["exceptions"] == 0, f"{title}: Streamlit exception on the page: {state['errors']}"
    assert state["errors"] == [], state["errors"]
    assert title in state["title"], state
    return state


def shoot(browser: DevTools, name: str, tmp_path: Path) -> Path:
    png = browser.screenshot(tmp_path / f"{name}.png")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, SHOTS / png.name)
    assert png.stat().st_size > 30_000, "screenshot suspiciously small"
    assert not is_blank(png), "screenshot is blank"
    return png


def check_visible(seen: dict, title: str, width: str) -> None:
    text = seen["text"]
    assert not RAW.findall(text), f"{title} at {width}: raw names {set(RAW.findall(text))}"
    assert not re.search(r"\b1 customers\b", text), f"{title}: '1 customers'"
    for k in seen["kpis"]:
        if any(k["label"].startswith(m) for m in MONEY_KPIS):
            assert k["value"].startswith("$") and re.fullmatch(r"\$[\d,]+\.\d\d", k["value"]), k
    assert seen["modebars"] == 0 and seen["deploy"] == 0, seen
    if title != "Metric explorer":
        assert "Data as of" in text
        assert seen["headline"] is not None and seen["headline"] < FOLD[width] / 2, seen["headline"]
        assert "What changed" in text and "What to do" in text
        assert "$" in text.split("What to do")[0]  # the headline speaks money
    if title not in ("Metric explorer", "Predictions"):
        assert seen["firstChart"] is not None and seen["firstChart"] < FOLD[width] - 200, (
            f"{title} at {width}: the key chart starts at {seen['firstChart']} px"
        )
    if seen["kpis"]:
        rows = sorted({k["top"] for k in seen["kpis"]})
        per_row = len(seen["kpis"]) / len(rows)
        if width == "390":
            assert per_row == 2 or (len(seen["kpis"]) % 2 and per_row > 1.5), seen["kpis"]
        else:
            assert per_row >= 3, seen["kpis"]


def test_pages_at_desktop_and_phone_width(server, browser, tmp_path):
    """Every page at 1440 and 390 px: drawn, readable, screenshotted."""
    for width, viewport in WIDTHS.items():
        browser.viewport(viewport)
        for path, title in PAGES.items():
            load(browser, f"{server}/?page={path}", title)
            if title == "Geography" and width == "1440":  # outlines from the app's static folder
                geo = drawn_map(browser)
                assert_offline_outlines(geo)
                assert [u for u in geo["resources"] if u.endswith("/app/static/world_110m.json")], geo
            if title == "Predictions":
                ticks = wait_for(lambda: browser.js(RISK_TICKS), 30, "the risk matrix")
                assert ticks["x"] == ["Low", "Medium", "High"], ticks
                assert ticks["y"] == ["Low", "Medium", "High"], ticks
            time.sleep(0.5)  # let the last paint settle before the screenshot
            check_visible(browser.js(VISIBLE), title, width)
            titles = browser.js(TITLES)
            assert len(titles) >= MIN_CHARTS[title], (title, width, titles)
            hidden = [t for t in titles if not t["drawn"] or t["covered"]]
            assert not hidden, f"{title} at {width}: chart titles out of view or covered: {hidden}"
            shoot(browser, f"{path}-{width}", tmp_path)


def test_shared_link_and_dark_theme(server, browser, tmp_path):
    """A link with filters opens its page filtered and keeps them in the address; with the system
    in dark mode the app (and its charts) are dark."""
    browser.viewport(WIDTHS["1440"])
    link = (f"{server}/?page=customers&start=2024-01-01&end=2024-06-30&country=Germany"
            "&segment=Champions")  # fmt: skip
    state = load(browser, link, "Customers")
    seen = browser.js(VISIBLE)
    assert "01 Jan 2024 – 30 Jun 2024 · Germany · Champions" in seen["text"]
    assert state["url"].endswith(link.split("/", 3)[3]), state["url"]
    try:
        browser.call("Emulation.setEmulatedMedia",
                     features=[{"name": "prefers-color-scheme", "value": "dark"}])  # fmt: skip
        load(browser, f"{server}/?page=revenue", "Revenue")
        time.sleep(0.5)
        rgb = [int(x) for x in re.findall(r"\d+", browser.js(VISIBLE)["background"])[:3]]
        assert sum(rgb) < 150, f"not dark: {rgb}"
        shoot(browser, "revenue-1440-dark", tmp_path)
    finally:
        browser.call("Emulation.setEmulatedMedia",
                     features=[{"name": "prefers-color-scheme", "value": "light"}])  # fmt: skip


#: Country shapes plotly.js drew in a choropleth (filled: coloured by the data), and the URLs the
#: page loaded. ``%s``: a selector scoping the search (the map's div), or nothing.
MAP_STATE = """(() => {
  const shapes = [...document.querySelectorAll('%s path.choroplethlocation')];
  return {
    countries: shapes.length,
    filled: shapes.filter(p => getComputedStyle(p).fill.startsWith('rgb')).length,
    resources: performance.getEntriesByType('resource').map(e => e.name),
  };
})()"""
MIN_COUNTRIES = 10


def drawn_map(tools: DevTools, scope: str = "") -> dict:
    """The map state once plotly.js has drawn more than MIN_COUNTRIES coloured countries (it
    draws them only once it has the topojson: a map whose outlines did not load has none)."""
    last: dict = {}

    def check():
        last.update(tools.js(MAP_STATE % scope))
        return dict(last) if last["filled"] > MIN_COUNTRIES else None

    try:
        return wait_for(check, 60, "the world map's countries")
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; last map state: {last}") from None


def assert_offline_outlines(state: dict) -> None:
    assert state["countries"] > MIN_COUNTRIES, state
    assert not [u for u in state["resources"] if "cdn.plot.ly" in u], "fetched from plotly's CDN"


def is_blank(png: Path) -> bool:
    from PIL import Image

    with Image.open(png) as im:
        gray = im.convert("L")
        lo, hi = gray.getextrema()
        colors = im.convert("RGB").getcolors(maxcolors=1 << 20)
    return hi - lo < 50 or colors is None or len(colors) < 50


#: The treemap's drawn labels: text, font size, and whether each fits inside its own tile.
TREEMAP_LABELS = """(() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')]
    .find(g => (g.data || []).some(t => t.type === 'treemap'));
  if (!gd || !gd.querySelector('g.slice')) return null;
  return [...gd.querySelectorAll('g.slice')].map(s => {
    const tile = s.querySelector('path.surface').getBoundingClientRect();
    const t = s.querySelector('text.slicetext');
    const box = t ? t.getBoundingClientRect() : null;
    return {
      // the drawn size: plotly shrinks a label that does not fit with a transform
      text: t ? t.textContent : '',
      size: t ? parseFloat(getComputedStyle(t).fontSize) * Math.abs(t.getScreenCTM().a) : 0,
      box: box ? [box.left, box.right, box.top, box.bottom].map(Math.round) : null,
      tile: [tile.left, tile.right, tile.top, tile.bottom].map(Math.round),
      shown: !!box && box.width > 0 && box.height > 0 && getComputedStyle(t).opacity !== '0',
      fits: !box || (box.left >= tile.left - 1 && box.right <= tile.right + 1
                     && box.top >= tile.top - 1 && box.bottom <= tile.bottom + 1),
    };
  });
})()"""


def test_treemap_labels_are_readable(server, browser):
    """The Products treemap at desktop and phone width: every label it draws is at least 11 px and
    inside its tile (the rest are hidden, not shrunk), and the categories are named with their
    revenue in the shop's currency."""
    for width in ("1440", "390"):
        browser.viewport(WIDTHS[width])
        load(browser, f"{server}/?page=products", "Products")
        labels = wait_for(lambda: browser.js(TREEMAP_LABELS), 30, "the treemap")
        shown = [lab for lab in labels if lab["shown"] and lab["text"].strip() and lab["tile"][1] > lab["tile"][0]]
        assert len(shown) >= 3, (width, labels)
        bad = [lab for lab in shown if lab["size"] < 11 or not lab["fits"]]
        assert not bad, (width, bad)
        assert sum("$" in lab["text"] for lab in shown) >= 3, (width, shown)
