"""One small thread-safe least-recently-used map with hit and miss counts.

Used by every in-process cache: the compiled SQL of metric calls (``metrics.compiled``), the
dashboard's built figures (``dashboard.figures``) and the API's answers (``api.cache``). It
imports nothing of the package, so every layer may use it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``size`` entries; the least recently read or written goes first."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"an LRU needs room for at least 1 entry, not {size}")
        self.size = size
        self.items: OrderedDict[K, V] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: K, count: bool = True) -> V | None:
        """The entry (now the most recent) or None; counted as a hit or a miss unless
        ``count`` is False (a caller that decides later calls :meth:`count`)."""
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            if count:
                self._count(value is not None)
            return value

    def put(self, key: K, value: V) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def count(self, hit: bool) -> None:
        with self.lock:
            self._count(hit)

    def _count(self, hit: bool) -> None:
        if hit:
            self.hits += 1
        else:
            self.misses += 1

    def clear(self) -> None:
        with self.lock:
            self.items.clear()

    def __len__(self) -> int:
        return len(self.items)
