"""Sales, segment, product, geography and cohort metrics: thin wrappers over ``metrics``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from sales_analytics import metrics as m
from sales_analytics.api.params import (
    MAX_TEXT,
    FiltersDep,
    PagingDep,
    ServiceDep,
    WindowFiltersDep,
    check_known,
)
from sales_analytics.api.routes._common import COMMON_RESPONSES, page, sort_keys
from sales_analytics.api.schemas import (
    SEGMENT_BY_SLUG,
    AbcClass,
    AbcRow,
    Cohorts,
    Geography,
    Grain,
    GrowthKind,
    GrowthSeries,
    Kpis,
    Level,
    Page,
    ProductRow,
    ProductSort,
    RevenueSeries,
    Segment,
    SegmentMember,
    SegmentSummary,
    SortOrder,
    slugify,
)
from sales_analytics.api.service import plain, records

router = APIRouter(responses=COMMON_RESPONSES)

GrainQuery = Annotated[Grain, Query(description="day, week (Monday start) or month")]


@router.get("/kpis", response_model=Kpis, tags=["sales"], summary="Headline KPIs")
def get_kpis(svc: ServiceDep, f: FiltersDep) -> Kpis:
    """Net revenue (completed orders), gross and returned revenue, orders, AOV, units, customers
    (new / returning), cancel and return rates for the filter window."""
    return Kpis.model_validate({k: plain(v) for k, v in svc.run(lambda db: m.kpis(db, f)).items()})


@router.get("/revenue", response_model=RevenueSeries, tags=["sales"], summary="Revenue time series")
def get_revenue(svc: ServiceDep, f: FiltersDep, grain: GrainQuery = Grain.day) -> dict:
    """One row per period with at least one order, oldest first."""
    frame = svc.run(lambda db: m.revenue_timeseries(db, grain.value, f).to_pandas())
    return {"grain": grain, "items": records(frame)}


_COMPARISON = {
    (GrowthKind.yoy, "month"): "the same month one year back",
    (GrowthKind.yoy, "week"): "the same week 52 weeks back",
    (GrowthKind.yoy, "day"): "the same weekday 52 weeks (364 days) back",
    (GrowthKind.pop, "month"): "the previous month",
    (GrowthKind.pop, "week"): "the previous week",
    (GrowthKind.pop, "day"): "the previous day",
}


@router.get("/growth", response_model=GrowthSeries, tags=["sales"], summary="Growth per period")
def get_growth(
    svc: ServiceDep,
    f: FiltersDep,
    kind: Annotated[
        GrowthKind, Query(description="yoy: year over year; pop: period over period")
    ] = GrowthKind.yoy,
    grain: GrainQuery = Grain.month,
) -> dict:
    """Revenue and orders per period against a comparison period (looked up even before `start`);
    growth is null where the comparison period has no orders."""
    fn, suffix = (
        (m.yoy_growth, "last_year")
        if kind is GrowthKind.yoy
        else (m.period_over_period, "previous")
    )
    frame = svc.run(lambda db: fn(db, grain.value, f).to_pandas())
    frame = frame.rename(
        columns={f"revenue_{suffix}": "revenue_comparison", f"orders_{suffix}": "orders_comparison"}
    )
    return {
        "kind": kind,
        "grain": grain,
        "comparison": _COMPARISON[(kind, grain.value)],
        "items": records(frame),
    }


# ------------------------------------------------------------------------------------- segments
@router.get(
    "/segments", response_model=SegmentSummary, tags=["customers"], summary="RFM segment summary"
)
def get_segments(svc: ServiceDep, f: WindowFiltersDep) -> dict:
    """Customers, orders, revenue and averages per RFM named segment (rule order, `Others` last;
    empty segments absent). Dates and countries choose the customers scored."""
    frame = svc.run(lambda db: m.segment_summary(db, None, f).to_pandas())
    frame["segment_slug"] = frame["segment"].map(slugify)
    return {"items": records(frame)}


SegmentPath = Annotated[Segment, Path(description="RFM segment slug, e.g. `champions`")]


@router.get(
    "/segments/{segment}/customers",
    response_model=Page[SegmentMember],
    tags=["customers"],
    summary="Customers of one RFM segment",
)
def get_segment_customers(
    svc: ServiceDep, segment: SegmentPath, f: WindowFiltersDep, paging: PagingDep
) -> dict:
    """RFM values and scores of the segment's customers, by `customer_id`."""
    name = SEGMENT_BY_SLUG[segment.value]

    def query(db):
        scored = m.rfm_segments(db, None, m.Filters(f.start, f.end, f.countries, (name,)))
        c = db.table("customers")
        j = scored.join(
            c.select("customer_id", "first_name", "last_name", "country"), "customer_id"
        )
        return page(j.order_by("customer_id"), paging)

    result = svc.run(query)
    for row in result["items"]:
        row["segment_slug"] = segment.value
    return result


# ------------------------------------------------------------------------------------- products
@router.get(
    "/products", response_model=Page[ProductRow], tags=["products"], summary="Product performance"
)
def get_products(
    svc: ServiceDep,
    f: FiltersDep,
    paging: PagingDep,
    category: Annotated[
        str | None,
        Query(min_length=1, max_length=MAX_TEXT, description="Exact category; unknown -> 422"),
    ] = None,
    sort: Annotated[
        ProductSort, Query(description="Sort column (ties by product_id)")
    ] = ProductSort.revenue,
    order: Annotated[
        SortOrder, Query(description="asc or desc; nulls always last")
    ] = SortOrder.desc,
) -> dict:
    """Units, orders, returns, revenue, cost, profit and margin per product over the window
    (products without sales included with zeros)."""
    if category is not None:
        check_known(svc, [category], table="products", column="category", param="category")

    def query(db):
        t = m.product_performance(db, f)
        if category is not None:
            t = t.filter(t.category == category)
        return page(t.order_by(sort_keys(t, sort.value, order, "product_id")), paging)

    return svc.run(query)


@router.get("/products/abc", response_model=Page[AbcRow], tags=["products"], summary="ABC classes")
def get_abc(
    svc: ServiceDep,
    f: FiltersDep,
    paging: PagingDep,
    abc_class: Annotated[AbcClass | None, Query(description="Only this class")] = None,
) -> dict:
    """Pareto classes by net revenue: A up to 80% of revenue, B up to 95%, C the rest (and
    products without revenue); by rank."""

    def query(db):
        t = m.abc_classes(db, f)
        if abc_class is not None:
            t = t.filter(t.abc_class == abc_class.value)
        return page(t.order_by("rank"), paging)

    return svc.run(query)


# ------------------------------------------------------------------------------------- geography
@router.get("/geography", response_model=Geography, tags=["geography"], summary="Sales by area")
def get_geography(
    svc: ServiceDep,
    f: FiltersDep,
    level: Annotated[Level, Query(description="country or region")] = Level.country,
) -> dict:
    """Revenue, orders, customers, AOV and 12-month growth per country or region, by revenue."""
    frame = svc.run(lambda db: m.geography(db, level.value, f).to_pandas())
    return {"level": level, "items": records(frame)}


@router.get("/cohorts", response_model=Cohorts, tags=["customers"], summary="Monthly cohorts")
def get_cohorts(svc: ServiceDep, f: FiltersDep) -> dict:
    """Retention and revenue of monthly acquisition cohorts by months since the first order."""
    frame = svc.run(lambda db: m.cohorts(db, f).to_pandas())
    return {"items": records(frame)}
