"""The column vocabulary: every output column's dtype, unit, label and meaning, written once.

Metrics pick their columns by name with :func:`cols`; a column that means something else in one
metric is declared there with :class:`~.spec.Column` (or ``COLUMNS[name].but(...)``).
"""

from __future__ import annotations

from sales_analytics.metrics.spec import Column

_NET = "completed orders (net of cancellations and returns)"


def _c(name, dtype, unit, label, description="", better=None, **kw) -> Column:
    return Column(name, dtype, unit, label, description, better, **kw)


COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        # ------------------------------------------------------------------ time
        _c("period", "date", "date", "Period",
           "First day of the day, week (Monday), month, quarter or year"),
        _c("day", "date", "date", "Day", "Calendar day of the order"),
        _c("first_order_at", "timestamp", "timestamp", "First order", "First completed order"),
        _c("last_order_at", "timestamp", "timestamp", "Last order", "Last completed order"),
        _c("created_at", "timestamp", "timestamp", "Signed up", "When the customer registered"),
        _c("as_of", "date", "date", "As of", "Reference day for recency and windows"),
        # ------------------------------------------------------------------ sales
        _c("revenue", "float64", "currency", "Net revenue", "Total of the orders not cancelled "
           "less the value refunded, on the order date", True),
        _c("gross_revenue", "float64", "currency", "Gross revenue",
           "Total of orders that were not cancelled (completed and returned)", True),
        _c("returned_revenue", "float64", "currency", "Returned revenue",
           "Value refunded on the orders not cancelled (returned orders in full)", False),
        _c("orders", "int64", "count", "Orders", f"Number of {_NET}", True),
        _c("gross_orders", "int64", "count", "Gross orders", "Orders that were not cancelled", True),
        _c("cancelled_orders", "int64", "count", "Cancelled orders", "Orders cancelled before "
           "payment", False),
        _c("returned_orders", "int64", "count", "Returned orders", "Orders returned and refunded",
           False),
        _c("aov", "float64", "currency", "Average order value", "Net revenue / orders", True),
        _c("units", "int64", "count", "Units sold", f"Units of {_NET}", True),
        _c("customers", "int64", "count", "Customers", "Customers with a completed order", True),
        _c("new_customers", "int64", "count", "New customers",
           "Customers whose first completed order ever falls in the period", True),
        _c("returning_customers", "int64", "count", "Returning customers",
           "Customers with a completed order who had bought before the period", True),
        _c("revenue_per_customer", "float64", "currency", "Revenue per customer",
           "Net revenue / customers", True),
        _c("cancel_rate", "float64", "ratio", "Cancel rate", "Cancelled orders / all orders",
           False),
        _c("return_rate", "float64", "ratio", "Return rate", "Returned orders / gross orders",
           False),
        _c("revenue_share", "float64", "ratio", "Share of revenue", "Share of the net revenue "
           "of all rows", True),
        _c("revenue_growth", "float64", "ratio", "Revenue growth",
           "(revenue - comparison) / comparison; empty without a comparison", True),
        _c("orders_growth", "float64", "ratio", "Orders growth",
           "(orders - comparison) / comparison; empty without a comparison", True),
        _c("revenue_index", "float64", "number", "Revenue index", "Average revenue of this "
           "weekday or month over the overall average (1 = average)", True),
        # ------------------------------------------------------------------ customers
        _c("customer_id", "int64", "id", "Customer id"),
        _c("first_name", "string", "text", "First name"),
        _c("last_name", "string", "text", "Last name"),
        _c("email", "string", "text", "Email"),
        _c("country", "string", "text", "Country", "Customer's country"),
        _c("region", "string", "text", "Region", "Customer's state or region"),
        _c("city", "string", "text", "City", "Customer's city"),
        _c("segment", "string", "text", "Segment", "RFM segment as of the window's end"),
        _c("recency_days", "int64", "days", "Days since last order",
           "Days from the last completed order to the as-of day", False),
        _c("frequency", "int64", "count", "Orders (all time)",
           "Completed orders up to the as-of day", True),
        _c("monetary", "float64", "currency", "Spent (all time)",
           "Total of completed orders up to the as-of day", True),
        _c("r_score", "int64", "number", "Recency score", "1-5, 5 = most recent", True),
        _c("f_score", "int64", "number", "Frequency score", "1-5, 5 = most orders", True),
        _c("m_score", "int64", "number", "Monetary score", "1-5, 5 = highest spend", True),
        _c("rfm_score", "int64", "id", "RFM score", "Recency, frequency and monetary scores, "
           "e.g. 545"),
        # ------------------------------------------------------------------ products
        _c("product_id", "int64", "id", "Product id"),
        _c("product_name", "string", "text", "Product"),
        _c("category", "string", "text", "Category"),
        _c("brand", "string", "text", "Brand"),
        _c("unit_price", "float64", "currency", "Price", "Current list price"),
        _c("unit_cost", "float64", "currency", "Unit cost", "Current cost per unit"),
        _c("stock_quantity", "int64", "count", "Units in stock"),
        _c("stock_value", "float64", "currency", "Stock value", "Units in stock at cost"),
        _c("units_sold", "int64", "count", "Units sold", f"Units of {_NET}", True),
        _c("units_returned", "int64", "count", "Units returned", "Units of returned orders",
           False),
        _c("order_count", "int64", "count", "Orders", f"Number of {_NET}", True),
        _c("cost", "float64", "currency", "Cost", "Units sold at the current unit cost", False),
        _c("profit", "float64", "currency", "Profit", "Net revenue - cost", True),
        _c("margin_pct", "float64", "percent", "Margin", "Profit / net revenue, in percent", True),
        _c("last_sold_at", "timestamp", "timestamp", "Last sold", "Last completed order with "
           "the product"),
        _c("days_since_last_sale", "int64", "days", "Days since last sale", "", False),
        _c("units_window", "int64", "count", "Units sold (window)",
           "Completed units in the demand window before the as-of day", True),
        _c("daily_demand", "float64", "number", "Units per day", "Average daily units in the "
           "demand window"),
    )
}


def cols(*names: str) -> tuple[Column, ...]:
    """The shared columns ``names`` from :data:`COLUMNS`, in that order."""
    return tuple(COLUMNS[n] for n in names)
