"""The `sales-analytics` command line (Typer + rich).

Every command takes ``--database-url`` (or the ``DATABASE_URL`` variable; default: the embedded
DuckDB file ``data/sales.duckdb``). Errors are one red line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sales_analytics.config import configure_logging, get_settings
from sales_analytics.storage import TABLES, StorageError, connect

app = typer.Typer(
    name="sales-analytics",
    help="E-commerce analytics: synthetic or imported shop data, metrics, models, dashboard, API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        "-d",
        envvar="DATABASE_URL",
        help="duckdb:///path.duckdb (default data/sales.duckdb) or postgresql://user@host/db",
        show_default=False,
    ),
]

#: Exceptions that are the user's input problem: print one line, exit 1.
USER_ERRORS: tuple[type[BaseException], ...] = (StorageError, ValueError, FileNotFoundError, OSError)


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def friendly(fn: Callable) -> Callable:
    """Turn the known user-facing exceptions into one line on stderr and a non-zero exit."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except USER_ERRORS as exc:
            fail(str(exc) or type(exc).__name__)
        except KeyboardInterrupt:
            fail("interrupted", code=130)

    return wrapper


def progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def open_db(url: str | None):
    return connect(url or get_settings().database_url)


@app.callback()
def main(
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING, ERROR")] = None,
) -> None:
    configure_logging(log_level)


