"""The metric catalogue: every declared metric by name.

Importing this module imports the builder modules, whose :func:`~.spec.declare` decorators fill
:data:`~.spec.DECLARED`. Surfaces list metrics with :func:`public` and look one up with :func:`get`.
"""

from __future__ import annotations

from sales_analytics.metrics import customers, detail, geography, products, sales  # noqa: F401
from sales_analytics.metrics.spec import DECLARED, DOMAINS, Metric

#: Metric name -> declaration, by domain (sales, customers, products, geography, detail,
#: internal), then in declaration order.
CATALOG: dict[str, Metric] = {
    m.name: m for m in sorted(DECLARED, key=lambda m: DOMAINS.index(m.domain))
}


def get(name: str) -> Metric:
    """The metric ``name``; ``ValueError`` naming the valid ones when there is none."""
    try:
        return CATALOG[name]
    except KeyError:
        valid = ", ".join(m.name for m in public())
        raise ValueError(f"unknown metric {name!r}: use one of {valid}") from None


def public() -> list[Metric]:
    """The metrics the surfaces offer (internal building blocks left out), in catalogue order."""
    return [m for m in CATALOG.values() if not m.internal]


def register(metric: Metric) -> Metric:
    """Add ``metric`` to the catalogue (an extension's metric); every surface picks it up."""
    if metric.name in CATALOG:
        raise ValueError(f"metric {metric.name!r} is already in the catalogue")
    CATALOG[metric.name] = metric
    return metric


def unregister(name: str) -> None:
    CATALOG.pop(name, None)
