"""Helpers for the import tests: CSV files written into tmp_path, reject files and tables read back."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from sales_analytics.ingest import ImportResult
from sales_analytics.storage import Database

GENERIC_HEADER = "order_id,customer_id,order_date,product_id,quantity,unit_price"
RETAIL_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """``write_csv(text, name=...)``: the dedented text as a file; header = line 1."""

    def write(text: str, name: str = "export.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding=encoding)
        return path

    return write


def rejects(result: ImportResult) -> dict[int, str]:
    """line -> reason, from the reject file the import wrote."""
    frame = pd.read_csv(result.reject_path, dtype=str, keep_default_na=False)
    return dict(zip(frame["line"].astype(int), frame["reason"], strict=True))


def table(db: Database, name: str, order_by: str | None = None) -> pd.DataFrame:
    frame = db.table(name).to_pandas()
    key = order_by or frame.columns[0]
    return frame.sort_values(key, ignore_index=True)


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
