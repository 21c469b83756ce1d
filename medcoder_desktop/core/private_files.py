"""Files only their owner may read, written so that a failure never leaves half a file."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8, newlines untouched) to ``path`` atomically: a temporary file beside it,
    owner-only (0o600) from its creation, fsynced, then renamed into place.

    Raises:
        OSError: the folder is missing or cannot be written (the temporary file is removed).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)  # O_CREAT keeps the mode of a stale temp file left by a crash
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
