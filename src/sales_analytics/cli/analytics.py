"""``analyze``: every metric for a window and a scope, the headline KPIs printed, one file per
metric written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sales_analytics.cli.common import DbUrl, console, friendly, open_db, progress, require_schema


@friendly
def analyze(
    database_url: DbUrl = None,
    out: Annotated[Path, typer.Option(help="Folder for one file per metric")] = Path(
        "out/analysis"
    ),
    start: Annotated[
        str | None, typer.Option(help="First order day (YYYY-MM-DD), inclusive")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last order day (YYYY-MM-DD), inclusive")] = None,
    country: Annotated[
        list[str] | None, typer.Option("--country", help="Customer country (repeat for several)")
    ] = None,
    segment: Annotated[
        list[str] | None, typer.Option("--segment", help="RFM segment, e.g. Champions (repeatable)")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="Only this metric (repeatable; default all)"),
    ] = None,
) -> None:
    """Compute the metrics, print the KPIs and write one file per metric to OUT."""
    import time
    from datetime import date

    from sales_analytics.metrics import METRICS, Filters, compute

    if fmt not in ("parquet", "csv"):
        raise ValueError(f"--format must be parquet or csv, not {fmt!r}")
    names = list(dict.fromkeys(metric or METRICS))
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}: use {', '.join(METRICS)}")
    filters = Filters(
        start=date.fromisoformat(start) if start else None,
        end=date.fromisoformat(end) if end else None,
        countries=tuple(country or ()),
        segments=tuple(segment or ()),
    )
    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, int, float, str]] = []
    with open_db(database_url) as db:
        require_schema(db)
        kpi_frame = compute(db, "kpis", filters)
        with progress() as bar:
            task = bar.add_task("metrics", total=len(names))
            for name in names:
                bar.update(task, description=name)
                t0 = time.perf_counter()
                try:
                    frame = kpi_frame if name == "kpis" else compute(db, name, filters)
                except ValueError as exc:  # e.g. too short a window for a decomposition
                    written.append((name, 0, time.perf_counter() - t0, f"skipped: {exc}"))
                    bar.advance(task)
                    continue
                path = out / f"{name}.{fmt}"
                if fmt == "csv":
                    frame.to_csv(path, index=False)
                else:
                    frame.to_parquet(path, index=False)
                written.append((name, len(frame), time.perf_counter() - t0, str(path)))
                bar.advance(task)
    console.print(_kpi_summary(kpi_frame.iloc[0], filters, db.kind))
    files = Table(title=f"written to {out}")
    files.add_column("metric")
    files.add_column("rows", justify="right")
    files.add_column("seconds", justify="right")
    files.add_column("file")
    for name, rows, secs, where in written:
        files.add_row(name, f"{rows:,}", f"{secs:.3f}", where)
    console.print(files)


def _kpi_summary(row, filters, kind: str) -> Table:
    """The headline KPIs of `analyze` as a two-column rich table."""
    window = f"{filters.start or 'first order'} .. {filters.end or 'last order'}"
    scope = ", ".join([*filters.countries, *filters.segments]) or "all customers"
    table = Table(title=f"KPIs ({kind}): {window}; {scope}")
    table.add_column("KPI")
    table.add_column("value", justify="right")

    def money(v) -> str:
        return "-" if v is None or v != v else f"{float(v):,.2f}"

    def count(v) -> str:
        return "-" if v is None or v != v else f"{int(v):,}"

    def pct(v) -> str:
        return "-" if v is None or v != v else f"{float(v):.1%}"

    for label, key, fmt in (
        ("net revenue (completed)", "revenue", money),
        ("gross revenue (not cancelled)", "gross_revenue", money),
        ("returned (refunded)", "returned_revenue", money),
        ("orders (completed)", "orders", count),
        ("average order value", "aov", money),
        ("units sold", "units", count),
        ("customers", "customers", count),
        ("new customers", "new_customers", count),
        ("returning customers", "returning_customers", count),
        ("revenue per customer", "revenue_per_customer", money),
        ("cancel rate (of all orders)", "cancel_rate", pct),
        ("return rate (of gross orders)", "return_rate", pct),
    ):
        table.add_row(label, fmt(row[key]))
    table.add_row("first order", str(row["first_order_at"]))
    table.add_row("last order", str(row["last_order_at"]))
    return table
