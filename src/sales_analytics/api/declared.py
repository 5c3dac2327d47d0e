"""Pydantic models and query parameters built from the metric declarations.

Each public catalogue entry gets, at app creation:

* a row model (:func:`row_model`): one field per declared column, typed from its dtype and
  nullable, with the column's label as ``title``, its description, and its unit in the JSON
  schema (``x-unit``, ``x-label``, ``x-higher-is-better``, and ``x-currency`` for money);
* a params model (:func:`params_model`) echoing the resolved parameters, and the page envelope
  (:func:`page_model`) ``{metric, label, filters, params, total, limit, offset, items}``;
* a dependency (:func:`params_dependency`) declaring the metric's own parameters as query
  parameters: an enum where the declaration lists choices, its bounds, required when required.

A metric parameter named like one of the API's own query parameters is offered under another
name (:data:`RENAMED`): a drill-down's ``limit`` (its row cap) is ``cap``, as ``limit`` and
``offset`` page the result.
"""

from __future__ import annotations

import inspect
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field, create_model

from sales_analytics.api.params import MAX_ID, MAX_TEXT
from sales_analytics.api.schemas import (
    ColumnInfo,
    FiltersEcho,
    LocalDateTime,
    MetricInfo,
    Model,
    ParamInfo,
)
from sales_analytics.metrics import Column, Filters, Metric, Param

#: Python type of each declared dtype in a response (DECIMAL is sent as a number).
DTYPE_TYPES: dict[str, Any] = {
    "int64": int,
    "float64": float,
    "decimal": float,
    "string": str,
    "date": date,
    "timestamp": LocalDateTime,
    "boolean": bool,
}
#: JSON schema type of each param type (the catalogue listing).
PARAM_TYPES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
#: Metric param -> its query name where the API's own parameters take the plain name.
RENAMED: dict[str, str] = {"limit": "cap"}
#: Extra words for a renamed param's description.
RENAMED_NOTE: dict[str, str] = {
    "limit": " (the metric's own cap on its result, before paging: `total` is at most this; "
    "page through it with `limit` and `offset`)",
}


def query_name(param: Param) -> str:
    return RENAMED.get(param.name, param.name)


def camel(name: str) -> str:
    """``customer_summary`` -> ``CustomerSummary`` (OpenAPI component names)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def path(metric: Metric) -> str:
    return f"/v1/metrics/{metric.name}"


# ------------------------------------------------------------------------------------- rows
def unit_schema(column: Column, currency: str) -> dict[str, Any]:
    """The column's unit and label as JSON schema extensions (``x-currency`` for money)."""
    extra: dict[str, Any] = {"x-unit": column.unit, "x-label": column.label}
    if column.unit == "currency":
        extra["x-currency"] = currency
    if column.higher_is_better is not None:
        extra["x-higher-is-better"] = column.higher_is_better
    return extra


def _when(column: Column) -> str:
    if not column.when:
        return ""
    parts = [f"{k}={' or '.join(map(str, v))}" for k, v in column.when.items()]
    return f" Only with {', '.join(parts)} (null otherwise)."


def column_field(column: Column, currency: str) -> tuple[Any, Any]:
    """``(type, FieldInfo)`` of one declared column for :func:`pydantic.create_model`."""
    kind = DTYPE_TYPES[column.dtype] | None
    info = Field(
        None if column.when else ...,
        title=column.label,
        description=(column.description or column.label) + _when(column),
        json_schema_extra=unit_schema(column, currency),
    )
    return kind, info


def row_model(
    metric: Metric, currency: str, *, name: str | None = None, skip: tuple[str, ...] = ()
) -> type[BaseModel]:
    """One row of ``metric``: every declared column (``when`` ones null when they do not apply)."""
    fields = {c.name: column_field(c, currency) for c in metric.columns if c.name not in skip}
    return create_model(
        name or f"{camel(metric.name)}Row",
        __base__=Model,
        __doc__=f"{metric.label}: {metric.grain}.",
        **fields,
    )


# ------------------------------------------------------------------------------------- params
def param_type(param: Param) -> Any:
    """An enum of the declared choices, else the declared type."""
    if param.choices is not None:
        return Literal[tuple(param.choices)]  # type: ignore[valid-type]
    return param.type


