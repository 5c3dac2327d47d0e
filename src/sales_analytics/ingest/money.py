"""Money as int64 cents: the text shown in messages and the exact Arrow decimal that is loaded."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def to_decimal(cents: np.ndarray) -> pa.Array:
    """int64 cents -> decimal128(12, 2), exactly."""
    whole = pa.array(np.asarray(cents, dtype=np.int64), pa.int64()).cast(pa.decimal128(19, 0))
    return pc.multiply(whole, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2))).cast(
        pa.decimal128(12, 2)
    )


def cents_strings(cents: np.ndarray) -> pd.Series:
    """Non-negative int64 cents -> "12.34" strings (vectorised)."""
    cents = np.asarray(cents, dtype=np.int64)
    whole = pd.Series(np.abs(cents) // 100).astype(str)
    frac = pd.Series(np.abs(cents) % 100).astype(str).str.zfill(2)
    return (whole + "." + frac).astype(object)


def cents_text(cents) -> str:
    """One amount in cents -> "-12.34"."""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
