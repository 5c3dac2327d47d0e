"""Helpers for the routers: paging an ibis expression, sort keys, documented error responses."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from sales_analytics.api.params import Paging
from sales_analytics.api.schemas import Error, SortOrder
from sales_analytics.api.service import records

#: Responses every /v1 endpoint may give besides 200 and 422 (FastAPI documents 422 itself).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "Missing or wrong API key (header `X-API-Key`)"},
    503: {"model": Error, "description": "The database is unreachable or has no schema"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Error, "description": "Not found"}}
MODEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": Error, "description": "The model was never trained (no saved model file)"},
    409: {"model": Error, "description": "The saved model cannot be loaded or cannot predict"},
}


def sort_keys(t: ir.Table, column: str, order: SortOrder, tiebreak: str) -> list:
    """``column`` in ``order`` with NULLs last on every backend, then ``tiebreak`` ascending."""
    key = ibis.desc(t[column]) if order is SortOrder.desc else ibis.asc(t[column])
    return [key] if column == tiebreak else [key, ibis.asc(t[tiebreak])]


def page(expr: ir.Table, paging: Paging) -> dict[str, Any]:
    """A :class:`~sales_analytics.api.schemas.Page` of an ordered expression."""
    total = int(expr.count().execute())
    rows = (
        expr.limit(paging.limit, offset=paging.offset).to_pandas()
        if paging.offset < total
        else None
    )
    return {
        "total": total,
        "limit": paging.limit,
        "offset": paging.offset,
        "items": records(rows) if rows is not None else [],
    }
