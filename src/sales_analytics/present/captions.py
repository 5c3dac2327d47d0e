"""How a drill-down adds up to its KPI, in one sentence: the same words on every surface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sales_analytics.present.format import money, value


def _n(v: Any) -> int:
    return int(v or 0)


def orders(kpis: Mapping[str, Any], shown: int) -> str:
    """The orders drill-down against the KPIs of the same filters.

    ``710 orders: 637 completed (the Orders KPI), 52 cancelled and 21 returned.``
    """
    done, cancelled, returned = (
        _n(kpis.get("orders")), _n(kpis.get("cancelled_orders")), _n(kpis.get("returned_orders"))
    )  # fmt: skip
    total = done + cancelled + returned
    text = (
        f"{total:,} orders: {done:,} completed (the Orders KPI), {cancelled:,} cancelled and "
        f"{returned:,} returned."
    )
    return text + (f" The {shown:,} most recent are listed." if shown < total else "")


def segment_customers(segment: str, row: Mapping[str, Any], as_of: Any, shown: int) -> str:
    """The customers of one segment against the segment summary and the Customers KPI.

    ``312 customers are Champions as of 2025-12-31; 87 of them bought in the window (they count in
    the Customers KPI), for $12,345.00 of net revenue.``
    """
    customers, active = _n(row.get("customers")), _n(row.get("active_customers"))
    text = (
        f"{customers:,} customers are {segment} as of {value(as_of, 'date')}; {active:,} of them "
        f"bought in the window (they count in the Customers KPI), for "
        f"{money(row.get('revenue') or 0)} of net revenue."
    )
    return text + (f" The first {shown:,} are listed." if shown < customers else "")


def product_lines(product: Mapping[str, Any], lines: int, shown: int) -> str:
    """The order lines of a product against its row in product performance."""
    text = (
        f"{lines:,} order lines; the completed ones ({_n(product.get('units_sold')):,} units in "
        f"{_n(product.get('order_count')):,} orders, {money(product.get('revenue') or 0)}) are the "
        f"product's units sold and net revenue; {_n(product.get('units_returned')):,} units were "
        "returned."
    )
    return text + (f" The {shown:,} most recent are listed." if shown < lines else "")
