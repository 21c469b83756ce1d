"""The organization preferences view: rules, what was learned, where it came from; learn, import and export packs.

Every operation runs on the engine lane (it reads the dictionary and changes ranking, so it queues behind the
running suggestions rather than beside them); ``changed`` tells the window to suggest again, so that the effect of a
preference shows in the reasoning at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
    QHeaderView, QInputDialog, QLabel, QLineEdit, QMessageBox, QPushButton, QTableWidget, QTableWidgetItem,
    QTabWidget, QVBoxLayout, QWidget,
)

from medcoder_desktop.core.models import LearnReport, PackImportReport, PreferencesSummary
from medcoder_desktop.errors import UntrustedSignerError
from medcoder_desktop.gui.tables import read_only_rows
from medcoder_desktop.gui.workers import Tasks

if TYPE_CHECKING:
    from medcoder_desktop.core.service import CodingService

RULE_KINDS = (("prefer", "Prefer a code over another"), ("never", "Never suggest a code"),
              ("pair", "Always pair a code with another"))


def _table(parent: QWidget, headers: Sequence[str], stretch: int) -> QTableWidget:
    t = QTableWidget(0, len(headers), parent)
    t.setHorizontalHeaderLabels(list(headers))
    read_only_rows(t, grid=True, wrap=True)
    header = t.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return t


def _fill(table: QTableWidget, rows: Sequence[Sequence[Any]], data: Sequence[Any] | None = None) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem("" if value is None else str(value))
            if isinstance(value, (int, float)):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if data is not None and c == 0:
                item.setData(Qt.ItemDataRole.UserRole, data[r])
            table.setItem(r, c, item)


class RuleDialog(QDialog):
    """Asks for one explicit rule: its kind, the code(s), and optionally the setting and payer it is limited to."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a rule")
        self.kind = QComboBox(self)
        for value, text in RULE_KINDS:
            self.kind.addItem(text, value)
        self.code = QLineEdit(self)
        self.code.setPlaceholderText("e.g. E11.9")
        self.other = QLineEdit(self)
        self.other_label = QLabel(self)
        self.setting = QComboBox(self)
        for text, value in (("Every setting", None), ("Outpatient only", "outpatient"),
                            ("Inpatient only", "inpatient")):
            self.setting.addItem(text, value)
        self.payer = QLineEdit(self)
        self.payer.setPlaceholderText("every payer")
        form = QFormLayout()
        form.addRow("Rule", self.kind)
        form.addRow("Code", self.code)
        form.addRow(self.other_label, self.other)
        form.addRow("Setting", self.setting)
        form.addRow("Payer", self.payer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        self.other_label.setText({"prefer": "Instead of", "pair": "Add with it"}.get(kind, ""))
        self.other.setPlaceholderText({"prefer": "the code it replaces, e.g. E11.8",
                                       "pair": "e.g. Z79.4"}.get(kind, ""))
        self.other.setVisible(kind != "never")
        self.other_label.setVisible(kind != "never")

    def values(self) -> dict[str, Any]:
        kind = self.kind.currentData()
        other = self.other.text().strip().upper() or None
        return {"kind": kind, "code": self.code.text().strip().upper(),
                "over": other if kind == "prefer" else None, "add": other if kind == "pair" else None,
                "setting": self.setting.currentData(), "payer": self.payer.text().strip() or None}


class PreferencesDialog(QDialog):
    """Shows the active organization preferences and changes them through the service."""

    changed = Signal()  # rules or learned preferences changed: the open note should be suggested again
    refreshed = Signal()  # the view shows the stored preferences (after opening and after each change)

    def __init__(self, tasks: Tasks, service: CodingService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Organization preferences")
        self.resize(980, 640)
        self.tasks, self.service = tasks, service
        self.summary: PreferencesSummary | None = None
        self.last_message = ""  # the last report or error shown, for the status bar and tests
        self.organization = ""

        self.headline = QLabel("Reading the preferences…", self)
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.rules = _table(self, ("#", "Rule", "Setting", "Payer", "From", "Added"), 1)
        self.add_rule_button = QPushButton("&Add rule…", self)
        self.remove_rule_button = QPushButton("&Remove rule", self)
        self.add_rule_button.clicked.connect(self.add_rule_dialog)
        self.remove_rule_button.clicked.connect(self.remove_selected_rule)
        rules_page = QWidget(self)
        rl = QVBoxLayout(rules_page)
        rl.addWidget(QLabel("Rules an administrator wrote; they apply on every workstation that imports the "
                            "pack. A rule limited to a setting or payer applies to those encounters only.",
                            rules_page))
        rl.addWidget(self.rules)
        rb = QHBoxLayout()
        rb.addWidget(self.add_rule_button)
        rb.addWidget(self.remove_rule_button)
        rb.addStretch(1)
        rl.addLayout(rb)

        learned_headers = ("Code", "Title", "Found in notes", "Coded", "Expected", "Effect")
        self.raised = _table(self, learned_headers, 1)
        self.lowered = _table(self, learned_headers, 1)
        self.replacements = _table(self, ("Coded", "Instead of", "Notes", "Suggested in"), 1)
        learned_page = QWidget(self)
        ll = QVBoxLayout(learned_page)
        for title, table in (("Coded more often than the dictionary alone expects", self.raised),
                             ("Coded less often (the coders reject or skip them)", self.lowered),
                             ("Coded instead of the suggested code", self.replacements)):
            box = QGroupBox(title, learned_page)
            QVBoxLayout(box).addWidget(table)
            ll.addWidget(box)

        self.sources = _table(self, ("Learned from", "Kind", "From", "When", "Notes", "Codes", "Wordings"), 0)
        self.imports = _table(self, ("Organization", "Author", "Created", "Signer", "File", "Imported"), 4)
        sources_page = QWidget(self)
        sl = QVBoxLayout(sources_page)
        for title, table in (("Learned sources", self.sources), ("Packs imported", self.imports)):
            box = QGroupBox(title, sources_page)
            QVBoxLayout(box).addWidget(table)
            sl.addWidget(box)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(rules_page, "Rules")
        self.tabs.addTab(learned_page, "Learned")
        self.tabs.addTab(sources_page, "Sources and packs")

        self.learn_decisions_button = QPushButton("Learn from &decisions", self)
        self.learn_decisions_button.setToolTip("Learn from what the coders accepted, rejected and edited in "
                                               "this workstation's worklist.")
        self.learn_file_button = QPushButton("Learn from &coded notes…", self)
        self.learn_file_button.setToolTip("Learn from historically coded notes (JSONL with text and codes).")
        self.import_button = QPushButton("&Import pack…", self)
        self.export_button = QPushButton("E&xport pack…", self)
        self.learn_decisions_button.clicked.connect(self.learn_from_decisions)
        self.learn_file_button.clicked.connect(self.learn_file_dialog)
        self.import_button.clicked.connect(self.import_dialog)
        self.export_button.clicked.connect(self.export_dialog)
        self.result_label = QLabel("", self)
        self.result_label.setWordWrap(True)
        self.result_label.setObjectName("statusItem")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)

        bottom = QHBoxLayout()
        for b in (self.learn_decisions_button, self.learn_file_button, self.import_button, self.export_button):
            bottom.addWidget(b)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.result_label)
        layout.addLayout(bottom)
        self._buttons = (self.add_rule_button, self.remove_rule_button, self.learn_decisions_button,
                         self.learn_file_button, self.import_button, self.export_button)
        self.busy = False
        self.refresh()

    # -- reading ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._run(self.service.preferences, self._show, changed=False)

    def _show(self, summary: PreferencesSummary) -> None:
        self.summary = summary
        c = summary.counts
        where = summary.path if summary.stored else "none stored yet"
        self.headline.setText(
            f"<b>{len(summary.rules)} rules</b> · {c.get('codes', 0)} codes and {c.get('wordings', 0)} wordings "
            f"learned from {len(summary.sources)} sources · {len(summary.imports)} packs imported"
            f"<br><span style='color:#667'>{where}</span>")
        _fill(self.rules, [(r.id, r.describe(), r.setting or "every", r.payer or "every", r.origin,
                            r.created[:10]) for r in summary.rules], data=[r.id for r in summary.rules])
        for table, prefs in ((self.raised, summary.raised), (self.lowered, summary.lowered)):
            _fill(table, [(p.code, p.title, p.found, p.coded, p.expected,
                           f"{'raised' if p.shift > 0 else 'lowered'} ({p.shift:+.2f})") for p in prefs])
        _fill(self.replacements, [(r.code, r.instead_of, r.notes, r.suggested) for r in summary.replacements])
        _fill(self.sources, [(s.label or s.id, s.kind, s.origin, s.learned_at[:16].replace("T", " "), s.items,
                              s.codes, s.wordings) for s in summary.sources])
        _fill(self.imports, [(i.organization, i.author, i.created[:10], i.signer, i.file,
                              i.imported_at[:16].replace("T", " ")) for i in summary.imports])
        self.refreshed.emit()

    # -- rules -----------------------------------------------------------------------------------
    def add_rule_dialog(self) -> RuleDialog:
        dialog = RuleDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.add_rule(**dialog.values()))
        dialog.open()
        return dialog

    def add_rule(self, kind: str, code: str, *, over: str | None = None, add: str | None = None,
                 setting: str | None = None, payer: str | None = None) -> None:
        self._run(lambda: self.service.add_rule(kind, code, over=over, add=add, setting=setting, payer=payer),
                  lambda rule: self._tell(f"Rule {rule.id} added: {rule.describe()}."))

    def remove_selected_rule(self) -> None:
        row = self.rules.currentRow()
        if row < 0:
            self._tell("Select the rule to remove first.")
            return
        rule_id = self.rules.item(row, 0).data(Qt.ItemDataRole.UserRole)
        self._run(lambda: self.service.remove_rule(rule_id),
                  lambda rule: self._tell(f"Rule {rule.id} removed: {rule.describe()}."))

    # -- learning --------------------------------------------------------------------------------
    def learn_from_decisions(self) -> None:
        self._run(self.service.learn_from_workspace, self._learned)

    def learn_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Learn from coded notes", "", "Coded notes (*.jsonl);;All (*)")
        if path:
            self.learn_file(Path(path))

    def learn_file(self, path: Path) -> None:
        self._tell(f"Learning from {path.name}… (the dictionary suggests codes for every note first)")
        self._run(lambda: self.service.learn_preferences(path), self._learned)

    def _learned(self, report: LearnReport) -> None:
        self._tell(f"Learned from {report.items} {'notes' if report.source.startswith('gold') else 'encounters'}"
                   f" of {report.label}: {report.codes} codes, {report.wordings} wordings, {report.replacements} "
                   f"replacements{' (replacing what was learned from it before)' if report.replaced_previous else ''}"
                   f" in {report.seconds:.1f} s.")

    # -- packs -----------------------------------------------------------------------------------
    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a preferences pack", "",
                                              "Preferences packs (*.json);;All (*)")
        if path:
            self.import_pack(Path(path))

    def import_pack(self, path: Path, *, trust_signer: bool = False) -> None:
        def failed(exc: BaseException) -> None:
            if isinstance(exc, UntrustedSignerError) and not trust_signer:
                self._ask_trust(path, exc.fingerprint)
            else:
                self._failed(exc)

        self._run(lambda: self.service.import_preferences(path, trust_signer=trust_signer), self._imported,
                  failure=failed)

    def _ask_trust(self, path: Path, fingerprint: str) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Question, "Trust this signer?",
                          f"The pack {path.name} is signed by a key this workstation does not trust yet:\n\n"
                          f"{fingerprint}\n\nCompare this fingerprint with the one your administrator gave you. "
                          "Trust it and import the pack?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.last_message = f"untrusted signer {fingerprint}"
        box.finished.connect(lambda result: self.import_pack(path, trust_signer=True)
                             if result == QMessageBox.StandardButton.Yes else self._tell("Nothing was imported."))
        box.open()
        self.trust_box = box
        return box

    def _imported(self, report: PackImportReport) -> None:
        parts = [f"Imported {report.organization}'s preferences ({report.created[:10]}, by {report.author}): "
                 f"{len(report.rules_added)} rules added, {report.rules_already_present} already present; "
                 f"{len(report.sources_added)} learned sources added, {len(report.sources_updated)} updated, "
                 f"{len(report.sources_kept)} kept."]
        if report.unknown_codes:
            parts.append(f"Skipped {len(report.unknown_codes)} codes these code sets lack: "
                         + ", ".join(report.unknown_codes[:12]) + (" …" if len(report.unknown_codes) > 12 else ""))
        parts += [f"Conflict: {c}" for c in report.conflicts[:5]]
        parts += [f"Rule skipped: {r}" for r in report.skipped_rules[:5]]
        self._tell("\n".join(parts))

    def export_dialog(self) -> None:
        if self.service.signing_key() is None:
            answer = QMessageBox.question(
                self, "Create a signing key?",
                "A pack is signed with this workstation's key so that other workstations can check nothing changed "
                "on the way. This workstation has none yet. Create it now? (Give its public key to the other "
                "workstations: `medcoder prefs key export`.)")
            if answer != QMessageBox.StandardButton.Yes:
                return
            self._run(self.service.create_signing_key, lambda key: self._tell(f"Signing key created: {key.fingerprint}."),
                      changed=False)
        organization, ok = QInputDialog.getText(self, "Export a preferences pack", "Organization:",
                                                text=self.organization)
        if not ok or not organization.strip():
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export a preferences pack", f"{organization.strip()}-prefs.json",
                                              "Preferences packs (*.json)")
        if path:
            self.export_pack(Path(path), organization=organization.strip())

    def export_pack(self, path: Path, *, organization: str, author: str | None = None) -> None:
        self.organization = organization
        self._run(lambda: self.service.export_preferences(path, organization=organization, author=author),
                  lambda r: self._tell(f"Exported {r.organization}'s pack to {r.path} ({r.bytes / 1024:.0f} KB, "
                                       f"signed by {r.signer}): {r.counts.get('rules', 0)} rules, "
                                       f"{r.counts.get('codes', 0)} codes."), changed=False)

    # -- plumbing --------------------------------------------------------------------------------
    def _tell(self, text: str) -> None:
        self.last_message = text
        self.result_label.setText(text)

    def _failed(self, exc: BaseException) -> None:
        from medcoder_desktop.core.failures import user_error

        err = user_error(exc)
        text = str(err) if err is not None else f"Unexpected error ({type(exc).__name__})."
        self._tell(text)
        self.result_label.setStyleSheet("color: #b3261e;")

    def _run(self, op: Callable[[], Any], success: Callable[[Any], Any], *, changed: bool = True,
             failure: Callable[[BaseException], Any] | None = None) -> None:
        self.busy = True
        for b in self._buttons:
            b.setEnabled(False)
        self.result_label.setStyleSheet("")

        def done(value: Any) -> None:
            self._ready()
            success(value)
            if changed:
                self.changed.emit()
                self.refresh()

        def failed(exc: BaseException) -> None:
            self._ready()
            (failure or self._failed)(exc)

        self.tasks.run(op, done, failed, lane="engine")

    def _ready(self) -> None:
        self.busy = False
        for b in self._buttons:
            b.setEnabled(True)
