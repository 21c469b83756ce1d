"""Open the workspace's SQLite file: owner-only, WAL, busy timeout, foreign keys, migrated."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from medcoder_desktop.core.migrations import applied, migrate
from medcoder_desktop.core.workspace.schema import MIGRATIONS
from medcoder_desktop.errors import DatabaseLockedError, MedcoderError, WorkspaceError

DEFAULT_BUSY_TIMEOUT_MS = 5000


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and readable by its owner only, unless it exists already.

    SQLite would create the file with the umask's permissions; creating it first with 0o600 means it
    is never readable by others, not even briefly. SQLite gives its -wal and -shm files the same mode.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def is_locked(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in msg or "busy" in msg)


def translate_error(exc: sqlite3.Error, path: Path, busy_timeout_ms: int) -> MedcoderError:
    """The product's error for a SQLite error, with a message a coder or IT can act on."""
    if is_locked(exc):
        return DatabaseLockedError(
            f"The workspace {path} is in use by another program (another medcoder window?) and stayed busy "
            f"for more than {busy_timeout_ms / 1000:g} s. Nothing was saved: try again, or close the other "
            "program first."
        )
    if isinstance(exc, sqlite3.IntegrityError):
        return WorkspaceError(f"The workspace refused the change ({exc}). Nothing was saved.")
    msg = str(exc).lower()
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return WorkspaceError(
            f"{path} is not a usable workspace database (damaged, or another kind of file). "
            "Move it aside to start a new workspace, or restore it from a backup."
        )
    if "readonly" in msg or "unable to open" in msg or "disk i/o" in msg:
        return WorkspaceError(f"The workspace {path} cannot be written ({exc}). Check the folder's permissions "
                              "and free disk space.")
    return WorkspaceError(f"The workspace {path} cannot be used: {exc}.")


def open_database(path: Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> sqlite_utils.Database:
    """Open (creating and migrating when needed) the workspace at ``path``.

    The connection has ``check_same_thread=False``: the :class:`Workspace` serializes its use with a
    lock. Commits are durable (WAL, ``synchronous = full``).

    Raises:
        DatabaseLockedError: another program held the database beyond the busy timeout.
        WorkspaceError: the file is not a workspace, was made by a newer version, or cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        create_private_file(path)
    except OSError as exc:
        raise WorkspaceError(f"The workspace {path} cannot be created ({exc.strerror}). "
                             "Check the folder's permissions.") from exc
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, check_same_thread=False)
    except sqlite3.Error as exc:
        raise translate_error(exc, path, busy_timeout_ms) from exc
    try:
        conn.execute(f"pragma busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("pragma journal_mode = wal")
        conn.execute("pragma synchronous = full")
        conn.execute("pragma foreign_keys = on")
        db = sqlite_utils.Database(conn)
        names = [m.__name__ for m in MIGRATIONS]
        done = applied(db)
        unknown = [n for n in done if n not in names]
        if unknown:
            raise WorkspaceError(
                f"The workspace {path} was made by a newer version of medcoder (migration {unknown[0]}). "
                "Update medcoder to open it."
            )
        if len(done) < len(names):
            # Take the write lock first so that two windows opening a new workspace do not both migrate.
            conn.execute("begin immediate")
            migrate(db, MIGRATIONS)
            if conn.in_transaction:
                conn.commit()
    except sqlite3.Error as exc:
        conn.close()
        raise translate_error(exc, path, busy_timeout_ms) from exc
    except BaseException:
        conn.close()
        raise
    return db
