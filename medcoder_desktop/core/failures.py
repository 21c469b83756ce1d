"""Turn failures of the machine (disk, permissions, locks, hostile input) into the product's errors.

The CLI and the window call :func:`user_error` on anything that is not already a ``MedcoderError``, so a
read-only data folder, a full disk, a database another program holds, or input nested too deeply gives
one clear line (and a documented exit code) instead of a traceback. Messages name paths and reasons only:
never note text.
"""

from __future__ import annotations

import errno
import sqlite3

from medcoder_desktop.errors import BusyError, InvalidInputError, MedcoderError, StorageError

_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


def user_error(exc: BaseException) -> MedcoderError | None:
    """The user-facing error for ``exc``, or None when it is a bug (then say so, briefly)."""
    if isinstance(exc, MedcoderError):
        return exc
    if isinstance(exc, sqlite3.OperationalError):
        msg = str(exc).lower()
        if "locked" in msg or "busy" in msg:
            return BusyError("The code dictionary or the workspace is in use by another medcoder (a build or an "
                             "import) and stayed busy too long. Try again when it has finished.")
        if "full" in msg:
            return StorageError("The disk is full: nothing was changed. Free some space and try again.")
        if "readonly" in msg or "read-only" in msg:
            return StorageError("The data folder is read-only: medcoder cannot save there. Set MEDCODER_HOME to "
                                "a folder you can write, or ask IT for write access.")
        if "unable to open" in msg:
            return StorageError("A database of the data folder cannot be opened (missing permission or a "
                                "read-only folder). Set MEDCODER_HOME to a folder you can write.")
        if "disk i/o" in msg:
            return StorageError("A disk error stopped the operation (disk full or failing); nothing was "
                                "changed. Free some space or check the disk, then try again.")
        return None
    if isinstance(exc, sqlite3.DatabaseError):
        return StorageError(f"A database of the data folder is damaged ({exc}). Rebuild the dictionary with "
                            "`medcoder codes build --force`; restore the workspace from a backup.")
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno in _FULL:
            return StorageError(f"The disk is full{where}: nothing was changed. Free some space and try again.")
        if exc.errno in _READ_ONLY:
            return StorageError(f"Cannot write{where}: the folder is read-only or not yours. Set MEDCODER_HOME "
                                "to a folder you can write, or ask IT for write access.")
        return StorageError(f"A file operation failed{where}: {exc.strerror or exc}.")
    if isinstance(exc, RecursionError):
        return InvalidInputError("The input is nested too deeply to be read (hostile or damaged JSON).")
    if isinstance(exc, MemoryError):
        return InvalidInputError("The input is too large to be held in memory; split it into smaller files.")
    return None
