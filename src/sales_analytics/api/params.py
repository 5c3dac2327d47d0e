"""Query parameters shared by the endpoints, validated before any query runs.

Everything the OpenAPI schema can say (types, enums, bounds) FastAPI checks; the rest is checked
here and reported as a 422 in FastAPI's own error shape (``{"detail": [{"loc", "msg", "type"}]}``):
``start`` after ``end``, dates not written ``YYYY-MM-DD`` (``start=0`` is not 1970-01-01), unknown
countries, and query parameters the endpoint does not have (a misspelt ``?countyr=Germany`` would
otherwise silently return unfiltered numbers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BeforeValidator

from sales_analytics.api.schemas import SegmentName
from sales_analytics.api.service import Service
from sales_analytics.metrics import Filters

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
MAX_ID = 2**63 - 1
MAX_OFFSET = 1_000_000_000
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
#: Longest text accepted in a filter value (the schema's VARCHAR(100)).
MAX_TEXT = 100


def invalid(loc: Sequence[str | int], message: str, value: object = None) -> RequestValidationError:
    """A 422 shaped like FastAPI's own validation errors."""
    return RequestValidationError(
        [{"type": "value_error", "loc": tuple(loc), "msg": message, "input": value}]
    )


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request) -> None:
    """422 for a query parameter the matched endpoint does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _query_names(route.dependant)
    unknown = [name for name in request.query_params if name not in allowed]
    if unknown:
        listed = ", ".join(sorted(allowed)) or "none"
        raise invalid(
            ("query", unknown[0]),
            f"unknown query parameter(s) {', '.join(map(repr, unknown))}; this endpoint takes: {listed}",
            unknown[0],
        )


def service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(service)]

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(value: object) -> object:
    """Only ``YYYY-MM-DD`` from :data:`MIN_DATE` to :data:`MAX_DATE`: pydantic alone would read
    ``0`` or ``20250101`` as a Unix timestamp. (The bounds are checked here, not with
    ``Query(ge=, le=)``, which would put non-standard ``ge``/``le`` keys into the schema.)"""
    if value is None:
        return value
    if not isinstance(value, date):
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise ValueError(f"dates are YYYY-MM-DD, not {value!r}")
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value  # 2025-13-01: pydantic's own "Input should be a valid date"
    if value < MIN_DATE:
        raise ValueError(f"Input should be greater than or equal to {MIN_DATE}")
    if value > MAX_DATE:
        raise ValueError(f"Input should be less than or equal to {MAX_DATE}")
    return value


#: Validates a date query parameter as ``YYYY-MM-DD`` and nothing else (every date param has it).
IsoDate = BeforeValidator(iso_date)

Start = Annotated[
    date | None,
    IsoDate,
    Query(
        description="First order day, inclusive (ISO date, 1900-01-01 .. 2999-12-31)",
    ),
]
End = Annotated[
    date | None,
    IsoDate,
    Query(
        description="Last order day, inclusive; must not be before `start`",
    ),
]
Countries = Annotated[
    list[Annotated[str, Query(min_length=1, max_length=MAX_TEXT)]] | None,
    Query(
        alias="country",
        description="Customer country, exact spelling (repeat for several). An unknown country "
        "is a 422 listing the known ones.",
    ),
]
Segments = Annotated[
    list[SegmentName] | None,
    Query(
        alias="segment",
        description="RFM segment as of the window's end, spelled as the metrics spell it "
        "(`Champions`, `Can't Lose Them`; repeat for several)",
    ),
]


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


def paging(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Page size: rows per response (API paging)")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip (API paging)")] = 0,
) -> Paging:
    return Paging(limit, offset)


PagingDep = Annotated[Paging, Depends(paging)]


def check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise invalid(("query", "start"), f"start {start} is after end {end}", start.isoformat())


def known_values(svc: Service, table: str, column: str) -> list[str]:
    def fetch(db) -> list[str]:
        t = db.table(table)
        frame = t.select(t[column]).distinct().to_pandas()
        return sorted(str(v) for v in frame[column].dropna())

    return svc.run(fetch)


def check_known(
    svc: Service, values: Iterable[str], *, table: str, column: str, param: str
) -> tuple[str, ...]:
    """``values`` unchanged, or a 422 naming the unknown ones and listing the known ones."""
    values = tuple(dict.fromkeys(values))
    if not values:
        return values
    known = known_values(svc, table, column)
    unknown = [v for v in values if v not in set(known)]
    if unknown:
        listed = ", ".join(known[:50]) + (", ..." if len(known) > 50 else "")
        raise invalid(
            ("query", param),
            f"unknown {param}(s) {', '.join(map(repr, unknown))}; known: {listed}",
            unknown[0],
        )
    return values


def filters(
    svc: ServiceDep,
    start: Start = None,
    end: End = None,
    country: Countries = None,
    segment: Segments = None,
) -> Filters:
    """Dates, countries and RFM segments: what every metric can be narrowed to."""
    check_dates(start, end)
    countries = check_known(
        svc, country or (), table="customers", column="country", param="country"
    )
    segments = tuple(dict.fromkeys(segment or ()))
    return Filters(start=start, end=end, countries=countries, segments=segments)


FiltersDep = Annotated[Filters, Depends(filters)]
