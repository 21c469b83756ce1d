"""Read a note from a file or standard input: text only, size-limited, with clear errors."""

from __future__ import annotations

from pathlib import Path

from medcoder_desktop.errors import InvalidInputError

MAX_NOTE_BYTES = 1_000_000


def decode_note(data: bytes, where: str) -> str:
    if not data.strip():
        raise InvalidInputError(f"{where}: the note is empty.")
    if len(data) > MAX_NOTE_BYTES:
        raise InvalidInputError(f"{where}: {len(data):,} bytes; a note may have at most {MAX_NOTE_BYTES:,}.")
    if b"\x00" in data[:65536]:
        raise InvalidInputError(f"{where}: binary data, not a text note (is it a PDF or a Word file?).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInputError(
            f"{where}, line {line}: not UTF-8 text. Save the note as UTF-8 (or plain text) and try again."
        ) from None


def read_note(path: Path) -> str:
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file.")
    if path.stat().st_size > MAX_NOTE_BYTES:
        raise InvalidInputError(f"{path}: larger than {MAX_NOTE_BYTES:,} bytes; a note may have at most that.")
    return decode_note(path.read_bytes(), str(path))
