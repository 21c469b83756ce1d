"""The window's File menu: open, import and export notes, and the settings (a part of ``MainWindow``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from medcoder_desktop.core.models import EncounterRecord
from medcoder_desktop.errors import MedcoderError
from medcoder_desktop.gui.preferences_dialog import PreferencesDialog
from medcoder_desktop.gui.settings_dialog import SettingsDialog
from medcoder_desktop.gui.workers import EngineLoad


class FileActions:
    """Mixed into ``MainWindow``: uses its service, workspace, tasks, worklist and status bar."""

    def open_note_file(self, path: Path, setting: str | None = None) -> EncounterRecord | None:
        """Add a note file to the workspace (when it is not there yet) and open it."""
        try:
            rec = self.service.open_note_file(path, setting=setting)
        except MedcoderError as exc:
            self._error(exc)
            return None
        self.refresh_worklist()
        if self.worklist.model.row_of(rec.id) < 0:
            self.worklist.filter.setCurrentIndex(0)
        self.open_encounter(rec.id)
        return rec

    def open_note_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a note", str(Path.home()), "Notes (*.txt *.md);;All (*)")
        if path:
            self.open_note_file(Path(path))

    def import_dialog(self, kind: str) -> None:
        if kind == "folder":
            path = QFileDialog.getExistingDirectory(self, "Import the notes of a folder", str(Path.home()))
        else:
            pattern = "CSV files (*.csv)" if kind == "csv" else "JSON lines (*.jsonl *.json)"
            path, _ = QFileDialog.getOpenFileName(self, "Import notes", str(Path.home()), pattern)
        if path:
            self.import_notes(kind, Path(path))

    def import_notes(self, kind: str, path: Path) -> None:
        self._busy(f"Importing {path.name}…")
        self.tasks.run(lambda: self.service.import_notes(kind, path), self._imported, self._file_failed, lane="lookup")

    def _imported(self, result: Any) -> None:
        self._idle(f"Imported {len(result.imported)} notes.")
        self.refresh_worklist()
        if result.errors:
            shown = "\n".join(f"• {e.message}" for e in result.errors[:20])
            more = f"\n… and {len(result.errors) - 20} more." if len(result.errors) > 20 else ""
            QMessageBox.warning(self, "Import", f"Imported {len(result.imported)} notes. Not imported:\n{shown}{more}")
        if self.record is None and result.imported:
            self.open_encounter(result.imported[0])

    def _file_failed(self, exc: BaseException) -> None:
        self._idle()
        self._error(exc)

    def export_dialog(self, fmt: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export coded encounters", str(Path.home() / f"coded.{fmt}"),
                                              "CSV (*.csv)" if fmt == "csv" else "JSON (*.json)")
        if path:
            self.export(fmt, Path(path))

    def export(self, fmt: str, path: Path) -> None:
        self._busy(f"Exporting to {path.name}…")
        self.tasks.run(lambda: self.service.export_coded(fmt, path),
                       lambda r: self._idle(f"Exported {r.encounters} coded encounters ({r.rows} codes) to {r.path}."),
                       self._file_failed, lane="lookup")

    def settings_dialog(self) -> None:
        dialog = SettingsDialog(self.tasks, self.service, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.result_settings()))
        dialog.open()

    def preferences_dialog(self) -> PreferencesDialog:
        """The organization preferences view; a change suggests the open note again, so its effect shows."""
        if getattr(self, "prefs_dialog", None) is not None:
            self.prefs_dialog.raise_()
            return self.prefs_dialog
        dialog = PreferencesDialog(self.tasks, self.service, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda *_: setattr(self, "prefs_dialog", None))
        dialog.changed.connect(self.rerun)
        self.prefs_dialog = dialog
        dialog.open()
        return dialog

    def apply_settings(self, settings: Any) -> None:
        """Save the settings; reload the model on the engine lane when it changed, then suggest again."""
        if settings is None:
            return
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self._busy("Applying the settings…")

        def op() -> dict:
            self.service.apply_settings(settings)
            return {}

        def done(_: dict) -> None:
            EngineLoad(self.tasks, self.service, on_progress=self._progress, on_ready=self._engine_ready,
                       on_failed=self._engine_failed).start()
            if self.record is not None:
                self.open_encounter(self.record.id)

        self.tasks.run(op, done, self._file_failed, lane="engine")
