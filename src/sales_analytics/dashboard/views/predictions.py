"""Predictions: revenue forecast with 80/95% bands and backtest accuracy, CLV vs churn risk,
risk matrix (from the models saved by ``sales-analytics train``)."""

from __future__ import annotations

import streamlit as st

from sales_analytics.dashboard import columns, data, figures, ui
from sales_analytics.insights import (
    RISK_TIERS,
    VALUE_TIERS,
    predictions_headline,
    risk_matrix,
    value_at_risk,
)
from sales_analytics.present import charts


def forecast_section(fc: dict) -> None:
    st.subheader("Revenue forecast")
    why = (
        "lowest backtest MAE"
        if fc["best"] == fc["most_accurate"]
        else f"{fc['most_accurate']} had a lower MAE but its intervals under-covered"
    )
    st.caption(
        f"Selected model: **{fc['best']}** ({why}; rolling origin, {fc['cv_windows']} windows "
        f"of {fc['cv_horizon']} days). The forecast is for the whole shop: country and segment "
        f"filters do not apply."
    )
    history = data.revenue_history()
    ui.chart(
        figures.figure(charts.forecast_fig, history, fc["forecast"]), fc["forecast"], "revenue forecast",
        columns.FORECAST,
    )
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Backtest accuracy** (rolling origin, vs the seasonal-naive baseline)")
        ui.table(fc["table"], "forecast backtest", columns.BACKTEST)
    with right:
        st.markdown("**Interval coverage** (share of actual days inside the band)")
        ui.table(fc["coverage"], "forecast coverage", columns.COVERAGE)
        ui.chart(
            figures.figure(charts.accuracy_fig, fc["table"]), fc["table"], "backtest error", columns.BACKTEST
        )


def customer_section(risk, at_risk: list) -> None:
    st.subheader("Customer value and churn risk")
    if risk.empty:
        st.info("No scored customers for the selected countries and segments.")
        return
    matrix = risk_matrix(risk)
    left, right = st.columns(2)
    with left:
        ui.chart(figures.figure(charts.risk_matrix_fig, matrix), matrix, "risk matrix", columns.RISK_MATRIX)
    with right:
        top = charts.most_at_risk(risk)
        ui.chart(figures.figure(charts.clv_churn_fig, top, total=len(risk)), top, "customer value vs churn risk",
                 columns.CUSTOMER_RISK)  # fmt: skip
    ui.findings(at_risk)  # value_at_risk(risk), computed once for the headline and here

    st.subheader("Drill down: customers of a risk-matrix cell")
    c1, c2 = st.columns(2)
    value = c1.selectbox("Customer value", VALUE_TIERS, key="pred_value")
    tier = c2.selectbox("Churn risk", RISK_TIERS[::-1], key="pred_risk")
    cell = risk[(risk["value_tier"] == value) & (risk["risk_tier"] == tier)]
    cell = cell.sort_values("clv", ascending=False)
    who = charts.count(len(cell), "customer")
    st.caption(f"{who} with {value} value and {tier} churn risk, highest predicted value first")
    ui.table(
        cell, f"customers {value} value {tier} risk", columns.CUSTOMER_RISK, height=320
    )


def actions_section(lists: dict) -> None:
    """Who to contact, why and when; a CSV for Klaviyo or Mailchimp per list."""
    from sales_analytics.models.actions import LISTS, to_csv
    from sales_analytics.present import format as fmt

    st.subheader("Action lists")
    st.caption(
        "Customers to contact now, highest 12-month value at stake first (the value if they stay "
        "or come back). The whole shop: filters do not apply. The CSV has the column headers "
        "Klaviyo and Mailchimp audience imports accept."
    )
    name = st.radio("List", LISTS, horizontal=True, key="pred_action_list")
    frame = lists[name]
    st.caption(
        f"{charts.count(len(frame), 'customer')}; value at stake "
        f"{fmt.money(frame['value_at_stake'].sum(), decimals=0)}"
    )
    shown = frame[["first_name", "last_name", "email", "country", "last_product",
                   "value_at_stake", "reason", "suggested_timing"]]  # fmt: skip
    st.dataframe(
        shown.head(ui.SHOWN_ROWS),
        hide_index=True,
        height=320,
        column_config={
            "value_at_stake": st.column_config.NumberColumn(
                f"Value at stake ({fmt.currency()})", format="%.0f"
            ),
        },
    )
    if len(shown) > ui.SHOWN_ROWS:
        st.caption(ui.truncated(len(shown), "the CSV has"))
    st.download_button(
        f"Download {name}.csv (Klaviyo / Mailchimp)",
        lambda: to_csv(frame),
        on_click="ignore",
        file_name=f"{name}.csv",
        mime="text/csv",
        key="pred_action_csv",
    )


def _used(fn):
    """A saved model's output; one that cannot be used is a warning (and None), not a crash."""
    try:
        return fn()
    except data.ModelUnavailable as exc:
        st.warning(str(exc))
        return None


def body() -> None:
    f = ui.current_filters()
    ui.header("Predictions", f)
    saved = data.saved_models()
    folder = data.models_dir()
    if not saved:
        st.info(
            f"No trained models in `{folder}`. Run `sales-analytics train` to fit the forecast, "
            "CLV and churn models, then reload this page."
        )
        return
    missing = [m for m in data.MODEL_NAMES if m not in saved]
    if missing:
        st.info(f"Not trained yet: {', '.join(missing)}. Run `sales-analytics train` to add them.")
    fc = _used(data.forecast) if "forecast" in saved else None
    risk = _used(lambda: data.customer_risk(f)) if {"clv", "churn"} <= set(saved) else None
    at_risk = value_at_risk(risk) if risk is not None and not risk.empty else []
    ui.headline(predictions_headline(fc["outlook"] if fc else None, at_risk))
    if fc is not None:
        forecast_section(fc)
    if risk is not None:
        customer_section(risk, at_risk)
    if "clv" in saved:
        try:
            actions_section(data.action_lists())
        except data.ModelUnavailable as exc:
            if risk is not None or "churn" not in saved:  # else already shown for the scores
                st.warning(str(exc))
    st.caption(f"Models read from `{folder}`: {', '.join(saved)}.")


ui.guard(body)
