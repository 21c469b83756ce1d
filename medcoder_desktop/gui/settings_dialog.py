"""The settings dialog: model (import a GGUF file), threads, GPU layers, default setting, threshold, user."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
    QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from medcoder_desktop.core.settings import Settings
from medcoder_desktop.gui.workers import Tasks

if TYPE_CHECKING:
    from medcoder_desktop.core.service import CodingService

AUTO = "Automatic (newest imported model, else the bundled one)"
NO_MODEL = "No model (dictionary only)"  # saved as model_path "none"


class SettingsDialog(QDialog):
    """Edits a copy of the service's settings; ``result_settings()`` after ``accepted``."""

    def __init__(self, tasks: Tasks, service: CodingService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.tasks, self.service = tasks, service
        s: Settings = service.settings
        self.model = QComboBox(self)
        self.model.setMinimumWidth(420)
        self._fill_models(s.model_path)
        self.import_button = QPushButton("Import GGUF file…", self)
        self.import_button.clicked.connect(self._pick_model)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(8)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.model_note = QLabel("A model is copied into the data folder and checked before use. Without one, "
                                 "suggestions come from the dictionary alone.", self)
        self.model_note.setWordWrap(True)
        self.model_note.setObjectName("statusItem")

        self.threads = QSpinBox(self)
        self.threads.setRange(0, 512)
        self.threads.setSpecialValueText("Automatic (one per core)")
        self.threads.setValue(s.threads or 0)
        self.gpu_layers = QSpinBox(self)
        self.gpu_layers.setRange(-1, 999)
        self.gpu_layers.setSpecialValueText("All, when a GPU is present")
        self.gpu_layers.setValue(-1 if s.gpu_layers is None else s.gpu_layers)
        self.default_setting = QComboBox(self)
        for value in ("outpatient", "inpatient"):
            self.default_setting.addItem(value, value)
        self.default_setting.setCurrentIndex(self.default_setting.findData(s.default_setting))
        self.calibrated = QCheckBox("Use the calibrated threshold", self)
        self.threshold = QDoubleSpinBox(self)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(s.confidence_threshold if s.confidence_threshold is not None else 0.5)
        self.calibrated.toggled.connect(lambda on: self.threshold.setEnabled(not on))
        self.calibrated.setChecked(s.confidence_threshold is None)
        self.threshold.setEnabled(s.confidence_threshold is not None)
        self.user = QLineEdit(s.user_name or "", self)
        self.user.setPlaceholderText("the operating-system user")
        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()

        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.import_button)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.threshold)
        threshold_row.addWidget(self.calibrated)
        threshold_row.addStretch(1)
        form = QFormLayout()
        model_box = QVBoxLayout()
        model_box.addLayout(model_row)
        model_box.addWidget(self.progress)
        model_box.addWidget(self.model_note)
        form.addRow("Language model", model_box)
        form.addRow("CPU threads", self.threads)
        form.addRow("GPU layers", self.gpu_layers)
        form.addRow("New notes are", self.default_setting)
        form.addRow("Confidence threshold", threshold_row)
        form.addRow("User name (audit log)", self.user)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._result: Settings | None = None

    def _fill_models(self, current: str | None) -> None:
        self.model.clear()
        self.model.addItem(AUTO, None)
        self.model.addItem(NO_MODEL, "none")
        for info in self.service.models():
            if info.present:
                self.model.addItem(f"{info.name}  ({info.size / 1e6:,.0f} MB)", info.path)
        if current and self.model.findData(current) < 0:
            self.model.addItem(current, current)
        self.model.setCurrentIndex(max(0, self.model.findData(current)))

    def _pick_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a language model", str(Path.home()),
                                              "GGUF models (*.gguf);;All files (*)")
        if path:
            self.import_model(Path(path))

    def import_model(self, path: Path) -> None:
        """Copy and check the file on a worker thread; the dialog stays usable meanwhile."""
        self.import_button.setEnabled(False)
        self.progress.show()
        self.error.hide()
        self.model_note.setText(f"Checking and copying {path.name}…")
        self.tasks.run(lambda: self.service.import_model(path), self._imported, self._import_failed,
                       lane="lookup")

    def _imported(self, info: Any) -> None:
        self.import_button.setEnabled(True)
        self.progress.hide()
        self._fill_models(info.path)
        self.model_note.setText(f"Imported {info.name} (sha256 {info.sha256[:12]}…).")

    def _import_failed(self, exc: BaseException) -> None:
        self.import_button.setEnabled(True)
        self.progress.hide()
        self.model_note.setText("")
        self.error.setText(str(exc))
        self.error.show()

    def _save(self) -> None:
        try:
            self._result = Settings.model_validate({
                **self.service.settings.model_dump(),
                "model_path": self.model.currentData(),
                "threads": self.threads.value() or None,
                "gpu_layers": None if self.gpu_layers.value() < 0 else self.gpu_layers.value(),
                "default_setting": self.default_setting.currentData(),
                "confidence_threshold": None if self.calibrated.isChecked() else round(self.threshold.value(), 2),
                "user_name": self.user.text().strip() or None,
            })
        except ValueError as exc:
            self.error.setText(f"Unusable value: {exc}")
            self.error.show()
            return
        self.accept()

    def result_settings(self) -> Settings | None:
        return self._result
