"""Read gold JSONL files (DESIGN.md): one coded item a line."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from medcoder_desktop.core.models import GoldItem
from medcoder_desktop.errors import InvalidInputError

MAX_GOLD_BYTES = 200 * 1024 * 1024


def read_gold(path: Path, limit: int | None = None) -> list[GoldItem]:
    """All items of a gold file; a malformed line is an error that names it."""
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file.")
    if path.stat().st_size > MAX_GOLD_BYTES:
        raise InvalidInputError(f"{path}: larger than {MAX_GOLD_BYTES // 2**20} MB; split it.")
    items: list[GoldItem] = []
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if b"\x00" in raw:
                raise InvalidInputError(f"{path}, line {lineno}: binary data; expected JSON lines.")
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                raise InvalidInputError(f"{path}, line {lineno}: not UTF-8 text ({exc.reason}).") from None
            if not line:
                continue
            try:
                items.append(GoldItem.model_validate(json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{path}, line {lineno}: not valid JSON ({exc.msg}).") from None
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "item"
                raise InvalidInputError(f"{path}, line {lineno}: {where}: {first['msg']}.") from None
            if limit and len(items) >= limit:
                break
    if not items:
        raise InvalidInputError(f"{path}: no items.")
    return items
