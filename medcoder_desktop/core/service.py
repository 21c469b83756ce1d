"""CodingService: the one facade that the window and the CLI call."""

from __future__ import annotations

import threading
from pathlib import Path

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.build import Progress, _quiet, build_dictionary
from medcoder_desktop.core.engine.confidence import load_calibration
from medcoder_desktop.core.evaluation import EvalResult, evaluate
from medcoder_desktop.core.gold import read_gold
from medcoder_desktop.core.engine.pipeline import SuggestEvent, suggest_events
from medcoder_desktop.core.models import (
    BuildReport, CodeDetail, CodeSetStats, Encounter, GoldItem, ImportReport, SearchHit, Suggestion,
)
from medcoder_desktop.errors import InvalidInputError
from medcoder_desktop.paths import AppPaths

# A hit at or above this score is shown as suggested (chosen on the phrase dev sets; see bench/).
SUGGEST_THRESHOLD = 0.45


class CodingService:
    """Everything the product does, for one user's data folder."""

    def __init__(self, paths: AppPaths | None = None):
        self.paths = paths or AppPaths.default()
        self._dictionary: Dictionary | None = None
        self._lock = threading.Lock()

    # -- dictionary ------------------------------------------------------------------------------
    def dictionary(self, progress: Progress = _quiet) -> Dictionary:
        """The dictionary, built on first use."""
        with self._lock:
            if self._dictionary is None:
                self.paths.ensure()
                self._dictionary = Dictionary.open(self.paths.dictionary_db, progress=progress)
            return self._dictionary

    def build_dictionary(self, *, force: bool = False, progress: Progress = _quiet) -> BuildReport:
        import time

        self.paths.ensure()
        start = time.monotonic()
        with self._lock:
            if self._dictionary is not None:
                self._dictionary.close()
                self._dictionary = None
            if force or not self.paths.dictionary_db.is_file():
                build_dictionary(self.paths.dictionary_db, progress=progress)
        d = self.dictionary()
        return BuildReport(path=str(d.path), systems=d.stats(), seconds=round(time.monotonic() - start, 1))

    def stats(self) -> dict[str, CodeSetStats]:
        return self.dictionary().stats()

    def show(self, code: str) -> CodeDetail:
        return self.dictionary().show(code)

    def search(self, query: str, limit: int = 10, systems: set[str] | None = None) -> list[SearchHit]:
        return self.dictionary().search(query, limit=limit, systems=systems)

    def import_codes(self, kind: str, file: Path, version: str | None = None,
                     progress: Progress = _quiet) -> ImportReport:
        from medcoder_desktop.core.dictionary.importers import import_file

        d = self.dictionary()
        report = import_file(d.path, kind, file, version=version, progress=progress)
        d.invalidate()
        return report

    # -- suggestions -----------------------------------------------------------------------------
    def suggest_stream(self, note: str, encounter: Encounter | None = None, cancelled=lambda: False):
        """Events for one note: retrieval results at once, then refinements, then ``done``."""
        d = self.dictionary()
        return suggest_events(d, note, encounter, adjudicate=None, cancelled=cancelled)

    def suggest(self, note: str, encounter: Encounter | None = None) -> tuple[list[Suggestion], dict]:
        """The final suggestions for a note, and timings."""
        last: SuggestEvent | None = None
        first_ms = None
        for event in self.suggest_stream(note, encounter):
            if first_ms is None:
                first_ms = event.stats.get("retrieval_ms")
            last = event
        assert last is not None
        return last.suggestions, {"first_suggestions_ms": first_ms or 0.0, **last.stats}

    def info(self) -> dict:
        return {"mode": "retrieval-only", "model": None, "code_sets": self.dictionary().code_sets()}

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, gold_file: Path, *, model: str | None = "none", limit: int | None = None) -> EvalResult:
        """Score retrieval on a gold JSONL file (phrases: the query is the text)."""
        if model not in (None, "none"):
            raise InvalidInputError(
                "This version evaluates retrieval only: use --model none. "
                "Model adjudication is not part of this build."
            )
        items = read_gold(gold_file, limit=limit)
        d = self.dictionary()
        d.engine  # load before the clock starts

        def rank(item: GoldItem) -> list[tuple[str, float]]:
            return [(h.code, h.score) for h in self._rank_hits(item)]

        def suggested(item: GoldItem, ranked: list[tuple[str, float]]) -> list[str]:
            if item.kind == "phrase":
                return [c for c, score in ranked[:1] if score >= SUGGEST_THRESHOLD]
            threshold = load_calibration().threshold
            return [c for c, score in ranked if score >= threshold]

        return evaluate(items, rank, suggested, lambda c: d.exists(c), mode="retrieval-only")

    def _rank_hits(self, item: GoldItem) -> list[SearchHit]:
        """Phrase: one search. Note: a search per sentence, merged by best score (a baseline)."""
        d = self.dictionary()
        text = item.text.strip()
        if not text:
            return []
        if item.kind == "phrase":
            return d.search(text[:2000], limit=10)
        encounter = Encounter(setting=item.setting or "outpatient")
        suggestions, _ = self.suggest(text, encounter)
        return [SearchHit(code=s.code, system=s.system, title=s.title, billable=s.billable, score=s.confidence)
                for s in suggestions]
