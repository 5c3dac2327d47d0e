"""What a metric declaration is: :class:`Metric`, its output :class:`Column` s and :class:`Param` s.

A metric is declared once, next to its builder, with :func:`declare`::

    @declare(
        "weekday_profile",
        label="Revenue by weekday",
        grain="one row per weekday (0 = Monday) with at least one order",
        columns=cols("weekday", "weekday_name", "days", "revenue", ...),
        sort=("weekday",),
    )
    def weekday_profile(source, filters): ...

The builder has one signature, ``fn(source, filters, **params) -> ibis.Table`` (a pandas frame only
for the few computations that leave SQL, ``engine="pandas"``), and does not sort: the declared
``sort`` (and a ``limit`` param, when the metric has one) is applied by :mod:`~.run` to live and
materialized reads alike. Every surface (CLI, API, dashboard, report) reads the declarations:
labels, units and descriptions come from here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

#: How a value is shown; :mod:`sales_analytics.present.format` turns each unit into text.
Unit = Literal[
    "currency",  # money in the shop's currency
    "count",  # whole things: orders, customers, units
    "ratio",  # a fraction 0..1 shown as a percentage (share, rate)
    "percent",  # a value already in percent (margin_pct = 12.5 means 12.5%)
    "number",  # a plain decimal (an index, a lift, an average frequency)
    "days",  # a duration in days
    "date",  # a calendar day
    "timestamp",  # a date and time
    "text",  # a name or label
    "id",  # an identifier (no thousands separator)
]
UNITS: tuple[str, ...] = Unit.__args__  # type: ignore[attr-defined]
#: Output dtypes a column may declare (ibis dtype names; timestamps without precision).
DTYPES: tuple[str, ...] = (
    "int64", "float64", "decimal", "string", "date", "timestamp", "boolean",
)  # fmt: skip
DOMAINS: tuple[str, ...] = ("sales", "customers", "products", "geography", "detail", "internal")


@dataclass(frozen=True)
class Column:
    """One output column: its dtype, unit, label and meaning.

    ``higher_is_better`` tells surfaces which direction is good (``None``: neither).
    ``technical`` columns (ids used for joins, helper values) are hidden from owners' tables.
    ``when`` limits the column to some param values, e.g. ``{"level": ("region",)}``.
    """

    name: str
    dtype: str
    unit: Unit
    label: str
    description: str = ""
    higher_is_better: bool | None = None
    technical: bool = False
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name}: dtype {self.dtype!r} is not one of {DTYPES}")
        if self.unit not in UNITS:
            raise ValueError(f"column {self.name}: unit {self.unit!r} is not one of {UNITS}")

    def applies(self, params: Mapping[str, Any]) -> bool:
        return all(params.get(k) in allowed for k, allowed in self.when.items())

    def but(self, **changes: Any) -> Column:
        """A copy with some fields changed (a shared column reused with another label, say)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Param:
    """A metric parameter: its default, the values it allows and what it means.

    ``choices`` lists every allowed value (``None``: any value of ``type`` within
    ``minimum``/``maximum``). ``expand`` params are ones ``analyze`` writes once per choice
    (``grain``, ``level``). ``required`` params have no default (a drill-down's product id).
    """

    name: str
    type: type
    default: Any = None
    description: str = ""
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    expand: bool = False
    required: bool = False

    def check(self, value: Any) -> Any:
        """``value`` converted to the param's type; ``ValueError`` naming the valid values."""
        if value is None:
            if self.required:
                raise ValueError(f"{self.name} is required")
            return None
        try:
            converted = self.type(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{self.name} must be {self.type.__name__}, not {value!r}"
            ) from None
        if self.choices is not None and converted not in self.choices:
            raise ValueError(
                f"{self.name} must be one of {', '.join(map(str, self.choices))}, not {value!r}"
            )
        if self.minimum is not None and converted < self.minimum:
            raise ValueError(f"{self.name} must be at least {self.minimum:g}, not {value!r}")
        if self.maximum is not None and converted > self.maximum:
            raise ValueError(f"{self.name} must be at most {self.maximum:g}, not {value!r}")
        return converted


Builder = Callable[..., Any]
#: A sort: column names (``-name`` for descending; NULLs always last), or a function of the table.
Sort = tuple[str, ...] | Callable[[Any], list]


@dataclass(frozen=True)
class Metric:
    """One catalogue entry. See the module docstring."""

    name: str
    builder: Builder
    label: str
    grain: str
    columns: tuple[Column, ...]
    domain: str = "sales"
    description: str = ""
    params: tuple[Param, ...] = ()
    sort: Sort = ()
    materialize: bool = False
    engine: Literal["sql", "pandas"] = "sql"
    #: a materialized copy's key: a unique index on these columns (and plain ones on ``indexed``),
    #: or on DuckDB a check by query (``storage.materialized.check_key``; no ART index)
    key: tuple[str, ...] = ()
    indexed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"metric {self.name}: domain {self.domain!r} not in {DOMAINS}")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"metric {self.name}: a column is declared twice")
        if self.materialize and (self.engine != "sql" or not self.key):
            raise ValueError(f"metric {self.name}: only SQL metrics with a key can materialize")
        if self.materialize and any(p.required for p in self.params):
            raise ValueError(f"metric {self.name}: a metric with required params cannot materialize")

    @property
    def internal(self) -> bool:
        """Building blocks of other metrics: in the catalogue, not offered on the surfaces."""
        return self.domain == "internal"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Every param's value: ``params`` checked and converted, defaults for the rest."""
        unknown = [k for k in params if k not in self.param_names]
        if unknown:
            valid = ", ".join(self.param_names) or "none"
            raise ValueError(
                f"{self.name} has no parameter {', '.join(unknown)} (parameters: {valid})"
            )
        return {
            p.name: p.check(params[p.name]) if p.name in params else p.check(p.default)
            for p in self.params
        }

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def output(self, params: Mapping[str, Any] | None = None) -> tuple[Column, ...]:
        """The columns the metric returns for ``params`` (default: the defaults)."""
        values = self.resolve(params or {}) if params is not None else self.defaults()
        return tuple(c for c in self.columns if c.applies(values))

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


#: Every :func:`declare` d metric in declaration order; :mod:`.catalog` makes the catalogue of it.
DECLARED: list[Metric] = []


def declare(name: str, **fields: Any) -> Callable[[Builder], Builder]:
    """Declare the decorated builder as metric ``name`` (see :class:`Metric` for the fields)."""

    def wrap(fn: Builder) -> Builder:
        DECLARED.append(Metric(name=name, builder=fn, **fields))
        return fn

    return wrap
