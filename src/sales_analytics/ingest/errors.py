"""The one exception type of the import: a bad input file, explained in one line."""

from __future__ import annotations


class IngestError(ValueError):
    """The input cannot be imported at all (missing file, not a CSV, missing columns, ...).

    Row-level problems never raise: they go to the reject file. The message is one line, meant to
    be printed as is by the CLI before it exits non-zero (a ``ValueError``, so the CLI's handler
    for user errors already covers it).
    """
