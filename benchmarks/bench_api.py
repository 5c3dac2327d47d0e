"""Throughput and latency of the API under 1, 4 and 20 concurrent clients, DuckDB and PostgreSQL.

Run: ``python -m benchmarks.bench_api [--scale 1] [--backends duckdb postgres] [--seconds 10]
[--max-requests 2000] [--clients 1 4 20]``.

The shop (scale 1, seed 42) is loaded into a temp DuckDB file and a temp PostgreSQL database with
``metrics.load``. The app runs in its own process (``uvicorn --factory``, one worker, 127.0.0.1 on
a free port: loopback only) so the clients' threads do not share its interpreter. Each client is a
thread with its own ``httpx.Client`` going round the five metric endpoints below; each level is
bounded by ``--seconds`` and ``--max-requests``. Rows:

* ``metrics``   the five endpoints, after one warm-up pass (answers cached by data version);
* ``live``      the same endpoints with a different ``start`` date on every request (no two
  requests alike: every answer is computed; how the database itself holds up);
* ``/health``   the baseline: a trivial endpoint (checks the database within 2 s), for the ratio
  ``x health`` = metric throughput / health throughput at the same number of clients;
* ``refresh``   ``metrics`` at the highest client count for the full ``--seconds`` (not capped
  at ``--max-requests``), started when another process begins one ``metrics.refresh(db)``; it
  commits a new data version, so the cache starts over (the versions answered are printed).

Target (issue 11): >= 150 req/s with p99 < 500 ms at 20 clients, 0 errors, also during a refresh.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx

from benchmarks.common import console, print_table, temp_pg_database
from sales_analytics import metrics
from sales_analytics.storage import connect
from sales_analytics.synth import generate

KEY = "bench-key-" + "k" * 32
ENDPOINTS = (
    "/v1/metrics/kpis",
    "/v1/metrics/revenue?grain=month",
    "/v1/metrics/segment_summary",
    "/v1/metrics/product_performance",
    "/v1/metrics/geography",
)
HEALTH = ("/health",)
RESULTS = Path(__file__).parent / "results" / "api.json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(url: str, models_dir: Path) -> Iterator[str]:
    """``uvicorn --factory sales_analytics.api:create_app`` on 127.0.0.1; yields its base URL."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": url,
        "SA_API_KEY": KEY,
        "SA_MODELS_DIR": str(models_dir),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SA_API_KEY_FILE", None)
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "sales_analytics.api:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
           "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start (exit code {proc.poll()})")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_level(
    base: str, paths: tuple[str, ...], clients: int, seconds: float, max_requests: int,
    *, live: bool = False,
) -> dict:  # fmt: skip
    """``clients`` threads going round ``paths`` until ``seconds`` pass or ``max_requests`` ran."""
    latencies: list[float] = []
    errors: list[str] = []
    versions: set[str] = set()
    lock = threading.Lock()
    issued = [0]
    stop_at = time.monotonic() + seconds
    first_day, last_day = date(2023, 1, 1), date(2026, 6, 30)

    def client(n: int) -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=60) as http:
            i = n
            while time.monotonic() < stop_at:
                with lock:
                    if issued[0] >= max_requests:
                        return
                    issued[0] += 1
                    k = issued[0]
                path = paths[i % len(paths)]
                i += 1
                if live:  # a date no other request used: the answer is computed
                    sep = "&" if "?" in path else "?"
                    start = first_day + timedelta(days=k % 1000)
                    end = last_day - timedelta(days=k // 1000)
                    path = f"{path}{sep}start={start.isoformat()}&end={end.isoformat()}"
                t0 = time.perf_counter()
                try:
                    r = http.get(path)
                    ok = r.status_code == 200
                    why = f"{r.status_code} {r.text[:120]}"
                    versions.add(r.headers.get("x-data-version", "-"))
                except httpx.HTTPError as exc:
                    ok, why = False, repr(exc)
                took = time.perf_counter() - t0
                with lock:
                    latencies.append(took)
                    if not ok:
                        errors.append(f"{path}: {why}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return {
        "clients": clients,
        "requests": n,
        "errors": len(errors),
        "first_errors": errors[:3],
        "versions": sorted(versions),
        "req_s": n / wall if wall else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if n else float("nan"),
        "p99_ms": 1000 * latencies[min(n - 1, int(0.99 * n))] if n else float("nan"),
    }


@contextmanager
def refreshing(url: str) -> Iterator[list[float]]:
    """Another process running one ``metrics.refresh(db)``; yields [its time] once it is done."""
    code = (
        "import sys, time\n"
        "from sales_analytics import metrics\n"
        "from sales_analytics.storage import connect\n"
        "db = connect(sys.argv[1])\n"
        "print('start', flush=True)\n"
        "t0 = time.perf_counter(); metrics.refresh(db); db.close()\n"
        "print(time.perf_counter() - t0, flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, text=True)
    times: list[float] = []
    assert proc.stdout is not None and proc.stdout.readline().strip() == "start"
    try:
        yield times
    finally:
        out, _ = proc.communicate(timeout=300)
        times.extend(float(line) for line in out.split())
        if proc.returncode:
            raise RuntimeError(f"the refresh failed (exit code {proc.returncode})")


@contextmanager
def loaded(kind: str, frames) -> Iterator[str]:
    if kind == "duckdb":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
            db = connect(url)
            metrics.load(db, frames)
            db.close()
            yield url
        return
    with temp_pg_database() as url:
        db = connect(url)
        metrics.load(db, frames)
        db.close()
        yield url


def bench_backend(kind: str, frames, args) -> list[dict]:
    rows: list[dict] = []
    with loaded(kind, frames) as url, tempfile.TemporaryDirectory() as models:
        with server(url, Path(models)) as base:
            run_level(base, ENDPOINTS, 1, 5, len(ENDPOINTS))  # warm-up: one answer each
            for clients in args.clients:
                for label, paths, live in (
                    ("metrics", ENDPOINTS, False),
                    ("live", ENDPOINTS, True),
                    ("/health", HEALTH, False),
                ):
                    r = run_level(base, paths, clients, args.seconds, args.max_requests, live=live)
                    rows.append({"backend": kind, "run": label, **r})
                    console.print(f"{kind} {label} {clients} clients: {r['req_s']:.0f} req/s")
            top = max(args.clients)
            with refreshing(url) as refreshes:  # under way: the level runs its full time
                r = run_level(base, ENDPOINTS, top, args.seconds, 100 * args.max_requests)
            r["refresh_s"] = refreshes[0] if refreshes else None
            rows.append({"backend": kind, "run": "refresh", **r})
    health = {(r["backend"], r["clients"]): r["req_s"] for r in rows if r["run"] == "/health"}
    for r in rows:
        base_rate = health.get((r["backend"], r["clients"]))
        r["x_health"] = r["req_s"] / base_rate if base_rate else None
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1)
    ap.add_argument("--backends", nargs="+", default=["duckdb", "postgres"])
    ap.add_argument("--clients", nargs="+", type=int, default=[1, 4, 20])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--max-requests", type=int, default=2000)
    args = ap.parse_args(argv)
    console.width = max(console.width, 120)  # the table in full, also in a narrow terminal
    console.print(f"generating scale {args.scale:g} (seed 42) ...")
    frames = generate(scale=args.scale, seed=42).tables
    rows: list[dict] = []
    for kind in args.backends:
        rows += bench_backend(kind, frames, args)
    print_table(
        f"API at scale {args.scale:g}: req/s, latency (ms), errors; x health = req/s over "
        "/health's at the same clients",
        ["backend", "run", "clients", "requests", "errors", "req/s", "p50 ms", "p99 ms", "x health"],
        [
            [r["backend"], r["run"], r["clients"], r["requests"], r["errors"], r["req_s"],
             r["p50_ms"], r["p99_ms"], r["x_health"] if r["x_health"] is not None else "-"]
            for r in rows
        ],
    )  # fmt: skip
    for r in rows:
        if r["errors"]:
            console.print(f"{r['backend']} {r['run']} {r['clients']}: {r['first_errors']}")
        if r["run"] == "refresh":
            console.print(
                f"{r['backend']}: the refresh took {r['refresh_s']:.1f} s; data versions "
                f"answered during the run: {', '.join(r['versions'])}"
            )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"scale": args.scale, "rows": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
