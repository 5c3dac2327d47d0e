"""Files that cannot be imported at all raise IngestError with one line; the database is untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sales_analytics.ingest import IngestError, import_csv
from sales_analytics.storage import Database, connect
from tests.ingest.conftest import GENERIC_HEADER, RETAIL_HEADER, rejects, table


@pytest.fixture
def memory_db() -> Iterator[Database]:
    database = connect("duckdb://")
    yield database
    database.close()


def _error(db: Database, path: Path, fmt: str = "generic", **kwargs) -> str:
    with pytest.raises(IngestError) as info:
        import_csv(db, path, fmt, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_file(memory_db, tmp_path):
    assert _error(memory_db, tmp_path / "nope.csv") == f"no such file: {tmp_path / 'nope.csv'}"


def test_a_directory(memory_db, tmp_path):
    assert _error(memory_db, tmp_path) == f"not a file: {tmp_path}"


def test_empty_file(memory_db, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert _error(memory_db, path) == f"{path} is empty"


def test_header_without_rows(memory_db, write_csv):
    path = write_csv(GENERIC_HEADER + "\n")
    assert _error(memory_db, path) == f"{path} has a header but no data rows"


def test_excel_workbook(memory_db, tmp_path):
    path = tmp_path / "online_retail_II.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(200))
    assert _error(memory_db, path, "online-retail") == (
        f"{path} is not a CSV file: it looks like a ZIP archive (an Excel .xlsx workbook?): "
        "save it as CSV first"
    )


def test_binary_file(memory_db, tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"order_id\x00\x01\x02" * 10)
    assert _error(memory_db, path) == f"{path} is not a CSV text file (it contains binary data)"


def test_missing_required_columns(memory_db, write_csv):
    path = write_csv("order_id,customer_id,order_date,product_id,qty,price\n1,2,2024-01-01,3,1,1\n")
    assert _error(memory_db, path) == (
        "missing required column(s) for --format generic: quantity, unit_price"
    )


def test_wrong_format_gets_a_hint(memory_db, write_csv):
    path = write_csv(f"{RETAIL_HEADER}\n1,2,x,1,2010-01-01 10:00:00,1.00,3,UK\n")
    assert _error(memory_db, path, "generic") == (
        "missing required column(s) for --format generic: order_id, order_date, product_id, "
        "unit_price; the header looks like --format online-retail"
    )


def test_unknown_format(memory_db, write_csv):
    path = write_csv(f"{GENERIC_HEADER}\n1,2,2024-01-01,3,1,1.00\n")
    assert (
        _error(memory_db, path, "json")
        == "unknown format 'json': use one of generic, online-retail"
    )


def test_column_twice_in_header(memory_db, write_csv):
    path = write_csv(f"{GENERIC_HEADER},quantity\n1,2,2024-01-01,3,1,1.00,1\n")
    assert _error(memory_db, path) == f"{path}: column 'quantity' appears twice in the header"


def test_two_spellings_of_one_column(memory_db, write_csv):
    path = write_csv(f"{GENERIC_HEADER},cost,unit_cost\n1,2,2024-01-01,3,1,1.00,0.5,0.5\n")
    assert _error(memory_db, path) == "columns 'cost' and 'unit_cost' both mean 'cost': keep one"


def test_not_utf8_unless_the_encoding_is_given(memory_db, tmp_path):
    path = tmp_path / "latin1.csv"
    text = f"{GENERIC_HEADER},product_name\n1,2,2024-01-01,3,1,1.00,Crème brûlée\n"
    path.write_bytes(text.encode("latin-1"))
    message = _error(memory_db, path)
    assert message.startswith(f"{path} is not valid utf-8 text (byte ")
    assert message.endswith("re-save it as UTF-8 or pass the file's encoding")

    result = import_csv(memory_db, path, "generic", encoding="latin-1")
    assert result.rejected == 0
    assert table(memory_db, "products")["product_name"].tolist() == ["Crème brûlée"]


def test_bad_bytes_after_the_first_64k_are_caught_too(memory_db, tmp_path):
    path = tmp_path / "late.csv"
    lines = "".join(f"{i},1,2024-01-01,3,1,1.00,Mug\n" for i in range(1, 5000))
    tail = b"9999,1,2024-01-01,3,1,1.00,caf\xe9\n"
    path.write_bytes(f"{GENERIC_HEADER},product_name\n{lines}".encode() + tail)
    message = _error(memory_db, path)
    assert message.startswith(f"{path} is not valid utf-8 text further down (")
    assert not memory_db.has_schema()


def test_byte_order_mark_and_header_spelling_are_tolerated(memory_db, tmp_path):
    path = tmp_path / "excel.csv"
    text = "Order ID,Customer_ID,ORDER DATE,product-id,Quantity,Unit Price\r\n1,2,2024-01-01,3,1,1.00\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = import_csv(memory_db, path, "generic")
    assert (result.rejected, result.loaded["orders"]) == (0, 1)


def test_reject_file_may_not_overwrite_the_input(memory_db, write_csv):
    path = write_csv(f"{GENERIC_HEADER}\n1,2,2024-01-01,3,1,1.00\n")
    assert _error(memory_db, path, reject_path=path) == (
        f"the reject file {path} would overwrite the input"
    )


def test_the_schema_is_created_when_missing_and_unknown_columns_are_reported(memory_db, write_csv):
    assert not memory_db.has_schema()
    path = write_csv(f"{GENERIC_HEADER},coupon\n1,2,2024-01-01,3,1,1.00,XMAS\n")
    result = import_csv(memory_db, path, "generic")
    assert memory_db.has_schema()
    assert result.ignored_columns == ("coupon",)
    assert result.reject_path == path.with_name("export.rejects.csv")
    assert rejects(result) == {}  # written, header only: never a stale file from an older run
