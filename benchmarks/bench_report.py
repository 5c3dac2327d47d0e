"""The executive report: HTML size, page count, and its time against the metric work it shows.

Run: ``python -m benchmarks.bench_report [--scale 1] [--url duckdb:///data/sales.duckdb]
[--models-dir data/models]``.

Without ``--url`` the shop is generated at ``--scale`` and loaded into a temp DuckDB file. Timed in
one process:

* ``collect``: the baseline, every metric, insight and saved-model call the report makes
  (``reports.executive.collect``, a fresh connection);
* ``render``: the HTML from those frames (Plotly figures to JSON, the compressed plotly.js);
* ``pdf``: headless chromium opens the file, draws every chart and prints the A4 PDF.

Reported: seconds, ``render / collect`` and ``pdf / collect``, the HTML's bytes (target <= 2 MB)
and the PDF's pages (target 2-4).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks.common import console, print_table
from sales_analytics import metrics
from sales_analytics.reports import executive
from sales_analytics.storage import connect
from sales_analytics.synth import generate

RESULTS = Path(__file__).resolve().parent / "results"


def measure(url: str, models_dir: Path, out: Path) -> dict:
    with connect(url, read_only=True) as db:
        t0 = time.perf_counter()
        data = executive.collect(db, models_dir=models_dir)
        collect = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = executive.render(data)
    render = time.perf_counter() - t0
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    row = {"collect_s": collect, "render_s": render, "html_bytes": path.stat().st_size}
    if executive.find_chromium():
        t0 = time.perf_counter()
        pdf = executive.html_to_pdf(path, out / "report.pdf")
        row |= {"pdf_s": time.perf_counter() - t0, "pdf_pages": executive.pdf_pages(pdf)}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--url", default=None)
    ap.add_argument("--models-dir", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            url = f"duckdb:///{Path(tmp) / 'shop.duckdb'}"
            with connect(url) as db:
                db.create_schema()
                metrics.load(db, generate(scale=args.scale, seed=42).tables)
        row = measure(url, args.models_dir or Path(tmp) / "no-models", Path(tmp))
    row["render_vs_collect"] = row["render_s"] / row["collect_s"]
    if "pdf_s" in row:
        row["pdf_vs_collect"] = row["pdf_s"] / row["collect_s"]
    print_table(f"executive report ({url if args.url else f'scale {args.scale:g}'})",
                ["figure", "value"], [[k, f"{v:,.2f}" if isinstance(v, float) else f"{v:,}"] for k, v in row.items()])  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(row, indent=2))
    console.print(f"results in {RESULTS / 'report.json'}")


if __name__ == "__main__":
    main()
