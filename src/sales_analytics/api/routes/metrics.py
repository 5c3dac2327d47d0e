"""The metrics router, built from the catalogue when the app is created.

``GET /v1/metrics`` lists the public catalogue entries; ``GET /v1/metrics/{name}`` is one route
per entry (so the OpenAPI schema documents each one's parameters and columns), every one the same
thin adapter: the filters, the metric's params checked by its declaration, one page of
:func:`sales_analytics.metrics.expression` (or of ``compute`` for the few pandas metrics). Adding a
metric to the catalogue adds its endpoint; nothing here names a metric.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends

from sales_analytics import metrics as m
from sales_analytics.api.declared import (
    describe,
    echo_filters,
    echo_params,
    page_model,
    params_dependency,
    path,
    query_name,
    row_model,
)
from sales_analytics.api.params import FiltersDep, Paging, PagingDep, ServiceDep, invalid
from sales_analytics.api.routes._common import COMMON_RESPONSES, page, page_frame
from sales_analytics.api.schemas import Catalogue
from sales_analytics.config import get_settings

#: The metric param the API pages within (a drill-down's row cap), see :func:`metric_page`.
CAP = "limit"


def resolve(metric: m.Metric, values: dict[str, Any]) -> dict[str, Any]:
    """``metric.resolve(values)``, its ``ValueError`` a 422 on the param it names."""
    try:
        return metric.resolve(values)
    except ValueError as exc:
        raise bad_params(metric, exc) from None


def bad_params(metric: m.Metric, exc: ValueError):
    """A 422 with the error's first line, located at the first param it names."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid parameters"
    found = [
        (hit.start(), p) for p in metric.params if (hit := re.search(rf"\b{p.name}\b", message))
    ]
    loc = ("query", query_name(min(found, key=lambda x: x[0])[1])) if found else ("query",)
    return invalid(loc, message)


def metric_page(
    db, metric: m.Metric, f: m.Filters, values: dict[str, Any], paging: Paging
) -> dict[str, Any]:
    """``{total, limit, offset, items}`` of the metric in its declared order.

    A metric with a row cap (its ``limit`` param, ``cap`` in the query) is paged within the cap:
    ``total`` is at most the cap and every page is a slice of the one sorted, capped result.
    """
    cap = values.get(CAP)
    uncapped = values | {CAP: None} if CAP in values else values
    try:
        if metric.engine == "sql":
            expr = m.expression(db, metric.name, f, **uncapped)
        else:
            frame = m.compute(db, metric.name, f, **uncapped)
    except ValueError as exc:  # a builder's own check (a_share > b_share, too short a series)
        raise bad_params(metric, exc) from None
    if metric.engine == "sql":
        return page(expr, paging, cap)
    return page_frame(frame.head(cap) if cap is not None else frame, paging)


def metric_route(router: APIRouter, metric: m.Metric, currency: str) -> None:
    """``GET /metrics/<name>`` for one catalogue entry."""
    envelope = page_model(metric, row_model(metric, currency))
    params = params_dependency(metric)

    def get_metric(
        svc: ServiceDep,
        f: FiltersDep,
        paging: PagingDep,
        given: dict = Depends(params),
    ) -> dict:
        values = resolve(metric, given)
        result = svc.run(lambda db: metric_page(db, metric, f, values, paging))
        return {
            "metric": metric.name,
            "label": metric.label,
            "filters": echo_filters(f),
            "params": echo_params(metric, values),
            **result,
        }

    router.add_api_route(
        path(metric).removeprefix("/v1"),
        get_metric,
        methods=["GET"],
        response_model=envelope,
        summary=metric.label,
        description=f"**Grain**: {metric.grain}.\n\n{metric.description}".strip(),
        tags=[metric.domain],
        name=f"metric_{metric.name}",
        operation_id=f"metric_{metric.name}",
    )


def build_router() -> APIRouter:
    """The catalogue listing and one route per public metric, as the catalogue is now."""
    router = APIRouter(responses=COMMON_RESPONSES)
    currency = get_settings().currency
    public = m.public()
    listing = {"currency": currency, "items": [describe(metric) for metric in public]}

    @router.get("/metrics", response_model=Catalogue, tags=["metrics"], summary="The catalogue")
    def get_catalogue() -> dict:
        """Every metric the API serves: its label, grain, parameters (type, default, allowed
        values, bounds) and columns (dtype, unit, label, meaning, which direction is good).
        Each is served at its `path`."""
        return listing

    for metric in public:
        metric_route(router, metric, currency)
    return router
