"""Headless chromium over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

The report draws its charts after the page has loaded (plotly.js is inflated first), so
``chromium --print-to-pdf`` would print empty charts. Instead the page is opened in a tab, the
printer waits until ``document.documentElement.dataset.charts`` is ``drawn`` and then calls
``Page.printToPDF`` (or ``Page.captureScreenshot``). Messages are JSON separated by NUL bytes:
chromium reads commands on its fd 3 and writes answers and events on fd 4. No extra package.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM_NAMES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe",
)  # fmt: skip


class BrowserError(RuntimeError):
    """Chromium is missing, failed, or the page did not draw in time (one-line message)."""


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """One headless chromium with one tab; use as a context manager."""

    def __init__(self, binary: str, *, timeout: float = 120.0):
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="sa-chromium-")
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def fds() -> None:  # in the child: its fd 3 reads our commands, fd 4 writes answers
            high = [os.dup(to_child), os.dup(from_child)]  # out of the way of 3 and 4 first
            os.dup2(high[0], 3, inheritable=True)
            os.dup2(high[1], 4, inheritable=True)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=fds, close_fds=False,
        )  # fmt: skip
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._id = 0
        self.session: str | None = None

    def __enter__(self) -> Chromium:
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            self.call("Page.enable")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command (to the tab once attached) and return its result."""
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        try:
            os.write(self._write, json.dumps(msg).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"chromium stopped ({self._stderr()})") from exc
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._next(deadline, method)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise BrowserError(f"chromium {method}: {answer['error'].get('message')}")
                return answer.get("result", {})

    def _next(self, deadline: float, method: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"chromium did not answer {method} within {self.timeout:.0f} s")
            ready, _, _ = select.select([self._read], [], [], left)
            if ready:
                chunk = os.read(self._read, 1 << 20)
                if not chunk:
                    raise BrowserError(f"chromium stopped ({self._stderr()})")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(line)

    def evaluate(self, expression: str) -> Any:
        out = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return out.get("result", {}).get("value")

    def open(self, url: str, *, ready: str | None = None, timeout: float = 60.0) -> None:
        """Navigate to ``url``; with ``ready`` (a JS expression), wait until it is true in the new
        document. A non-empty string from ``ready`` is the page's error message."""
        self.evaluate("window.__saLeaving = true")  # marks the document being left
        self.call("Page.navigate", url=url)
        if ready is None:
            return
        deadline = time.monotonic() + timeout
        here = "!window.__saLeaving && document.readyState !== 'loading'"
        while True:
            state = self.evaluate(f"({here}) && ({ready})")
            if state is True:
                return
            if isinstance(state, str) and state:
                raise BrowserError(f"the page failed to draw: {state}")
            if time.monotonic() > deadline:
                raise BrowserError(f"the page was not drawn within {timeout:.0f} s")
            time.sleep(0.1)

    def pdf(self, target: Path, **options: Any) -> Path:
        data = self.call("Page.printToPDF", printBackground=True, preferCSSPageSize=True,
                         displayHeaderFooter=False, **options)["data"]  # fmt: skip
        target.write_bytes(base64.b64decode(data))
        return target

    def screenshot(self, target: Path, *, width: int, height: int) -> Path:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=width < 600)  # fmt: skip
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        target.write_bytes(base64.b64decode(data))
        return target

    def _stderr(self) -> str:
        try:
            self.proc.wait(timeout=2)
            text = (self.proc.stderr.read() or b"").decode(errors="replace").strip()
        except (subprocess.TimeoutExpired, ValueError, OSError):
            text = ""
        return text.splitlines()[-1] if text else f"exit code {self.proc.returncode}"

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.write(self._write, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc.stderr:
            self.proc.stderr.close()
        self._profile.cleanup()


#: True once the report's charts are drawn; the error text when drawing failed.
CHARTS_READY = (
    "(document.documentElement.dataset.charts === 'drawn') || "
    "(document.documentElement.dataset.charts === 'failed' && "
    "(document.documentElement.dataset.error || 'failed'))"
)


def print_pdf(
    source: Path, target: Path, *, chromium: str | None = None, timeout: float = 120, width: int = 703
) -> Path:
    """Print the report ``source`` (HTML file) to ``target`` once its charts are drawn.

    The page is laid out for print at ``width`` CSS px (the printed page's content width) before
    the charts draw, so they are drawn at the width they are printed at."""
    binary = chromium or find_chromium()
    if binary is None:
        raise BrowserError("PDF needs chromium (Debian: apt-get install chromium); none found on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    with Chromium(binary, timeout=timeout) as browser:
        browser.call("Emulation.setDeviceMetricsOverride", width=width, height=1000,
                     deviceScaleFactor=1, mobile=False)  # fmt: skip
        browser.call("Emulation.setEmulatedMedia", media="print")
        browser.open(source.resolve().as_uri(), ready=CHARTS_READY, timeout=timeout)
        return browser.pdf(target.resolve())
