"""The review window: worklist, note with highlighted evidence, suggestions to accept / reject / edit.

Every decision goes to the workspace at once (committed before the key handler returns). The model and
the dictionary are only touched on worker threads (``gui/workers.py``); moving to another note cancels
the running suggestions and their late results are ignored.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QInputDialog, QLabel, QMainWindow, QMessageBox, QProgressBar, QSplitter, QVBoxLayout, QWidget,
)

from medcoder_desktop.core.models import Changes, EncounterRecord, EncounterSummary, SearchHit, SuggestResult
from medcoder_desktop.core.failures import user_error
from medcoder_desktop.errors import MedcoderError
from medcoder_desktop.gui.file_actions import FileActions
from medcoder_desktop.gui.itemmodels.suggestions_model import Row
from medcoder_desktop.gui.search_dialog import CodeSearchDialog
from medcoder_desktop.gui.views.claim_panel import POA_CYCLE, ClaimPanel
from medcoder_desktop.gui.views.encounter_panel import EncounterPanel
from medcoder_desktop.gui.views.note_view import NoteView
from medcoder_desktop.gui.views.suggestions import SuggestionsPanel
from medcoder_desktop.gui.views.worklist import WorklistPanel
from medcoder_desktop.gui.workers import EngineLoad, SuggestJob, Tasks

if TYPE_CHECKING:
    from medcoder_desktop.core.service import CodingService

# The instruction sets worth showing in the status bar (the rest is in its tooltip).
_ISA_SHOWN = ("AVX", "FMA", "F16C", "AMX", "NEON", "SVE", "DOTPROD")
RETRIEVAL_ONLY = "No language model: suggestions come from the dictionary alone."
KEYS = (("A", "accept the selected code"), ("R", "reject it (Shift+R: with a reason)"),
        ("E", "edit: replace it with another code"), ("U", "undo the last decision of this note"),
        ("J / K or ↓ / ↑", "next / previous code"), ("N", "next note"), ("/", "search codes, add one"),
        ("Alt+↑ / Alt+↓", "move the selected diagnosis up / down the claim"), ("P", "make it principal"),
        ("O", "its POA: Y, N, U, W, 1, cleared"),
        ("Ctrl+Enter", "mark the note coded and go to the next"), ("Ctrl+R", "suggest again"))


class MainWindow(FileActions, QMainWindow):
    """``engineReady(info)`` once the dictionary and model are loaded; ``suggestionsDone(encounter_id)`` when an
    encounter's final suggestions are shown; ``firstPaint()`` once the window has been drawn."""

    engineReady = Signal(dict)
    suggestionsDone = Signal(str)
    firstPaint = Signal()

    def __init__(self, service: CodingService, *, seed_samples: bool = True) -> None:
        super().__init__()
        self.service = service
        self.tasks = Tasks(self)
        self.info: dict | None = None
        self.record: EncounterRecord | None = None
        self.run_id: int | None = None
        self.job: SuggestJob | None = None
        self.final = False
        self.search_dialog: CodeSearchDialog | None = None
        self.prefs_dialog: Any = None
        self._titles: dict[str, str] = {}
        self._states: list = []
        self.claim: Any = None  # the open encounter's claim as last grouped (core.claim.Claim)
        self._suggestion_list: list = []  # the suggestions shown, as the core made them
        self._claim_generation = 0
        self._painted = False
        self._closed = False
        self.quiet_errors = False  # screenshots: errors go to stderr, never to a modal box nobody can close
        self.engine_error: BaseException | None = None
        self.setWindowTitle("medcoder — code review")
        self._build()
        self._build_actions()
        if seed_samples:
            service.seed_samples()
        self.refresh_worklist()

    # -- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.worklist = WorklistPanel(self)
        self.worklist.opened.connect(self.open_encounter)
        self.details = EncounterPanel(self)
        self.details.changed.connect(self._detail_changed)
        self.details.rerun.connect(self.rerun)
        self.note = NoteView(self)
        self.note.spanClicked.connect(self._span_clicked)
        self.suggestions = SuggestionsPanel(self)
        self.suggestions.selected.connect(self._row_selected)
        self.claim_panel = ClaimPanel(self)
        self.claim_panel.overrideRequested.connect(self.override_edits)
        note_title = QLabel("Note", self)
        note_title.setObjectName("paneTitle")
        center = QWidget(self)
        col = QVBoxLayout(center)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(note_title)
        col.addWidget(self.note, 1)
        left = QWidget(self)
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        lcol.addWidget(self.worklist, 1)
        details_title = QLabel("Encounter", self)
        details_title.setObjectName("paneTitle")
        lcol.addWidget(details_title)
        lcol.addWidget(self.details)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for w in (left, center, self.suggestions, self.claim_panel):
            self.splitter.addWidget(w)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setStretchFactor(2, 5)
        self.splitter.setStretchFactor(3, 3)
        self.splitter.setSizes([240, 560, 560, 400])
        self.banner = QLabel(self)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        root = QWidget(self)
        layout = QVBoxLayout(root)
        layout.setContentsMargins(10, 8, 10, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(root)

        bar = self.statusBar()
        self.progress_label = QLabel(self)
        self.progress_label.setObjectName("statusItem")
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(160)
        self.progress.setMaximumHeight(10)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.model_label = QLabel("Model: loading…", self)
        self.model_label.setObjectName("statusItem")
        self.codes_label = QLabel("", self)
        self.codes_label.setObjectName("statusItem")
        self.offline_label = QLabel("● Offline", self)
        self.offline_label.setObjectName("offline")
        self.offline_label.setToolTip("Everything runs on this computer: no note text leaves it.")
        bar.addWidget(self.progress_label)
        bar.addWidget(self.progress)
        for w in (self.model_label, self.codes_label, self.offline_label):
            bar.addPermanentWidget(w)

    def _action(self, text: str, keys: str | QKeySequence.StandardKey | None, slot: Any, *,
                menu: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        m = self.menuBar()
        f = m.addMenu("&File")
        self._action("&Open note file…", QKeySequence.StandardKey.Open, self.open_note_dialog, menu=f)
        imp = f.addMenu("&Import notes")
        self._action("From a &folder of .txt / .md files…", None, lambda: self.import_dialog("folder"), menu=imp)
        self._action("From a &CSV file…", None, lambda: self.import_dialog("csv"), menu=imp)
        self._action("From a &JSONL file…", None, lambda: self.import_dialog("jsonl"), menu=imp)
        exp = f.addMenu("&Export coded encounters")
        self._action("As &CSV…", None, lambda: self.export_dialog("csv"), menu=exp)
        self._action("As &JSON…", None, lambda: self.export_dialog("json"), menu=exp)
        f.addSeparator()
        self._action("Organization &preferences…", "Ctrl+Shift+P", self.preferences_dialog, menu=f,
                     tip="Rules, learned preferences, and packs to share them with other workstations.")
        self._action("&Settings…", "Ctrl+,", self.settings_dialog, menu=f)
        f.addSeparator()
        self._action("&Quit", QKeySequence.StandardKey.Quit, self.close, menu=f)

        c = m.addMenu("&Code")
        self.act_accept = self._action("&Accept", "A", self.accept_selected, menu=c)
        self.act_reject = self._action("&Reject", "R", self.reject_selected, menu=c)
        self._action("Reject with a &reason…", "Shift+R", lambda: self.reject_selected(ask_reason=True), menu=c)
        self.act_edit = self._action("&Edit (replace with another code)…", "E", self.edit_selected, menu=c)
        self.act_undo = self._action("&Undo last decision", "U", self.undo, menu=c)
        self._action("&Search codes…", "/", self.search_codes, menu=c)
        c.addSeparator()
        self._action("Next code", "J", lambda: self.suggestions.move(1), menu=c)
        self._action("Previous code", "K", lambda: self.suggestions.move(-1), menu=c)
        self._action("&Next note", "N", self.next_note, menu=c)
        self._action("Mark &coded and go to the next note", "Ctrl+Return", self.mark_coded, menu=c)
        self._action("Mark s&kipped", None, lambda: self.set_status("skipped"), menu=c)
        self._action("Suggest a&gain", "Ctrl+R", self.rerun, menu=c)
        cl = m.addMenu("C&laim")
        self._action("Move &up in the claim", "Alt+Up", lambda: self.move_in_claim(-1), menu=cl)
        self._action("Move &down in the claim", "Alt+Down", lambda: self.move_in_claim(1), menu=cl)
        self._action("Make &principal", "P", self.make_principal, menu=cl)
        self._action("Next P&OA indicator", "O", self.cycle_poa, menu=cl)
        self._action("O&verride edits…", None, self.override_edits, menu=cl)
        h = m.addMenu("&Help")
        self._action("&Keyboard", "F1", self.show_keys, menu=h)

    # -- start and stop --------------------------------------------------------------------------
    def start(self, open_first: bool = True) -> None:
        """Load the dictionary and the model in the background; open the first encounter."""
        self._busy("Loading the code dictionary…")
        EngineLoad(self.tasks, self.service, on_progress=self._progress, on_ready=self._engine_ready,
                   on_failed=self._engine_failed).start()
        if open_first and self.record is None:
            first = self.worklist.model.id_at(0)
            if first is not None:
                self.open_encounter(first)

    def shutdown(self) -> None:
        """Cancel the running suggestions, join every worker thread, close the model and the workspace."""
        if self._closed:
            return
        self._closed = True
        if self.job is not None:
            self.job.cancel()
        if self.search_dialog is not None:
            self.search_dialog.close()
        if self.prefs_dialog is not None:
            self.prefs_dialog.close()
        self.tasks.shutdown()
        self.service.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._painted:
            self.fit_panes()

    def fit_panes(self) -> None:
        """Worklist, note, suggestions and claim at about 12 / 34 / 32 / 22 % of the width."""
        w = max(1000, self.splitter.width() or self.width())
        sizes = [int(w * 0.12), int(w * 0.34), int(w * 0.32)]
        self.splitter.setSizes([*sizes, w - sum(sizes)])

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.firstPaint.emit)

    def _engine_ready(self, info: dict) -> None:
        self.info = info
        model = info.get("model")
        if model:
            isa = [f for f in model.get("cpu_features", []) if f.startswith(_ISA_SHOWN)]
            cpu = f" ({' '.join(isa)})" if isa else ""
            self.model_label.setText(f"Model: {model['name']} · {model['backend']}{cpu}")
            self.model_label.setToolTip(f"sha256 {model['sha256']}\nfrom {model.get('source', '')}\n"
                                        f"llama-cpp-python {model.get('llama_cpp_python', '?')}: "
                                        f"{model.get('system_info', '')}")
            self.banner.hide()
        else:
            self.model_label.setText("Model: none (retrieval only)")
            # The reason already says that codes come from the dictionary alone.
            lead = info.get("model_error") or RETRIEVAL_ONLY
            self.banner.setText(f"{lead} Choose a model in File › Settings.")
            self.banner.show()
        self.codes_label.setText(" · ".join(f"{k} {v}" for k, v in info.get("code_sets", {}).items()))
        if self.job is None or self.final:
            self._idle()
        self.engineReady.emit(info)

    def _engine_failed(self, exc: BaseException) -> None:
        self.engine_error = exc
        self._idle()
        self.model_label.setText("Model: not loaded")
        self.banner.setText(f"The code dictionary could not be loaded: {exc}")
        self.banner.show()

    # -- status bar ------------------------------------------------------------------------------
    def _busy(self, text: str) -> None:
        self.progress_label.setText(text)
        self.progress.setRange(0, 0)
        self.progress.show()

    def _progress(self, stage: str, fraction: float) -> None:
        self.progress_label.setText(stage[:1].upper() + stage[1:] + "…")
        if fraction <= 0:  # a step that reports no progress of its own (loading the model): a busy bar
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(int(fraction * 100))
        self.progress.show()

    def _idle(self, text: str = "") -> None:
        self.progress_label.setText(text)
        self.progress.hide()

    def message(self, text: str, ms: int = 6000) -> None:
        self.statusBar().showMessage(text, ms)

    def _error(self, exc: BaseException) -> None:
        err = user_error(exc)  # a full disk, a read-only folder, a busy database: said plainly
        text = str(err) if err is not None else f"Unexpected error ({exc.__class__.__name__})."
        if self.quiet_errors:
            if sys.stderr is not None:
                print(f"medcoder: {text}", file=sys.stderr)
            return
        QMessageBox.warning(self, "medcoder", text)

    # -- worklist --------------------------------------------------------------------------------
    def refresh_worklist(self) -> None:
        keep = self.record.id if self.record else None
        self.worklist.set_items(self.service.encounters(), keep=keep)

    def _refresh_worklist_item(self) -> None:
        if self.record is None:
            return
        rec = self.service.encounter(self.record.id)
        old = next((i for i in self.worklist.model._all if i.id == rec.id), None)
        summary = EncounterSummary(id=rec.id, status=rec.status, setting=rec.setting,
                                   preview=old.preview if old else "",
                                   accepted_codes=len(self.service.code_states(rec.id)))
        self.worklist.update_item(summary)
        self.record = rec
        self.details.set_record(rec)

    def _apply(self, changes: Changes) -> None:
        """Refresh what an operation changed (the service says which), for the encounter on screen."""
        if self.record is None or changes.encounter != self.record.id:
            return
        if changes.codes:
            self._refresh_states()
        if changes.record or changes.codes or changes.worklist:
            self._refresh_worklist_item()
        if changes.claim:
            self.regroup()

    def next_note(self) -> None:
        nxt = self.worklist.next_id(self.record.id if self.record else None)
        if nxt is None:
            self.message("That was the last note of the worklist.")
            return
        self.open_encounter(nxt)

    def set_status(self, status: str) -> None:
        if self.record is not None:
            self._apply(self.service.set_status(self.record.id, status))

    def mark_coded(self) -> None:
        """Marks coded on a worker (the claim is regrouped first): open edits refuse it, with their messages."""
        if self.record is None:
            return
        rec_id, shown = self.record.id, self._shown_suggestions()
        self.tasks.run(lambda: self.service.mark_coded(rec_id, shown), lambda _r: self._coded(rec_id),
                       self._not_coded, lane="lookup")

    def _coded(self, encounter_id: str) -> None:
        if self.record is None or self.record.id != encounter_id:
            return
        self._refresh_worklist_item()
        self.message(f"{encounter_id} marked coded.")
        self.next_note()

    def _not_coded(self, exc: BaseException) -> None:
        self.message(str(exc), 15000)
        self._error(exc)
        self.regroup()

    # -- one encounter ---------------------------------------------------------------------------
    def open_encounter(self, encounter_id: str, *, rerun: bool = False) -> None:
        """Show an encounter and start its suggestions (the saved run when still valid, unless ``rerun``)."""
        if self._closed:
            return
        if self.job is not None:
            self.job.cancel()
            self.job = None
        try:
            rec = self.service.encounter(encounter_id)
        except MedcoderError as exc:
            self._error(exc)
            return
        changed = self.record is None or self.record.id != rec.id
        self.record, self.run_id, self.final = rec, None, False
        self.details.set_record(rec)
        self.worklist.select(rec.id, emit=False)
        if changed:
            self.claim = None
            self._claim_generation += 1
            self.claim_panel.set_claim(None, {})
            sections = self.service.note_sections(rec.note)
            headings = [(s.start, min(s.end, s.start + len(s.heading) + 1)) for s in sections if s.heading]
            self.note.set_note(rec.note, headings)
            self.suggestions.model.clear()
        self._refresh_states()
        self.suggestions.update_title("finding codes…")
        self._busy("Finding codes…")
        job = SuggestJob(self.tasks, self.service, rec.id, reuse=not rerun,
                         on_event=lambda ev: self._on_event(job, ev),
                         on_done=lambda result: self._on_done(job, result),
                         on_failed=lambda exc: self._on_failed(job, exc), on_progress=self._progress)
        self.job = job
        job.start()

    def rerun(self) -> None:
        if self.record is not None:
            self.open_encounter(self.record.id, rerun=True)

    def _on_event(self, job: SuggestJob, event: Any) -> None:
        if job is not self.job:
            return
        self._show_suggestions(event.suggestions)
        if event.kind == "candidates" and self.info and self.info.get("model"):
            self._busy("Refining with the model…")
            self.suggestions.update_title("the model is checking…")

    def _on_done(self, job: SuggestJob, result: SuggestResult) -> None:
        if job is not self.job:
            return
        self.final = True
        self.run_id = result.run_id
        self._show_suggestions(result.suggestions)
        ms = None if result.reused else result.timings.get("total_ms")
        self._idle(" ".join(result.warnings) if result.warnings else (
            f"Suggestions ready in {ms:.0f} ms." if ms is not None else "Suggestions from the saved run."))
        self.suggestions.update_title()
        self.regroup()
        self.suggestionsDone.emit(job.encounter_id)

    def _on_failed(self, job: SuggestJob, exc: BaseException) -> None:
        if job is not self.job:
            return
        self.final = True
        self._idle()
        self.suggestions.update_title()
        self.message(f"No suggestions: {exc}", 15000)
        self.suggestionsDone.emit(job.encounter_id)

    def _show_suggestions(self, suggestions: list) -> None:
        self._suggestion_list = list(suggestions)
        keep = self.suggestions.current()
        self.suggestions.model.set_suggestions(suggestions)
        self.suggestions.model.set_states(self._states, self._titles)
        if keep is None or not self.suggestions.select_code(keep.code, keep.system):
            self.suggestions.select_row(0)
        self._highlight()
        self.suggestions.update_title()

    def _refresh_states(self) -> None:
        if self.record is None:
            return
        self._states = self.service.code_states(self.record.id, include_rejected=True)
        keep = self.suggestions.current()
        self.suggestions.model.set_states(self._states, self._titles)
        if keep is not None:
            self.suggestions.select_code(keep.code, keep.system)
        self.suggestions.show_row(self.suggestions.current())
        self._highlight()
        missing = {(s.system, s.code) for s in self._states if s.action == "add" and s.code not in self._titles}
        for system in {s for s, _ in missing}:
            codes = [c for s, c in missing if s == system]
            self.tasks.run(lambda codes=codes, system=system: self.service.code_titles(codes, system),
                           self._got_titles, lane="lookup")

    def _got_titles(self, titles: dict[str, str]) -> None:
        self._titles.update(titles)
        if titles and not self._closed:
            self.suggestions.model.set_states(self._states, self._titles)

    # -- note and selection ----------------------------------------------------------------------
    def _row_selected(self, row: Row | None) -> None:
        self._highlight()
        self.claim_panel.show_impact(row.code if row is not None else None)

    def _highlight(self) -> None:
        current = self.suggestions.current()
        selected = [(e.start, e.end) for e in current.evidence] if current else []
        others = [(e.start, e.end) for r in self.suggestions.model.rows() if r is not current and r.suggested
                  for e in r.evidence]
        self.note.highlight(selected, others)

    def _span_clicked(self, index: int) -> None:
        rows = self.suggestions.model.rows()
        hits = [i for i, r in enumerate(rows) if any(e.start <= index < e.end for e in r.evidence)]
        if not hits:
            return
        current = self.suggestions.current_row()
        # A second click on words behind several codes moves to the next of them.
        later = [i for i in hits if i > current] if current in hits else hits
        self.suggestions.select_row((later or hits)[0])

    # -- decisions -------------------------------------------------------------------------------
    def _decide(self, action: str, code: str, system: str, *, reason: str | None = None,
                replaced: str | None = None) -> bool:
        if self.record is None:
            return False
        try:
            changes = self.service.decide(self.record.id, code, system, action, run_id=self.run_id, reason=reason,
                                          replaced_code=replaced)
        except MedcoderError as exc:
            self._error(exc)
            return False
        self._apply(changes)
        return True

    def accept_selected(self) -> None:
        row = self.suggestions.current()
        if row is None:
            return
        state = self.suggestions.model.state(row)
        if state is not None and state.action in ("accept", "add"):
            self.suggestions.move(1)
            return
        if self._decide("accept", row.code, row.system):
            self.message(f"Accepted {row.code}.")
            self.suggestions.move(1)

    def reject_selected(self, ask_reason: bool = False) -> None:
        row = self.suggestions.current()
        if row is None:
            return
        reason = None
        if ask_reason:
            text, ok = QInputDialog.getText(self, "Reject", f"Why is {row.code} not right? (optional)")
            if not ok:
                return
            reason = text.strip() or None
        if self._decide("reject", row.code, row.system, reason=reason):
            self.message(f"Rejected {row.code}.")
            self.suggestions.move(1)

    def edit_selected(self) -> None:
        row = self.suggestions.current()
        if row is None or row.confidence is None:
            return
        query = row.evidence[0].text if row.evidence else row.title
        dialog = self._open_search(query, replacing=row.code, system=row.system)
        dialog.chosen.connect(lambda hit, row=row: self._edited(row, hit))

    def _edited(self, row: Row, hit: SearchHit) -> None:
        if hit.system != row.system:
            QMessageBox.information(self, "medcoder", f"Replace {row.code} with a {row.system} code.")
            return
        if hit.code == row.code:
            self.message(f"{row.code} is already the suggested code: nothing changed.")
            return
        self._titles[hit.code] = hit.title
        if self._decide("edit", hit.code, hit.system, replaced=row.code):
            self.message(f"{row.code} replaced with {hit.code}.")

    def search_codes(self) -> None:
        dialog = self._open_search("", replacing=None)
        dialog.chosen.connect(self._added)

    def _added(self, hit: SearchHit) -> None:
        self._titles[hit.code] = hit.title
        if self._decide("add", hit.code, hit.system):
            self.suggestions.select_code(hit.code, hit.system)
            self.message(f"Added {hit.code}.")

    def _open_search(self, query: str, *, replacing: str | None, system: str | None = None) -> CodeSearchDialog:
        if self.search_dialog is not None:
            self.search_dialog.close()
        systems = list((self.info or {}).get("code_sets", {})) or ["ICD-10-CM", "ICD-10-PCS"]
        dialog = CodeSearchDialog(self.tasks, self.service, self, query=query, replacing=replacing,
                                  systems=systems)
        if system is not None and dialog.system.findData(system) >= 0:
            dialog.system.setCurrentIndex(dialog.system.findData(system))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda *_: setattr(self, "search_dialog", None))
        dialog.finished.connect(lambda _result: self._back_to_table())
        self.search_dialog = dialog
        dialog.open()
        dialog.search_now()
        return dialog

    def _back_to_table(self) -> None:
        # Keys go to the table again once a dialog closes (some platforms leave no window active).
        if not self._closed:
            self.activateWindow()
            self.suggestions.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def undo(self) -> None:
        if self.record is None:
            return
        try:
            changes = self.service.undo_decision(self.record.id)
        except MedcoderError as exc:
            self._error(exc)
            return
        d = changes.undone
        if d is None:
            self.message("Nothing to undo for this note.")
            return
        self._apply(changes)
        self.suggestions.select_code(d.replaced_code or d.code)
        self.message(f"Undone: {d.action} {d.code}.")

    def _detail_changed(self, field: str, value: Any) -> None:
        if self.record is None:
            return
        if field == "discharge_status":  # kept with the claim (audited there): it changes the DRG, not the codes
            rec_id = self.record.id
            self.regroup(lambda: self.service.set_discharge_status(rec_id, value))
            return
        try:
            self.service.update_encounter(self.record.id, **{field: value})
            self.record = self.service.encounter(self.record.id)
        except MedcoderError as exc:
            self.details.set_record(self.record)
            self.details.show_error(str(exc))
            return
        self.details.set_record(self.record)
        if field == "setting":
            self.rerun()  # the setting changes which diagnoses are coded
        else:
            self.regroup()  # age, sex and date change the DRG and the edits at once
            self.message("Saved. Suggest again (Ctrl+R) to use the new details.")

    def show_keys(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in KEYS)
        QMessageBox.information(self, "Keyboard", f"<table>{rows}</table>")

    # -- the claim -------------------------------------------------------------------------------
    def _shown_suggestions(self) -> list:
        return list(self._suggestion_list)

    def regroup(self, then: Any = None) -> None:
        """Rebuild the claim on a worker (sequence, POA, DRG, edits, impacts); late results are dropped."""
        if self.record is None or not self.final or self._closed:
            return
        self._claim_generation += 1
        generation, rec_id, shown = self._claim_generation, self.record.id, self._shown_suggestions()
        self.claim_panel.title.setText("Claim · regrouping…")

        def op():
            if then is not None:
                then()
            return self.service.encounter_claim(rec_id, shown)

        self.tasks.run(op, lambda result: self._claim_ready(generation, result), self._claim_failed, lane="lookup")

    def _claim_ready(self, generation: int, result: Any) -> None:
        if generation != self._claim_generation or self._closed:
            return
        self.claim, impacts = result
        self.claim_panel.set_claim(self.claim, impacts)
        proposed = {k: getattr(self.claim, k) for k in self.claim.proposed if k in ("age", "sex")}
        self.details.show_claim_facts(self.claim.discharge_status if self.claim.discharge_status != 1 else None,
                                      proposed)
        row = self.suggestions.current()
        self.claim_panel.show_impact(row.code if row is not None else None)

    def _claim_failed(self, exc: BaseException) -> None:
        self.claim_panel.title.setText("Claim")
        self.message(f"The claim could not be grouped: {exc}", 15000)

    def _claim_target(self) -> str | None:
        """The diagnosis a claim key acts on: the claim table's selection when it has the focus, else the selected
        suggestion when it is on the claim, else the claim table's selection."""
        if self.claim is None:
            return None
        on_claim = self.claim.diagnosis_codes()
        if not self.claim_panel.table.hasFocus():
            row = self.suggestions.current()
            if row is not None and row.code in on_claim:
                return row.code
        code = self.claim_panel.current_code()
        return code if code in on_claim else None

    def move_in_claim(self, step: int) -> None:
        code = self._claim_target()
        if code is None or self.record is None:
            self.message("Select a diagnosis of the claim to move it.")
            return
        rec_id, claim = self.record.id, self.claim
        self.claim_panel.select_code(code)
        self.regroup(lambda: self.service.move_in_claim(rec_id, code, step, claim))

    def make_principal(self) -> None:
        code = self._claim_target()
        if code is None or self.record is None:
            self.message("Select a diagnosis of the claim to make it principal.")
            return
        rec_id, claim = self.record.id, self.claim
        self.message(f"{code} is now {'principal' if claim.setting == 'inpatient' else 'first-listed'}.")
        self.regroup(lambda: self.service.set_principal(rec_id, code, claim))

    def cycle_poa(self) -> None:
        code = self._claim_target()
        if code is None or self.record is None or self.claim.setting != "inpatient":
            self.message("Select a diagnosis of an inpatient claim to set its POA.")
            return
        current = next((c.poa for c in [self.claim.principal, *self.claim.secondary] if c and c.code == code), None)
        nxt = POA_CYCLE[(POA_CYCLE.index(current) + 1) % len(POA_CYCLE)] if current in POA_CYCLE else "Y"
        rec_id = self.record.id
        self.message(f"POA of {code}: {nxt or 'cleared'}.")
        self.regroup(lambda: self.service.set_poa(rec_id, code, nxt))

    def override_edits(self) -> None:
        """Ask a reason for each open edit; overrides are audited and let the encounter be marked coded."""
        if self.claim is None or self.record is None:
            return
        reasons = []
        for edit in self.claim.open_edits():
            text, ok = QInputDialog.getText(self, "Override an edit", f"{edit.message}\n\nReason for overriding:")
            if not ok:
                return
            if not text.strip():
                self.message("An override needs a reason.")
                return
            reasons.append((edit, text.strip()))
        rec_id = self.record.id

        def save() -> None:
            for edit, reason in reasons:
                self.service.override_edit(rec_id, edit.name, edit.codes, reason)

        self.regroup(save)
