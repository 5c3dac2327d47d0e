"""Helpers for the routers: paging an expression or a frame, documented error responses."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import pandas as pd

from sales_analytics.api.params import Paging
from sales_analytics.api.schemas import Error
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


def page(expr: ir.Table, paging: Paging, cap: int | None = None) -> dict[str, Any]:
    """``{total, limit, offset, items}`` of an ordered expression, within its first ``cap`` rows
    when given (``total`` is then at most ``cap``)."""
    total = int(expr.count().execute())
    total = min(total, cap) if cap is not None else total
    size = min(paging.limit, total - paging.offset)
    rows = expr.limit(size, offset=paging.offset).to_pandas() if size > 0 else None
    return {
        "total": total,
        "limit": paging.limit,
        "offset": paging.offset,
        "items": records(rows) if rows is not None else [],
    }


def page_frame(frame: pd.DataFrame, paging: Paging) -> dict[str, Any]:
    """The same page of a computed frame."""
    rows = frame.iloc[paging.offset : paging.offset + paging.limit]
    return {
        "total": len(frame),
        "limit": paging.limit,
        "offset": paging.offset,
        "items": records(rows),
    }
