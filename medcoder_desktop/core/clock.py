"""The one clock of the core: timestamps as the databases and files store them (UTC, ISO 8601)."""

from __future__ import annotations

import datetime as dt


def now(timespec: str = "seconds") -> str:
    """The current time, UTC, ISO 8601 (``timespec="milliseconds"`` where order within a second matters)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec=timespec)