def param_query(param: Param) -> Any:
    """The ``Query(...)`` of one metric param: description, bounds, no NaN/inf, text length."""
    kwargs: dict[str, Any] = {
        "description": (param.description or param.name) + RENAMED_NOTE.get(param.name, "")
    }
    if param.choices is None and param.type in (int, float):
        # undeclared bounds: what a 64-bit database integer holds (no overflow becomes a 500)
        low, high = (-MAX_ID, MAX_ID) if param.type is int else (None, None)
        kwargs["ge"] = param.minimum if param.minimum is not None else low
        kwargs["le"] = param.maximum if param.maximum is not None else high
        if param.type is float:
            kwargs["allow_inf_nan"] = False
    if param.choices is None and param.type is str:
        kwargs |= {"min_length": 1, "max_length": MAX_TEXT}
    return Query(**kwargs)


def params_dependency(metric: Metric):
    """A dependency taking the metric's params as query parameters; returns them by param name."""
    names = {query_name(p): p.name for p in metric.params}

    def metric_params(**values: Any) -> dict[str, Any]:
        return {names[q]: v for q, v in values.items()}

    parameters = []
    for p in metric.params:
        kind = param_type(p)
        if not p.required and p.default is None:
            kind = kind | None
        parameters.append(
            inspect.Parameter(
                query_name(p),
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if p.required else p.default,
                annotation=Annotated[kind, param_query(p)],
            )
        )
    metric_params.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    metric_params.__name__ = f"{metric.name}_params"
    return metric_params


def params_model(metric: Metric) -> type[BaseModel]:
    """The resolved params, by query name (what to send to get the same answer)."""
    fields: dict[str, Any] = {
        query_name(p): (param_type(p) | None, Field(description=p.description))
        for p in metric.params
    }
    return create_model(f"{camel(metric.name)}Params", __base__=Model, **fields)


def page_model(metric: Metric, row: type[BaseModel]) -> type[BaseModel]:
    """The envelope of every metric endpoint."""
    return create_model(
        f"{camel(metric.name)}Page",
        __base__=Model,
        __doc__=f"One page of {metric.label}: `items[offset : offset + limit]` of `total` rows.",
        metric=(Literal[metric.name], Field(description="The catalogue name")),  # type: ignore[valid-type]
        label=(str, Field(description="The metric's label")),
        filters=(FiltersEcho, ...),
        params=(params_model(metric), Field(description="Every parameter, defaults filled in")),
        total=(int, Field(description="Rows of the metric for these filters and params")),
        limit=(int, ...),
        offset=(int, ...),
        items=(list[row], Field(description=f"In the declared order: {metric.grain}")),
    )


# ------------------------------------------------------------------------------------- echoes
def echo_filters(f: Filters) -> dict[str, Any]:
    return {
        "start": f.start,
        "end": f.end,
        "countries": list(f.countries),
        "segments": list(f.segments),
    }


def echo_params(metric: Metric, values: dict[str, Any]) -> dict[str, Any]:
    return {query_name(metric.param(k)): v for k, v in values.items()}


def describe(metric: Metric) -> MetricInfo:
    """The catalogue listing's entry for ``metric``."""
    return MetricInfo(
        name=metric.name,
        path=path(metric),
        label=metric.label,
        grain=metric.grain,
        description=metric.description,
        domain=metric.domain,
        params=[
            ParamInfo(
                name=p.name,
                query=query_name(p),
                type=PARAM_TYPES.get(p.type, "string"),
                default=p.default,
                description=p.description,
                choices=list(p.choices) if p.choices is not None else None,
                minimum=p.minimum,
                maximum=p.maximum,
                required=p.required,
            )
            for p in metric.params
        ],
        columns=[
            ColumnInfo(
                name=c.name,
                dtype=c.dtype,
                unit=c.unit,
                label=c.label,
                description=c.description,
                higher_is_better=c.higher_is_better,
                technical=c.technical,
                when={k: list(v) for k, v in c.when.items()},
            )
            for c in metric.columns
        ],
    )
