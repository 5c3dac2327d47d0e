"""Customers: the paginated customer summary and one customer with their RFM segment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from sales_analytics import metrics as m
from sales_analytics.api.params import (
    MAX_ID,
    End,
    FiltersDep,
    PagingDep,
    ServiceDep,
    Start,
    check_dates,
)
from sales_analytics.api.routes._common import COMMON_RESPONSES, NOT_FOUND, page, sort_keys
from sales_analytics.api.schemas import (
    CustomerDetail,
    CustomerSort,
    CustomerSummary,
    Page,
    SortOrder,
    slugify,
)
from sales_analytics.api.service import records

router = APIRouter(responses=COMMON_RESPONSES, tags=["customers"])

CustomerId = Annotated[int, Path(ge=1, le=MAX_ID, description="customer_id")]


@router.get("/customers", response_model=Page[CustomerSummary], summary="Customer summary")
def get_customers(
    svc: ServiceDep,
    f: FiltersDep,
    paging: PagingDep,
    sort: Annotated[
        CustomerSort, Query(description="Sort column (ties by customer_id)")
    ] = CustomerSort.customer_id,
    order: Annotated[
        SortOrder, Query(description="asc or desc; nulls always last")
    ] = SortOrder.asc,
) -> dict:
    """One row per customer in the filtered countries/segments with their completed orders,
    cancellations, returns and spend in the date window (customers without orders included)."""

    def query(db):
        t = m.customer_summary(db, f)
        return page(t.order_by(sort_keys(t, sort.value, order, "customer_id")), paging)

    return svc.run(query)


def customer_row(svc, customer_id: int, filters: m.Filters) -> dict:
    """The customer's summary row and RFM, or a 404."""

    def query(db):
        t = m.customer_summary(db, filters)
        row = t.filter(t.customer_id == customer_id).to_pandas()
        if row.empty:
            return None, None
        r = m.rfm_segments(db)
        return row, r.filter(r.customer_id == customer_id).to_pandas()

    row, rfm = svc.run(query)
    if row is None:
        raise HTTPException(404, f"no customer with customer_id {customer_id}")
    out = records(row)[0]
    if rfm is not None and not rfm.empty:
        scored = records(rfm)[0]
        scored.pop("customer_id", None)
        scored["segment_slug"] = slugify(scored["segment"])
        out["rfm"] = scored
    else:
        out["rfm"] = None
    return out


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerDetail,
    responses=NOT_FOUND,
    summary="One customer",
)
def get_customer(svc: ServiceDep, customer_id: CustomerId, start: Start = None, end: End = None):
    """The customer's summary over the date window and their RFM segment (all customers, whole
    history). 404 for an unknown `customer_id`."""
    check_dates(start, end)
    return customer_row(svc, customer_id, m.Filters(start=start, end=end))
