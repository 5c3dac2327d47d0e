"""``analyze``: every catalogue metric for a window and a scope, the KPIs printed, one file per
metric written; ``metrics``: the catalogue itself."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sales_analytics.cli.common import DbUrl, console, friendly, open_db, progress, require_schema


def filters_from(db, start, end, country, segment):
    """The CLI's filters, with unknown countries named against the ones the shop has."""
    from sales_analytics.metrics import Filters, compute

    filters = Filters(start=start, end=end, countries=tuple(country or ()), segments=tuple(segment or ()))
    if filters.countries:
        known = set(compute(db, "penetration")["country"])
        unknown = [c for c in filters.countries if c not in known]
        if unknown:
            raise ValueError(
                f"unknown country {', '.join(map(repr, unknown))}: this shop's customers are in "
                f"{', '.join(sorted(known))}"
            )
    return filters


def runs(names: list[str]) -> list[tuple[str, str, dict]]:
    """``(file stem, metric, params)`` per metric and per choice of each param it expands."""
    from sales_analytics.metrics import get

    out = []
    for name in names:
        metric = get(name)
        expanded = [p for p in metric.params if p.expand]
        for combo in itertools.product(*[p.choices for p in expanded]):
            params = dict(zip([p.name for p in expanded], combo, strict=True))
            if "limit" in metric.param_names:
                params["limit"] = None  # a file holds every row
            stem = "_".join([name, *map(str, combo)])
            out.append((stem, name, params))
    return out


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
        typer.Option("--metric", help="Only this catalogue metric (repeatable; default all)"),
    ] = None,
) -> None:
    """Compute the catalogue's metrics, print the KPIs and write one file per metric to OUT
    (metrics with a grain or level get one file per choice: revenue_day, revenue_week, ...)."""
    from sales_analytics.metrics import compute, get, public

    if fmt not in ("parquet", "csv"):
        raise ValueError(f"--format must be parquet or csv, not {fmt!r}")
    default = [m.name for m in public() if not any(p.required for p in m.params)]
    names = list(dict.fromkeys(metric or default))
    for name in names:
        m = get(name)  # unknown names: one line naming the valid ones
        if m.internal or any(p.required for p in m.params):
            raise ValueError(f"{name} is not a metric analyze can write: use one of {', '.join(default)}")
    written: list[tuple[str, int, float, str]] = []
    with open_db(database_url) as db:
        require_schema(db)
        filters = filters_from(db, start, end, country, segment)
        out.mkdir(parents=True, exist_ok=True)  # only once the database and filters are good
        kpis = compute(db, "kpis", filters)
        plan = runs(names)
        with progress() as bar:
            task = bar.add_task("metrics", total=len(plan))
            for stem, name, params in plan:
                bar.update(task, description=stem)
                t0 = time.perf_counter()
                try:
                    frame = kpis if name == "kpis" else compute(db, name, filters, **params)
                except ValueError as exc:  # e.g. too short a window for a decomposition
                    written.append((stem, 0, time.perf_counter() - t0, f"skipped: {exc}"))
                    bar.advance(task)
                    continue
                path = out / f"{stem}.{fmt}"
                if fmt == "csv":
                    frame.to_csv(path, index=False)
                else:
                    frame.to_parquet(path, index=False)
                written.append((stem, len(frame), time.perf_counter() - t0, str(path)))
                bar.advance(task)
    console.print(kpi_table(kpis.iloc[0], filters, db.kind))
    files = Table(title=f"written to {out}")
    files.add_column("metric")
    files.add_column("rows", justify="right")
    files.add_column("seconds", justify="right")
    files.add_column("file")
    for stem, rows, secs, where in written:
        files.add_row(stem, f"{rows:,}", f"{secs:.3f}", where)
    console.print(files)


def kpi_table(row, filters, kind: str) -> Table:
    """The ``kpis`` metric's row as a two-column table: declared labels, values by unit."""
    from sales_analytics.metrics import get
    from sales_analytics.present import format as fmt

    table = Table(title=f"KPIs ({kind}): {filters.describe()}")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for column in get("kpis").columns:
        table.add_row(column.label, fmt.value(row[column.name], column.unit))
    return table


@friendly
def metrics(
    name: Annotated[str | None, typer.Argument(help="One metric in detail")] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The catalogue as Markdown (docs/metrics.md)")
    ] = False,
    internal: Annotated[
        bool, typer.Option("--internal", help="Also the building blocks other metrics read")
    ] = False,
) -> None:
    """The metric catalogue: every metric's name, grain, params and columns with their units."""
    from sales_analytics.metrics import CATALOG, get, public
    from sales_analytics.present.catalog_doc import markdown as catalogue_markdown

    if markdown:
        typer.echo(catalogue_markdown(), nl=False)
        return
    if name is not None:
        m = get(name)
        console.print(f"[bold]{m.name}[/]: {m.label}\ngrain: {m.grain}", highlight=False)
        if m.description:
            console.print(m.description, highlight=False)
        for p in m.params:
            choices = f" ({', '.join(map(str, p.choices))})" if p.choices else ""
            default = "required" if p.required else f"default {p.default}"
            console.print(f"param {p.name}: {p.type.__name__}, {default}{choices}", highlight=False)
        table = Table(title="columns")
        for header in ("column", "dtype", "unit", "label", "meaning"):
            table.add_column(header)
        for c in m.columns:
            table.add_row(c.name, c.dtype, c.unit, c.label, c.description)
        console.print(table)
        return
    for m in CATALOG.values() if internal else public():
        params = ", ".join(
            f"{p.name}=" + ("|".join(map(str, p.choices)) if p.choices else p.type.__name__)
            + ("" if p.required else f" (default {p.default})")
            for p in m.params
        )
        console.print(f"[bold]{m.name}[/] ({m.domain}): {m.label}", highlight=False)
        console.print(f"  grain: {m.grain}", highlight=False)
        if params:
            console.print(f"  params: {params}", highlight=False)
        columns = ", ".join(f"{c.name} [dim]{c.unit}[/]" for c in m.columns)
        console.print(f"  columns: {columns}", highlight=False)
    console.print("\n`sales-analytics metrics NAME` shows one metric's columns with their meaning.")
