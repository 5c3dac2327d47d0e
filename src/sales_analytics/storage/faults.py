"""Test-only pause points inside a write, so the reliability tests can kill a writer there.

``SA_TEST_PAUSE_AT`` (read through :class:`~sales_analytics.config.Settings`, the only reader of the
environment) names one step of :data:`STEPS`; a write that reaches it prints
``SA_TEST_PAUSED <step>`` on stderr and sleeps until it is killed. Unset (always, outside the tests),
:func:`pauser` returns a function that does nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

#: The steps of a write, in order (``before_swap``: DuckDB files only, after the commit).
STEPS: tuple[str, ...] = ("after_drop", "after_load", "after_copies", "before_commit", "before_swap")
MARKER = "SA_TEST_PAUSED"


def pauser() -> Callable[[str], None]:
    """A function ``pause(step)`` that pauses forever at the configured step (tests only)."""
    from sales_analytics.config import get_settings

    try:
        wanted = get_settings().test_pause_at
    except ValueError:  # a broken setting elsewhere: no pause (connect reports the setting)
        wanted = None
    if not wanted:
        return _never

    def pause(step: str) -> None:
        if step == wanted:
            print(f"{MARKER} {step}", file=sys.stderr, flush=True)
            while True:  # until kill -9
                time.sleep(1)

    return pause


def _never(step: str) -> None:
    return None
