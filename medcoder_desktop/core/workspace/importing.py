"""Read encounters from a folder of notes, a CSV file or a JSONL file.

The readers only parse and validate: each yields a :class:`NewEncounter` per good item and an
:class:`ImportIssue` per bad file, line or row, so one bad item never stops the rest. The
:class:`~medcoder_desktop.core.workspace.store.Workspace` stores what they yield (and reports
duplicate ids). Imported files are data: read as text, size-limited, never executed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from medcoder_desktop.core.notefile import MAX_NOTE_CHARS, validate_note
from medcoder_desktop.core.gold import MAX_GOLD_BYTES
from medcoder_desktop.core.notefile import MAX_NOTE_BYTES, decode_note
from medcoder_desktop.core.textfile import check_file, decode_text
from medcoder_desktop.core.models import MAX_ID_CHARS, EncounterDetails, ImportIssue
from medcoder_desktop.errors import InvalidInputError

NOTE_SUFFIXES = (".txt", ".md")
MAX_TABLE_BYTES = MAX_GOLD_BYTES  # a CSV or JSONL file of many encounters
DETAIL_FIELDS = ("age", "sex", "payer", "setting", "date_of_service")
TEXT_COLUMNS = ("text", "note")

# The csv module refuses fields over 131,072 characters by default; a note may have MAX_NOTE_CHARS, and a
# longer one must reach validate_note to get its clear message. (A process-wide setting, only ever raised.)
if csv.field_size_limit() < 4 * MAX_NOTE_CHARS:
    csv.field_size_limit(4 * MAX_NOTE_CHARS)


@dataclass
class NewEncounter:
    """One encounter read from a file, valid and ready to store."""

    id: str
    note: str
    details: EncounterDetails
    source_file: str
    line: int | None = None
    gold_codes: dict[str, list[str]] | None = None


Item = NewEncounter | ImportIssue


def validate_id(value: Any) -> str:
    """An encounter id as shown to the user: non-empty text, at most 200 characters, one line."""
    if isinstance(value, bool) or value is None:
        raise InvalidInputError("no encounter id")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidInputError("the encounter id must be text")
    text = value.strip()
    if not text:
        raise InvalidInputError("no encounter id")
    if len(text) > MAX_ID_CHARS:
        raise InvalidInputError(f"the encounter id has {len(text)} characters; at most {MAX_ID_CHARS}")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInputError("the encounter id contains control characters")
    return text


def _details_error(exc: ValidationError) -> str:
    # Name fields and reasons only: the values are whatever the file held.
    parts = []
    for e in exc.errors():
        field = ".".join(str(p) for p in e["loc"]) or "details"
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)


def _record(where: str, name: str, line: int | None, raw_id: Any, text: Any,
            details: dict[str, Any], gold: dict[str, list[str]] | None = None) -> Item:
    try:
        enc_id = validate_id(raw_id)
    except InvalidInputError as exc:
        return ImportIssue(file=name, line=line, message=f"{where}: {exc}; skipped.")
    if not isinstance(text, str) or not text.strip():
        return ImportIssue(file=name, line=line, message=f"{where}: encounter {enc_id} has no note text; skipped.")
    try:
        note = validate_note(text)
    except InvalidInputError as exc:
        return ImportIssue(file=name, line=line, message=f"{where}: encounter {enc_id}: {exc}")
    try:
        det = EncounterDetails.model_validate(details)
    except ValidationError as exc:
        return ImportIssue(file=name, line=line,
                           message=f"{where}: encounter {enc_id}: {_details_error(exc)}; skipped.")
    return NewEncounter(id=enc_id, note=note, details=det, source_file=name, line=line, gold_codes=gold)


# -- a folder of notes -----------------------------------------------------------------------------
def read_folder(folder: Path) -> Iterator[Item]:
    """One encounter per .txt/.md file of ``folder`` (not its subfolders), in name order; id = file stem.

    Raises:
        InvalidInputError: ``folder`` is not a folder.
    """
    if not folder.is_dir():
        raise InvalidInputError(f"{folder}: {'not a folder' if folder.exists() else 'no such folder'}.")
    found = False
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.is_dir():
            continue
        found = True
        if path.suffix.lower() not in NOTE_SUFFIXES:
            yield ImportIssue(file=path.name, message=f"{path.name}: not a .txt or .md note; skipped.")
            continue
        try:
            check_file(path, "note file")  # a pipe, a device, a broken link: said so, and skipped
        except InvalidInputError as exc:
            yield ImportIssue(file=path.name, message=f"{exc} Skipped.".replace(str(path), path.name))
            continue
        yield _read_note_file(path)
    if not found:
        yield ImportIssue(file=folder.name, message=f"{folder.name}: no .txt or .md notes in this folder "
                                                    "(subfolders are not read).")


def _read_note_file(path: Path) -> Item:
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_NOTE_BYTES:
            return ImportIssue(file=name, message=f"{name}: {size:,} bytes; a note may have at most "
                                                  f"{MAX_NOTE_BYTES:,}. Split it into its documents.")
        data = path.read_bytes()
    except OSError as exc:
        return ImportIssue(file=name, message=f"{name}: cannot be read ({exc.strerror}).")
    try:
        text = decode_note(data, name)
    except InvalidInputError as exc:
        return ImportIssue(file=name, message=str(exc))
    if "\x00" in text:  # decode_note looks for NUL bytes in the first 64 KiB only
        return ImportIssue(file=name, message=f"{name}: binary data, not a text note.")
    return _record(name, name, None, path.stem, text, {})


# -- CSV -------------------------------------------------------------------------------------------
def read_csv(path: Path) -> Iterator[Item]:
    """One encounter per row of a CSV file with a header: id, text (or note), and optional
    age, sex, payer, setting, date_of_service (other columns are ignored).

    Raises:
        InvalidInputError: ``path`` is not a file.
    """
    name = path.name
    data = _read_table_bytes(path)
    if isinstance(data, ImportIssue):
        yield data
        return
    try:
        text = decode_text(data, name).removeprefix("\ufeff")  # UTF-8, or UTF-16/32 ("Unicode text" exports)
    except InvalidInputError as exc:
        yield ImportIssue(file=name, message=f"{exc} Save the file as CSV UTF-8 and import it again.")
        return
    # The whole file is parsed before anything is stored: a quote left open (a file cut short, a stray ")
    # swallows the rest of the file into one field, and must not store a broken note.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    row_start = 1
    try:
        for row in reader:
            rows.append((row_start, row))
            row_start = reader.line_num + 1
    except csv.Error as exc:
        yield ImportIssue(file=name, line=row_start,
                          message=f"{name}, line {row_start}: unreadable CSV ({exc}): a quote is left open or a "
                                  "field is malformed. Nothing was imported from this file.")
        return
    if not rows or not rows[0][1]:
        yield ImportIssue(file=name, message=f"{name}: the file is empty; expected a header line with id and text.")
        return
    header = rows[0][1]
    columns = [h.strip().lower() for h in header]
    text_col = next((c for c in TEXT_COLUMNS if c in columns), None)
    if "id" not in columns or text_col is None:
        yield ImportIssue(file=name, line=1, message=f"{name}, line 1: the header must name an 'id' column and a "
                                                     "'text' (or 'note') column.")
        return
    index = {c: columns.index(c) for c in ("id", text_col, *DETAIL_FIELDS) if c in columns}
    for line, row in rows[1:]:
        if not row or all(not cell.strip() for cell in row):
            continue

        def cell(col: str, row: list[str] = row) -> str | None:
            i = index.get(col)
            return row[i] if i is not None and i < len(row) else None

        raw_id, note = cell("id"), cell(text_col)
        if raw_id is None or not raw_id.strip():
            yield ImportIssue(file=name, line=line, message=f"{name}, line {line}: no encounter id; skipped.")
            continue
        details = {f: cell(f) for f in DETAIL_FIELDS if cell(f) is not None}
        yield _record(f"{name}, line {line}", name, line, raw_id, note, details)


def _read_table_bytes(path: Path) -> bytes | ImportIssue:
    check_file(path, "file")  # a folder, a pipe or a device is named as such
    try:
        size = path.stat().st_size
        if size > MAX_TABLE_BYTES:
            return ImportIssue(file=path.name, message=f"{path.name}: larger than {MAX_TABLE_BYTES // 2**20} MB; "
                                                       "split it.")
        return path.read_bytes()
    except OSError as exc:
        return ImportIssue(file=path.name, message=f"{path.name}: cannot be read ({exc.strerror}).")


# -- JSONL -----------------------------------------------------------------------------------------
def read_jsonl(path: Path) -> Iterator[Item]:
    """One encounter per line: {"id", "text", optional age/sex/payer/setting/date_of_service}.
    Gold lines (DESIGN.md) are accepted: their ``codes``/``procedures`` are kept as gold codes.

    Raises:
        InvalidInputError: ``path`` is not a file.
    """
    name = path.name
    data = _read_table_bytes(path)
    if isinstance(data, ImportIssue):
        yield data
        return
    if not data.strip():
        yield ImportIssue(file=name, message=f"{name}: the file is empty; expected one JSON object a line.")
        return
    for lineno, line in _jsonl_lines(data, name):
        where = f"{name}, line {lineno}"
        if isinstance(line, ImportIssue):
            yield line
            continue
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ImportIssue(file=name, line=lineno, message=f"{where}: not valid JSON ({exc.msg}); skipped.")
            continue
        except RecursionError:
            yield ImportIssue(file=name, line=lineno, message=f"{where}: JSON nested too deeply; skipped.")
            continue
        if not isinstance(obj, dict):
            yield ImportIssue(file=name, line=lineno, message=f"{where}: expected a JSON object; skipped.")
            continue
        gold = _gold_codes(obj)
        if isinstance(gold, str):
            yield ImportIssue(file=name, line=lineno, message=f"{where}: {gold}; skipped.")
            continue
        note = obj.get("text", obj.get("note"))
        details = {f: obj[f] for f in DETAIL_FIELDS if f in obj}
        yield _record(where, name, lineno, obj.get("id"), note, details, gold)


def _jsonl_lines(data: bytes, name: str) -> Iterator[tuple[int, str | ImportIssue]]:
    """Numbered lines of a JSONL file: decoded whole (UTF-8, UTF-16/32); when UTF-8 fails, line by line, so that
    one line of bad bytes is reported and skipped."""
    try:
        text = decode_text(data, name).removeprefix("\ufeff")
    except InvalidInputError:
        text = None
    if text is not None:
        yield from enumerate(text.split("\n"), start=1)
        return
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        if b"\x00" in raw:
            yield lineno, ImportIssue(file=name, line=lineno,
                                      message=f"{name}, line {lineno}: binary data; expected a JSON object.")
            continue
        try:
            yield lineno, raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError:
            yield lineno, ImportIssue(file=name, line=lineno, message=f"{name}, line {lineno}: not UTF-8 text; skipped.")


def _gold_codes(obj: dict[str, Any]) -> dict[str, list[str]] | None | str:
    """Gold codes of a gold line, None for a plain line, or the reason they are unusable."""
    if "codes" not in obj and "procedures" not in obj:
        return None
    gold: dict[str, list[str]] = {}
    for key in ("codes", "procedures"):
        value = obj.get(key) or []
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            return f"'{key}' must be a list of codes"
        gold[key] = [c.strip() for c in value if c.strip()]
    return gold
