"""What every command shares: consoles, one-line errors, the ``--database-url`` option, the
database, progress bars and tables.

Errors are one red line on stderr and exit code 1: the user's own mistakes (a bad URL, a missing
file, a bad value) always; anything unexpected too, with ``unexpected`` in front. The traceback is
printed only in development at ``--log-level DEBUG`` / ``LOG_LEVEL=DEBUG``, never with
``ENVIRONMENT=production``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sales_analytics.config import Settings, SettingsError, get_settings
from sales_analytics.models.store import ModelMissing, ModelUnusable
from sales_analytics.storage import StorageError, connect

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        "-d",
        help="duckdb:///path.duckdb or postgresql://user@host/db "
        "[default: DATABASE_URL, else duckdb:///data/sales.duckdb]",
        show_default=False,
    ),
]
ModelsDir = Annotated[
    Path | None,
    typer.Option(
        "--models-dir",
        help="Folder of saved models [default: SA_MODELS_DIR, else data/models]",
        show_default=False,
    ),
]

#: Exceptions that are the user's input problem (or a model to train first): one line, exit 1.
USER_ERRORS: tuple[type[BaseException], ...] = (
    StorageError,
    ModelMissing,
    ModelUnusable,
    ValueError,
    FileNotFoundError,
    OSError,
)


def settings() -> Settings:
    """The current :class:`~sales_analytics.config.Settings` (a bad variable is one line)."""
    return get_settings()


def fail(message: str, code: int = 1) -> None:
    """``error: <message>`` in red on stderr (the message is text, never markup), then exit."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def unexpected(exc: Exception) -> None:
    """A bug or an unforeseen failure: one line and exit 1; the traceback too only in
    development at DEBUG level (an unreadable setting counts as production)."""
    try:
        production = get_settings().is_production
    except SettingsError:
        production = True
    debug = not production and logging.getLogger().getEffectiveLevel() <= logging.DEBUG
    if debug:
        err_console.print(traceback.format_exc().rstrip(), highlight=False, markup=False)
    detail = _first_line(exc)
    hint = "" if production or debug else " (--log-level DEBUG shows the traceback)"
    fail(f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else "") + hint)


def friendly(fn: Callable) -> Callable:
    """Turn every exception into one line on stderr and a non-zero exit (see the module)."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except USER_ERRORS as exc:
            fail(str(exc) or type(exc).__name__)
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except Exception as exc:  # noqa: BLE001 - the CLI never ends in a traceback
            unexpected(exc)

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


def resolve_database_url(url: str | None) -> str:
    """``--database-url``, else ``DATABASE_URL``, else the embedded DuckDB file."""
    return url or settings().database_url


def resolve_models_dir(folder: Path | None) -> Path:
    """``--models-dir``, else ``SA_MODELS_DIR``, else ``data/models``."""
    return folder if folder is not None else settings().models_dir


def open_db(url: str | None, write: bool = False):
    """The database of ``--database-url`` / ``DATABASE_URL``: read-only unless ``write`` (only
    ``build``, ``load``, ``import`` and ``refresh`` write). Reading creates no file or folder."""
    return connect(resolve_database_url(url), read_only=not write)


def require_schema(db) -> None:
    if db.older_schema():
        fail(db.older_schema())
    if not db.has_schema():
        fail(f"no sales-analytics schema in {db.display_url}: run `sales-analytics build` first")


def print_counts(title: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)


def frame_table(title: str, frame) -> Table:
    """A pandas frame as a rich table (floats with three decimals)."""
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col), justify="left" if frame[col].dtype == object else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row))
    return table
