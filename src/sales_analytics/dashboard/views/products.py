"""Products: category and brand bars, treemap, ABC classes, slow movers, pairs, drill-down."""

from __future__ import annotations

import streamlit as st

from sales_analytics.dashboard import columns, data, figures, ui
from sales_analytics.insights import products_headline
from sales_analytics.present import captions, charts

PAIRS = 50  # product pairs listed


def body() -> None:
    f = ui.current_filters()
    ui.header("Products", f)
    cmp = data.kpi_comparison(f)
    movers = [x for x in data.findings(f) if x.kind == "mover" and x.data.get("key") == "category"]
    slow = data.metric("slow_movers", f)
    ui.headline(products_headline(cmp, movers, len(slow)))

    cats = data.metric("category_rollup", f)
    products = data.metric("product_performance", f)
    left, right = st.columns(2)
    with left:
        ui.chart(figures.figure(charts.category_fig, cats), cats, "revenue by category", "category_rollup")
    with right:
        ui.chart(
            figures.figure(charts.treemap_fig, products), products, "product performance", "product_performance"
        )
    ui.kpi_row(cmp, ["revenue", "units", "aov", "return_rate"])
    st.subheader("Biggest movers (most money first)")
    ui.findings(movers)

    left, right = st.columns(2)
    with left:
        brands = data.metric("brand_rollup", f)
        ui.chart(
            figures.figure(charts.category_fig, brands, key="brand"), brands, "revenue by brand", "brand_rollup"
        )
    with right:
        abc = data.metric("abc_classes", f)
        ui.chart(figures.figure(charts.abc_fig, abc), abc, "ABC classes", "abc_classes")
    st.subheader("Slow movers")
    ui.table(slow, "slow movers", "slow_movers")
    st.subheader("Bought together")
    pairs = data.metric("product_pairs", f, limit=PAIRS)
    ui.table(pairs, "product pairs", "product_pairs", height=280)

    reorder_section()

    st.subheader("Drill down: a category and a product")
    cat_options = list(cats.loc[cats["revenue"] > 0, "category"])
    if not cat_options:
        st.caption("No sales in the selected window.")
        return
    category = st.selectbox("Category", cat_options, key="prod_category")
    in_cat = products[products["category"] == category].sort_values("revenue", ascending=False)
    ui.table(in_cat, f"products {category}", "product_performance", height=300)
    sold = in_cat[in_cat["units_sold"] > 0]
    if sold.empty:
        return
    names = dict(zip(sold["product_id"], sold["product_name"], strict=True))
    product_id = st.selectbox(
        "Product", list(names), format_func=lambda p: f"{names[p]} (#{p})", key="prod_product"
    )
    product_id = int(product_id)
    lines = data.metric("product_lines", f, product_id=product_id, limit=data.DRILL_LIMIT)
    total = len(lines)
    if total >= data.DRILL_LIMIT:
        total = data.row_count("product_lines", f, product_id=product_id)
    row = sold.set_index("product_id").loc[product_id].to_dict()
    st.caption(f"{names[product_id]}: " + captions.product_lines(row, total, len(lines)))
    ui.table(lines, f"order lines product {product_id}", "product_lines", height=300)


def reorder_section() -> None:
    """Reorder advice from the saved demand model (``sales-analytics train``); whole shop."""
    st.subheader("Reorder advice (demand forecast per product)")
    try:
        advice = data.reorder_advice()
    except data.ModelUnavailable as exc:
        st.info(str(exc))
        return
    now = advice[advice["status"] == "reorder now"]
    st.caption(
        f"{len(now):,} of {len(advice):,} products at or below their reorder point (lead-time "
        "demand + safety stock from the forecast intervals); units per week forecast by the model "
        "that won each product's backtest. Whole shop: the filters do not apply."
    )
    ui.table(now if len(now) else advice, "reorder advice", columns.REORDER, height=320)


ui.guard(body)
