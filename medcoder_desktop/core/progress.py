"""How long work reports how far it has got: ``progress(stage, fraction)`` with a fraction in [0, 1]."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]


def quiet(_stage: str, _fraction: float) -> None:
    """A progress callback that reports nothing."""
