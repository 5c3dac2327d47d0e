"""One exclusive writer lock on a file (``fcntl.flock``), shared by the DuckDB file and the Spark lake.

A second writer polls until ``timeout`` seconds have passed, then gets a one-line
:class:`StorageError` naming the process that holds the lock. The lock file records the holder's
pid; the kernel releases the lock when the holder closes it or is killed.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sales_analytics.storage.errors import StorageError

#: how long a writer waits for another one to finish before it gives up (seconds)
LOCK_TIMEOUT = 300.0
#: how often a waiting writer tries again (seconds)
POLL = 0.05


@contextmanager
def exclusive_lock(lock: Path, what: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive lock on the file ``lock`` (created if missing) for a write to ``what``.

    Waits up to ``timeout`` s for another holder, then raises ``StorageError("another write to
    <what> is still running (process <pid>, lock <lock>); waited <timeout> s: nothing was changed,
    try again later")``.
    """
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                    raise StorageError(
                        f"another write to {what} is still running (process {holder}, lock "
                        f"{lock}); waited {timeout:g} s: nothing was changed, try again later"
                    ) from None
                time.sleep(POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock (so does the kernel when the writer is killed)