# -------------------------------------------------------------------------------- data commands
@app.command()
@friendly
def generate(
    out: Annotated[Path, typer.Option(help="Folder for the Parquet files")] = Path("data/synthetic"),
    scale: Annotated[float, typer.Option(min=0.001, help="1 = 5,000 customers, ~50k orders")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed -> byte-identical data")] = 42,
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
    _print_counts("generated", data.num_rows)
    console.print(f"written to [bold]{out}[/]")


@app.command()
@friendly
def load(
    folder: Annotated[Path, typer.Argument(help="Folder written by `generate`")],
    database_url: DbUrl = None,
    replace: Annotated[bool, typer.Option(help="Drop and recreate the schema first")] = False,
) -> None:
    """Load Parquet files from FOLDER into the database in one transaction."""
    import pyarrow.parquet as pq

    missing = [n for n in TABLES if not (folder / f"{n}.parquet").is_file()]
    if missing:
        fail(f"{folder}: missing {', '.join(m + '.parquet' for m in missing)}")
    frames = {n: pq.read_table(folder / f"{n}.parquet") for n in TABLES}
    with open_db(database_url) as db:
        _load_frames(db, frames, replace)


@app.command("import")
@friendly
def import_(
    file: Annotated[Path, typer.Argument(help="The shop's CSV export")],
    fmt: Annotated[str, typer.Option("--format", help="generic or online-retail")] = "generic",
    rejects: Annotated[
        Path | None, typer.Option(help="Reject file (default: <FILE stem>.rejects.csv)")
    ] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of FILE")] = "utf-8",
    database_url: DbUrl = None,
) -> None:
    """Import a CSV export: bad lines to a reject file with reasons, the rest in one transaction."""
    from sales_analytics.ingest import import_csv

    with open_db(database_url) as db:
        result = import_csv(db, file, fmt, rejects, encoding=encoding)
    table = Table(title=f"imported {file} ({result.fmt})")
    table.add_column("table")
    table.add_column("loaded", justify="right")
    table.add_column("already there", justify="right")
    for name in TABLES:
        table.add_row(name, f"{result.loaded[name]:,}", f"{result.skipped[name]:,}")
    console.print(table)
    console.print(f"{result.rejected:,} of {result.rows:,} lines rejected -> {result.reject_path}")
    for reason, count in result.reasons.items():
        console.print(f"  {count:>8,}  {reason}", highlight=False)


@app.command()
@friendly
def build(
    database_url: DbUrl = None,
    scale: Annotated[float, typer.Option(min=0.001, help="1 = 5,000 customers, ~50k orders")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed -> byte-identical data")] = 42,
    replace: Annotated[bool, typer.Option(help="Drop and recreate the schema first")] = False,
) -> None:
    """Generate a synthetic shop and load it into the database (schema, views, refresh)."""
    import pyarrow.parquet as pq

    from sales_analytics.synth import generate as synth_generate

    with open_db(database_url) as db:
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


@app.command()
@friendly
def refresh(database_url: DbUrl = None) -> None:
    """Refresh the materialized views (customer and product summaries)."""
    with open_db(database_url) as db:
        _require_schema(db)
        db.refresh()
    console.print("materialized views refreshed")


@app.command()
@friendly
def info(database_url: DbUrl = None) -> None:
    """Show what the database holds: row counts, date range, revenue."""
    with open_db(database_url) as db:
        _require_schema(db)
        counts = db.counts()
        first, last, revenue = db.query(
            "SELECT min(order_date), max(order_date), "
            "sum(CASE WHEN status = 'completed' THEN total_amount ELSE 0 END) FROM orders"
        )[0]
        table = Table(title=f"{db.kind}: {db.url}")
        table.add_column("item")
        table.add_column("value", justify="right")
        for name, n in counts.items():
            table.add_row(name, f"{n:,}")
        table.add_row("first order", str(first))
        table.add_row("last order", str(last))
        table.add_row("completed revenue", f"{float(revenue or 0):,.2f}")
        console.print(table)


# -------------------------------------------------------------------------------- analytics
@app.command()
@friendly
def analyze(
    database_url: DbUrl = None,
    out: Annotated[Path, typer.Option(help="Folder for one file per metric")] = Path("out/analysis"),
    start: Annotated[str | None, typer.Option(help="First order day (YYYY-MM-DD), inclusive")] = None,
    end: Annotated[str | None, typer.Option(help="Last order day (YYYY-MM-DD), inclusive")] = None,
    country: Annotated[
        list[str] | None, typer.Option("--country", help="Customer country (repeat for several)")
    ] = None,
    segment: Annotated[
        list[str] | None, typer.Option("--segment", help="RFM segment, e.g. Champions (repeatable)")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="Only this metric (repeatable; default all)")
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
        _require_schema(db)
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


# -------------------------------------------------------------------------------- model commands
MODEL_NAMES = ("forecast", "clv", "churn", "segments")
ModelsDir = Annotated[Path, typer.Option("--models-dir", help="Folder of saved models")]


@app.command()
@friendly
def train(
    database_url: DbUrl = None,
    models: Annotated[
        str, typer.Option(help="Comma-separated subset of forecast,clv,churn,segments")
    ] = ",".join(MODEL_NAMES),
    models_dir: ModelsDir = Path("data/models"),
    horizon: Annotated[int, typer.Option(min=7, help="Forecast horizon in days")] = 90,
    seed: Annotated[int, typer.Option(help="Random seed of every model")] = 42,
) -> None:
    """Train models on the database's completed orders, print their backtests, save them."""
    from sales_analytics.models import MODELS
    from sales_analytics.models.data import daily_revenue, transactions

    names = _model_names(models)
    with open_db(database_url) as db:
        _require_schema(db)
        tx = transactions(db)
        revenue = daily_revenue(db) if "forecast" in names else None
        truth, true_params = _synthetic_truth(db, tx)
    for name in names:
        config = {"random_seed": seed} | ({"horizon": horizon} if name == "forecast" else {})
        model = MODELS[name](config)
        with progress() as bar:
            task = bar.add_task(f"{name}: fitting", total=3)
            if name == "forecast":
                model.fit(revenue, progress=lambda s, t=task: bar.update(t, description=f"forecast: {s}"))
            else:
                model.fit(tx)
            bar.update(task, advance=1, description=f"{name}: backtesting")
            if name == "clv":
                metrics = model.evaluate(truth=truth, true_params=true_params)
            else:
                metrics = model.evaluate()
            bar.update(task, advance=1, description=f"{name}: saving")
            path = model.save(models_dir)
            bar.update(task, advance=1, description=f"{name}: done")
        _print_metrics(name, metrics)
        console.print(f"saved [bold]{path}[/] (+ {path.with_suffix('.json').name} with the metrics)")


@app.command()
@friendly
def predict(
    model: Annotated[str, typer.Option(help="forecast, clv, churn or segments")],
    out: Annotated[Path, typer.Option(help="CSV file for the predictions")],
    database_url: DbUrl = None,
    models_dir: ModelsDir = Path("data/models"),
    horizon: Annotated[
        int | None, typer.Option(help="Days ahead (forecast; default: as trained)")
    ] = None,
) -> None:
    """Write a saved model's predictions (on the database's current data) to a CSV file."""
    from sales_analytics.models import load_model
    from sales_analytics.models.data import transactions

    name = _model_names(model)[0]
    with progress() as bar:
        task = bar.add_task(f"{name}: loading", total=3)
        fitted = load_model(name, models_dir)
        bar.update(task, advance=1, description=f"{name}: predicting")
        if name == "forecast":
            frame = fitted.predict(h=horizon)
        else:
            with open_db(database_url) as db:
                _require_schema(db)
                frame = fitted.predict(transactions(db))
        bar.update(task, advance=1, description=f"{name}: writing")
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
        bar.update(task, advance=1, description=f"{name}: done")
    console.print(f"{len(frame):,} {name} predictions written to [bold]{out}[/]")


def _model_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown or not names:
        raise ValueError(
            f"unknown model(s): {', '.join(unknown) or '(none)'}; choose from {', '.join(MODEL_NAMES)}"
        )
    return list(dict.fromkeys(names))


def _synthetic_truth(db, tx):
    """The generator's truth next to a DuckDB file written by `build`, if it matches the data."""
    if db.kind != "duckdb" or db.parsed.path == ":memory:":
        return None, None
    folder = Path(db.parsed.path).parent
    if not (folder / "truth.parquet").is_file() or not (folder / "params.json").is_file():
        return None, None
    import pyarrow.parquet as pq

    truth = pq.read_table(folder / "truth.parquet").to_pandas()
    if not set(tx["customer_id"]) <= set(truth["customer_id"]):
        return None, None
    return truth, json.loads((folder / "params.json").read_text())["params"]


def _frame_table(title: str, frame) -> Table:
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col), justify="left" if frame[col].dtype == object else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row))
    return table


def _print_metrics(name: str, metrics: dict) -> None:
    """A model's evaluate() result: the model-vs-baseline table plus its key extras."""
    console.print(_frame_table(f"{name}: backtest (best: {metrics.get('best')})", metrics["table"]))
    if name == "forecast":
        if metrics.get("switched_from"):
            console.print(
                f"switched from {metrics['switched_from']} to {metrics['best']}: "
                "its intervals kept their coverage in the backtest"
            )
        for lv, cov in metrics["coverage"].items():
            console.print(
                f"{lv}% interval of {metrics['best']}: backtest coverage {cov['raw']:.1f}%"
                + (
                    f", widened x{cov['factor']:.2f} -> {cov['widened_out_of_window']:.1f}%"
                    " (out of window)"
                    if cov["factor"] > 1
                    else ""
                )
            )
        fi = metrics["feature_importance"]
        if len(fi):
            console.print(_frame_table("forecast: feature importance", fi))
    elif name == "clv":
        p = metrics["purchases"]
        console.print(
            f"holdout purchases: BG/NBD RMSE {p['bgnbd_rmse']:.2f} vs naive {p['naive_rmse']:.2f}; "
            f"total {p['bgnbd_total']:,.0f} predicted vs {p['actual_total']:,.0f} actual"
        )
        console.print("fitted: " + ", ".join(f"{k}={v:.3f}" for k, v in metrics["params"].items()))
        if "truth" in metrics and "p_alive_auc" in metrics["truth"]:
            t = metrics["truth"]
            console.print(
                f"P(alive) vs planted dropouts: AUC {t['p_alive_auc']:.3f} "
                f"(recency only {t['recency_only_auc']:.3f}), Brier {t['p_alive_brier']:.3f}"
            )
    elif name == "churn":
        console.print(
            f"threshold {metrics['threshold']:.3f}; churn rate {metrics['churn_rate']:.1%}; "
            f"mean predicted {metrics['calibration']['mean_predicted']:.1%}"
        )
        console.print(_frame_table("churn: risk tiers (test period)", metrics["tiers"]))
    elif name == "segments":
        console.print(_frame_table(f"segments: profiles (k={metrics['k']})", metrics["profiles"]))


# -------------------------------------------------------------------------------- helpers
def _require_schema(db) -> None:
    if not db.has_schema():
        fail(f"no sales-analytics schema in {db.url}: run `sales-analytics build` first")


def _load_frames(db, frames, replace: bool) -> None:
    with progress() as bar:
        task = bar.add_task("creating schema", total=3)
        db.create_schema(replace=replace)
        bar.update(task, advance=1, description="loading (one transaction)")
        counts = db.load(frames, refresh=False)
        bar.update(task, advance=1, description="refreshing views")
        db.refresh()
        bar.advance(task)
    _print_counts(f"loaded into {db.kind}", counts)


def _print_counts(title: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)


def _params_doc(data) -> dict:
    return {
        "seed": data.seed,
        "scale": data.scale,
        "start": data.start.isoformat(),
        "end": data.end.isoformat(),
        "time_unit": "operational day (see synth/generator.py)",
        "params": data.params,
    }


# -------------------------------------------------------------------------------- dashboard, report
@app.command()
@friendly
def dashboard(
    database_url: DbUrl = None,
    port: Annotated[int, typer.Option(help="Port of the dashboard")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "localhost",
    models_dir: Annotated[
        Path, typer.Option("--models-dir", help="Folder of the models saved by `train`")
    ] = Path("data/models"),
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open a browser tab")] = False,
) -> None:
    """Open the Streamlit dashboard (Revenue, Customers, Products, Geography, Predictions)."""
    import os
    import signal
    import subprocess
    from importlib import resources

    url = database_url or get_settings().database_url
    with open_db(url) as db:
        _require_schema(db)
    app_path = resources.files("sales_analytics").joinpath("dashboard", "app.py")
    env = os.environ | {"DATABASE_URL": url, "SA_MODELS_DIR": str(models_dir.resolve())}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "false" if open_browser else "true",
        "--server.port", str(port), "--server.address", host,
        "--browser.gatherUsageStats", "false", "--theme.base", "light",
        "--server.enableStaticServing", "true",  # dashboard/static: the world map's outlines
    ]  # fmt: skip
    console.print(f"dashboard on [bold]http://{host}:{port}[/] ({url}); Ctrl+C stops it")
    proc = subprocess.Popen(cmd, env=env)
    previous = signal.signal(signal.SIGTERM, lambda *_: proc.terminate())  # stop streamlit with us
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        code = proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(code)


@app.command()
@friendly
def report(
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("out/report.html"),
    database_url: DbUrl = None,
    start: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD); default: 12 months back")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD); default: the last order")] = None,
    country: Annotated[list[str] | None, typer.Option(help="Only these countries (repeatable)")] = None,
    segment: Annotated[list[str] | None, typer.Option(help="Only these RFM segments (repeatable)")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print a PDF with chromium")] = False,
    models_dir: Annotated[
        Path, typer.Option("--models-dir", help="Folder of the models saved by `train`")
    ] = Path("data/models"),
) -> None:
    """Write the executive report: a self-contained HTML file (KPIs, charts, insights)."""
    from sales_analytics.metrics import Filters
    from sales_analytics.reports.executive import ReportError, default_filters, write_report

    with open_db(database_url) as db:
        _require_schema(db)
        try:
            filters = default_filters(db)
            if start or end or country or segment:
                filters = Filters(
                    start=start or (None if end else filters.start),
                    end=end or filters.end,
                    countries=tuple(country or ()),
                    segments=tuple(segment or ()),
                )
            result = write_report(db, out, filters, pdf=pdf, models_dir=models_dir)
        except ReportError as exc:
            fail(str(exc))
    console.print(f"report written to [bold]{result.html}[/]")
    if result.pdf:
        console.print(f"PDF written to [bold]{result.pdf}[/]")
    elif pdf:
        err_console.print(f"[yellow]PDF skipped:[/] {result.pdf_message}", highlight=False)


