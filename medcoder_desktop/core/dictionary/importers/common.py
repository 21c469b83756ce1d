"""What every importer shares: reading a file safely and writing it in one transaction."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from medcoder_desktop.core.dictionary.search_index import write_search_index
from medcoder_desktop.core.dictionary.store import connect
from medcoder_desktop.core.clock import now
from medcoder_desktop.core.progress import Progress, quiet
from medcoder_desktop.core.textfile import check_file, decode_text, sniff_encoding
from medcoder_desktop.errors import BusyError, ImportFileError

MAX_BYTES = 50 * 1024 * 1024  # the largest CMS file we import (Index XML) is about 15 MB
YEAR = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")


def fail(file: Path, where: str, message: str) -> ImportFileError:
    """An error that names the file and the place in it (``line 12`` or an XML element path)."""
    return ImportFileError(f"Cannot import {file} ({where}): {message} Nothing was changed.")


@dataclass
class FileData:
    """A file read whole into memory, with its fingerprint."""

    path: Path
    raw: bytes
    text: str
    encoding: str
    sha256: str


def line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def read_file(file: Path, *, encodings: tuple[str, ...] = ("utf-8",)) -> FileData:
    """Read and check a file before anything is parsed: size, type, binary content, encoding.

    ``encodings`` are tried in order; the first that decodes the whole file wins.
    """
    file = Path(file)

    def refused(message: str) -> ImportFileError:
        return ImportFileError(f"Cannot import {message.rstrip('.')}. Nothing was changed.")

    size = check_file(file, "code-set file", refused)  # a folder, a pipe or a device is named as such
    if size > MAX_BYTES:
        raise ImportFileError(
            f"Cannot import {file}: it is {size / 1e6:.1f} MB; the limit is {MAX_BYTES // 2**20} MB. "
            "Check that this is the right file."
        )
    try:
        with file.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ImportFileError(f"Cannot import {file}: it cannot be read ({exc.strerror}).") from exc
    if len(raw) > MAX_BYTES:
        raise ImportFileError(f"Cannot import {file}: it grew past {MAX_BYTES // 2**20} MB while it was read.")
    if not raw.strip():
        raise fail(file, "line 1", "the file is empty.")
    sniffed = sniff_encoding(raw)
    if sniffed and sniffed[0] != "utf-8":  # UTF-16/32 (Excel's "Unicode text", Notepad): decoded, not refused
        text = decode_text(raw, str(file), ImportFileError)
        return FileData(file, raw, text, sniffed[0], hashlib.sha256(raw).hexdigest())
    nul = raw.find(b"\x00")
    if nul >= 0:  # text formats never hold NUL: this is a binary file (zip, xlsx, pdf...)
        raise fail(file, f"line {line_of(raw, nul)}", "this is a binary file, not a text file. "
                   "Unzip the download first, or export the spreadsheet as CSV.")
    first_error: UnicodeDecodeError | None = None
    for enc in encodings:
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    else:
        assert first_error is not None
        raise fail(file, f"line {line_of(raw, first_error.start)}",
                   f"the file is not UTF-8 text (byte 0x{raw[first_error.start]:02X}). "
                   "Save it again as UTF-8.")
    text = text.removeprefix("\ufeff")  # Excel and Notepad write a byte-order mark
    return FileData(file, raw, text, enc, hashlib.sha256(raw).hexdigest())


def year_in(name: str) -> str | None:
    m = YEAR.search(name)
    return m.group(1) if m else None


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    extra: dict = field(default_factory=dict)  # kind-specific numbers for the meta record


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def write_import(
    db_path: Path,
    kind: str,
    data: FileData,
    version: str,
    body: Callable[[sqlite_utils.Database], Counts],
    progress: Progress = quiet,
) -> Counts:
    """Run ``body`` and the search-index rebuild in one transaction, then record the import in meta.

    Any failure rolls everything back, so the dictionary stays exactly as it was.
    """
    db = connect(db_path)
    try:
        try:
            with db.conn:
                # Take the write lock first: a second writer fails here, before any work is done.
                db.conn.execute("begin immediate")
                counts = body(db)
                progress("Rebuilding the search index", 0.7)
                write_search_index(db)
                record = {
                    "file": data.path.name, "sha256": data.sha256, "imported_at": now(),
                    "version": version, "encoding": data.encoding, "added": counts.added,
                    "updated": counts.updated, "skipped": counts.skipped, **counts.extra,
                }
                db.conn.execute(
                    "insert or replace into meta (key, value) values (?, ?)",
                    [f"import.{kind}", json.dumps(record, sort_keys=True)],
                )
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise BusyError(
                    f"The code dictionary {db_path} is in use by another program (a build or another "
                    "import). Try again when it has finished. Nothing was changed."
                ) from exc
            raise
    except BaseException:
        db.conn.close()
        _roll_back_hot_journal(db_path)
        raise
    else:
        db.conn.close()
    return counts


def _roll_back_hot_journal(db_path: Path) -> None:
    """After a failed write (a full disk), SQLite may leave the rollback journal for the next reader to apply;
    apply it now, so that the file is byte for byte what it was before the import."""
    try:
        again = sqlite3.connect(db_path, timeout=2)
        try:
            again.execute("select count(*) from sqlite_master").fetchone()
        finally:
            again.close()
    except sqlite3.Error:
        pass  # the next reader applies it


def replace_codes(db: sqlite_utils.Database, system: str, rows: list[tuple], notes: list[tuple],
                  code_set: dict) -> Counts:
    """Replace every code (and note) of ``system`` with ``rows``; upsert its ``code_sets`` row.

    Rows are (code, title, billable, level, parent, version, source, seq); notes (code, kind, seq, text).
    """
    old = {r[0] for r in db.conn.execute("select code from codes where system = ?", [system])}
    db.conn.execute("delete from notes where system = ?", [system])
    db.conn.execute("delete from codes where system = ?", [system])
    # Plain executemany: sqlite-utils' insert_all commits on its own, which would break atomicity.
    db.conn.executemany(
        "insert into codes (system, code, title, billable, level, parent, version, source, seq) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(system, *r) for r in rows],
    )
    db.conn.executemany(
        "insert into notes (system, code, kind, seq, text) values (?, ?, ?, ?, ?)",
        [(system, *n) for n in notes],
    )
    db.conn.execute(
        "insert or replace into code_sets (system, version, source, loaded_at, codes) values (?, ?, ?, ?, ?)",
        [system, code_set["version"], code_set["source"], now(), len(rows)],
    )
    new = {r[0] for r in rows}
    return Counts(added=len(new - old), updated=len(new & old), extra={"removed": len(old - new)})
