"""Metric explorer: every public metric of the catalogue, its params, its table and export.

Nothing here names a metric: the list, the param widgets and the table's labels and units all come
from the catalogue, so a metric added to it (``metrics.register``) appears with no other edit.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from sales_analytics import metrics
from sales_analytics.dashboard import data, ui
from sales_analytics.metrics import Metric, Param
from sales_analytics.present import format as fmt

MISSING = object()  # a required param without a value yet


def catalogue_table(listed: list[Metric]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Metric": [m.label for m in listed],
            "Name": [m.name for m in listed],
            "Area": [m.domain for m in listed],
            "Grain": [m.grain for m in listed],
            "Description": [m.description for m in listed],
        }
    )


def param_input(m: Metric, p: Param) -> Any:
    """A widget for param ``p``: a selectbox for choices, a number input for numbers."""
    key = f"mx_{m.name}_{p.name}"
    label = p.name.replace("_", " ").capitalize()
    if p.choices is not None:
        options = list(p.choices)
        index = options.index(p.default) if p.default in options else 0
        return st.selectbox(label, options, index=index, key=key, help=p.description)
    if p.type in (int, float):
        number = p.type
        value = st.number_input(
            label, key=key, help=p.description,
            min_value=number(p.minimum) if p.minimum is not None else None,
            max_value=number(p.maximum) if p.maximum is not None else None,
            value=number(p.default) if p.default is not None else None,
            step=number(1) if number is int else 0.05,
            placeholder="required" if p.required else None,
        )  # fmt: skip
        return MISSING if value is None else number(value)
    value = st.text_input(label, value=p.default or "", key=key, help=p.description)
    return value or (MISSING if p.required else p.default)


def columns_table(m: Metric) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Column": [c.label for c in m.columns],
            "Name": [c.name for c in m.columns],
            "Unit": [c.unit for c in m.columns],
            "Description": [c.description for c in m.columns],
        }
    )


def result(m: Metric, f, params: dict[str, Any]) -> None:
    """The metric's table for the sidebar filters and ``params``, formatted, with its export."""
    missing = [p for p, v in params.items() if v is MISSING]
    if missing:
        st.info(f"Enter {', '.join(missing)} to compute {m.label}.")
        return
    try:
        frame = data.metric(m.name, f, **params)
    except ValueError as exc:
        st.warning(str(exc))
        return
    st.caption(f"{fmt.value(len(frame), 'count')} rows")
    slug = "_".join([m.name, *(f"{k}_{v}" for k, v in params.items())])
    ui.table(frame, slug, m.columns, height=420)


def body() -> None:
    f = ui.current_filters()
    ui.header("Metric explorer", f)
    listed = metrics.public()
    by_name = {m.name: m for m in listed}
    name = st.selectbox(
        "Metric", list(by_name), key="mx_metric",
        format_func=lambda n: f"{by_name[n].label} ({n})",
    )  # fmt: skip
    m = by_name[name]
    st.markdown(f"**{m.label}**: {m.grain}. {m.description}")
    params: dict[str, Any] = {}
    if m.params:
        for col, p in zip(st.columns(len(m.params)), m.params, strict=True):
            with col:
                params[p.name] = param_input(m, p)
    result(m, f, params)
    with st.expander("Columns"):
        st.table(columns_table(m).set_index("Column"))
    st.subheader(f"The catalogue: {fmt.value(len(listed), 'count')} metrics")
    st.table(catalogue_table(listed).set_index("Metric"))


ui.guard(body)
