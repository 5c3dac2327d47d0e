"""Real browser: `streamlit run` on a free port, Debian chromium driven over the DevTools protocol,
each page loaded until its Plotly charts are drawn, then screenshotted. The world map must draw its
countries from the shipped topojson (the app's static folder; inlined in the HTML report), never
from plotly's CDN.

Screenshots go to the test's tmp dir and, for people, to ``out/screenshots/<page>.png``. Chromium
comes from ``apt-get install chromium`` (``make test`` installs it when missing); without it the
test fails under CI=true and skips with the reason elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sales_analytics import metrics
from sales_analytics.reports.executive import find_chromium
from sales_analytics.storage import connect
from tests.dashboard.conftest import APP

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "screenshots"
PAGES = {  # url path -> page title
    "": "Revenue",
    "customers": "Customers",
    "products": "Products",
    "geography": "Geography",
    "predictions": "Predictions",
    "metrics": "Metric explorer",
}
#: Plotly charts each page draws at least (a chart has one or more .main-svg layers)
MIN_CHARTS = {
    "Revenue": 3, "Customers": 3, "Products": 4, "Geography": 2, "Predictions": 4,
    "Metric explorer": 0,  # tables only
}  # fmt: skip
WIDTH, HEIGHT = 1440, 2200
PAGE_TIMEOUT = 120.0
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} ({last_error})")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


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
    port = free_port()
    env = os.environ | {"DATABASE_URL": f"duckdb:///{path}", "SA_MODELS_DIR": str(trained_models)}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--theme.base", "light", "--server.enableStaticServing", "true",
    ]  # fmt: skip
    log = (folder / "streamlit.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: proc.poll() is None
            and urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok",
            60, "the streamlit server",
        )
        yield base
    finally:
        stop(proc)
        log.close()


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, ws_url: str):
        from websockets.sync.client import connect as ws_connect

        self.ws = ws_connect(ws_url, max_size=None, open_timeout=30)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:  # skip events until our reply
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return res.get("result", {}).get("value")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def browser(chromium) -> Iterator[DevTools]:
    port = free_port()
    profile = tempfile.mkdtemp(prefix="sa-chromium-")
    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
           f"--remote-debugging-port={port}", "about:blank"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        targets = wait_for(
            lambda: [
                t for t in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2))
                if t.get("type") == "page"
            ],
            60, "chromium's DevTools endpoint",
        )
        tools = DevTools(targets[0]["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        tools.call("Runtime.enable")
        tools.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False,
        )
        yield tools
        tools.close()
    finally:
        stop(proc)
        shutil.rmtree(profile, ignore_errors=True)


PAGE_STATE = """(() => {
  const q = (s) => document.querySelectorAll(s);
  const app = document.querySelector('[data-testid="stApp"]');
  return {
    svgs: q('.main-svg').length,
    script: app ? app.dataset.testScriptState : 'no app',
    exceptions: q('[data-testid="stException"]').length,
    errors: [...q('[data-testid="stAlertContentError"]')].map(e => e.innerText),
    warnings: [...q('[data-testid="stAlertContentWarning"]')].map(e => e.innerText),
    title: (q('h1')[0] || {}).innerText || '',
  };
})()"""


def settled(tools: DevTools, min_svgs: int):
    """The page state once charts are drawn and the count has been stable for a second."""
    history: list[int] = []
    last: dict = {}

    def check():
        state = tools.js(PAGE_STATE)
        last.update(state)
        history.append(state["svgs"])
        stable = len(history) >= 5 and len(set(history[-5:])) == 1
        done = state["script"] == "notRunning"
        if done and (state["exceptions"] or state["errors"]):
            return state  # failed: no need to wait for charts that will not come
        return state if done and state["svgs"] >= min_svgs and stable else None

    try:
        return wait_for(check, PAGE_TIMEOUT, "the page's Plotly charts", interval=0.25)
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; last page state: {last}") from None


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


@pytest.mark.parametrize("path", list(PAGES))
def test_page_in_chromium(server, browser, path, tmp_path):
    title = PAGES[path]
    browser.call("Page.navigate", url=f"{server}/{path}")
    state = settled(browser, min_svgs=MIN_CHARTS[title])
    assert state["exceptions"] == 0, f"{title}: Streamlit exception on the page"
    assert state["errors"] == [], state["errors"]
    assert title in state["title"], state
    if title == "Geography":  # country outlines from the app's static folder, not the CDN
        geo = drawn_map(browser)
        assert_offline_outlines(geo)
        assert [u for u in geo["resources"] if u.endswith("/app/static/world_110m.json")], geo
        time.sleep(0.5)  # let the map's paint settle before the screenshot
    shot = browser.call("Page.captureScreenshot", format="png")
    import base64

    png = tmp_path / f"{path or 'revenue'}.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, SHOTS / png.name)
    assert png.stat().st_size > 30_000, "screenshot suspiciously small"
    assert not is_blank(png), "screenshot is blank"
