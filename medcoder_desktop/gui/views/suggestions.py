"""The suggestions table with its confidence bars, and the selected code's reasoning below it."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QModelIndex, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QHeaderView, QLabel, QStyle, QStyledItemDelegate,
    QStyleOptionViewItem, QTableView, QVBoxLayout, QWidget,
)

from medcoder_desktop.gui import theme
from medcoder_desktop.gui.tables import read_only_rows
from medcoder_desktop.gui.itemmodels.suggestions_model import (
    CODE, CONFIDENCE, REASONING, STATUS, SYSTEM, TITLE, Row, RowRole, SuggestionsModel, status_text,
)


class ConfidenceDelegate(QStyledItemDelegate):
    """A bar as long as the confidence, green / amber / grey, with the figure beside it."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        row: Row | None = index.data(RowRole)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        if row is None or row.confidence is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = option.rect.adjusted(8, 0, -8, 0)
        text_w = option.fontMetrics.horizontalAdvance("0.00") + 8
        bar = QRectF(r.left(), r.center().y() - 4, max(10, r.width() - text_w), 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.CONFIDENCE_TRACK))
        painter.drawRoundedRect(bar, 4, 4)
        fill = QRectF(bar)
        fill.setWidth(max(4.0, bar.width() * row.confidence))
        color = theme.confidence_color(row.confidence)
        if not row.suggested:
            color = QColor(theme.CONFIDENCE_LOW)
        painter.setBrush(color)
        painter.drawRoundedRect(fill, 4, 4)
        painter.setPen(QPen(QColor(theme.TEXT if row.suggested else theme.MUTED)))
        text_rect = QRectF(bar.right() + 6, r.top(), text_w, r.height())
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                         f"{row.confidence:.2f}")
        painter.restore()


class SuggestionsPanel(QWidget):
    """``selected(Row | None)`` when the current row changes."""

    selected = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = SuggestionsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("suggestions")
        self.table.setModel(self.model)
        read_only_rows(self.table, row_padding=14)
        self.table.setItemDelegateForColumn(CONFIDENCE, ConfidenceDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        fm = self.fontMetrics()
        self._fixed = {CODE: fm.horizontalAdvance("M00.000A") + 22, SYSTEM: fm.horizontalAdvance("ICD-10-PCS") + 18,
                       CONFIDENCE: fm.horizontalAdvance("0.00") + 80, STATUS: fm.horizontalAdvance("✓ Accepted") + 22}
        for col, width in self._fixed.items():
            header.resizeSection(col, width)
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.viewport().installEventFilter(self)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)

        self.weaker = QCheckBox("Show weaker candidates", self)
        self.weaker.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.weaker.toggled.connect(self._toggle_weaker)
        self.title = QLabel("Suggested codes", self)
        self.title.setObjectName("paneTitle")
        self.why = QLabel(self)
        self.why.setObjectName("why")
        self.why.setWordWrap(True)
        self.why.setTextFormat(Qt.TextFormat.RichText)
        self.why.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.why.setMinimumHeight(fm.height() * 5)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.weaker)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.why)
        self.show_row(None)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # The reasoning column takes about a quarter of the width; the title stretches into the rest.
        if obj is self.table.viewport() and event.type() == QEvent.Type.Resize:
            spare = self.table.viewport().width() - sum(self._fixed.values())
            self.table.horizontalHeader().resizeSection(REASONING, max(60, int(spare * 0.4)))
        return super().eventFilter(obj, event)

    # -- selection -------------------------------------------------------------------------------
    def current(self) -> Row | None:
        idx = self.table.currentIndex()
        return self.model.row(idx.row()) if idx.isValid() else None

    def current_row(self) -> int:
        idx = self.table.currentIndex()
        return idx.row() if idx.isValid() else -1

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, CODE))
            self.table.scrollTo(self.model.index(row, CODE))

    def select_code(self, code: str, system: str | None = None) -> bool:
        row = self.model.row_of(code, system)
        if row >= 0:
            self.select_row(row)
        return row >= 0

    def move(self, step: int) -> None:
        n = self.model.rowCount()
        if n:
            self.select_row(min(n - 1, max(0, self.current_row() + step)))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row(current.row()) if current.isValid() else None
        self.show_row(row)
        self.selected.emit(row)

    def _toggle_weaker(self, on: bool) -> None:
        keep = self.current()
        self.model.set_show_all(on)
        if keep is not None:
            self.select_code(keep.code, keep.system)
        self.update_title()

    # -- content ---------------------------------------------------------------------------------
    def update_title(self, busy: str = "") -> None:
        n = sum(1 for r in self.model.rows() if r.confidence is not None)
        hidden = self.model.hidden_count()
        text = f"Suggested codes ({n})" + (f" · {hidden} weaker hidden" if hidden else "")
        self.title.setText(text + (f" · {busy}" if busy else ""))

    def show_row(self, row: Row | None) -> None:
        """The selected code's full title, reasoning, evidence and decision, below the table."""
        if row is None:
            self.why.setText(f"<span style='color:{theme.MUTED}'>Select a code to see why it is suggested. "
                             "Keys: <b>A</b> accept · <b>R</b> reject · <b>E</b> edit · <b>U</b> undo · "
                             "<b>J</b>/<b>K</b> move · <b>N</b> next note · <b>/</b> search</span>")
            return
        state = self.model.state(row)
        parts = [f"<b>{html.escape(row.code)}</b> &nbsp;{html.escape(row.title)}"
                 f" <span style='color:{theme.MUTED}'>· {html.escape(row.system)}"
                 + ("" if row.billable else " · not billable") + "</span>"]
        if state is not None:
            color = theme.STATUS_COLORS[state.action]
            reason = f" — {html.escape(state.reason)}" if state.reason else ""
            parts.append(f"<span style='color:{color}; font-weight:600'>{html.escape(status_text(state))}"
                         f"</span> <span style='color:{theme.MUTED}'>by {html.escape(state.user)}</span>{reason}")
        if row.reasoning:
            parts.append(html.escape(row.reasoning))
        return self.why.setText("<br>".join(parts))
