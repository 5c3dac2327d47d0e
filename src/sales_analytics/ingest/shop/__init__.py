"""Order-level imports: Shopify's CSV export, WooCommerce's REST orders, any CSV via a mapping file.

Unlike the line formats (``generic``, ``online-retail``: append-only), these follow the shop:
re-importing a newer export updates the orders that changed (status, refunds, cancellation,
amounts, items) and records every change in ``order_events``; the same file twice changes
nothing. Stages: read the source into canonical lines (:mod:`.shopify`, :mod:`.woocommerce`,
:mod:`.mapping`), check and convert them (:mod:`.orders`), compare with the database
(:mod:`.upsert`), then write the reject file and everything else in ONE transaction.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from sales_analytics.ingest.dates import DateWindow
from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.reader import read_csv_file
from sales_analytics.ingest.shop.mapping import load_mapping, read_mapped
from sales_analytics.ingest.shop.orders import Shop, build
from sales_analytics.ingest.shop.rates import read_rates
from sales_analytics.ingest.shop.shopify import read_shopify
from sales_analytics.ingest.shop.upsert import plan
from sales_analytics.ingest.shop.woocommerce import read_woocommerce
from sales_analytics.storage import Database, StorageError

log = logging.getLogger(__name__)

#: the order-level formats (``mapping`` is chosen by ``mapping=``)
ORDER_FORMATS = ("shopify", "woocommerce")


@dataclass(frozen=True)
class OrderImportResult:
    """What an order-level import did: orders inserted / updated / unchanged / rejected."""

    path: Path
    fmt: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected_orders: int
    rejected: int  # lines (records)
    refunds: int
    events: int
    reasons: dict[str, int]
    reject_path: Path
    currency: str
    timezone: str
    loaded: dict[str, int] = field(default_factory=dict)


def import_orders(
    db: Database,
    path: str | Path,
    fmt: str | None = None,
    reject_path: str | Path | None = None,
    *,
    mapping: str | Path | None = None,
    rates: str | Path | None = None,
    currency: str | None = None,
    timezone: str | None = None,
    fiscal_year_start: int | None = None,
    encoding: str = "utf-8",
    window: DateWindow | None = None,
    now: datetime | None = None,
) -> OrderImportResult:
    """Import an order-level export into ``db``: insert new orders, update changed ones.

    ``fmt`` is ``"shopify"`` or ``"woocommerce"``; with ``mapping`` (a YAML file) any CSV.
    ``rates``: a ``currency,rate`` CSV for orders not in the shop's currency (else rejected).
    ``currency``/``timezone``/``fiscal_year_start`` (month 1-12) set the shop's settings on the
    first import (a different value later is an error). ``now``: the import's clock, naive in the shop's time (refunds the
    export does not date are booked then; default: now). Raises :class:`IngestError` (one
    line, nothing written) when the file or the options cannot be used at all.
    """
    with _system_memory_pool():
        return _import_orders(db, path, fmt, reject_path, mapping=mapping, rates=rates, currency=currency,
                              timezone=timezone, fiscal_year_start=fiscal_year_start, encoding=encoding,
                              window=window, now=now)  # fmt: skip


@contextmanager
def _system_memory_pool():
    """Arrow's allocations of the import from the system allocator, which returns freed buffers
    to the OS at once: the import's many short-lived per-line arrays then do not pile up in
    mimalloc's retained pages (peak RSS of a 1M-line export 1.69 -> 1.50 GB, docs/benchmarks.md)."""
    import pyarrow as pa

    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _import_orders(
    db: Database, path, fmt, reject_path, *, mapping, rates, currency, timezone, fiscal_year_start, encoding,
    window, now,
) -> OrderImportResult:  # fmt: skip
    path = Path(path)
    if mapping is None and fmt not in ORDER_FORMATS:
        raise IngestError(f"unknown format {fmt!r}: use one of {', '.join(ORDER_FORMATS)}")
    spec = load_mapping(mapping) if mapping is not None else None
    rate_table = read_rates(rates)
    if not db.has_schema():
        db.create_schema()
    if stale := db.older_schema():
        raise IngestError(stale)
    shop, settings_row = _shop(db, currency, timezone, fiscal_year_start)
    raw = None
    target = _reject_target(path, reject_path)
    clock = now or datetime.now(ZoneInfo(shop.timezone)).replace(tzinfo=None)
    window = window or _window(shop, clock)
    rows, skipped, fps = None, 0, None
    if fmt == "woocommerce" and spec is None:
        src = read_woocommerce(path)
    else:
        raw = read_csv_file(path, encoding, keep=_used_columns(spec))
        rows = len(raw.frame)
        if spec is None:  # Shopify: orders whose lines are as last imported are left alone
            raw, skipped, fps = _skip_unchanged(db, raw, shop, rate_table, window, clock, encoding)
        src = read_mapped(raw, spec) if spec is not None else read_shopify(raw)
    batch = build(src, Shop(shop.currency, shop.timezone, rate_table), window)
    todo = plan(batch, db, clock, fps)

    from sales_analytics import metrics
    from sales_analytics.ingest.stages.write import write_rejects

    write_rejects(target, src.raw, batch.rejects)
    fmt_name, reasons = src.rules.format_name, dict(batch.rejects.most_common())
    rows = src.n if rows is None else rows
    rejected, rejected_orders = batch.rejects.rejected, batch.rejected_orders
    del raw, src, batch  # the file's columns are not needed for the write: free them first
    frames = {name: t for name, t in todo.frames.items() if t.num_rows}
    if settings_row is not None:
        frames["shop_settings"] = settings_row
    loaded: dict[str, int] = {}
    if frames and (todo.inserted or todo.updated or settings_row is not None):
        delete = None
        if len(todo.replaced):
            import pyarrow as pa

            keys = pa.array(todo.replaced, pa.int64())
            delete = {t: ("order_id", keys) for t in ("order_items", "refunds", "orders")}
        try:
            loaded = metrics.load(db, frames, delete=delete)
        except StorageError as exc:
            raise IngestError(str(exc)) from exc
    result = OrderImportResult(
        path=path,
        fmt=fmt_name,
        rows=rows,
        inserted=todo.inserted,
        updated=todo.updated,
        unchanged=todo.unchanged + skipped,
        rejected_orders=rejected_orders,
        rejected=rejected,
        refunds=todo.refunds,
        events=todo.events,
        reasons=reasons,
        reject_path=target,
        currency=shop.currency,
        timezone=shop.timezone,
        loaded=loaded,
    )
    log.info("imported %s: %s", path, result)
    return result


