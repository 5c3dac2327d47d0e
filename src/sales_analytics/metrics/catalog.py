"""The metric catalogue: every declared metric by name.

Importing this module imports the builder modules, whose :func:`~.spec.declare` decorators fill
:data:`~.spec.DECLARED`. Surfaces list metrics with :func:`public` and look one up with :func:`get`.
"""

from __future__ import annotations

from sales_analytics.metrics import (  # noqa: F401 - each module declares its metrics
    baskets,
    customers,
    detail,
    geography,
    preagg,
    products,
    sales,
    salesreport,
    stock,
)
from sales_analytics.metrics.spec import DECLARED, DOMAINS, Metric

#: Metric name -> declaration, by domain (sales, customers, products, geography, detail,
#: internal), then module, then declaration order.
#: Modules in the order their metrics are listed within a domain.
MODULES: tuple[str, ...] = ("sales", "salesreport", "customers", "products", "stock", "baskets", "geography", "detail")


def _order(m: Metric) -> tuple[int, int]:
    module = m.builder.__module__.rsplit(".", 1)[-1]
    return DOMAINS.index(m.domain), MODULES.index(module) if module in MODULES else len(MODULES)


CATALOG: dict[str, Metric] = {m.name: m for m in sorted(DECLARED, key=_order)}


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
