"""Data commands: ``generate``, ``load``, ``import``, ``build``, ``refresh`` and ``info``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sales_analytics.cli.common import (
    DbUrl,
    console,
    fail,
    friendly,
    open_db,
    print_counts,
    progress,
    require_schema,
)
from sales_analytics.storage import TABLES

Scale = Annotated[float, typer.Option(min=0.001, help="1 = 5,000 customers, ~50k orders")]
Seed = Annotated[int, typer.Option(help="Same seed -> byte-identical data")]
Replace = Annotated[bool, typer.Option(help="Drop and recreate the schema first")]


@friendly
def generate(
    out: Annotated[Path, typer.Option(help="Folder for the Parquet files")] = Path(
        "data/synthetic"
    ),
    scale: Scale = 1.0,
    seed: Seed = 42,
) -> None:
    """Generate a synthetic shop into Parquet files (tables, truth.parquet, params.json)."""
    import pyarrow.parquet as pq

    from sales_analytics.synth import generate as synth_generate

    with progress() as bar:
        task = bar.add_task("generating", total=1 + len(TABLES))
        data = synth_generate(scale=scale, seed=seed)
        bar.advance(task)
        out.mkdir(parents=True, exist_ok=True)
        for name, table in data.tables.items():
            bar.update(task, description=f"writing {name}")
            pq.write_table(table, out / f"{name}.parquet")
            bar.advance(task)
    pq.write_table(data.truth, out / "truth.parquet")
    (out / "params.json").write_text(json.dumps(_params_doc(data), indent=2))
    print_counts("generated", data.num_rows)
    console.print(f"written to [bold]{out}[/]")


@friendly
def load(
    folder: Annotated[Path, typer.Argument(help="Folder written by `generate`")],
    database_url: DbUrl = None,
    replace: Replace = False,
) -> None:
    """Load Parquet files from FOLDER into the database in one transaction."""
    import pyarrow.parquet as pq

    missing = [n for n in TABLES if not (folder / f"{n}.parquet").is_file()]
    if missing:
        fail(f"{folder}: missing {', '.join(m + '.parquet' for m in missing)}")
    frames = {n: pq.read_table(folder / f"{n}.parquet") for n in TABLES}
    with open_db(database_url, write=True) as db:
        _load_frames(db, frames, replace)


@friendly
def import_(
    file: Annotated[Path, typer.Argument(help="The shop's export (CSV, or JSON for woocommerce)")],
    fmt: Annotated[
        str, typer.Option("--format", help="generic, online-retail, shopify or woocommerce")
    ] = "generic",
    mapping: Annotated[
        Path | None, typer.Option(help="YAML mapping file for any other CSV export")
    ] = None,
    rates: Annotated[
        Path | None, typer.Option(help="currency,rate CSV for orders in other currencies")
    ] = None,
    currency: Annotated[str | None, typer.Option(help="Shop currency (first import)")] = None,
    timezone: Annotated[str | None, typer.Option(help="Shop timezone (first import)")] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Reject file (default: <FILE stem>.rejects.csv)")
    ] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of FILE")] = "utf-8",
    database_url: DbUrl = None,
) -> None:
    """Import an export: bad lines to a reject file with reasons, the rest in one transaction.

    shopify, woocommerce and --mapping follow the shop: changed orders are updated."""
    from sales_analytics.ingest import import_csv
    from sales_analytics.ingest.shop import ORDER_FORMATS, import_orders

    if mapping is not None or fmt in ORDER_FORMATS:
        with open_db(database_url, write=True) as db:
            r = import_orders(
                db, file, fmt, rejects, mapping=mapping, rates=rates, currency=currency,
                timezone=timezone, encoding=encoding,
            )
        console.print(
            f"imported {file} ({r.fmt}; shop currency {r.currency}, timezone {r.timezone})",
            highlight=False, soft_wrap=True,
        )
        console.print(
            f"orders {r.inserted:,} inserted, {r.updated:,} updated, {r.unchanged:,} unchanged, "
            f"{r.rejected_orders:,} rejected; {r.refunds:,} refunds and {r.events:,} events added",
            highlight=False, soft_wrap=True,
        )
    else:
        if rates is not None or currency is not None or timezone is not None:
            fail("--rates, --currency and --timezone are for shopify, woocommerce and --mapping")
        with open_db(database_url, write=True) as db:
            result = import_csv(db, file, fmt, rejects, encoding=encoding)
        table = Table(title=f"imported {file} ({result.fmt})")
        table.add_column("table")
        table.add_column("loaded", justify="right")
        table.add_column("already there", justify="right")
        for name in result.skipped:
            table.add_row(name, f"{result.loaded.get(name, 0):,}", f"{result.skipped[name]:,}")
        console.print(table)
        r = result
    console.print(
        f"{r.rejected:,} of {r.rows:,} lines rejected -> {r.reject_path}",
        highlight=False, soft_wrap=True,
    )
    for reason, count in r.reasons.items():
        console.print(f"  {count:>8,}  {reason}", highlight=False)


@friendly
def build(
    database_url: DbUrl = None,
    scale: Scale = 1.0,
    seed: Seed = 42,
    replace: Replace = False,
) -> None:
    """Generate a synthetic shop and load it into the database (schema, views, refresh)."""
    import pyarrow.parquet as pq

    from sales_analytics.synth import generate as synth_generate

    with open_db(database_url, write=True) as db:
        if db.has_schema() and not replace and db.counts()["orders"] > 0:
            fail("the database already holds orders: pass --replace to rebuild it")
        with progress() as bar:
            task = bar.add_task(f"generating scale {scale:g}", total=1)
            data = synth_generate(scale=scale, seed=seed)
            bar.advance(task)
        _load_frames(db, data.tables, replace)
        if db.kind == "duckdb" and db.parsed.path != ":memory:":
            truth_dir = Path(db.parsed.path).parent
            pq.write_table(data.truth, truth_dir / "truth.parquet")
            (truth_dir / "params.json").write_text(json.dumps(_params_doc(data), indent=2))


@friendly
def refresh(database_url: DbUrl = None) -> None:
    """Rebuild the materialized copies of the metrics (one transaction)."""
    from sales_analytics import metrics

    with open_db(database_url, write=True) as db:
        require_schema(db)
        names = metrics.refresh(db)
        version = db.data_version()
    console.print(f"{len(names)} materialized copies refreshed{_as_of(version)}")


@friendly
def info(database_url: DbUrl = None) -> None:
    """Show what the database holds: row counts, date range, net revenue (the ``kpis`` metric)."""
    from sales_analytics import metrics
    from sales_analytics.present import format as fmt

    with open_db(database_url) as db:
        require_schema(db)
        counts = db.counts()
        kpis = metrics.kpis(db)
        version = db.data_version()
        table = Table(title=f"{db.kind}: {db.display_url}")
        table.add_column("item")
        table.add_column("value", justify="right")
        for name, n in counts.items():
            table.add_row(name, f"{n:,}")
        columns = metrics.get("kpis")
        for key in ("first_order_at", "last_order_at", "revenue", "orders"):
            column = columns.column(key)
            table.add_row(column.label, fmt.value(kpis[key], column.unit))
        if version is not None:
            table.add_row("Data version", f"{version.version} ({_when(version)})")
        console.print(table)


# ------------------------------------------------------------------------------------ helpers
def _load_frames(db, frames, replace: bool) -> None:
    """Replace (or append), load and materialize in ONE transaction (``metrics.load``)."""
    from sales_analytics import metrics

    what = "replacing, loading" if replace else "loading"
    with progress() as bar:
        task = bar.add_task(f"{what} and materializing (one transaction)", total=1)
        counts = metrics.load(db, frames, replace=replace)
        bar.advance(task)
    print_counts(f"loaded into {db.kind}{_as_of(db.data_version())}", counts)


def _when(version) -> str:
    return version.committed_at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _as_of(version) -> str:
    return "" if version is None else f" (data version {version.version}, {_when(version)})"


def _params_doc(data) -> dict:
    return {
        "seed": data.seed,
        "scale": data.scale,
        "start": data.start.isoformat(),
        "end": data.end.isoformat(),
        "time_unit": "operational day (see synth/generator.py)",
        "params": data.params,
    }
