"""Read gold JSONL files (DESIGN.md): one coded item a line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from medcoder_desktop.core.models import GoldItem
from medcoder_desktop.core.textfile import decode_text, read_bytes
from medcoder_desktop.errors import InvalidInputError

MAX_GOLD_BYTES = 200 * 1024 * 1024


def read_gold(path: Path, limit: int | None = None) -> list[GoldItem]:
    """All items of a gold file (UTF-8, or UTF-16/32); a malformed line is an error that names it.

    Raises:
        InvalidInputError: not a readable regular file, too large, not text, a bad line, no items, or a
            ``limit`` under 1.
    """
    if limit is not None and limit < 1:
        raise InvalidInputError(f"--limit must be at least 1 (got {limit}); leave it out to use every item.")
    path = Path(path)
    text = decode_text(read_bytes(path, MAX_GOLD_BYTES, "gold file"), str(path))
    items: list[GoldItem] = []
    for lineno, line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        if "\x00" in line:
            raise InvalidInputError(f"{path}, line {lineno}: binary data; expected JSON lines.")
        try:
            items.append(GoldItem.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path}, line {lineno}: not valid JSON ({exc.msg}).") from None
        except RecursionError:
            raise InvalidInputError(f"{path}, line {lineno}: JSON nested too deeply to be a gold item.") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "item"
            raise InvalidInputError(f"{path}, line {lineno}: {where}: {first['msg']}.") from None
        if limit and len(items) >= limit:
            break
    if not items:
        raise InvalidInputError(f"{path}: no items.")
    return items


def gold_warnings(items: list[GoldItem], exists) -> list[str]:
    """What deserves a look in a gold file without stopping a run: ids used more than once, and gold codes
    that are in no code set of the dictionary (``exists(code)`` False): they can never be found."""
    out = []
    dup = sorted(i for i, n in Counter(item.id for item in items).items() if n > 1)
    if dup:
        out.append(f"{len(dup)} ids appear more than once: " + ", ".join(map(str, dup[:10]))
                   + (" ..." if len(dup) > 10 else ""))
    unknown = sorted({c.strip() for item in items for c in item.codes + item.procedures
                      if c.strip() and not exists(c.strip())})
    if unknown:
        out.append(f"{len(unknown)} gold codes are in no code set of the dictionary (they cannot be found): "
                   + ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else ""))
    return out
