"""DuckDB files: readers open the served file read-only, a writer writes a copy and swaps it in.

A DuckDB file open read-write is locked against every other process, readers included. So no
process ever opens the served file read-write: a write takes the writer lock (``<file>.lock``,
``fcntl.flock``: a second writer waits, then fails with a clear message), copies the served file
to ``<file>.sa-write`` in the same folder, runs its ONE transaction there, checkpoints and closes
it, fsyncs it and swaps it in with ``os.replace`` (atomic on POSIX), then fsyncs the folder.

A reader keeps its snapshot (the old inode) until it reopens; ``Database.changed_on_disk`` tells
it a newer file is there. A writer killed at any step leaves the served file untouched; its
leftover ``.sa-write`` file is removed by the next write. Cost: one copy of the file per write.

Every DuckDB file is opened through an in-memory DuckDB with the file ATTACHed read-only as
:data:`CATALOG`: DuckDB caches one instance per path in a process, so ``duckdb.connect(path)``
would hand a reopening reader the old file again; an ATTACH opens the file that is there now.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sales_analytics.storage.errors import StorageError, first_line
from sales_analytics.storage.faults import pauser
from sales_analytics.storage.filelock import LOCK_TIMEOUT, exclusive_lock

if TYPE_CHECKING:
    from sales_analytics.storage.connection import Database

#: the name the served file is attached under in a Database's in-memory DuckDB
CATALOG = "served"
TMP_SUFFIX = ".sa-write"
LOCK_SUFFIX = ".lock"
#: DuckDB's memory for a write (its buffer pool: sorts, joins and the key checks spill to a
#: temporary folder next to the file beyond it)
WRITE_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class FileStamp:
    """What identifies one version of the file: a swap makes a new inode."""

    device: int
    inode: int
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return cls(st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def attach(con: Any, path: Path) -> FileStamp | None:
    """(Re)attach the file at ``path`` read-only as :data:`CATALOG` and make it current.

    Returns the stamp of the file attached (taken before: a swap in between only makes the reader
    reopen once more), None when there is no file (the connection then stays on its empty memory).
    """
    stamp = FileStamp.of(path)
    con.execute("USE memory")
    con.execute(f"DETACH DATABASE IF EXISTS {CATALOG}")
    if stamp is None:
        return None
    try:
        con.execute(f"ATTACH {_quote(path)} AS {CATALOG} (READ_ONLY)")
    except Exception as exc:  # noqa: BLE001 - not a DuckDB file, unreadable, ...
        raise StorageError(f"cannot open DuckDB file {path}: {first_line(exc)}") from exc
    con.execute(f"USE {CATALOG}")
    return stamp


@contextmanager
def writer_lock(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive writer lock of the DuckDB file ``path`` (wait up to ``timeout`` s)."""
    with exclusive_lock(path.with_name(path.name + LOCK_SUFFIX), str(path), timeout):
        yield


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def file_transaction(db: Database, timeout: float = LOCK_TIMEOUT) -> Iterator[Any]:
    """A cursor inside BEGIN ... COMMIT on a copy of ``db``'s DuckDB file, swapped in on success.

    Anything raised (or a kill) leaves the served file as it was. ``db`` reattaches the new file.
    """
    import duckdb

    path = Path(db.parsed.path)
    if path.is_dir():
        raise StorageError(f"{path} is a directory, not a DuckDB file")
    path.parent.mkdir(parents=True, exist_ok=True)  # a writer may create the file
    pause = pauser()
    with writer_lock(path, timeout):
        tmp = path.with_name(path.name + TMP_SUFFIX)
        _remove(tmp)  # left by a writer that was killed
        wal = path.with_name(path.name + ".wal")
        if path.exists():
            shutil.copyfile(path, tmp)
            if wal.exists():  # left by an older version that wrote in place
                shutil.copyfile(wal, tmp.with_name(tmp.name + ".wal"))
        done = False
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(f"SET memory_limit = '{WRITE_MEMORY_LIMIT}'")  # spills beyond it
            with db.dialect.transaction(con) as cur:  # BEGIN ... COMMIT, ROLLBACK on anything
                yield cur
            con.execute("CHECKPOINT")
            done = True
        finally:
            con.close()
            if not done:
                _remove(tmp)
        _fsync(tmp)
        pause("before_swap")
        os.replace(tmp, path)
        wal.unlink(missing_ok=True)  # its changes are in the new file
        _fsync(path.parent, directory=True)
    db.reopen()
