"""Import speed and memory: a Shopify export vs the generic format of the same rows, and a re-import.

Run: ``python -m benchmarks.bench_import [--lines 1000000] [--backend duckdb]``.

The synthetic shop is written twice, line for line the same sales: once in Shopify's admin export
layout (order-level fields on each order's first row only, ``Created at`` with a UTC offset,
Financial Status / Cancelled at / Refunded Amount) and once in the ``generic`` layout. Each import
runs in its own process (so its peak RSS is its own) into a fresh database; then the Shopify file is
imported again, unchanged (every order compared with the database, nothing written).

Targets (issue 12): the Shopify import of 1M lines <= 60 s and <= 1.5 GB peak RSS on 2 cores; the
unchanged re-import <= 1/3 of the first import. Reported as ratios against the generic import of
the same rows in the same run (the machine is shared: absolute seconds vary from run to run), with
each import's CPU seconds (the process's user + system time, which a busy machine does not
stretch as it does the wall time).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from benchmarks.common import print_table, temp_pg_database

#: order items per unit of synth scale (measured: ~2.6 per order, ~55k orders per unit)
_ITEMS_PER_SCALE = 145_000


def shop_tables(lines: int, seed: int = 7) -> dict[str, pa.Table]:
    """The synthetic shop's tables, with about ``lines`` order items."""
    from sales_analytics.synth import generate

    data = generate(scale=max(lines / _ITEMS_PER_SCALE, 0.01), seed=seed)
    return dict(data.tables)


def joined(tables: dict[str, pa.Table], lines: int) -> pa.Table:
    """One row per order item with its order, customer and product, the first ``lines``
    items (whole orders), sorted by order then item."""
    items = tables["order_items"].sort_by([("order_id", "ascending"), ("order_item_id", "ascending")])
    order_ids = items["order_id"].to_numpy()
    if len(order_ids) > lines:  # cut at an order boundary
        last = order_ids[lines - 1]
        items = items.slice(0, int(np.searchsorted(order_ids, last, side="right")))
    out = items.join(tables["orders"], "order_id", join_type="inner", right_suffix="_order")
    out = out.join(tables["customers"], "customer_id", join_type="inner", right_suffix="_cust")
    out = out.join(
        tables["products"].select(["product_id", "product_name", "brand"]), "product_id",
        join_type="inner",
    )
    return out.sort_by([("order_id", "ascending"), ("order_item_id", "ascending")])


