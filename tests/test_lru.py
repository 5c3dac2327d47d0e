"""The one LRU every in-process cache uses (compiled SQL, figures, API answers)."""

from __future__ import annotations

import pytest

from sales_analytics.lru import LRU


def test_least_recent_goes_first_and_reads_count():
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now the most recent
    lru.put("c", 3)
    assert lru.get("b") is None and list(lru.items) == ["a", "c"] and len(lru) == 2
    assert (lru.hits, lru.misses) == (1, 1)
    assert lru.get("c", count=False) == 3 and (lru.hits, lru.misses) == (1, 1)
    lru.count(hit=False)
    assert lru.misses == 2
    lru.clear()
    assert len(lru) == 0


def test_needs_room():
    with pytest.raises(ValueError, match="at least 1"):
        LRU(0)
