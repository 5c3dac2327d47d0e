"""Products: category and brand bars, treemap, ABC classes, slow movers, pairs, drill-down."""

from __future__ import annotations

import streamlit as st

from sales_analytics.dashboard import data, ui
from sales_analytics.reports import charts


def body() -> None:
    f = ui.current_filters()
    st.title("Products")
    st.caption(ui.describe(f))
    cmp = data.kpi_comparison(f)
    ui.kpi_row(cmp, ["revenue", "units", "aov", "return_rate"])

    st.subheader("Biggest movers")
    movers = [x for x in data.findings(f) if x.kind == "mover" and x.data.get("key") == "category"]
    ui.findings(movers)

    cats = data.metric("categories", f)
    left, right = st.columns(2)
    with left:
        ui.chart(charts.category_fig(cats), cats, "revenue by category")
    with right:
        brands = data.metric("brands", f)
        ui.chart(charts.category_fig(brands, key="brand"), brands, "revenue by brand")
    products = data.metric("products", f)
    ui.chart(charts.treemap_fig(products), products, "product performance")

    left, right = st.columns(2)
    with left:
        abc = data.metric("abc", f)
        ui.chart(charts.abc_fig(abc), abc, "abc classes")
    with right:
        st.subheader("Slow movers")
        ui.table(data.metric("slow_movers", f), "slow movers")
    st.subheader("Bought together")
    ui.table(data.metric("pairs", f), "product pairs", height=280)

    st.subheader("Drill down: a category and a product")
    cat_options = list(cats.loc[cats["revenue"] > 0, "category"])
    if not cat_options:
        st.caption("No sales in the selected window.")
        return
    category = st.selectbox("Category", cat_options, key="prod_category")
    in_cat = products[products["category"] == category].sort_values("revenue", ascending=False)
    ui.table(in_cat, f"products {category}", height=300)
    sold = in_cat[in_cat["units_sold"] > 0]
    if sold.empty:
        return
    labels = dict(zip(sold["product_id"], sold["product_name"], strict=True))
    product_id = st.selectbox(
        "Product", list(labels), format_func=lambda p: f"{labels[p]} (#{p})", key="prod_product"
    )
    lines = data.product_lines(f, product_id)
    st.caption(f"{len(lines):,} order lines of {labels[product_id]}")
    ui.table(lines, f"order lines product {product_id}", height=300)


ui.guard(body)
