"""Where preferences live: one JSON file, ``data/preferences.json``, owner-only, replaced atomically.

Why a JSON file rather than SQLite: the preferences are small (a few MB at most: tallies for the
codes and wordings an organization has met, a few hundred rules), ranking reads them whole at once,
and every change (learning a gold file, importing a pack) replaces large parts together. Writing a new
file and renaming it over the old one makes each change all-or-nothing, so an import that fails at
any point leaves the preferences exactly as they were, with no transaction or migration machinery;
the same pydantic models describe the file and the pack's payload, and ``schema_version`` marks the
format for future migrations. Writers in several processes (the window and the CLI) are serialized
by a lock file.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from medcoder_desktop.core.preferences.records import PreferencesData
from medcoder_desktop.core.preferences.signing import save_preferences_file
from medcoder_desktop.errors import PreferencesError
from medcoder_desktop.paths import AppPaths

PREFS_FILE = "preferences.json"
MAX_STORE_BYTES = 200 * 1024 * 1024


class PreferenceStore:
    """Read and change one workstation's stored preferences."""

    def __init__(self, paths: AppPaths):
        self.paths = paths
        self.path = paths.data_dir / PREFS_FILE
        self._lock = threading.RLock()

    def exists(self) -> bool:
        return self.path.is_file()

    def version(self) -> tuple[int, int, int] | None:
        """Changes whenever the file is replaced (mtime, size, inode); None when there is no file."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def load(self) -> PreferencesData:
        """The stored preferences, or empty ones (with a new workstation id) when there are none yet.

        Raises:
            PreferencesError: the file is damaged, too large or made by a newer version.
        """
        with self._lock:
            try:
                if self.path.stat().st_size > MAX_STORE_BYTES:
                    raise PreferencesError(f"{self.path} is larger than {MAX_STORE_BYTES // 2**20} MB: it is "
                                           "not a preferences file medcoder wrote. Move it aside.")
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return PreferencesData(workstation=uuid.uuid4().hex[:16])
            except OSError as exc:
                raise PreferencesError(f"{self.path} cannot be read ({exc.strerror}).") from None
            try:
                return PreferencesData.model_validate_json(raw)
            except ValidationError as exc:
                version = _schema_version(raw)
                if isinstance(version, int) and version > 1:
                    raise PreferencesError(f"{self.path} was written by a newer version of medcoder "
                                           f"(schema {version}). Update medcoder to use it.") from None
                raise PreferencesError(f"{self.path} is damaged ({exc.error_count()} problems); move it aside "
                                       "and import the organization's pack again.") from None

    def save(self, data: PreferencesData) -> None:
        with self._lock:
            self.paths.ensure()
            save_preferences_file(self.path, data.model_dump_json().encode("utf-8"))

    @contextmanager
    def transaction(self) -> Iterator[PreferencesData]:
        """The preferences to change in place; saved when the block ends without an error, else untouched."""
        with self._lock, self._file_lock():
            data = self.load()
            yield data
            self.save(data)

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Serialize writers across processes (POSIX flock; Windows msvcrt)."""
        self.paths.ensure()
        lock_path = self.path.with_name(PREFS_FILE + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            except ImportError:  # Windows
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _schema_version(raw: bytes):
    import json

    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc.get("schema_version") if isinstance(doc, dict) else None


def file_digest(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
