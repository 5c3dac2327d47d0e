"""CSV export -> validated, idempotent load of customers, products, orders and order_items.

The pipeline (all steps vectorised over the whole file; each stage is a function from one frozen
dataclass to the next, see :mod:`.stages`):

1. read      every record as strings, with the physical line it starts on (:mod:`.reader`)
2. parse     typed values per line: ids, date, quantity, price, status, ... (:mod:`.stages.parse`)
3. validate  each line on its own (order dates within a plausible window, :mod:`.dates`); exact
             duplicate lines; (order, product) keys used twice
4. entities  a customer's / product's attributes must agree within the file and with the database
5. orders    an order's lines must agree (customer, date, status, payment); an order with any
             rejected line is rejected whole; an order already in the database must be identical
6. write     the reject file, then the surviving rows that are new in ONE transaction
             (``Database.load``)

What differs between export formats is the format's own module (:mod:`.formats`); the stages ask
it. Rejected lines go to a CSV with their line number and reason; the database is never updated,
only appended to. See ``docs/import.md`` for the rules and the reasons behind them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sales_analytics.ingest.dates import DateWindow
from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.formats import Layout, get_format
from sales_analytics.ingest.frozen import frozen_dict
from sales_analytics.ingest.reader import read_csv_file
from sales_analytics.ingest.schema import PLACEHOLDER_EMAIL, PLACEHOLDERS
from sales_analytics.ingest.stages import (
    check_orders,
    new_rows,
    parse,
    resolve_entities,
    validate,
    write,
)
from sales_analytics.storage import Database

__all__ = ["PLACEHOLDERS", "PLACEHOLDER_EMAIL", "ImportResult", "import_csv"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    """What an import did.

    ``loaded``   new rows written per table (all in one transaction)
    ``skipped``  rows already in the database and identical to the file, left untouched
    ``rejected`` lines written to the reject file (``reasons`` counts them per reason; a line
                 with several reasons counts under each)
    """

    path: Path
    fmt: str
    rows: int
    loaded: dict[str, int]
    skipped: dict[str, int]
    rejected: int
    rejected_orders: int
    reasons: dict[str, int]
    reject_path: Path
    ignored_columns: tuple[str, ...] = field(default=())

    @property
    def accepted(self) -> int:
        """Lines that are in the database after the import (new or already there)."""
        return self.rows - self.rejected


def import_csv(
    db: Database,
    path: str | Path,
    fmt: str,
    reject_path: str | Path | None = None,
    *,
    encoding: str = "utf-8",
    window: DateWindow | None = None,
) -> ImportResult:
    """Import a CSV export into ``db``: validate, reject bad lines with reasons, load the rest.

    Parameters
    ----------
    db
        An open :class:`~sales_analytics.storage.Database`; the schema is created if missing.
    path
        The CSV file (comma-separated, header on line 1).
    fmt
        ``"generic"`` or ``"online-retail"`` (see :data:`~sales_analytics.ingest.FORMATS`).
    reject_path
        Where to write rejected lines (``line``, ``reason`` and the original columns). Default:
        ``<file stem>.rejects.csv`` next to the input. Always written, header only when nothing
        was rejected, so it never describes an older run.
    encoding
        Text encoding of the file (default UTF-8, a byte-order mark is fine).
    window
        Plausible order dates; default ``SA_MIN_ORDER_DATE`` .. now + ``SA_MAX_FUTURE_DAYS``
        days (:meth:`~sales_analytics.ingest.dates.DateWindow.from_settings`). A line dated
        outside is rejected as ``implausible order_date``.

    Returns
    -------
    ImportResult
        Loaded/skipped rows per table and the reject count. Importing the same file again loads
        nothing and rejects the same lines.

    Raises
    ------
    IngestError
        The file cannot be imported at all (missing, empty, not a CSV, required columns missing,
        unknown format) or the load failed; nothing was written to the database.
    """
    spec = get_format(fmt)
    raw = read_csv_file(path, encoding)
    columns = spec.resolve(raw.header)
    target = _reject_target(raw.path, reject_path)
    if not db.has_schema():
        db.create_schema()

    lines = parse(raw, Layout(spec, frozen_dict(columns)))
    validated = validate(lines, window or DateWindow.from_settings())
    entities = resolve_entities(validated, db)
    orders = check_orders(entities, db)
    rows = new_rows(orders)
    loaded = write(rows, db, target)

    mapped = set(columns.values())
    result = ImportResult(
        path=raw.path,
        fmt=spec.name,
        rows=lines.n,
        loaded=loaded,
        skipped=dict(rows.skipped),
        rejected=rows.rejects.rejected,
        rejected_orders=rows.rejected_orders,
        reasons=dict(rows.rejects.most_common()),
        reject_path=target,
        ignored_columns=tuple(h for h in raw.header if h not in mapped),
    )
    log.info("imported %s: %s", raw.path, result)
    return result


def _reject_target(source: Path, reject_path: str | Path | None) -> Path:
    target = (
        Path(reject_path)
        if reject_path is not None
        else source.with_name(f"{source.stem}.rejects.csv")
    )
    if target.resolve() == source.resolve():
        raise IngestError(f"the reject file {target} would overwrite the input")
    if target.exists() and target.is_dir():
        raise IngestError(f"the reject file {target} is a directory")
    return target
