"""Property-based run of schemathesis over the whole OpenAPI schema, on each backend.

For every operation of the schema, schemathesis generates requests from the schema (valid data,
then data that breaks it) with the API key; each answer must not be a 5xx, must have a documented
status code and content type and match the documented response schema, and the operation must
reject requests without the key (``ignored_auth``). ``positive_data_acceptance`` is left out:
what the schema cannot say is checked by the server and is a 422 (``start`` after ``end``,
countries or categories that are not in the data), and unknown ids are 404s.

``schemathesis.pytest.from_fixture`` + ``@schema.parametrize()`` would be the usual way, but its
lazy loader sets ``Function._nodeid``, which pytest 9 no longer has; the loop below drives each
operation's Hypothesis strategy (``APIOperation.as_strategy``) directly instead.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from sales_analytics import metrics
from sales_analytics.api import create_app
from tests.api.conftest import KEY

MAX_EXAMPLES = 15
#: Operations in the schema: /health, the catalogue listing, one per public metric, one customer,
#: their scores, forecast, scores, models, action lists and demand (the test fails if one is added
#: untested).
OPERATIONS = 2 + len(metrics.public()) + 7


@pytest.fixture(scope="session")
def api_schema(loaded_db, models_dir):
    app = create_app(loaded_db.url, KEY, models_dir=models_dir)
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"APIKeyHeader": {"api_key": KEY}}}})
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    app.state.service.close()


def run_operation(operation, mode: GenerationMode, statuses: Counter) -> None:
    """Up to MAX_EXAMPLES generated requests to one operation, every check but one."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        statuses[(operation.label, response.status_code)] += 1

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_openapi_schema(api_schema, mode):
    statuses: Counter = Counter()
    unbreakable: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == OPERATIONS

    for operation in operations:
        try:
            run_operation(operation, mode, statuses)
        except Unsatisfiable:
            # no parameters to break (e.g. /health): nothing negative to send
            assert mode is GenerationMode.NEGATIVE
            unbreakable.append(operation.label)

    per_status = Counter()
    for (_label, status), n in statuses.items():
        per_status[status] += n
    print(
        f"\nschemathesis {mode}: {per_status.total()} cases over {len(operations)} operations, "
        f"statuses {dict(sorted(per_status.items()))}, nothing to break: {unbreakable}"
    )
    assert {label for label, _ in statuses} | set(unbreakable) == {op.label for op in operations}
    assert len(unbreakable) <= 2, unbreakable
    assert not any(status >= 500 for status in per_status)
