"""The encounter's details: age, sex, payer, setting, date of service, discharge status, and a re-run."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QFrame, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from medcoder_desktop.core.models import EncounterRecord

NO_AGE = -1


class EncounterPanel(QFrame):
    """``changed(field, value)`` as soon as one detail is edited (None clears it); ``rerun()`` on the button."""

    changed = Signal(str, object)
    rerun = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailsBar")
        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.age = QSpinBox(self)
        self.age.setRange(NO_AGE, 130)
        self.age.setSpecialValueText("—")
        self.age.setAccessibleName("Age")
        self.sex = QComboBox(self)
        for text, value in (("—", None), ("F", "F"), ("M", "M"), ("U", "U")):
            self.sex.addItem(text, value)
        self.sex.setAccessibleName("Sex")
        self.payer = QLineEdit(self)
        self.payer.setPlaceholderText("payer")
        self.payer.setAccessibleName("Payer")
        self.setting = QComboBox(self)
        for value in ("outpatient", "inpatient"):
            self.setting.addItem(value, value)
        self.setting.setAccessibleName("Setting")
        self.dos = QLineEdit(self)
        self.dos.setPlaceholderText("YYYY-MM-DD")
        self.dos.setAccessibleName("Date of service")
        self.discharge = QSpinBox(self)
        self.discharge.setRange(0, 99)
        self.discharge.setSpecialValueText("01 (default)")
        self.discharge.setAccessibleName("Discharge status")
        self.discharge.setToolTip("CMS patient discharge status: 01 home, 02 short-term hospital, 03 SNF, "
                                  "06 home health, 07 left against advice, 20 died ...")
        self.run_button = QPushButton("Re-run", self)
        self.run_button.setToolTip("Suggest again for this note with these details (Ctrl+R)")
        self.run_button.clicked.connect(self.rerun.emit)
        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in (("Age", self.age), ("Sex", self.sex), ("Payer", self.payer),
                              ("Setting", self.setting), ("Date of service", self.dos),
                              ("Discharge status", self.discharge)):
            form.addRow(label, widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.run_button)

        self.age.editingFinished.connect(lambda: self._emit("age", None if self.age.value() == NO_AGE
                                                            else self.age.value()))
        self.sex.activated.connect(lambda _i: self._emit("sex", self.sex.currentData()))
        self.setting.activated.connect(lambda _i: self._emit("setting", self.setting.currentData()))
        self.payer.editingFinished.connect(lambda: self._emit("payer", self.payer.text().strip() or None))
        self.dos.editingFinished.connect(lambda: self._emit("date_of_service", self.dos.text().strip() or None))
        self.discharge.editingFinished.connect(
            lambda: self.changed.emit("discharge_status", self.discharge.value() or None)
            if self._record is not None and (self.discharge.value() or None) != self._discharge else None)
        self._discharge: int | None = None
        self._record: EncounterRecord | None = None
        self.setEnabled(False)

    def set_record(self, record: EncounterRecord | None) -> None:
        """Show an encounter's details (no ``changed`` signal)."""
        self._record = record
        self.error.hide()
        self.setEnabled(record is not None)
        if record is None:
            self.title.setText("")
            return
        source = f" · from {record.source_file}" if record.source_file else ""
        self.title.setText(f"<b>{html.escape(record.id)}</b><br><span style='color:#5f6b7a'>"
                           f"{record.status.replace('_', ' ')}{html.escape(source)}</span>")
        for widget in (self.age, self.sex, self.payer, self.setting, self.dos):
            widget.blockSignals(True)
        try:
            self.age.setValue(NO_AGE if record.age is None else record.age)
            self.sex.setCurrentIndex(max(0, self.sex.findData(record.sex)))
            self.payer.setText(record.payer or "")
            self.setting.setCurrentIndex(max(0, self.setting.findData(record.setting)))
            self.dos.setText(record.date_of_service or "")
        finally:
            for widget in (self.age, self.sex, self.payer, self.setting, self.dos):
                widget.blockSignals(False)

    def show_claim_facts(self, discharge_status: int | None, proposed: dict[str, object]) -> None:
        """The discharge status kept with the claim, and what the note proposes where age or sex is empty."""
        self._discharge = discharge_status
        self.discharge.blockSignals(True)
        self.discharge.setValue(discharge_status or 0)
        self.discharge.blockSignals(False)
        age = proposed.get("age")
        self.age.setSpecialValueText(f"— (note: {age})" if age is not None else "—")
        sex = proposed.get("sex")
        self.sex.setItemText(0, f"— (note: {sex})" if sex else "—")

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def _emit(self, field: str, value: Any) -> None:
        if self._record is None or getattr(self._record, field) == value:
            return
        self.changed.emit(field, value)
