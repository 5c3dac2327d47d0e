"""Rows already in the database for the keys of a file (read once per table, per import)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_analytics.storage import Database

#: Up to this many keys are looked up with an ``IN`` list; more are read by their key range.
ISIN_LIMIT = 5_000


def fetch_rows(
    db: Database, table: str, key: str, values: np.ndarray, columns: dict
) -> pd.DataFrame:
    """Rows of ``table`` whose ``key`` is in ``values``, with the given (named) ibis columns.

    Few values: an ``IN`` list. Many: integer keys are narrowed to their range in the database,
    then filtered here, which beats a huge ``IN`` list or a temporary table on both backends.
    """
    values = pd.unique(pd.Series(values).dropna())
    if len(values) == 0:
        return pd.DataFrame(columns=list(columns))
    t = db.table(table)
    few = len(values) <= ISIN_LIMIT
    if few:
        t = t.filter(t[key].isin(values.tolist()))
    elif np.issubdtype(values.dtype, np.integer):
        t = t.filter(t[key].between(int(values.min()), int(values.max())))
    frame = t.select(**columns).to_pandas()
    if not few:
        frame = frame[frame[key].isin(values)]
    return frame.reset_index(drop=True)
