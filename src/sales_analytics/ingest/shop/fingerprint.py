"""Per-order fingerprints of an export's source lines: what makes re-importing an export cheap.

An order's fingerprint is a 64-bit hash of the raw text of its lines (every column the import
reads, in file order) mixed with the import's context (format, header, the shop's currency,
timezone and rates, the date window, the encoding). The import stores it with the order
(``orders.source_fingerprint``) when it writes the order. On the next import, an order whose
fingerprint equals the stored one would convert to exactly the stored rows: it counts as
unchanged without being parsed, checked or compared. Every other order (new, changed, rejected
before, written by another path: no fingerprint) takes the full path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sales_analytics.ingest.keys import map_keys, mix_ids
from sales_analytics.ingest.lookup import fetch_rows
from sales_analytics.ingest.reader import RawFile
from sales_analytics.storage import Database

#: bump when what a fingerprint covers or how the import converts an order changes: every stored
#: fingerprint then differs and each order takes the full path once
VERSION = 1
#: lines hashed at a time (bounds the memory of the joined text)
_SLICE = 100_000
_SEP = pa.scalar("\x1f", pa.large_string())


@dataclass(frozen=True)
class Fingerprints:
    """``codes``: per line, its order (-1: no order key); ``order_id`` and ``value`` per order."""

    codes: np.ndarray
    order_id: np.ndarray
    value: np.ndarray

    def series(self) -> pd.Series:
        return pd.Series(self.value, index=pd.Index(self.order_id, name="order_id"))


def context_hash(**parts) -> int:
    """A 64-bit hash of the import's context (anything JSON can write)."""
    text = json.dumps({"version": VERSION, **parts}, sort_keys=True, default=str)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def fingerprints(raw: RawFile, key_header: str, context: int) -> Fingerprints:
    """The fingerprint of every order of ``raw`` (orders keyed by the stripped ``key_header``)."""
    key = raw.frame[key_header].str.strip()
    codes, uniques = pd.factorize(key.where(key != "", None), use_na_sentinel=True)
    del key
    n_orders = len(uniques)
    order_id = map_keys(pd.Series(uniques, dtype=object)) if n_orders else np.zeros(0, np.int64)
    line_hash = np.empty(len(raw.frame), dtype=np.uint64)
    columns = [raw.frame[c].array for c in raw.frame.columns]
    for start in range(0, len(line_hash), _SLICE):
        parts = [_large(values[start:start + _SLICE]) for values in columns]
        joined = pc.binary_join_element_wise(*parts, _SEP).fill_null("")
        text = joined.to_numpy(zero_copy_only=False)
        line_hash[start:start + len(text)] = pd.util.hash_array(text, categorize=False)
        del parts, joined, text
    keyed = codes >= 0
    position = pd.Series(codes).groupby(codes).cumcount().to_numpy()
    mixed = mix_ids(line_hash.view(np.int64), position).view(np.uint64)
    sums = np.zeros(n_orders, dtype=np.uint64)
    np.add.at(sums, codes[keyed], mixed[keyed])
    counts = np.bincount(codes[keyed], minlength=n_orders)
    with np.errstate(over="ignore"):
        value = mix_ids((sums ^ np.uint64(context)).view(np.int64), counts)
    return Fingerprints(codes=codes, order_id=order_id, value=value)


def _large(values) -> pa.Array:
    arr = getattr(values, "_pa_array", None)
    if arr is None:
        arr = pa.array(np.asarray(values, dtype=object), pa.large_string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr


def unchanged_orders(db: Database, fp: Fingerprints) -> np.ndarray:
    """bool per order of ``fp``: stored with the same fingerprint."""
    if len(fp.order_id) == 0:
        return np.zeros(0, dtype=bool)
    t = ibis._
    stored = fetch_rows(
        db, "orders", "order_id", fp.order_id,
        {"order_id": t.order_id, "fp": t.source_fingerprint.fill_null(0)},
    )  # fmt: skip
    if stored.empty:
        return np.zeros(len(fp.order_id), dtype=bool)
    pos = pd.Index(stored["order_id"].to_numpy(dtype=np.int64)).get_indexer(fp.order_id)
    found = np.where(pos >= 0, stored["fp"].to_numpy(dtype=np.int64)[pos], 0)
    return found == fp.value


def without(raw: RawFile, keep: np.ndarray) -> RawFile:
    """``raw`` with only the records flagged in ``keep`` (their physical line numbers kept)."""
    idx = np.flatnonzero(keep)
    return dataclasses.replace(
        raw,
        frame=raw.frame.iloc[idx].reset_index(drop=True),
        lines=raw.lines[idx],
        field_counts=raw.field_counts[idx],
    )
