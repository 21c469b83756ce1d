"""Code search over the dictionary: ranked results, and the selected code's hierarchy and notes."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget,
)

from medcoder_desktop.core.models import SearchHit
from medcoder_desktop.errors import MedcoderError
from medcoder_desktop.gui import theme
from medcoder_desktop.gui.tables import read_only_rows
from medcoder_desktop.gui.workers import Tasks

if TYPE_CHECKING:
    from medcoder_desktop.core.service import CodingService

SEARCH_DELAY_MS = 180
RESULTS = 40
MAX_CHILDREN = 60
_LOOKS_LIKE_CODE = re.compile(r"^\s*(?=[A-Za-z0-9.]*\d)[A-Za-z0-9]{3}(?:\.?[A-Za-z0-9]{1,4})?\s*$")
_CODE_REF = re.compile(r"\b([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)(\.-|-)?(?![0-9A-Za-z])")
NOTE_SECTIONS = (("Inclusion terms", "inclusion_terms"), ("Includes", "includes"), ("Excludes1", "excludes1"),
                 ("Excludes2", "excludes2"), ("Code first", "code_first"),
                 ("Use additional code", "use_additional"), ("Code also", "code_also"), ("Notes", "notes"))


class CodeSearchDialog(QDialog):
    """``chosen(SearchHit)`` when the coder picks a billable code (Enter, double-click or the button).

    ``replacing``: the code an edit replaces (the button then says so); None to add a code.
    """

    chosen = Signal(object)

    def __init__(self, tasks: Tasks, service: CodingService, parent: QWidget | None = None, *, query: str = "",
                 replacing: str | None = None, systems: list[str] | None = None) -> None:
        super().__init__(parent)
        self.tasks, self.service, self.replacing = tasks, service, replacing
        self.setWindowTitle(f"Replace {replacing} with…" if replacing else "Code search")
        self.resize(1100, 680)
        self._search_gen = self._detail_gen = 0
        self.hits: list[SearchHit] = []
        self.detail = None
        self.busy = False

        self.query = QLineEdit(self)
        self.query.setPlaceholderText("Search codes: words, abbreviations or a code (E11.65, DM2 w hyperglycemia)")
        self.query.setClearButtonEnabled(True)
        self.query.installEventFilter(self)
        self.system = QComboBox(self)
        self.system.addItem("All code sets", None)
        for s in systems or []:
            self.system.addItem(s, s)
        self.results = QTableWidget(0, 2, self)
        self.results.setObjectName("results")
        self.results.setHorizontalHeaderLabels(["Code", "Title"])
        read_only_rows(self.results, row_padding=12)
        self.results.horizontalHeader().resizeSection(0, self.fontMetrics().horizontalAdvance("M00.000A") + 28)
        self.results.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.results.currentCellChanged.connect(lambda row, *_: self._show_hit(row))
        self.results.cellDoubleClicked.connect(lambda *_: self._choose())
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("codeDetail")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link)
        self.browser.document().setDocumentMargin(12)
        self.hint = QLabel(self)
        self.hint.setObjectName("statusItem")

        buttons = QDialogButtonBox(self)
        self.choose_button = QPushButton(f"Replace {replacing} with this code" if replacing else "Add to encounter")
        self.choose_button.setObjectName("primary")
        self.choose_button.setDefault(True)
        self.choose_button.setEnabled(False)
        buttons.addButton(self.choose_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.choose_button.clicked.connect(self._choose)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.query, 1)
        top.addWidget(self.system)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.results)
        split.addWidget(self.browser)
        split.setSizes([470, 630])
        split.setChildrenCollapsible(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search_now)
        self.query.textChanged.connect(lambda _t: self._timer.start())
        self.system.currentIndexChanged.connect(lambda _i: self.search_now())
        self.query.setText(query)
        self.query.selectAll()

    # -- search ----------------------------------------------------------------------------------
    def search_now(self) -> None:
        self._timer.stop()
        text = self.query.text().strip()
        self._search_gen += 1
        gen = self._search_gen
        if not text:
            self._fill([])
            return
        systems = {self.system.currentData()} if self.system.currentData() else None
        self.busy = True
        self.hint.setText("Searching…")
        self.tasks.run(lambda: find_codes(self.service, text, systems),
                       lambda hits: self._results(gen, hits), lambda exc: self._failed(gen, exc), lane="lookup")

    def _results(self, gen: int, hits: list[SearchHit]) -> None:
        if gen == self._search_gen:
            self.busy = False
            self._fill(hits)

    def _failed(self, gen: int, exc: BaseException) -> None:
        if gen == self._search_gen:
            self.busy = False
            self._fill([])
            self.hint.setText(str(exc))

    def _fill(self, hits: list[SearchHit]) -> None:
        self.hits = hits
        self.results.setRowCount(len(hits))
        for row, hit in enumerate(hits):
            code = QTableWidgetItem(hit.code)
            font = code.font()
            font.setBold(True)
            code.setFont(font)
            title = QTableWidgetItem(hit.title + ("" if hit.billable else "  (header: not billable)"))
            title.setToolTip(f"{hit.system} · {hit.title}")
            if not hit.billable:
                for item in (code, title):
                    item.setForeground(Qt.GlobalColor.gray)
            self.results.setItem(row, 0, code)
            self.results.setItem(row, 1, title)
        self.hint.setText(f"{len(hits)} codes" if hits else ("No matching codes." if self.query.text().strip()
                                                             else "Type to search."))
        if hits:
            self.results.blockSignals(True)
            self.results.setCurrentCell(0, 0)
            self.results.blockSignals(False)
            self.results.selectRow(0)
            self._show_hit(0)
        else:
            self._set_detail(None, {}, [])

    # -- details ---------------------------------------------------------------------------------
    def _show_hit(self, row: int) -> None:
        if 0 <= row < len(self.hits):
            self.show_code(self.hits[row].code, self.hits[row].system)

    def show_code(self, code: str, system: str | None = None) -> None:
        self._detail_gen += 1
        gen = self._detail_gen
        self.busy = True

        def op() -> tuple[Any, dict[str, str], list[Any]]:
            detail = self.service.show(code)
            related = detail.ancestors + detail.children[:MAX_CHILDREN]
            # Tabular notes of a category, block or chapter apply to every code below it.
            inherited = [self.service.show(a) for a in detail.ancestors]
            return detail, self.service.code_titles(related, detail.system), inherited

        def done(result: tuple[Any, dict[str, str], list[Any]]) -> None:
            if gen == self._detail_gen:
                self.busy = False
                self._set_detail(*result)

        def failed(exc: BaseException) -> None:
            if gen == self._detail_gen:
                self.busy = False
                self.detail = None
                self.choose_button.setEnabled(False)
                self.browser.setHtml(f"<p>{html.escape(str(exc))}</p>")

        self.tasks.run(op, done, failed, lane="lookup")

    def _set_detail(self, detail: Any, titles: dict[str, str], inherited: list[Any] | None = None) -> None:
        self.detail = detail
        self.choose_button.setEnabled(detail is not None and detail.billable)
        if detail is None:
            self.browser.setHtml("")
            return
        self.browser.setHtml(detail_html(detail, titles, inherited or []))
        if not detail.billable:
            self.hint.setText(f"{detail.code} is a header, not billable: pick a more specific code below it.")

    def _link(self, url: QUrl) -> None:
        target = url.toString()
        if target.startswith("code:"):
            self.show_code(target[5:])

    # -- choosing --------------------------------------------------------------------------------
    def _choose(self) -> None:
        d = self.detail
        if d is None or not d.billable:
            return
        self.chosen.emit(SearchHit(code=d.code, system=d.system, title=d.title, billable=d.billable, score=1.0))
        self.accept()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # Down from the query box goes to the results, so that Enter picks what the arrows chose.
        if obj is self.query and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown) and self.results.rowCount():
                self.results.setFocus()
                self.results.selectRow(min(1, self.results.rowCount() - 1)
                                       if self.results.currentRow() == 0 else self.results.currentRow())
                return True
        return super().eventFilter(obj, event)


def find_codes(service: CodingService, text: str, systems: set[str] | None) -> list[SearchHit]:
    """Ranked codes for the query; a query that is itself a code (E11.65, e1165, 0DTJ4ZZ) comes first."""
    hits: list[SearchHit] = []
    if _LOOKS_LIKE_CODE.match(text):
        try:
            d = service.show(text)
        except MedcoderError:
            d = None
        if d is not None and (systems is None or d.system in systems):
            hits.append(SearchHit(code=d.code, system=d.system, title=d.title, billable=d.billable, score=1.0))
    seen = {(h.system, h.code) for h in hits}
    hits += [h for h in service.search(text, limit=RESULTS, systems=systems) if (h.system, h.code) not in seen]
    return hits[:RESULTS]


def _linkify(text: str) -> str:
    out, last = [], 0
    for m in _CODE_REF.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        out.append(f"<a href='code:{m.group(1)}'>{html.escape(m.group(0))}</a>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _notes_html(detail: Any, above: bool = False) -> str:
    """The tabular notes; ``above``: of a code above the one shown (its inclusion terms are its own)."""
    out = []
    for label, field in NOTE_SECTIONS:
        values = getattr(detail, field)
        if values and not (above and field == "inclusion_terms"):  # inclusion terms are the code's own
            color = "#b42318" if field == "excludes1" else theme.TEXT
            out.append(f"<p style='color:{color}; font-weight:600; margin-top:8px'>{label}</p><ul "
                       "style='margin-top:0'>" + "".join(f"<li>{_linkify(v)}</li>" for v in values) + "</ul>")
    return "".join(out)


def detail_html(detail: Any, titles: dict[str, str], inherited: list[Any] = ()) -> str:
    """The code's title, hierarchy (ancestors, the code, its children), its tabular notes and those of the
    codes above it, as rich text."""
    muted = theme.MUTED
    billable = "billable" if detail.billable else "header: not billable"
    parts = [f"<p style='font-size:14pt; margin:0'><b>{html.escape(detail.code)}</b> "
             f"{html.escape(detail.title)}</p>",
             f"<p style='color:{muted}; margin-top:2px'>{html.escape(detail.system)} {html.escape(detail.version)}"
             f" · {billable}</p>",
             f"<p style='color:{muted}; font-weight:600; margin-top:10px'>Hierarchy</p>"]
    chain = list(reversed(detail.ancestors))
    for depth, code in enumerate(chain):
        parts.append(f"<p style='margin:0 0 0 {depth * 16}px'><a href='code:{html.escape(code)}'>"
                     f"{html.escape(code)}</a> {html.escape(titles.get(code, ''))}</p>")
    depth = len(chain)
    parts.append(f"<p style='margin:0 0 0 {depth * 16}px; background:{theme.SELECTION}'>"
                 f"<b>{html.escape(detail.code)}</b> {html.escape(detail.title)}</p>")
    for code in detail.children[:MAX_CHILDREN]:
        parts.append(f"<p style='margin:0 0 0 {(depth + 1) * 16}px'><a href='code:{html.escape(code)}'>"
                     f"{html.escape(code)}</a> {html.escape(titles.get(code, ''))}</p>")
    if len(detail.children) > MAX_CHILDREN:
        parts.append(f"<p style='margin:0 0 0 {(depth + 1) * 16}px; color:{muted}'>"
                     f"… {len(detail.children) - MAX_CHILDREN} more</p>")
    parts.append(_notes_html(detail))
    if detail.seventh_characters:
        parts.append("<p style='font-weight:600; margin-top:10px'>7th characters</p><ul style='margin-top:0'>"
                     + "".join(f"<li><b>{html.escape(k)}</b> {html.escape(v)}</li>"
                               for k, v in detail.seventh_characters.items()) + "</ul>")
    for parent in inherited:
        notes = _notes_html(parent, above=True)
        if notes:
            parts.append(f"<p style='color:{muted}; margin-top:14px'>"
                         f"From <a href='code:{html.escape(parent.code)}'>{html.escape(parent.code)}</a> "
                         f"{html.escape(parent.title)}, which applies to the codes below it:</p>{notes}")
    return "".join(parts)
