"""The import as five stages, each a function from one frozen dataclass to the next:

1. :func:`.parse.parse`                  RawFile + Layout -> :class:`.parse.ParsedLines`
2. :func:`.validate.validate`            ParsedLines -> :class:`.validate.ValidatedLines`
3. :func:`.entities.resolve_entities`    ValidatedLines -> :class:`.entities.Entities`
4. :func:`.orders.check_orders`          Entities -> :class:`.orders.OrderSet`
5. :func:`.write.new_rows`, :func:`.write.write`   OrderSet -> :class:`.write.NewRows` -> database

Stages 3 and 4 read the database (rows already there); only stage 5 writes. Format-specific rules
are not here: the stages ask the format (:mod:`sales_analytics.ingest.formats`).
"""

from __future__ import annotations

from sales_analytics.ingest.stages.entities import Entities, resolve_entities
from sales_analytics.ingest.stages.orders import OrderSet, check_orders
from sales_analytics.ingest.stages.parse import ParsedLines, parse
from sales_analytics.ingest.stages.validate import ValidatedLines, validate
from sales_analytics.ingest.stages.write import NewRows, new_rows, write

__all__ = [
    "Entities",
    "NewRows",
    "OrderSet",
    "ParsedLines",
    "ValidatedLines",
    "check_orders",
    "new_rows",
    "parse",
    "resolve_entities",
    "validate",
    "write",
]