# -------------------------------------------------------------------------------- API
@app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    database_url: DbUrl = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="SA_API_KEY",
            help="Key clients must send in the X-API-Key header",
            show_default=False,
        ),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Serve /v1 without any key (trusted networks only)")
    ] = False,
    models_dir: Annotated[
        Path | None,
        typer.Option(
            "--models-dir", envvar="SA_MODELS_DIR", help="Folder of saved models [default: data/models]"
        ),
    ] = None,
) -> None:
    """Serve the REST API (FastAPI + uvicorn); OpenAPI docs at /docs. Needs --api-key or --no-auth."""
    import uvicorn

    from sales_analytics.api import create_app

    if no_auth and api_key:
        fail("give either --api-key (or SA_API_KEY) or --no-auth, not both")
    if not no_auth and not api_key:
        fail(
            "no API key: pass --api-key or set SA_API_KEY "
            "(or --no-auth to serve without one, on a trusted network only)"
        )
    with open_db(database_url) as db:  # fail fast on a bad URL or a missing schema
        _require_schema(db)
        url = db.url
    api = create_app(url, api_key, models_dir=models_dir, require_auth=not no_auth)
    auth = "WITHOUT authentication" if no_auth else "API key required in the X-API-Key header"
    console.print(f"serving on http://{host}:{port} ({auth}); docs at http://{host}:{port}/docs")
    uvicorn.run(api, host=host, port=port, log_level="info")


if __name__ == "__main__":  # pragma: no cover
    app()
