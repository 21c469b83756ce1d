"""Files only their owner may read, written so that a failure never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8, newlines untouched) to ``path`` atomically: a temporary file beside it,
    owner-only (0o600) from its creation, fsynced, then renamed into place.

    Raises:
        OSError: the folder is missing or cannot be written (the temporary file is removed).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    # mkstemp: a name of its own for each writer (two threads may save the same file), created 0o600.
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def place_private(tmp: Path, path: Path) -> None:
    """Move a finished file (built, copied or downloaded beside ``path``) into place, owner-only, atomically.

    The rename is atomic on one file system: readers see the old file or the new one, never half of one.
    """
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