def _shop(db: Database, currency: str | None, timezone: str | None, fiscal_year_start: int | None = None):
    """The shop's settings (the database's row, else the options / configured defaults) and the
    row to write when the database has none yet."""
    from sales_analytics.storage import ShopSettings

    if currency is not None:
        currency = currency.strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise IngestError(f"--currency {currency!r}: use a 3-letter ISO 4217 code such as EUR")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise IngestError(f"--timezone {timezone!r}: use an IANA name such as Europe/Berlin") from None
    if fiscal_year_start is not None and fiscal_year_start not in range(1, 13):
        raise IngestError(f"--fiscal-year-start {fiscal_year_start!r}: use a month 1-12 (4 = April)")
    have = db.shop_settings()
    if have.stored:
        for option, given, stored in (
            ("currency", currency, have.currency),
            ("timezone", timezone, have.timezone),
            ("fiscal-year-start", fiscal_year_start, have.fiscal_year_start_month),
        ):
            if given is not None and given != stored:
                raise IngestError(
                    f"--{option} {given} conflicts with the shop's {option.replace('-', ' ')} {stored} "
                    "(set when the database was built or first imported into)"
                )
        return have, None
    have = ShopSettings(
        currency or have.currency,
        timezone or have.timezone,
        fiscal_year_start or have.fiscal_year_start_month,
    )
    return have, have.table()


def _skip_unchanged(db: Database, raw, shop, rates, window: DateWindow, clock: datetime, encoding: str):
    """``raw`` without the lines of the orders stored with the same fingerprint (see
    :mod:`.fingerprint`), how many orders those are, and every order's fingerprint."""
    from sales_analytics.ingest.shop.fingerprint import (
        context_hash,
        fingerprints,
        unchanged_orders,
        without,
    )
    from sales_analytics.ingest.shop.shopify import COLUMNS, PREFERENCE, resolve_header

    found = resolve_header(raw.header, COLUMNS, "shopify", PREFERENCE)
    context = context_hash(
        format="shopify", columns=sorted(found.items()), header=list(raw.frame.columns),
        currency=shop.currency, timezone=shop.timezone, rates=sorted(dict(rates).items()),
        earliest=window.earliest, ahead=window.latest - clock, encoding=encoding,
    )  # fmt: skip
    fp = fingerprints(raw, found["order_key"], context)
    same = unchanged_orders(db, fp)
    if not same.any():
        return raw, 0, fp.series()
    keep = (fp.codes < 0) | ~same[np.where(fp.codes < 0, 0, fp.codes)]
    return without(raw, keep), int(same.sum()), fp.series()


def _used_columns(spec: dict | None):
    """The header names the import reads (the rest of a wide export stays on disk)."""
    from sales_analytics.ingest.shop.shopify import COLUMNS, PREFERENCE, resolve_header

    if spec is not None:
        return lambda header: [c for c in spec["columns"].values() if c in header]
    return lambda header: resolve_header(header, COLUMNS, "shopify", PREFERENCE).values()


def _window(shop, now: datetime) -> DateWindow:
    return DateWindow.from_settings(now=now)


def _reject_target(source: Path, reject_path: str | Path | None) -> Path:
    target = Path(reject_path) if reject_path is not None else source.with_name(f"{source.stem}.rejects.csv")
    if target.resolve() == source.resolve():
        raise IngestError(f"the reject file {target} would overwrite the input")
    if target.exists() and target.is_dir():
        raise IngestError(f"the reject file {target} is a directory")
    return target


__all__ = ["ORDER_FORMATS", "OrderImportResult", "import_orders"]
