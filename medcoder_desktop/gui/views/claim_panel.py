"""The claim beside the suggestions: the diagnoses in sequence with POA and CC/MCC marks, procedures, the
MS-DRG with its weight and mean stays, the code editor's edits, and what the selected code does to the DRG."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from medcoder_desktop.gui import theme
from medcoder_desktop.gui.tables import read_only_rows

SEVERITY_COLORS = {"MCC": "#b3261e", "CC": "#b26a00"}
POA_CYCLE = ("Y", "N", "U", "W", "1", None)
COLUMNS = ("#", "Code", "POA", "CC/MCC", "Title")


def severity_mark(code: Any) -> str:
    if code.severity not in ("CC", "MCC"):
        return ""
    mark = code.severity
    if code.cc_excluded:
        mark += " (excl.)"
    if code.hac:
        mark += " HAC"
    return mark


class ClaimPanel(QFrame):
    """``overrideRequested()`` from the button; the window does the moves (Alt+Up/Down, P, O)."""

    overrideRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("claimPanel")
        self.claim: Any = None
        self.impacts: dict[str, Any] = {}
        self.title = QLabel("Claim", self)
        self.title.setObjectName("paneTitle")
        self.drg = QLabel(self)
        self.drg.setWordWrap(True)
        self.drg.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("claim")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        read_only_rows(self.table, row_padding=10)
        header = self.table.horizontalHeader()
        fm = self.fontMetrics()
        for col, sample in ((0, "P99"), (1, "M00.000A"), (2, "POA"), (3, "MCC (excl.)")):
            header.resizeSection(col, fm.horizontalAdvance(sample) + 18)
        header.setStretchLastSection(True)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.currentCellChanged.connect(lambda *_: self._show_reason())
        self.reason = QLabel(self)
        self.reason.setWordWrap(True)
        self.reason.setTextFormat(Qt.TextFormat.RichText)
        self.impact = QLabel(self)
        self.impact.setWordWrap(True)
        self.impact.setTextFormat(Qt.TextFormat.RichText)
        self.edits = QLabel(self)
        self.edits.setWordWrap(True)
        self.edits.setTextFormat(Qt.TextFormat.RichText)
        self.override_button = QPushButton("Override edits…", self)
        self.override_button.setToolTip("Override the open edits with a reason (it goes to the audit log)")
        self.override_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.override_button.clicked.connect(self.overrideRequested.emit)
        self.override_button.hide()
        self.warnings = QLabel(self)
        self.warnings.setObjectName("claimWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.drg)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.reason)
        layout.addWidget(self.impact)
        layout.addWidget(self.edits)
        layout.addWidget(self.override_button)
        layout.addWidget(self.warnings)
        self.set_claim(None, {})

    # -- content ---------------------------------------------------------------------------------
    def set_claim(self, claim: Any, impacts: dict[str, Any], *, busy: bool = False) -> None:
        keep = self.current_code()
        self.claim, self.impacts = claim, impacts
        self.title.setText("Claim" + (" · regrouping…" if busy else ""))
        self.table.setRowCount(0)
        if claim is None:
            self.drg.setText(f"<span style='color:{theme.MUTED}'>The claim appears with the suggestions.</span>")
            for w in (self.reason, self.impact, self.edits, self.warnings):
                w.setText("")
            self.override_button.hide()
            return
        self.drg.setText(self._drg_text(claim))
        rows = ([("P" if claim.setting == "inpatient" else "1", claim.principal)] if claim.principal else [])
        rows += [(str(i + 2), c) for i, c in enumerate(claim.secondary)]
        rows += [("Px", c) for c in claim.procedures]
        self.table.setRowCount(len(rows))
        for r, (place, code) in enumerate(rows):
            poa = (code.poa or "—") + ("?" if code.poa_proposed else "") if code.system == "ICD-10-CM" else ""
            values = (place, code.code, poa if claim.setting == "inpatient" else "", severity_mark(code), code.title)
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, code.code)
                if c == 3 and code.severity in SEVERITY_COLORS:
                    item.setForeground(QColor(theme.MUTED if code.cc_excluded or code.hac
                                              else SEVERITY_COLORS[code.severity]))
                if c == 2 and code.poa_proposed:
                    item.setToolTip("Proposed from the note: press O to set it")
                self.table.setItem(r, c, item)
        if keep is None or not self.select_code(keep):
            self.table.setCurrentCell(0, 1) if rows else None
        self._show_edits(claim)
        self.warnings.setText("<br>".join(f"<span style='color:{theme.BANNER_TEXT}'>⚠ {html.escape(w)}</span>"
                                          for w in claim.warnings))
        self._show_reason()

    def _drg_text(self, claim: Any) -> str:
        who = []
        if claim.age is not None:
            who.append(f"age {claim.age}" + (" (from the note)" if "age" in claim.proposed else ""))
        if claim.sex:
            who.append(f"sex {claim.sex}" + (" (from the note)" if "sex" in claim.proposed else ""))
        if claim.date:
            who.append(f"{claim.date} · FY{claim.fiscal_year}")
        facts = f"<br><span style='color:{theme.MUTED}'>{html.escape(' · '.join(who))}</span>" if who else ""
        d = claim.drg
        if d is None:
            kind = "first-listed diagnosis, no DRG (outpatient)" if claim.setting == "outpatient" else "no DRG yet"
            return f"<span style='color:{theme.MUTED}'>{kind}</span>{facts}"
        weight = (f"weight <b>{d.weight:.4f}</b> · GMLOS {d.gmlos} · AMLOS {d.amlos}" if d.weight is not None
                  else "no weight")
        return (f"<b>MS-DRG {d.code}</b> {html.escape(d.title)}<br>"
                f"<span style='color:{theme.MUTED}'>MDC {d.mdc or '—'} · {d.type or ''}</span> · {weight} "
                f"<span style='color:{theme.MUTED}'>· grouper v{d.grouper_version}</span>{facts}")

    def _show_edits(self, claim: Any) -> None:
        if not claim.edits:
            self.edits.setText(f"<span style='color:{theme.CONFIDENCE_HIGH}'>✓ No code editor edits</span>"
                               if claim.drg is not None else "")
            self.override_button.hide()
            return
        lines = []
        for e in claim.edits:
            if e.overridden:
                lines.append(f"<span style='color:{theme.MUTED}'>✓ overridden: {html.escape(e.message)} "
                             f"({html.escape(e.overridden)})</span>")
            else:
                lines.append(f"<span style='color:#b3261e'>✖ {html.escape(e.message)}</span>")
        self.edits.setText("<br>".join(lines))
        self.override_button.setVisible(bool(claim.open_edits()))

    def _show_reason(self) -> None:
        code = self.current_code()
        item = self._claim_code(code) if code else None
        if item is None:
            self.reason.setText(f"<span style='color:{theme.MUTED}'>Alt+↑/↓ move · P principal · O POA</span>")
            return
        text = html.escape(item.reason) if item.reason else ""
        if item.hac:
            text += "<br>" + html.escape("; ".join(item.hac))
        if item.removal is not None:
            text += f"<br><span style='color:{theme.MUTED}'>Removing it: {html.escape(item.removal.summary)}</span>"
        self.reason.setText(f"<b>{html.escape(item.code)}</b> {text}")

    def show_impact(self, code: str | None) -> None:
        """What the selected suggestion does to the DRG (accepting it, or taking it off)."""
        imp = self.impacts.get(code) if code else None
        if imp is None:
            self.impact.setText("")
            return
        verb = "Accepting" if imp.action == "add" else "Removing"
        color = "#b3261e" if imp.changes_drg else theme.MUTED
        self.impact.setText(f"{verb} <b>{html.escape(code)}</b>: "
                            f"<span style='color:{color}'>{html.escape(imp.summary)}</span>")

    # -- selection -------------------------------------------------------------------------------
    def _claim_code(self, code: str) -> Any:
        c = self.claim
        if c is None:
            return None
        return next((x for x in [*([c.principal] if c.principal else []), *c.secondary, *c.procedures]
                     if x.code == code), None)

    def current_code(self) -> str | None:
        item = self.table.item(self.table.currentRow(), 1) if self.table.currentRow() >= 0 else None
        return item.text() if item is not None else None

    def select_code(self, code: str) -> bool:
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 1)
            if item is not None and item.text() == code:
                self.table.setCurrentCell(r, 1)
                return True
        return False

    def codes(self) -> list[str]:
        return [self.table.item(r, 1).text() for r in range(self.table.rowCount())]
