"""Serving commands: ``dashboard`` (Streamlit), ``report`` (HTML/PDF) and ``serve`` (the API)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sales_analytics.cli.common import (
    DbUrl,
    ModelsDir,
    console,
    err_console,
    fail,
    friendly,
    open_db,
    require_schema,
    resolve_database_url,
    resolve_models_dir,
    settings,
)


@friendly
def dashboard(
    database_url: DbUrl = None,
    port: Annotated[int, typer.Option(help="Port of the dashboard")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "localhost",
    models_dir: ModelsDir = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open a browser tab")
    ] = False,
) -> None:
    """Open the Streamlit dashboard (Revenue, Customers, Products, Geography, Predictions)."""
    import os
    import signal
    import subprocess
    from importlib import resources

    url = resolve_database_url(database_url)
    with open_db(url) as db:
        require_schema(db)
    app_path = resources.files("sales_analytics").joinpath("dashboard", "app.py")
    folder = resolve_models_dir(models_dir)
    # the child gets our environment plus the two settings it must share with us
    env = os.environ | {"DATABASE_URL": url, "SA_MODELS_DIR": str(folder.resolve())}
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


@friendly
def report(
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("out/report.html"),
    database_url: DbUrl = None,
    start: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD); default: 12 months back")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last day (YYYY-MM-DD); default: the last order")
    ] = None,
    country: Annotated[
        list[str] | None, typer.Option(help="Only these countries (repeatable)")
    ] = None,
    segment: Annotated[
        list[str] | None, typer.Option(help="Only these RFM segments (repeatable)")
    ] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print a PDF with chromium")] = False,
    models_dir: ModelsDir = None,
) -> None:
    """Write the executive report: a self-contained HTML file (KPIs, charts, insights)."""
    from sales_analytics.metrics import Filters
    from sales_analytics.reports.executive import ReportError, default_filters, write_report

    with open_db(database_url) as db:
        require_schema(db)
        try:
            filters = default_filters(db)
            if start or end or country or segment:
                filters = Filters(
                    start=start or (None if end else filters.start),
                    end=end or filters.end,
                    countries=tuple(country or ()),
                    segments=tuple(segment or ()),
                )
            result = write_report(
                db, out, filters, pdf=pdf, models_dir=resolve_models_dir(models_dir)
            )
        except ReportError as exc:
            fail(str(exc))
    console.print(f"report written to [bold]{result.html}[/]")
    if result.pdf:
        console.print(f"PDF written to [bold]{result.pdf}[/]")
    elif pdf:
        err_console.print(f"[yellow]PDF skipped:[/] {result.pdf_message}", highlight=False)


@friendly
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    database_url: DbUrl = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            help="Key clients must send in the X-API-Key header [default: SA_API_KEY]",
            show_default=False,
        ),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Serve /v1 without any key (trusted networks only)")
    ] = False,
    models_dir: ModelsDir = None,
) -> None:
    """Serve the REST API (FastAPI + uvicorn); OpenAPI docs at /docs. Needs --api-key or --no-auth.

    With ENVIRONMENT=production, --no-auth is refused unless --host is loopback.
    """
    import uvicorn

    from sales_analytics.api import create_app

    current = settings()
    api_key = api_key or current.api_key_value
    if no_auth and api_key:
        fail("give either --api-key (or SA_API_KEY) or --no-auth, not both")
    if not no_auth and not api_key:
        fail(
            "no API key: pass --api-key or set SA_API_KEY "
            "(or --no-auth to serve without one, on a trusted network only)"
        )
    with open_db(database_url) as db:  # fail fast on a bad URL or a missing schema
        require_schema(db)
        url = db.url
    folder = resolve_models_dir(models_dir)
    api = create_app(url, api_key, models_dir=folder, require_auth=not no_auth, host=host)
    auth = "WITHOUT authentication" if no_auth else "API key required in the X-API-Key header"
    console.print(f"serving on http://{host}:{port} ({auth}); docs at http://{host}:{port}/docs")
    # production: uvicorn's records go through our JSON handler (configure_logging) as well
    log_config = {} if not current.is_production else {"log_config": None}
    uvicorn.run(api, host=host, port=port, log_level="info", **log_config)
