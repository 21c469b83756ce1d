"""One writer of the dictionary at a time per data folder: builds and imports take a file lock.

Several medcoder processes starting on a fresh data folder would each build a whole dictionary (five
builds, five times the disk and the time); with the lock the first builds and the others wait, then open
the file it made. A second import waits for the first instead of failing on a locked database. Readers
never take this lock: a build writes beside the dictionary and renames it into place, so they read the
last complete file meanwhile.

``filelock`` (already installed with huggingface-hub) handles the platforms' locking calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from medcoder_desktop.core.progress import Progress
from medcoder_desktop.errors import BusyError



def lock_wait_seconds() -> float:
    """How long to wait for another medcoder's build or import (MEDCODER_LOCK_WAIT, default 10 minutes)."""
    try:
        return max(0.0, float(os.environ.get("MEDCODER_LOCK_WAIT", "600")))
    except ValueError:
        return 600.0


def lock_path(db_path: Path) -> Path:
    return Path(db_path).with_name(f".{Path(db_path).name}.lock")


@contextmanager
def dictionary_writer(db_path: Path, progress: Progress, what: str) -> Iterator[bool]:
    """Hold the dictionary's writer lock for the block; yields True when it had to wait for another writer
    (the caller then looks again at what that writer left, e.g. a dictionary that now exists).

    Raises:
        BusyError: another writer kept the lock longer than ``lock_wait_seconds()``.
    """
    Path(db_path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = FileLock(str(lock_path(db_path)), mode=0o600)
    waited = False
    try:
        lock.acquire(timeout=0)
    except Timeout:
        waited = True
        wait = lock_wait_seconds()
        progress(f"waiting for another medcoder to finish with the code dictionary (build or import), "
                 f"up to {wait:.0f} s", 0.0)
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise BusyError(f"Another medcoder is still building or importing into the code dictionary after "
                            f"{wait:.0f} s; {what} was not started. Try again when it has finished.") from None
    try:
        yield waited
    finally:
        lock.release()
