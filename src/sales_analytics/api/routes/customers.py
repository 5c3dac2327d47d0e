"""One customer: their ``customer_summary`` row and their ``rfm_segments`` row, both catalogue
metrics narrowed to the customer (the list of customers is ``/v1/metrics/customer_summary``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import Field, create_model

from sales_analytics import metrics as m
from sales_analytics.api.declared import row_model
from sales_analytics.api.params import MAX_ID, End, ServiceDep, Start, check_dates
from sales_analytics.api.routes._common import COMMON_RESPONSES, NOT_FOUND
from sales_analytics.api.service import records
from sales_analytics.config import get_settings

CustomerId = Annotated[int, Path(ge=1, le=MAX_ID, description="customer_id")]
SUMMARY, RFM = "customer_summary", "rfm_segments"


def one_row(db, name: str, filters: m.Filters, customer_id: int) -> dict[str, Any] | None:
    """Metric ``name``'s row of the customer (``None``: the metric has no row for them)."""
    t = m.expression(db, name, filters)
    rows = records(t.filter(t.customer_id == customer_id).to_pandas())
    return rows[0] if rows else None


def customer(svc, customer_id: int, filters: m.Filters) -> dict[str, Any]:
    """The customer's summary over ``filters``' window and their RFM (whole history), or a 404."""

    def query(db):
        row = one_row(db, SUMMARY, filters, customer_id)
        return row, one_row(db, RFM, m.NO_FILTERS, customer_id) if row is not None else None

    row, rfm = svc.run(query)
    if row is None:
        raise HTTPException(404, f"no customer with customer_id {customer_id}")
    if rfm is not None:
        rfm.pop("customer_id")
    return row | {"rfm": rfm}


def build_router() -> APIRouter:
    router = APIRouter(responses=COMMON_RESPONSES, tags=["customers"])
    currency = get_settings().currency
    summary = m.get(SUMMARY)
    rfm = row_model(m.get(RFM), currency, name="CustomerRfm", skip=("customer_id",))
    detail = create_model(
        "CustomerDetail",
        __base__=row_model(summary, currency),
        __doc__="A customer's `customer_summary` row with their `rfm_segments` row.",
        rfm=(
            rfm | None,
            Field(
                description="RFM over all customers and the whole history "
                "(null: no completed order)"
            ),
        ),
    )

    @router.get(
        "/customers/{customer_id}",
        response_model=detail,
        responses=NOT_FOUND,
        summary="One customer",
    )
    def get_customer(
        svc: ServiceDep, customer_id: CustomerId, start: Start = None, end: End = None
    ) -> dict:
        """The customer's summary over the date window (`customer_summary`) and their RFM
        scores and segment (`rfm_segments`: all customers, whole history). 404 for an unknown
        `customer_id`."""
        check_dates(start, end)
        return customer(svc, customer_id, m.Filters(start=start, end=end))

    return router
