"""Helpers that make a stage's output read-only, so the next stage cannot change it in place."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

import numpy as np

K = TypeVar("K")
V = TypeVar("V")


def readonly(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (writing to it raises ``ValueError``)."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


def frozen_dict(values: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only copy of ``values`` (insertion order kept)."""
    return MappingProxyType(dict(values))
