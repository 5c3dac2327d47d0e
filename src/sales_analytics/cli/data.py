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
from sales_analytics.storage import CORE_TABLES, TABLES

Scale = Annotated[float, typer.Option(min=0.001, help="1 = 5,000 customers, ~50k orders")]
Seed = Annotated[int, typer.Option(help="Same seed -> byte-identical data")]
Replace = Annotated[bool, typer.Option(help="Drop and recreate the schema first")]
Currency = Annotated[str | None, typer.Option(help="The shop's currency (default SA_CURRENCY)")]
TimeZone = Annotated[
    str | None, typer.Option("--timezone", help="The shop's IANA time zone (default SA_TIMEZONE)")
]
FiscalStart = Annotated[
    int | None, typer.Option(help="Month 1-12 the fiscal year starts in (default SA_FISCAL_YEAR_START)")
]


@friendly
def generate(
    out: Annotated[Path, typer.Option(help="Folder for the Parquet files")] = Path(
        "data/synthetic"
    ),
    scale: Scale = 1.0,
    seed: Seed = 42,
    currency: Currency = None,
    timezone: TimeZone = None,
    fiscal_year_start: FiscalStart = None,
) -> None:
    """Generate a synthetic shop into Parquet files (tables, truth.parquet, params.json), block by
    block of customers (memory stays bounded at any scale)."""
    from sales_analytics.storage import ShopSettings
    from sales_analytics.synth import stream
    from sales_analytics.synth.files import write_parquet

    settings = ShopSettings.given(currency, timezone, fiscal_year_start)
    shop = stream(scale=scale, seed=seed, settings=settings)
    with progress() as bar:
        task = bar.add_task(f"generating scale {scale:g}", total=shop.num_blocks)
        counts = write_parquet(shop, out, on_block=lambda _block: bar.advance(task))
    print_counts("generated", counts)
    console.print(f"written to [bold]{out}[/]")


@friendly
def load(
    folder: Annotated[Path, typer.Argument(help="Folder written by `generate`")],
    database_url: DbUrl = None,
    replace: Replace = False,
) -> None:
    """Load Parquet files from FOLDER into the database in one transaction (read block by block)."""
    from sales_analytics.storage.parquet import read_blocks

    missing = [n for n in CORE_TABLES if not (folder / f"{n}.parquet").is_file()]
    if missing:
        fail(f"{folder}: missing {', '.join(m + '.parquet' for m in missing)}")
    frames = read_blocks({n: folder / f"{n}.parquet" for n in TABLES
                          if (folder / f"{n}.parquet").is_file()})
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
    fiscal_year_start: Annotated[
        int | None, typer.Option(help="Month 1-12 the shop's fiscal year starts in (first import)")
    ] = None,
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
                timezone=timezone, fiscal_year_start=fiscal_year_start, encoding=encoding,
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
        if any(o is not None for o in (rates, currency, timezone, fiscal_year_start)):
            fail(
                "--rates, --currency, --timezone and --fiscal-year-start are for shopify, "
                "woocommerce and --mapping"
            )
        with open_db(database_url, write=True) as db:
            result = import_csv(db, file, fmt, rejects, encoding=encoding)
        table = Table(title=f"imported {file} ({result.fmt})")
        table.add_column("table")
        table.add_column("loaded", justify="right")
        table.add_column("already there", justify="right")
        for name in CORE_TABLES:
            table.add_row(
                name, f"{result.loaded.get(name, 0):,}", f"{result.skipped.get(name, 0):,}"
            )
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
    currency: Currency = None,
    timezone: TimeZone = None,
    fiscal_year_start: FiscalStart = None,
) -> None:
    """Generate a synthetic shop and load it into the database (schema, views, refresh), block by
    block of customers in one transaction (memory stays bounded at any scale)."""
    from sales_analytics.storage import ShopSettings
    from sales_analytics.synth import stream
    from sales_analytics.synth.files import ParquetSink, params_doc

    settings = ShopSettings.given(currency, timezone, fiscal_year_start)
    with open_db(database_url, write=True) as db:
        if db.has_schema() and not replace and db.counts()["orders"] > 0:
            fail("the database already holds orders: pass --replace to rebuild it")
        shop = stream(scale=scale, seed=seed, settings=settings)
        # the truth goes next to a DuckDB file (written as the blocks are generated)
        truth_dir = Path(db.parsed.path).parent if db.is_file else None
        sink = ParquetSink(truth_dir) if truth_dir else None

        def blocks():
            for block in shop.blocks():
                if sink is not None:
                    sink.write("truth", block.truth)
                yield block.tables

        try:
            _load_frames(db, blocks(), replace, blocks=shop.num_blocks)
        except BaseException:
            if sink is not None:
                sink.abort()
            raise
        if sink is not None:
            sink.commit()
            (truth_dir / "params.json").write_text(json.dumps(params_doc(shop), indent=2))


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
    """Show what the database holds: row counts, date range, net revenue (the ``kpis`` metric),
    the shop's currency, time zone and fiscal year start."""
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
        shop = db.shop_settings()
        origin = "" if shop.stored else " (default: no shop settings in the database)"
        table.add_row("Currency", shop.currency + origin)
        table.add_row("Time zone", shop.timezone + origin)
        table.add_row("Fiscal year starts", _MONTHS[shop.fiscal_year_start_month - 1] + origin)
        if version is not None:
            table.add_row("Data version", f"{version.version} ({_when(version)})")
        console.print(table)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


# ------------------------------------------------------------------------------------ helpers
def _load_frames(db, frames, replace: bool, blocks: int | None = None) -> None:
    """Replace (or append), load and materialize in ONE transaction (``metrics.load``); ``frames``
    is a mapping of tables or an iterable of such blocks (``blocks`` of them, when known)."""
    from sales_analytics import metrics

    what = "replacing, loading" if replace else "loading"
    with progress() as bar:
        task = bar.add_task(f"{what} and materializing (one transaction)", total=blocks or 1)

        def counted(items):
            for block in items:
                yield block
                bar.advance(task)

        if isinstance(frames, dict):
            counts = metrics.load(db, frames, replace=replace)
        else:
            counts = metrics.load(db, counted(frames), replace=replace)
        bar.update(task, completed=blocks or 1)
    print_counts(f"loaded into {db.kind}{_as_of(db.data_version())}", counts)


def _when(version) -> str:
    return version.committed_at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _as_of(version) -> str:
    return "" if version is None else f" (data version {version.version}, {_when(version)})"
