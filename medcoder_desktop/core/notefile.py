"""Read a note from a file or standard input: text only, size-limited, with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from medcoder_desktop.core.textfile import decode_text, read_bytes, read_capped
from medcoder_desktop.errors import InvalidInputError

MAX_NOTE_BYTES = 1_000_000
MAX_NOTE_CHARS = 200_000  # coded at once; a longer text is more than one document


def decode_note(data: bytes, where: str) -> str:
    """The note's text: UTF-8, or UTF-16/32 with or without a byte-order mark.

    Raises:
        InvalidInputError: empty, too large, binary, or not text in any of those encodings.
    """
    if len(data) > MAX_NOTE_BYTES:
        raise InvalidInputError(f"{where}: {len(data):,} bytes; a note may have at most {MAX_NOTE_BYTES:,}.")
    text = decode_text(data, where)
    if not text.strip():
        raise InvalidInputError(f"{where}: the note is empty.")
    if "\x00" in text:
        raise InvalidInputError(f"{where}: binary data (NUL characters), not a text note.")
    return text


def validate_note(note: str) -> str:
    """``note`` when it can be coded: not empty, at most ``MAX_NOTE_CHARS``, no binary data.

    Raises:
        InvalidInputError: it cannot; the message says why.
    """
    if not isinstance(note, str) or not note.strip():
        raise InvalidInputError("The note is empty: there is nothing to code.")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInputError(
            f"The note has {len(note):,} characters; at most {MAX_NOTE_CHARS:,} are coded at once. "
            "Split it into its documents."
        )
    if "\x00" in note:
        raise InvalidInputError("The note contains binary data (NUL characters); open it as text.")
    return note


def read_note(path: Path) -> str:
    """A note file (a regular file: a folder, a pipe or a device is named as such)."""
    return decode_note(read_bytes(Path(path), MAX_NOTE_BYTES, "note file"), str(path))


def read_note_stream(stream: BinaryIO, where: str = "standard input") -> str:
    """A note from a stream, read up to the size limit: an endless stream is refused, not read forever."""
    data = read_capped(stream, MAX_NOTE_BYTES)
    if data is None:
        raise InvalidInputError(f"{where}: more than {MAX_NOTE_BYTES:,} bytes; a note may have at most that.")
    return decode_note(data, where)