def _money(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.cast(pc.cast(col, pa.decimal128(12, 2)), pa.string())


def _col(t: pa.Table, name: str, default: float = 0.0):
    if name in t.column_names:
        return t[name]
    return pa.array(np.full(t.num_rows, default), pa.float64())


def _seconds(col):
    """Whole seconds, as the exports write them (Arrow's ``%S`` of a microsecond timestamp would
    write ``18.000000``)."""
    return pc.cast(col, pa.timestamp("s"), safe=False)


def write_shopify(rows: pa.Table, path: Path) -> int:
    """``rows`` in Shopify's order export layout; returns the number of lines written."""
    order = rows["order_id"].to_numpy()
    first = np.ones(len(order), dtype=bool)
    first[1:] = order[1:] != order[:-1]
    firsts = pa.array(first)

    def head(values) -> pa.Array:  # order-level: on an order's first row only
        return pc.if_else(firsts, pc.cast(values, pa.string()), "")

    status = rows["status"].to_numpy(zero_copy_only=False)
    financial = np.where(status == "returned", "refunded", np.where(status == "cancelled", "voided", "paid"))
    created = pc.strftime(_seconds(rows["order_date"]), format="%Y-%m-%d %H:%M:%S +0000")
    total = _col(rows, "total_amount")
    shipping, tax = _col(rows, "shipping_amount"), _col(rows, "tax_amount")
    discount = _col(rows, "discount_amount")
    gross_total = pc.add(pc.add(pc.cast(total, pa.float64()), pc.cast(shipping, pa.float64())),
                         pc.cast(tax, pa.float64()))
    refunded = pc.if_else(pa.array(financial != "paid"), pc.round(gross_total, 2), 0.0)
    line_discount = _col(rows, "discount_amount_items", 0.0) if "discount_amount_items" in rows.column_names else pa.array(np.zeros(rows.num_rows))
    cancelled = pc.if_else(pa.array(status == "cancelled"), created, "")
    columns = {
        "Name": pc.binary_join_element_wise("#", pc.cast(rows["order_id"], pa.string()), ""),
        "Email": head(rows["email"]),
        "Financial Status": head(pa.array(financial)),
        "Paid at": head(created),
        "Fulfillment Status": head(pa.array(np.full(rows.num_rows, "fulfilled"))),
        "Currency": head(pa.array(np.full(rows.num_rows, "USD"))),
        "Subtotal": head(_money(total)),
        "Shipping": head(_money(shipping)),
        "Taxes": head(_money(tax)),
        "Total": head(_money(gross_total)),
        "Discount Code": head(pc.cast(_col(rows, "discount_code", 0), pa.string()) if "discount_code" in rows.column_names else pa.array([""] * rows.num_rows)),
        "Discount Amount": head(_money(discount)),
        "Created at": created,
        "Lineitem quantity": pc.cast(rows["quantity"], pa.string()),
        "Lineitem name": rows["product_name"],
        "Lineitem price": _money(rows["unit_price"]),
        "Lineitem sku": pc.binary_join_element_wise("SKU-", pc.cast(rows["product_id"], pa.string()), ""),
        "Lineitem discount": _money(line_discount),
        "Billing Name": head(pc.binary_join_element_wise(rows["first_name"], rows["last_name"], " ")),
        "Billing City": head(rows["city"]),
        "Billing Province": head(rows["region"]),
        "Billing Country": head(rows["country"]),
        "Cancelled at": head(cancelled),
        "Payment Method": head(rows["payment_method"]),
        "Refunded Amount": head(_money(refunded)),
        "Vendor": rows["brand"],
        "Id": head(rows["order_id"]),
        "Tags": pa.array([""] * rows.num_rows),
    }
    columns["Discount Code"] = pc.if_else(
        pc.equal(columns["Discount Code"], "None"), "", columns["Discount Code"]
    )
    pacsv.write_csv(pa.table(columns), path)
    return rows.num_rows


def write_generic(rows: pa.Table, path: Path) -> int:
    """The same items in the ``generic`` layout."""
    table = pa.table(
        {
            "order_id": rows["order_id"],
            "customer_id": rows["customer_id"],
            "order_date": pc.strftime(_seconds(rows["order_date"]), format="%Y-%m-%d %H:%M:%S"),
            "product_id": rows["product_id"],
            "quantity": rows["quantity"],
            "unit_price": _money(rows["unit_price"]),
            "status": rows["status"],
            "email": rows["email"],
            "product_name": rows["product_name"],
            "payment_method": rows["payment_method"],
        }
    )
    pacsv.write_csv(table, path)
    return rows.num_rows


_CHILD = """
import sys, time
from sales_analytics.storage import connect
url, path, fmt = sys.argv[1:4]
with connect(url) as db:
    t0 = time.perf_counter()
    if fmt == "generic":
        from sales_analytics.ingest import import_csv
        r = import_csv(db, path, "generic")
        summary = f"loaded {r.loaded.get('orders', 0)} orders, rejected {r.rejected}"
    else:
        from sales_analytics.ingest.shop import import_orders
        r = import_orders(db, path, fmt)
        summary = (f"inserted {r.inserted} updated {r.updated} unchanged {r.unchanged} "
                   f"rejected {r.rejected}")
    seconds = time.perf_counter() - t0
# the process's own peak (VmHWM: since its exec), printed last; wait4's ru_maxrss is not it:
# Linux carries the high-water mark of the mm the child was forked (or vforked) from over exec,
# so it reported the benchmark's own peak (the 1M-row table it holds) for every import
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(f"{hwm} {seconds:.3f} {summary}")
"""


def run_import(url: str, path: Path, fmt: str) -> tuple[float, float, str, float]:
    """(seconds, peak RSS in GB, summary, CPU seconds) of one import in its own process
    (the child prints its own peak RSS, VmHWM; ``wait4`` gives its CPU time: user + system,
    every thread; on PostgreSQL the server's own CPU is not in it). CPU seconds vary less than wall seconds on a
    shared machine: a busy machine stretches the wall time, not the work."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, url, str(path), fmt], stdout=out, stderr=err, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, error = out.read(), err.read()
    if proc.returncode:
        last = error.strip().splitlines()[-1] if error.strip() else "?"
        raise RuntimeError(f"{fmt} import failed: {last}")
    hwm_kb, seconds, summary = text.strip().splitlines()[-1].split(" ", 2)
    cpu = usage.ru_utime + usage.ru_stime
    return float(seconds), int(hwm_kb) / 1024 / 1024, summary, cpu


def main(argv: list[str] | None = None) -> list[list[object]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["duckdb", "postgres"], default="duckdb")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        rows = joined(shop_tables(args.lines), args.lines)
        shopify, generic = folder / "orders_export.csv", folder / "generic.csv"
        n = write_shopify(rows, shopify)
        write_generic(rows, generic)
        del rows
        prep = time.perf_counter() - t0

        def url(name: str):
            return f"duckdb:///{folder / name}.duckdb"

        results = []
        if args.backend == "duckdb":
            g = run_import(url("generic"), generic, "generic")
            s = run_import(url("shopify"), shopify, "shopify")
            r = run_import(url("shopify"), shopify, "shopify")
        else:
            with temp_pg_database() as gu, temp_pg_database() as su:
                g = run_import(gu, generic, "generic")
                s = run_import(su, shopify, "shopify")
                r = run_import(su, shopify, "shopify")
        results = [
            ["generic (baseline)", g[0], g[3], g[1], 1.0, g[2]],
            ["shopify", s[0], s[3], s[1], s[0] / g[0], s[2]],
            ["shopify re-import, unchanged", r[0], r[3], r[1], r[0] / s[0], r[2]],
        ]
    print_table(
        f"import of {n:,} lines ({args.backend}; files written in {prep:.0f} s)",
        ["import", "seconds", "CPU s", "peak RSS GB", "ratio", "result"],
        results,
    )
    return results


if __name__ == "__main__":
    main()
