"""Reading user files safely: regular files only, size-limited, decoded from UTF-8, UTF-16 or UTF-32.

Every reader of user input (notes, gold files, workspace imports, code-set imports, packs) checks the
path here first, so that a folder, a pipe, a device (a link to /dev/zero) or an unreadable file is
named for what it is instead of hanging, reading forever or failing with a traceback.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import BinaryIO

from medcoder_desktop.errors import InvalidInputError

# Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def check_file(path: Path, what: str = "file", error: type[Exception] = InvalidInputError) -> int:
    """The size of ``path`` when it is a regular file this process can read; else ``error`` saying what it is.

    Raises:
        error: missing, a folder, a pipe, a device, a socket, or not readable.
    """
    path = Path(path)
    try:
        st = path.stat()  # follows links: a link to /dev/zero is a device
    except FileNotFoundError:
        raise error(f"{path}: no such file.") from None
    except PermissionError:
        raise error(f"{path}: cannot be read (permission denied). Check the file's permissions.") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror}).") from None
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise error(f"{path}: is a folder, not a {what}.")
    if stat.S_ISFIFO(mode):
        raise error(f"{path}: is a pipe (FIFO), not a {what}; to read a stream, give - and pipe it in.")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise error(f"{path}: is a device, not a {what}.")
    if stat.S_ISSOCK(mode):
        raise error(f"{path}: is a socket, not a {what}.")
    if not stat.S_ISREG(mode):
        raise error(f"{path}: is not a regular file.")
    if not os.access(path, os.R_OK):
        raise error(f"{path}: cannot be read (permission denied). Check the file's permissions.")
    return st.st_size


def read_bytes(path: Path, limit: int, what: str = "file", error: type[Exception] = InvalidInputError) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (checked before and while reading)."""
    size = check_file(path, what, error)
    if size > limit:
        raise error(f"{path}: {size:,} bytes; a {what} may have at most {limit:,}.")
    try:
        with Path(path).open("rb") as fh:
            data = read_capped(fh, limit)
    except PermissionError:
        raise error(f"{path}: cannot be read (permission denied). Check the file's permissions.") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror}).") from None
    if data is None:
        raise error(f"{path}: more than {limit:,} bytes; a {what} may have at most that.")
    return data


def read_capped(stream: BinaryIO, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of ``stream``; None when it holds more (an endless stream stops here)."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def sniff_encoding(data: bytes) -> tuple[str, int] | None:
    """(encoding, length of its byte-order mark) for UTF-8/16/32 with a mark, or UTF-16/32 without one
    (told by where the NUL bytes of ASCII-range text fall); None for anything else (try UTF-8)."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc, len(bom)
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    n = len(head) - len(head) % 4
    quads = [head[i:i + 4] for i in range(0, n, 4)]
    if quads and all(q[2:] == b"\x00\x00" for q in quads):  # characters below U+10000: two zero bytes each
        return "utf-32-le", 0
    if quads and all(q[:2] == b"\x00\x00" for q in quads):
        return "utf-32-be", 0
    pairs = len(head) // 2
    odd_nul = sum(1 for i in range(1, 2 * pairs, 2) if head[i] == 0)
    even_nul = sum(1 for i in range(0, 2 * pairs, 2) if head[i] == 0)
    if odd_nul >= 0.6 * pairs and even_nul <= 0.05 * pairs:
        return "utf-16-le", 0
    if even_nul >= 0.6 * pairs and odd_nul <= 0.05 * pairs:
        return "utf-16-be", 0
    return None


def decode_text(data: bytes, where: str, error: type[Exception] = InvalidInputError) -> str:
    """Text of ``data``: UTF-8 (with or without a mark), or UTF-16/UTF-32 (with or without a mark).

    Raises:
        error: NUL bytes in what is not UTF-16/32 (a binary file), or bytes no encoding above explains;
            the message names the line.
    """
    sniffed = sniff_encoding(data)
    enc, skip = sniffed if sniffed else ("utf-8", 0)
    if enc == "utf-8":
        nul = data.find(b"\x00")
        if nul >= 0:
            line = data[:nul].count(b"\n") + 1
            raise error(f"{where}, line {line}: binary data (NUL bytes), not text. Is it a PDF, a Word file or "
                        "a zip? Save it as plain text.")
    try:
        return data[skip:].decode(enc)
    except UnicodeDecodeError as exc:
        line = data[skip:skip + exc.start].count(b"\n" if enc == "utf-8" else "\n".encode(enc)) + 1
        raise error(f"{where}, line {line}: not {enc.upper()} text (bytes that do not decode). Save it as "
                    "UTF-8 text and try again.") from None
