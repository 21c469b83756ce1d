"""The suggestions table: the run's suggestions, codes the coder added, and each code's decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from medcoder_desktop.core.models import CodeState, Evidence, Suggestion
from medcoder_desktop.gui import theme

COLUMNS = ("Code", "System", "Title", "Confidence", "Status", "Reasoning")
CODE, SYSTEM, TITLE, CONFIDENCE, STATUS, REASONING = range(len(COLUMNS))
RowRole = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


@dataclass
class Row:
    code: str
    system: str
    title: str
    confidence: float | None  # None: added by the coder
    reasoning: str
    evidence: list[Evidence] = field(default_factory=list)
    suggested: bool = True
    billable: bool = True
    source: str = "retrieval"

    @classmethod
    def of(cls, s: Suggestion) -> "Row":
        return cls(s.code, s.system, s.title, s.confidence, s.reasoning, list(s.evidence), s.suggested,
                   s.billable, s.source)


def status_text(state: CodeState | None) -> str:
    if state is None:
        return ""
    return {
        "accept": "✓ Accepted",
        "reject": "✗ Rejected",
        "add": "+ Added",
        "edit": "✎ Edited" + (f" ← {state.replaced_code}" if state.replaced_code else ""),
        "replaced": f"✎ → {state.replaced_by}",
    }[state.action]


class SuggestionsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._suggestions: list[Row] = []
        self._added: list[Row] = []
        self._states: dict[tuple[str, str], CodeState] = {}
        self._rows: list[Row] = []
        self.show_all = False

    # -- Qt --------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, col = self._rows[index.row()], index.column()
        state = self.state(row)
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            if col == CODE:
                return row.code
            if col == SYSTEM:
                return row.system
            if col == TITLE:
                return row.title + ("" if row.billable else "  (not billable)")
            if col == CONFIDENCE:
                return None if row.confidence is None else f"{row.confidence:.2f}"
            if col == REASONING:
                return row.reasoning
            if col == STATUS:
                return status_text(state)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == STATUS and state is not None and state.reason:
                return f"Reason: {state.reason}"
            if col == CONFIDENCE and row.confidence is not None:
                return (f"Calibrated confidence {row.confidence:.2f}: a code shown with this confidence is right "
                        f"about {round(row.confidence * 10)} times in 10.")
            return row.reasoning or row.title
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == STATUS and state is not None:
                return QColor(theme.STATUS_COLORS[state.action])
            if not row.suggested or (state is not None and state.action in ("reject", "replaced")):
                return QColor(theme.MUTED)
        if role == Qt.ItemDataRole.FontRole:
            if col in (CODE, STATUS):
                font = QFont()
                font.setBold(True)
                if state is not None and state.action in ("reject", "replaced") and col == CODE:
                    font.setStrikeOut(True)
                return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col == CODE:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- ours ------------------------------------------------------------------------------------
    def state(self, row: Row) -> CodeState | None:
        return self._states.get((row.system, row.code))

    def set_suggestions(self, suggestions: list[Suggestion]) -> None:
        self._suggestions = [Row.of(s) for s in suggestions]
        self._rebuild()

    def set_states(self, states: list[CodeState], titles: dict[str, str] | None = None) -> None:
        """The encounter's decisions now; codes added by hand become rows of their own."""
        self._states = {(s.system, s.code): s for s in states}
        known = {(r.system, r.code) for r in self._suggestions}
        old_titles = {(r.system, r.code): r.title for r in self._added}
        self._added = [
            Row(s.code, s.system, (titles or {}).get(s.code) or old_titles.get((s.system, s.code), ""), None,
                "Added by the coder.", source="coder")
            for s in states if s.action == "add" and (s.system, s.code) not in known
        ]
        self._rebuild()

    def clear(self) -> None:
        self._suggestions, self._added, self._states = [], [], {}
        self._rebuild()

    def set_show_all(self, show_all: bool) -> None:
        self.show_all = show_all
        self._rebuild()

    def _rebuild(self) -> None:
        self.beginResetModel()
        self._rows = [r for r in self._suggestions
                      if self.show_all or r.suggested or (r.system, r.code) in self._states] + self._added
        self.endResetModel()

    def row(self, i: int) -> Row | None:
        return self._rows[i] if 0 <= i < len(self._rows) else None

    def rows(self) -> list[Row]:
        return list(self._rows)

    def row_of(self, code: str, system: str | None = None) -> int:
        return next((i for i, r in enumerate(self._rows) if r.code == code and system in (None, r.system)), -1)

    def hidden_count(self) -> int:
        """Candidates below the threshold that are not listed now."""
        return 0 if self.show_all else sum(1 for r in self._suggestions if r.suggested is False
                                           and (r.system, r.code) not in self._states)
