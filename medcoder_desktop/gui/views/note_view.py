"""The note, read-only: section headings in bold, evidence highlighted, a click on a highlight selects its code."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QTextEdit

from medcoder_desktop.gui import theme

_TITLE_LINE = re.compile(r"^[ \t]*[A-Z][A-Z0-9 /&,()-]{3,60}[ \t]*$", re.M)


class OffsetMap:
    """Python string indices of the note <-> positions in the Qt document showing it.

    Qt counts UTF-16 units (two for a character beyond the BMP) and turns CR LF into one paragraph break;
    the core's offsets are Python indices into the note as stored.
    """

    def __init__(self, text: str) -> None:
        self.shown = text.replace("\r\n", "\n").replace("\r", "\n")
        self._pos: list[int] | None = None
        if "\r" in text or any(ord(c) > 0xFFFF for c in text):
            pos, q = [], 0
            for i, ch in enumerate(text):
                pos.append(q)
                if ch == "\r" and text[i + 1:i + 2] == "\n":
                    continue  # the pair is one paragraph break
                q += 2 if ord(ch) > 0xFFFF else 1
            pos.append(q)
            self._pos = pos

    def to_qt(self, index: int) -> int:
        if self._pos is None:
            return index
        return self._pos[max(0, min(index, len(self._pos) - 1))]

    def from_qt(self, position: int) -> int:
        if self._pos is None:
            return position
        return max(0, bisect.bisect_right(self._pos, position) - 1)


class NoteView(QTextEdit):
    """``spanClicked(index)``: the coder clicked (without dragging) at this index of the note."""

    spanClicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setFont(theme.note_font())
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.document().setDocumentMargin(14)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self._map = OffsetMap("")
        self._press: QPoint | None = None
        self.note = ""

    def set_note(self, note: str, headings: Sequence[tuple[int, int]] = ()) -> None:
        """Show ``note``; ``headings`` are (start, end) note indices drawn in bold."""
        self.note = note
        self._map = OffsetMap(note)
        self.setExtraSelections([])
        self.setPlainText(self._map.shown)
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setForeground(QColor(theme.HEADING))
        spans = list(headings) + [(m.start(), m.end()) for m in _TITLE_LINE.finditer(note)]
        cursor = QTextCursor(self.document())
        for start, end in spans:
            cursor.setPosition(self._map.to_qt(start))
            cursor.setPosition(self._map.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def highlight(self, selected: Sequence[tuple[int, int]], others: Sequence[tuple[int, int]] = ()) -> None:
        """Evidence of the selected suggestion strongly, that of the others lightly; scroll to the first."""
        extra = []
        for spans, selected_kind in ((others, False), (selected, True)):
            for start, end in spans:
                sel = QTextEdit.ExtraSelection()
                sel.cursor = QTextCursor(self.document())
                sel.cursor.setPosition(self._map.to_qt(start))
                sel.cursor.setPosition(self._map.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
                fmt = QTextCharFormat()
                if selected_kind:
                    fmt.setBackground(QColor(theme.EVIDENCE_SELECTED))
                    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
                    fmt.setUnderlineColor(QColor(theme.EVIDENCE_SELECTED_EDGE))
                else:
                    fmt.setBackground(QColor(theme.EVIDENCE_OTHER))
                fmt.setProperty(QTextFormat.Property.FullWidthSelection, False)
                sel.format = fmt
                extra.append(sel)
        self.setExtraSelections(extra)
        if selected:
            self.scroll_to(min(s for s, _ in selected))

    def scroll_to(self, index: int) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._map.to_qt(index))
        rect = self.cursorRect(cursor)
        if not self.viewport().rect().adjusted(0, 20, 0, -20).contains(rect):
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + rect.top() - self.viewport().height() // 3)

    def index_at(self, point: QPoint) -> int:
        return self._map.from_qt(self.cursorForPosition(point).position())

    # Qt event handlers: a click (press and release at about the same place) picks a highlight.
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        pos = event.position().toPoint()
        if (event.button() == Qt.MouseButton.LeftButton and self._press is not None
                and (pos - self._press).manhattanLength() < 4):
            self.spanClicked.emit(self.index_at(pos))
        self._press = None
