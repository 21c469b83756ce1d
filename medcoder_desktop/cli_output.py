"""What every CLI module prints the same way: one JSON document on stdout, lines and progress on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(obj: Any) -> None:
    """Print ``obj`` (a pydantic model, a list of them, or plain data) as one JSON document on stdout."""
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="json")
    elif isinstance(obj, list):
        obj = [o.model_dump(mode="json") if hasattr(o, "model_dump") else o for o in obj]
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def say(line: str) -> None:
    """One line on stderr (none in windowed frozen builds, where there is no stderr)."""
    if sys.stderr is not None:
        print(line, file=sys.stderr)


class ProgressPrinter:
    """Progress lines on stderr, so that --json output on stdout stays one document: a line when the stage
    changes or another tenth is done."""

    def __init__(self) -> None:
        self.last = ("", -1)

    def __call__(self, stage: str, fraction: float) -> None:
        if sys.stderr is None:  # windowed frozen builds
            return
        key = (stage, int(fraction * 10))
        if key != self.last:
            self.last = key
            sys.stderr.write(f"[{fraction:4.0%}] {stage}\n")
            sys.stderr.flush()


def open_service(model: str | None = None):
    """The ``CodingService`` of the user's data folder (imported here, not at start: ``--help`` stays quick)."""
    from medcoder_desktop.core.service import CodingService

    return CodingService(model=model)
