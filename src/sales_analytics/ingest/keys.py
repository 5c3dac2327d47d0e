"""Deterministic mapping of source keys (strings) onto the schema's BIGINT ids.

The rule, in one sentence: a key that is a plain integer of up to 18 digits (optionally written as a
float with a zero fraction, ``12345.0``) keeps its number; any other key becomes
``2**62 + (first 8 bytes of BLAKE2b(key) mod 2**62)``.

The two ranges are disjoint (plain ids are below ``10**18 < 2**62``; hashed ids are at or above
``2**62``), so a hashed key can never land on a real numeric id. BLAKE2b is part of the Python
standard library and fixed by RFC 7693, so the mapping does not change between runs, machines or
library versions: importing the same file again yields the same ids.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

HASH_BASE: int = 1 << 62
_HASH_MASK = np.uint64(HASH_BASE - 1)
_NUMERIC = r"(?:0|[1-9][0-9]{0,17})(?:\.0+)?"


def _blake(key: str) -> int:
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return HASH_BASE + (int.from_bytes(digest, "big") & (HASH_BASE - 1))


def _blake_many(keys: np.ndarray) -> np.ndarray:
    """:func:`_blake` of every key, as int64 (one digest call per key, the rest in numpy)."""
    blake = hashlib.blake2b
    digests = b"".join([blake(k.encode("utf-8"), digest_size=8).digest() for k in keys])
    first8 = np.frombuffer(digests, dtype=">u8").astype(np.uint64)
    return ((first8 & _HASH_MASK) | np.uint64(HASH_BASE)).astype(np.int64)


def stable_id(key: str) -> int:
    """The BIGINT id an import stores for source key ``key`` (surrounding spaces ignored).

    >>> stable_id("489434"), stable_id("12345.0")
    (489434, 12345)
    >>> stable_id("C489449") >= 2**62
    True
    """
    key = key.strip()
    if re.fullmatch(_NUMERIC, key):
        return int(key.split(".", 1)[0])
    return _blake(key)


def map_keys(keys: pd.Series) -> np.ndarray:
    """Vectorised :func:`stable_id` for a Series of stripped, non-empty key strings -> int64 ids.

    Plain integers are converted in bulk; BLAKE2b runs once per *distinct* non-numeric key.

    Raises
    ------
    ValueError
        If two different non-numeric keys in ``keys`` hash to the same id (probability about
        ``n**2 / 2**63``: 1e-7 for a million distinct keys).
    """
    keys = keys.astype("string[pyarrow]")
    out = np.zeros(len(keys), dtype=np.int64)
    numeric = keys.str.fullmatch(_NUMERIC).fillna(False).to_numpy(dtype=bool)
    if numeric.any():
        digits = keys[numeric].str.replace(r"\.0+$", "", regex=True)
        out[numeric] = digits.astype("int64").to_numpy()
    if (~numeric).any():
        codes, uniques = pd.factorize(keys[~numeric])
        hashed = _blake_many(np.asarray(uniques, dtype=object))
        if len(np.unique(hashed)) != len(hashed):
            raise ValueError("two different source keys hash to the same id")
        out[~numeric] = hashed[codes]
    return out


def mix_ids(base: np.ndarray, ordinal: np.ndarray) -> np.ndarray:
    """Deterministic ids in the hashed range for (``base``, ``ordinal``) pairs (splitmix64).

    Used for order_item_id = mix(order_id, position of the line within its order).
    """
    with np.errstate(over="ignore"):
        z = base.astype(np.uint64) ^ (ordinal.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z & _HASH_MASK) | np.uint64(HASH_BASE)).astype(np.int64)
