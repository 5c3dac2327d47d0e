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

#: Streamlit options of the dashboard (the browser tests and benchmark start it with the same):
#: no Deploy button or developer menu (toolbar "viewer"); no theme.base, so the theme follows the
#: system's light/dark setting; dashboard/static served (the world map's outlines).
STREAMLIT_OPTIONS: tuple[str, ...] = (
    "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer",
    "--server.enableStaticServing", "true",
)  # fmt: skip


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
    from sales_analytics.metrics.rfm_rules import override_source

    if (rules := override_source()) is not None:  # --rfm-rules: the same segments over there
        env["SA_RFM_RULES"] = str(rules)
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "false" if open_browser else "true",
        "--server.port", str(port), "--server.address", host, *STREAMLIT_OPTIONS,
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
    dashboard_url: Annotated[
        str | None, typer.Option(help="Dashboard the report links to [default: SA_DASHBOARD_URL]")
    ] = None,
) -> None:
    """Write the executive report: a self-contained HTML file (KPIs, charts, insights).

    An unknown --country or --segment is an error naming the valid ones.
    """
    from sales_analytics.cli.analytics import filters_from
    from sales_analytics.reports.executive import ReportError, default_filters, write_report

    with open_db(database_url) as db:
        require_schema(db)
        try:
            filters = default_filters(db)
            if start or end or country or segment:
                filters = filters_from(  # unknown countries and segments named (ValueError)
                    db,
                    start or (None if end else filters.start),
                    end or filters.end,
                    country,
                    segment,
                )
            result = write_report(
                db, out, filters, pdf=pdf, models_dir=resolve_models_dir(models_dir),
                dashboard_url=dashboard_url,
            )
        except ReportError as exc:
            fail(str(exc))
    console.print(f"report written to [bold]{result.html}[/]")
    if result.pdf:
        console.print(f"PDF written to [bold]{result.pdf}[/] ({result.pages} pages)")
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
            help="Key clients must send in the X-API-Key header (shows in the process list and "
            "the shell history: prefer SA_API_KEY or --api-key-file) [default: SA_API_KEY]",
            show_default=False,
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            "--api-key-file",
            help="File holding the key, content stripped (default: SA_API_KEY_FILE)",
            show_default=False,
            metavar="FILE",
        ),
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option("--no-auth", help="Serve /v1 without any key (loopback host only)"),
    ] = False,
    ssl_certfile: Annotated[
        Path | None,
        typer.Option(
            help="TLS certificate (PEM) to serve https", show_default=False, metavar="FILE"
        ),
    ] = None,
    ssl_keyfile: Annotated[
        Path | None,
        typer.Option(
            help="TLS private key (PEM) of the certificate", show_default=False, metavar="FILE"
        ),
    ] = None,
    ssl_keyfile_password_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the password of an encrypted --ssl-keyfile",
            show_default=False,
            metavar="FILE",
        ),
    ] = None,
    models_dir: ModelsDir = None,
) -> None:
    """Serve the REST API (FastAPI + uvicorn); OpenAPI docs at /docs.

    Needs an API key of at least 32 characters (SA_API_KEY, SA_API_KEY_FILE, --api-key-file or
    --api-key), or --no-auth on a loopback host. --ssl-certfile/--ssl-keyfile serve https.
    """
    import uvicorn

    from sales_analytics.api import create_app
    from sales_analytics.api.app import (
        MAKE_A_KEY,
        check_api_key,
        check_exposure,
        configured_api_key,
        read_api_key_file,
    )

    current = settings()
    if api_key is not None and api_key_file is not None:
        fail("give either --api-key or --api-key-file, not both")
    if no_auth:
        given = api_key is not None or api_key_file is not None
        if given or current.api_key_value is not None or current.api_key_file is not None:
            fail(
                "give either an API key (--api-key, --api-key-file, SA_API_KEY or "
                "SA_API_KEY_FILE) or --no-auth, not both"
            )
        check_exposure(host, require_auth=False)  # loopback only: one line saying why
    else:
        if api_key is not None:
            err_console.print(
                "[yellow]warning:[/] --api-key shows the key in the process list and the shell "
                "history; prefer SA_API_KEY or --api-key-file",
                highlight=False,
            )
        elif api_key_file is not None:
            api_key = read_api_key_file(api_key_file)
        else:
            api_key = configured_api_key(current)  # SA_API_KEY or SA_API_KEY_FILE
        if not api_key:
            fail(
                "no API key: set SA_API_KEY or SA_API_KEY_FILE, or pass --api-key-file "
                f"(or --no-auth to serve without one, on a loopback host only); {MAKE_A_KEY}"
            )
        check_api_key(api_key)  # too short: one line with how to make a good one
    ssl = tls_options(ssl_certfile, ssl_keyfile, ssl_keyfile_password_file)

    with open_db(database_url) as db:  # fail fast on a bad URL or a missing schema
        require_schema(db)
        url = db.url
    folder = resolve_models_dir(models_dir)
    api = create_app(url, api_key, models_dir=folder, require_auth=not no_auth, host=host)
    auth = "WITHOUT authentication" if no_auth else "API key required in the X-API-Key header"
    scheme = "https" if ssl else "http"
    console.print(
        f"serving on {scheme}://{host}:{port} ({auth}); docs at {scheme}://{host}:{port}/docs"
    )
    # production: uvicorn's records go through our JSON handler (configure_logging) as well
    log_config = {} if not current.is_production else {"log_config": None}
    uvicorn.run(api, host=host, port=port, log_level="info", **log_config, **ssl)


def tls_options(
    certfile: Path | None, keyfile: Path | None, password_file: Path | None
) -> dict[str, str]:
    """uvicorn's ``ssl_*`` arguments, after checking the files exist and the key loads (every
    problem one line: ``ValueError``)."""
    import ssl

    if certfile is None:
        if keyfile or password_file:
            raise ValueError("--ssl-keyfile and --ssl-keyfile-password-file need --ssl-certfile")
        return {}
    for option, path in (
        ("--ssl-certfile", certfile),
        ("--ssl-keyfile", keyfile),
        ("--ssl-keyfile-password-file", password_file),
    ):
        if path is not None and not path.is_file():
            raise ValueError(f"{option} {path}: no such file")
    options = {"ssl_certfile": str(certfile)}
    if keyfile is not None:
        options["ssl_keyfile"] = str(keyfile)
    password = None
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ValueError(
                f"cannot read --ssl-keyfile-password-file {password_file}: {reason}"
            ) from None
        options["ssl_keyfile_password"] = password
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None, password)
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise ValueError(f"cannot load the TLS certificate {certfile}: {reason}") from None
    return options
