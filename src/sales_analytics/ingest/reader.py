"""Read a CSV export into string columns, remembering the physical line where each record starts.

Fast path: pyarrow's multithreaded reader. When every physical line of the file is exactly one
record (no blank lines, no line breaks inside quoted values, no rows with the wrong number of fields),
record ``i`` starts on line ``i + 2``. Otherwise the file is read again with the standard library's
``csv`` module, which reports the line where every record starts; that slower path only runs for
files that need it.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from sales_analytics.ingest.errors import IngestError

STRING = pd.StringDtype("pyarrow")
_SNIFF = 64 << 10
_CHUNK = 16 << 20
_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook?): save it as CSV first",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook: save it as CSV first",
    b"PAR1": "a Parquet file",
    b"\x1f\x8b": "a gzip archive: decompress it first",
}


@dataclass(frozen=True)
class RawFile:
    """The records of a CSV file as strings, exactly as written (not stripped).

    ``frame`` has a column per header name, or only the columns a reader asked for (``keep`` of
    :func:`read_csv_file`); :meth:`records` gives whole records either way.
    """

    path: Path
    header: list[str]
    frame: pd.DataFrame  # one column per header name (or the kept ones), string dtype, "" = empty
    lines: np.ndarray  # int64: 1-based physical line where each record starts (header = line 1)
    field_counts: np.ndarray  # int64: number of fields each record really had
    encoding: str = "utf-8-sig"

    def records(self, idx: np.ndarray) -> pd.DataFrame:
        """The records at positions ``idx`` with every column of the header, as written.

        A frame of kept columns only was read by the fast path (one physical line per record),
        so the other columns are read again from just those lines of the file.
        """
        if list(self.frame.columns) == self.header:
            return self.frame.iloc[idx].reset_index(drop=True)
        wanted = {int(line): i for i, line in enumerate(self.lines[idx])}
        rows: list[list[str]] = [[] for _ in wanted]
        width = len(self.header)
        with self.path.open(newline="", encoding=self.encoding) as fh:
            for number, text in enumerate(fh, start=1):
                if number in wanted:
                    fields = next(csv.reader([text]), [])
                    rows[wanted[number]] = (fields + [""] * width)[:width]
        return pd.DataFrame(rows, columns=self.header, dtype=object)


def read_csv_file(
    path: str | Path,
    encoding: str = "utf-8",
    *,
    keep: Callable[[list[str]], Iterable[str]] | None = None,
) -> RawFile:
    """Read ``path``; raise :class:`IngestError` with a one-line reason if it is not a usable CSV.

    ``keep(header)`` names the columns to hold in memory (the others are read again for rejected
    records only, :meth:`RawFile.records`); default all.
    """
    path = Path(path)
    if not path.exists():
        raise IngestError(f"no such file: {path}")
    if not path.is_file():
        raise IngestError(f"not a file: {path}")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise IngestError(f"unknown encoding {encoding!r}") from None
    if codec == "utf-8":
        encoding = "utf-8-sig"  # tolerate a byte-order mark
    _sniff(path, encoding, codec)
    header = _header(path, encoding)
    kept = list(dict.fromkeys(keep(header))) if keep is not None else header
    table, invalid_rows = _read_arrow(path, encoding, header, kept)
    n = table.num_rows
    single_byte_newlines = codec in ("utf-8", "ascii", "iso8859-1", "cp1252")
    if not invalid_rows and single_byte_newlines and _physical_lines(path) == n + 1:
        frame = table.to_pandas(types_mapper={pa.string(): STRING}.get)
        frame.columns = kept
        lines = np.arange(2, n + 2, dtype=np.int64)
        counts = np.full(n, len(header), dtype=np.int64)
    else:
        frame, lines, counts = _read_exact(path, encoding, header)
    if len(frame) == 0:
        raise IngestError(f"{path} has a header but no data rows")
    return RawFile(
        path=path, header=header, frame=frame, lines=lines, field_counts=counts, encoding=encoding
    )


def _sniff(path: Path, encoding: str, codec: str) -> None:
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    if not head.strip():
        raise IngestError(f"{path} is empty")
    for magic, what in _SIGNATURES.items():
        if head.startswith(magic):
            raise IngestError(f"{path} is not a CSV file: it looks like {what}")
    if b"\x00" in head and not codec.startswith(("utf-16", "utf-32")):
        raise IngestError(f"{path} is not a CSV text file (it contains binary data)")
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path} is not valid {codec} text (byte {exc.start}): re-save it as UTF-8 "
            "or pass the file's encoding"
        ) from None


def _header(path: Path, encoding: str) -> list[str]:
    with path.open(newline="", encoding=encoding) as fh:
        first = next(csv.reader(fh), [])
    names = [name.strip() for name in first]
    if not any(names):
        raise IngestError(f"{path}: line 1 is empty, expected a header with column names")
    names = [name or f"unnamed_{i + 1}" for i, name in enumerate(names)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise IngestError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
    return names


def _read_arrow(
    path: Path, encoding: str, header: list[str], kept: list[str]
) -> tuple[pa.Table, list]:
    invalid: list = []

    def on_invalid(row) -> str:
        invalid.append(row)
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                skip_rows=1, column_names=names, encoding=encoding.replace("-sig", "")
            ),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[header.index(k)] for k in kept],
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "invalid UTF8" in reason or isinstance(exc, UnicodeDecodeError):
            raise IngestError(
                f"{path} is not valid {encoding.replace('-sig', '')} text further down "
                f"({reason}): re-save it as UTF-8 or pass the file's encoding"
            ) from None
        raise IngestError(f"{path} cannot be parsed as CSV: {reason}") from None
    return table, invalid


def _physical_lines(path: Path) -> int:
    count, last = 0, b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (1 if last not in (b"\n", b"") else 0)


def _read_exact(path: Path, encoding: str, header: list[str]):
    width = len(header)
    columns: list[list[str]] = [[] for _ in range(width)]
    lines: list[int] = []
    counts: list[int] = []
    pad = [""] * width
    try:
        with path.open(newline="", encoding=encoding) as fh:
            reader = csv.reader(fh)
            next(reader, None)
            start = reader.line_num + 1
            for record in reader:
                if record:  # [] is a blank line: not a record
                    lines.append(start)
                    counts.append(len(record))
                    fields = record[:width] if len(record) >= width else record + pad[len(record) :]
                    for col, value in zip(columns, fields, strict=True):
                        col.append(value)
                start = reader.line_num + 1
    except (UnicodeDecodeError, csv.Error) as exc:
        raise IngestError(f"{path} cannot be parsed as CSV: {exc}") from None
    frame = pd.DataFrame(
        {name: pd.array(col, dtype=STRING) for name, col in zip(header, columns, strict=True)}
    )
    return frame, np.asarray(lines, dtype=np.int64), np.asarray(counts, dtype=np.int64)
