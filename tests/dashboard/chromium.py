"""The real-browser kit shared by tests/dashboard/test_browser.py and benchmarks/bench_browser.py:
`streamlit run` the dashboard as `sales-analytics dashboard` does (same options), Debian chromium
driven over the DevTools protocol (`websockets`), and the wait until a page's charts are drawn.
"""

from __future__ import annotations

import base64
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
from contextlib import contextmanager
from pathlib import Path

from sales_analytics.cli.serve import STREAMLIT_OPTIONS

APP = Path(__file__).resolve().parents[2] / "src" / "sales_analytics" / "dashboard" / "app.py"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
]  # fmt: skip
#: Viewports: a laptop and a phone (iPhone 12-15: 390 x 844 CSS pixels).
DESKTOP = {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


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


@contextmanager
def streamlit_server(
    database_url: str, models_dir: Path, folder: Path, app: Path = APP
) -> Iterator[str]:
    """`streamlit run app.py` (or ``app``) on a free loopback port with the launcher's options,
    its log in ``folder``; yields its base URL."""
    port = free_port()
    env = os.environ | {"DATABASE_URL": database_url, "SA_MODELS_DIR": str(models_dir)}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none", *STREAMLIT_OPTIONS,
    ]  # fmt: skip
    log = (folder / f"streamlit-{app.stem}.log").open("w")
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

    def viewport(self, metrics: dict) -> None:
        self.call("Emulation.setDeviceMetricsOverride", **metrics)

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """A PNG of the page (the whole scrolled height when ``full_page``)."""
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=full_page)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        self.ws.close()


@contextmanager
def chromium_page(chromium: str, scheme: str = "light") -> Iterator[DevTools]:
    """One headless chromium with one page (``prefers-color-scheme: scheme``)."""
    port = free_port()
    profile = tempfile.mkdtemp(prefix="sa-chromium-")
    cmd = [chromium, *CHROMIUM_FLAGS, "--window-size=1440,900", f"--user-data-dir={profile}",
           f"--remote-debugging-port={port}", "about:blank"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        targets = wait_for(
            lambda: [
                t for t in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2))
                if t.get("type") == "page"
            ],
            60, "chromium's DevTools endpoint",
        )  # fmt: skip
        tools = DevTools(targets[0]["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        tools.call("Runtime.enable")
        tools.call("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": scheme}])
        tools.viewport(DESKTOP)
        try:
            yield tools
        finally:
            tools.close()
    finally:
        stop(proc)
        shutil.rmtree(profile, ignore_errors=True)


PAGE_STATE = """(() => {
  const q = (s) => document.querySelectorAll(s);
  const app = document.querySelector('[data-testid="stApp"]');
  return {
    svgs: q('.main-svg').length,
    charts: q('[data-testid="stPlotlyChart"]').length,
    drawn: [...q('[data-testid="stPlotlyChart"]')].filter(c => c.querySelector('.main-svg')).length,
    script: app ? app.dataset.testScriptState : 'no app',
    exceptions: q('[data-testid="stException"]').length,
    errors: [...q('[data-testid="stAlertContentError"]')].map(e => e.innerText),
    warnings: [...q('[data-testid="stAlertContentWarning"]')].map(e => e.innerText),
    title: (q('h1')[0] || {}).innerText || '',
    url: location.href,
    fresh: !window.__saOld,
  };
})()"""


def navigate(tools: DevTools, url: str) -> None:
    """Open ``url``; the old document is marked so that no wait mistakes it for the new one."""
    tools.js("window.__saOld = true")
    tools.call("Page.navigate", url=url)


def settled(tools: DevTools, min_charts: int, timeout: float = 120.0, stable_for: int = 3,
            interval: float = 0.1) -> dict:
    """The page state once the script has finished and every chart element has drawn its
    Plotly svg (at least ``min_charts``), unchanged for ``stable_for`` polls."""
    history: list[tuple] = []
    last: dict = {}

    def check():
        state = tools.js(PAGE_STATE)
        last.update(state)
        done = state["script"] == "notRunning"
        if done and (state["exceptions"] or state["errors"]):
            return state  # failed: no need to wait for charts that will not come
        history.append((state["charts"], state["drawn"], state["svgs"], state["fresh"]))
        stable = len(history) >= stable_for and len(set(history[-stable_for:])) == 1
        ready = done and state["fresh"] and state["drawn"] >= max(min_charts, state["charts"])
        return state if ready and stable else None

    try:
        return wait_for(check, timeout, "the page's Plotly charts", interval=interval)
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; last page state: {last}") from None
