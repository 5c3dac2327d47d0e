"""Display columns of the frames the dashboard shows that are not catalogue metrics.

Catalogue metrics carry their own declarations (``metrics.get(name).columns``); the frames here
come from insights (anomalous days) and the saved models (forecast, backtest, customer risk).
They are declared with the catalogue's :class:`~sales_analytics.metrics.Column` (label, unit) so
that :func:`sales_analytics.present.format.frame` formats them like every metric table.
"""

from __future__ import annotations

from sales_analytics.metrics import COLUMNS, Column


def _c(name: str, dtype: str, unit: str, label: str, description: str = "", **kw) -> Column:
    return Column(name, dtype, unit, label, description, **kw)  # type: ignore[arg-type]


#: ``insights.revenue_anomalies``
ANOMALIES = (
    COLUMNS["period"].but(label="Day"),
    COLUMNS["revenue"],
    _c("expected_revenue", "float64", "currency", "Expected revenue",
       "Median of the same weekday in the 3 weeks before and after"),
    _c("z_revenue", "float64", "number", "Revenue z-score", technical=True),
    COLUMNS["orders"],
    _c("expected_orders", "float64", "count", "Usual orders"),
    _c("z_orders", "float64", "number", "Orders z-score", technical=True),
    _c("z", "float64", "number", "z-score", "The larger of the two in absolute value",
       technical=True),
    _c("direction", "string", "text", "Unusually", "high or low"),
    _c("is_anomaly", "boolean", "text", "Anomaly", technical=True),
)  # fmt: skip

#: ``RevenueForecaster.predict()``
FORECAST = (
    _c("ds", "date", "date", "Day"),
    _c("yhat", "float64", "currency", "Forecast", "Predicted net revenue of the day"),
    _c("lo_80", "float64", "currency", "80% low"),
    _c("hi_80", "float64", "currency", "80% high"),
    _c("lo_95", "float64", "currency", "95% low"),
    _c("hi_95", "float64", "currency", "95% high"),
    _c("model", "string", "text", "Model"),
)

#: ``RevenueForecaster.evaluate().table``
BACKTEST = (
    _c("model", "string", "text", "Model"),
    _c("mae", "float64", "currency", "MAE", "Mean absolute error of a day's revenue"),
    _c("rmse", "float64", "currency", "RMSE", "Root mean squared error of a day's revenue"),
    _c("mape", "float64", "percent", "MAPE", "Mean absolute percentage error"),
    _c("coverage_80", "float64", "percent", "80% coverage", "Actual days inside the 80% band"),
    _c("coverage_95", "float64", "percent", "95% coverage", "Actual days inside the 95% band"),
    _c("mae_vs_naive", "float64", "ratio", "Error vs naive",
       "The model's MAE as a share of the seasonal-naive baseline's: below 100% it beats it"),
)  # fmt: skip

#: the forecaster's interval calibration (``evaluate().details["coverage"]``)
COVERAGE = (
    _c("level", "int64", "id", "Interval", technical=True),
    _c("nominal", "float64", "percent", "Nominal"),
    _c("raw", "float64", "percent", "Backtest coverage"),
    _c("factor", "float64", "number", "Widening factor", technical=True),
    _c("widened_out_of_window", "float64", "percent", "Coverage after widening",
       "Out-of-window coverage of the widened band", technical=True),
)  # fmt: skip

#: ``insights.customer_risk`` with the customer's country and segment
CUSTOMER_RISK = (
    COLUMNS["customer_id"],
    COLUMNS["country"],
    COLUMNS["segment"],
    _c("clv", "float64", "currency", "Predicted CLV", "Net revenue expected over the horizon"),
    _c("p_alive", "float64", "ratio", "Still active", "Probability the customer still buys"),
    _c("churn_probability", "float64", "ratio", "Churn probability", "In the next window"),
    _c("value_tier", "string", "text", "Value tier"),
    _c("risk_tier", "string", "text", "Churn risk"),
)

#: ``insights.risk_matrix``
RISK_MATRIX = (
    _c("value_tier", "string", "text", "Value tier"),
    _c("risk_tier", "string", "text", "Churn risk"),
    COLUMNS["customers"].but(description="Customers in the cell"),
    _c("clv", "float64", "currency", "Predicted CLV", "Sum over the cell's customers"),
    _c("clv_share", "float64", "ratio", "Share of CLV"),
)

#: ``models.reorder.reorder_advice`` (the demand model's reorder advice)
REORDER = (
    _c("product_id", "int64", "id", "Product id"),
    _c("product_name", "string", "text", "Product"),
    _c("category", "string", "text", "Category"),
    _c("stock_quantity", "int64", "count", "Units in stock"),
    _c("weekly_demand", "float64", "number", "Units per week", "Forecast, mean of the next weeks"),
    _c("lead_time_days", "float64", "days", "Lead time"),
    _c("service_level", "float64", "ratio", "Service level"),
    _c("safety_stock", "float64", "number", "Safety stock", "z(service level) x lead-time sigma"),
    _c("reorder_point", "float64", "number", "Reorder point", "Lead-time demand + safety stock"),
    _c("order_quantity", "int64", "count", "Order now", "Suggested units to order (0: none)"),
    _c("days_of_cover", "float64", "days", "Days of cover", "Units in stock / units per day"),
    _c("model", "string", "text", "Demand model", "Chosen per product by backtest"),
    _c("status", "string", "text", "Status"),
)  # fmt: skip
