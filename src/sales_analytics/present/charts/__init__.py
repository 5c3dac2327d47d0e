"""Plotly figures from metric and model frames, shared by the dashboard and the reports.

Each ``*_fig`` function takes the frame a catalogue metric (or a model) returns and gives a
``plotly.graph_objects.Figure``; nothing here queries a database or imports streamlit. Axis
titles, legends and hover texts of metric columns are the catalogue's labels, and their number
formats come from the columns' units through :func:`sales_analytics.present.format.d3_format`
(currency symbol, percent, thousands separators). Colours mean the same on every page:
:data:`~sales_analytics.present.charts.base.GROWTH_SCALE` (red = falling, green = growing) for
every change, one sequential scale for amounts.
"""

from __future__ import annotations

from sales_analytics.present.charts.base import (
    HEIGHT,
    PALETTE,
    TEMPLATE,
    axis,
    count,
    empty_fig,
    hover,
    labels,
    layout,
    tip,
    untemplated,
)
from sales_analytics.present.charts.customers import cohort_fig, new_returning_fig, segment_fig
from sales_analytics.present.charts.geography import ISO3, country_bars_fig, country_map_fig
from sales_analytics.present.charts.predictions import (
    SCATTER_POINTS,
    accuracy_fig,
    clv_churn_fig,
    forecast_fig,
    most_at_risk,
    risk_matrix_fig,
)
from sales_analytics.present.charts.products import abc_fig, category_fig, treemap_fig
from sales_analytics.present.charts.sales import (
    PERIOD_HOVER,
    orders_aov_fig,
    revenue_fig,
    weekday_fig,
)

#: The grains the time charts draw (with partial periods marked).
PERIOD_GRAINS: tuple[str, ...] = tuple(PERIOD_HOVER)

__all__ = [
    "HEIGHT", "ISO3", "PALETTE", "PERIOD_GRAINS", "PERIOD_HOVER", "SCATTER_POINTS", "TEMPLATE", "abc_fig", "accuracy_fig", "axis", "category_fig", "count",
    "clv_churn_fig", "cohort_fig", "country_bars_fig", "country_map_fig", "empty_fig",
    "forecast_fig", "hover", "labels", "layout", "most_at_risk", "new_returning_fig", "orders_aov_fig",
    "revenue_fig", "risk_matrix_fig", "segment_fig", "tip", "treemap_fig", "untemplated",
    "weekday_fig",
]  # fmt: skip
