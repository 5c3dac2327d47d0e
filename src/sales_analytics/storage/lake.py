"""The Spark lake on disk: versions of Parquet tables and an atomic ``_current`` pointer.

A lake at ``PATH`` holds::

    PATH/_current            the name of the served version (one line; replaced with os.replace)
    PATH/_lock               the writer lock (fcntl.flock: one writer at a time)
    PATH/v000007-1a2b3c/     one version: a folder per table and per materialized copy,
        customers/ products/ ...              Parquet files written by Spark
        orders/order_month=2024-05/...        orders and order_items partitioned by order month
        mv_customer_summary/ ...              the catalogue's materialized copies
        _sa_meta.json                         data version, row counts, copies and their digests

A write never changes the served version: it makes a new version folder (an append first links
the previous version's table files into it: Parquet files are never modified, so a hard link is a
free copy), writes, checks and materializes there, writes the meta file, fsyncs and only then
replaces ``_current`` (atomic on POSIX). A kill at any step leaves ``_current`` pointing at the
old, complete version; the next writer removes the leftover folder. The previous version is kept
for readers still reading it; older ones are removed by the next write.

This module is plain files; :mod:`~sales_analytics.storage.spark` does the Spark side.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sales_analytics.storage.errors import StorageError
from sales_analytics.storage.filelock import LOCK_TIMEOUT, exclusive_lock

POINTER = "_current"
LOCK = "_lock"
META = "_sa_meta.json"
#: partition column of the tables partitioned by the month of their order
MONTH = "order_month"


@dataclass
class Meta:
    """What a version records besides its tables (the data version only ever grows)."""

    version: int = 0
    committed_at: str | None = None  # ISO, UTC, no offset
    kind: str | None = None
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    #: copy table -> digest of its compiled definition
    materialized: dict[str, str] = field(default_factory=dict)
    refreshed_at: str | None = None

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=1, sort_keys=True)

    @classmethod
    def read(cls, path: Path) -> Meta:
        return cls(**json.loads(path.read_text()))


class Lake:
    """The lake folder at ``root`` (files only: which version is served, writing a new one)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"<Lake {self.root}>"

    # ------------------------------------------------------------------ reading
    def current_name(self) -> str | None:
        """The served version's folder name, None before the first write."""
        try:
            name = (self.root / POINTER).read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def current(self) -> Path | None:
        name = self.current_name()
        if name is None:
            return None
        folder = self.root / name
        if not (folder / META).is_file():
            raise StorageError(f"the Spark lake at {self.root} is damaged: {folder} has no {META}")
        return folder

    def meta(self, folder: Path | None = None) -> Meta:
        folder = folder if folder is not None else self.current()
        return Meta() if folder is None else Meta.read(folder / META)

    # ------------------------------------------------------------------ writing
    @contextmanager
    def writer(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Hold the writer lock (wait up to ``timeout`` s, then a one-line StorageError)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.root / LOCK, f"the Spark lake {self.root}", timeout):
            yield

    def new_version(self, version: int) -> Path:
        """A new, empty version folder (not served until :meth:`commit`)."""
        folder = self.root / f"v{version:06d}-{secrets.token_hex(3)}"
        folder.mkdir(parents=True)
        return folder

    def link_tables(self, source: Path, target: Path, names: list[str]) -> None:
        """Give ``target`` the files of tables ``names`` of version ``source`` (hard links;
        a copy where the file system has none)."""
        for name in names:
            top = source / name
            if not top.is_dir():
                continue
            for dirpath, _dirs, files in os.walk(top):
                rel = Path(dirpath).relative_to(source)
                (target / rel).mkdir(parents=True, exist_ok=True)
                for f in files:
                    if f.startswith((".", "_")):  # Spark's _SUCCESS and .crc files
                        continue
                    src, dst = Path(dirpath) / f, target / rel / f
                    try:
                        os.link(src, dst)
                    except OSError:
                        shutil.copy2(src, dst)

    def commit(self, folder: Path, meta: Meta, pause=lambda step: None) -> None:
        """Write ``folder``'s meta, fsync, and make it the served version (atomic)."""
        (folder / META).write_text(meta.to_json())
        _fsync_tree(folder)
        pause("before_commit")
        tmp = self.root / f"{POINTER}.{os.getpid()}.tmp"
        tmp.write_text(folder.name + "\n")
        _fsync(tmp)
        pause("before_swap")
        os.replace(tmp, self.root / POINTER)
        _fsync(self.root, directory=True)

    def collect(self, keep: int = 2) -> None:
        """Remove leftovers of killed writers and all but the ``keep`` newest committed
        versions (a reader still on the previous one keeps working). Call holding the lock."""
        current = self.current_name()
        for tmp in self.root.glob(f"{POINTER}.*.tmp"):
            tmp.unlink(missing_ok=True)
        versions = sorted(p for p in self.root.glob("v*") if p.is_dir())
        if current is None:
            doomed = versions
        else:
            committed = [p for p in versions if (p / META).is_file() and p.name <= current]
            kept = {p.name for p in committed[-keep:]} | {current}
            doomed = [p for p in versions if p.name not in kept]
        for p in doomed:
            shutil.rmtree(p, ignore_errors=True)

    def discard(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """fsync every file and folder under ``folder`` (the data is on disk before the switch)."""
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            _fsync(Path(dirpath) / f)
        _fsync(Path(dirpath), directory=True)
