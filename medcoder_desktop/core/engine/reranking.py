"""What the pipeline asks of a re-ranker (the organization's preferences, core/preferences/ranking.py).

Defined here, beside the pipeline that calls it, so that the engine does not import the layer above it."""

from __future__ import annotations

from typing import Protocol

from medcoder_desktop.core.models import Encounter, Suggestion


class Reranker(Protocol):
    def apply(self, suggestions: list[Suggestion], encounter: Encounter, threshold: float) -> list[Suggestion]:
        """The suggestions re-ranked (unsorted: the pipeline sorts them); ``suggested`` against ``threshold``."""
        ...
