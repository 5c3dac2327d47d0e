"""Reject reasons, collected per line by vectorised checks.

A stage collects into a :class:`Rejects` and hands the next stage a frozen :class:`RejectLog`
(``rejects.freeze()``); the next stage continues with ``Rejects.resume(log)``. The order in which
reasons are added is the order they appear in, joined by ``; ``, in the reject file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sales_analytics.ingest.frozen import readonly


def quoted(s: pd.Series | np.ndarray, limit: int = 60) -> pd.Series:
    """``'value'`` for messages, shortened to ``limit`` characters."""
    s = pd.Series(s, dtype=object).astype(str)
    long = s.str.len() > limit
    s = s.where(~long, s.str.slice(0, limit - 3) + "...")
    return "'" + s + "'"


def each_quoted(values: pd.Series, suffix: str = "") -> Callable[[np.ndarray], np.ndarray]:
    """Detail for :meth:`Rejects.add`: the quoted value of each rejected line, plus ``suffix``."""
    return lambda idx: (quoted(values.iloc[idx]) + suffix).to_numpy()


@dataclass(frozen=True)
class RejectLog:
    """The reasons collected so far, read-only: what one stage hands to the next.

    ``mask``   bool per line: rejected
    ``poison`` bool per line: rejected in a way that takes the whole order with it
    ``counts`` (category, lines) in the order the categories first occurred
    ``parts``  (row positions, messages) per :meth:`Rejects.add`, in the order they were added
    """

    mask: np.ndarray
    poison: np.ndarray
    counts: tuple[tuple[str, int], ...]
    parts: tuple[tuple[np.ndarray, np.ndarray], ...]

    @property
    def valid(self) -> np.ndarray:
        """bool per line: not rejected."""
        return ~self.mask

    @property
    def rejected(self) -> int:
        return int(self.mask.sum())

    def most_common(self) -> list[tuple[str, int]]:
        """(category, lines), most frequent first (ties: the category seen first)."""
        return Counter(dict(self.counts)).most_common()

    def reasons(self) -> pd.Series:
        """The joined reason of every rejected line, indexed by row position, sorted."""
        if not self.parts:
            return pd.Series([], dtype=object)
        idx = np.concatenate([p[0] for p in self.parts])
        msg = np.concatenate([p[1] for p in self.parts])
        frame = pd.DataFrame({"idx": idx, "msg": msg})
        return frame.groupby("idx", sort=True)["msg"].agg("; ".join)


class Rejects:
    """Reasons per line, collected by vectorised checks (the builder of a :class:`RejectLog`).

    ``add(mask, category, detail)`` tags the lines in ``mask`` (``detail``: text, per-line values,
    or a function of the rejected positions, so the happy path formats nothing); the file shows
    ``category: detail`` (several reasons joined by ``; ``) and :attr:`counts` counts lines per
    category. A rejected line normally takes its whole order with it (``poisons_order``).
    """

    def __init__(self, n: int):
        self.n = n
        self.mask = np.zeros(n, dtype=bool)
        self.poison = np.zeros(n, dtype=bool)
        self.counts: Counter[str] = Counter()
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []

    @classmethod
    def resume(cls, log: RejectLog) -> Rejects:
        """Continue collecting after the reasons in ``log`` (which is left unchanged)."""
        rejects = cls(len(log.mask))
        rejects.mask[:] = log.mask
        rejects.poison[:] = log.poison
        rejects.counts.update(dict(log.counts))
        rejects._parts.extend(log.parts)
        return rejects

    def freeze(self) -> RejectLog:
        return RejectLog(
            mask=readonly(self.mask.copy()),
            poison=readonly(self.poison.copy()),
            counts=tuple(self.counts.items()),
            parts=tuple(self._parts),
        )

    @property
    def valid(self) -> np.ndarray:
        """bool per line: not rejected so far."""
        return ~self.mask

    def add(
        self,
        mask: np.ndarray,
        category: str,
        detail: Callable[[np.ndarray], Any] | pd.Series | np.ndarray | str | None = None,
        *,
        poisons_order: bool = True,
    ) -> None:
        mask = np.asarray(mask, dtype=bool)
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return
        if callable(detail):  # computed for the rejected lines only
            detail = np.asarray(detail(idx), dtype=object)
        elif detail is not None and not isinstance(detail, str):
            detail = np.asarray(detail, dtype=object)[idx]  # one value per line of the file
        if detail is None:
            messages = np.full(len(idx), category, dtype=object)
        elif isinstance(detail, str):
            messages = np.full(len(idx), f"{category}: {detail}", dtype=object)
        else:
            messages = (f"{category}: " + pd.Series(detail, dtype=object).astype(str)).to_numpy()
        self._parts.append((readonly(idx), readonly(messages)))
        self.mask[idx] = True
        if poisons_order:
            self.poison[idx] = True
        self.counts[category] += len(idx)

    def add_by_key(self, key: np.ndarray, bad: pd.Series, category: str) -> None:
        """Reject the still-valid lines whose ``key`` is in ``bad`` (id -> detail text)."""
        if bad.empty:
            return
        mask = self.valid & np.isin(key, bad.index.to_numpy())
        self.add(mask, category, lambda i: pd.Series(key[i]).map(bad).to_numpy())
