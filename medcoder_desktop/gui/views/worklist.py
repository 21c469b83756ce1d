"""The worklist: encounters filtered by status, each with its status, setting, codes and first line."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QLabel, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
    QVBoxLayout, QWidget,
)

from medcoder_desktop.core.models import EncounterSummary
from medcoder_desktop.gui import theme
from medcoder_desktop.gui.itemmodels.worklist_model import SummaryRole, WorklistModel

FILTERS: tuple[tuple[str | None, str], ...] = (
    (None, "All"), ("new", "New"), ("in_progress", "In progress"), ("coded", "Coded"), ("skipped", "Skipped"))


class WorklistDelegate(QStyledItemDelegate):
    """Two lines: the id and a status chip; the setting, the codes on the claim and the note's first line."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(200, option.fontMetrics.height() * 2 + 18)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        item: EncounterSummary | None = index.data(SummaryRole)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        if item is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = option.rect.adjusted(10, 6, -10, -6)
        fm = option.fontMetrics
        label, color = theme.WORKLIST_STATUS.get(item.status, (item.status, theme.MUTED))
        small = QFont(option.font)
        small.setPointSizeF(option.font.pointSizeF() * 0.9)
        sfm = QFontMetrics(small)
        chip_w = sfm.horizontalAdvance(label) + 14
        chip = QRect(r.right() - chip_w, r.top(), chip_w, fm.height())
        painter.setPen(Qt.PenStyle.NoPen)
        chip_bg = QColor(color)
        chip_bg.setAlpha(34)
        painter.setBrush(chip_bg)
        painter.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
        painter.setFont(small)
        painter.setPen(QColor(color))
        painter.drawText(chip, int(Qt.AlignmentFlag.AlignCenter), label)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor(theme.TEXT))
        id_rect = QRect(r.left(), r.top(), r.width() - chip_w - 8, fm.height())
        painter.drawText(id_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         QFontMetrics(bold).elidedText(item.id, Qt.TextElideMode.ElideRight, id_rect.width()))
        painter.setFont(small)
        painter.setPen(QColor(theme.MUTED))
        codes = f"{item.accepted_codes} code{'s' if item.accepted_codes != 1 else ''}" if item.accepted_codes else ""
        line = " · ".join(x for x in (item.setting, codes, item.preview) if x)
        second = QRect(r.left(), r.top() + fm.height() + 4, r.width(), sfm.height())
        painter.drawText(second, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         sfm.elidedText(line, Qt.TextElideMode.ElideRight, second.width()))
        painter.restore()


class WorklistPanel(QWidget):
    """``opened(encounter_id)`` when the coder moves to an encounter."""

    opened = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = WorklistModel(self)
        title = QLabel("Worklist", self)
        title.setObjectName("paneTitle")
        self.filter = QComboBox(self)
        self.filter.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for status, label in FILTERS:
            self.filter.addItem(label, status)
        self.filter.currentIndexChanged.connect(self._filter_changed)
        self.list = QListView(self)
        self.list.setObjectName("worklist")
        self.list.setModel(self.model)
        self.list.setItemDelegate(WorklistDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setUniformItemSizes(True)
        self.list.selectionModel().currentRowChanged.connect(self._row_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        self._quiet = False

    def set_items(self, items: list[EncounterSummary], keep: str | None = None) -> None:
        self._quiet = True
        try:
            self.model.set_items(items)
            self._label_counts()
            if keep is not None:
                self.select(keep, emit=False)
        finally:
            self._quiet = False

    def _label_counts(self) -> None:
        counts = self.model.counts()
        for i, (status, label) in enumerate(FILTERS):
            self.filter.setItemText(i, f"{label} ({counts.get(status, 0)})")

    def update_item(self, item: EncounterSummary) -> None:
        self.model.update(item)
        self._label_counts()

    def current_id(self) -> str | None:
        idx = self.list.currentIndex()
        return self.model.id_at(idx.row()) if idx.isValid() else None

    def select(self, encounter_id: str, *, emit: bool = True) -> bool:
        row = self.model.row_of(encounter_id)
        if row < 0:
            return False
        self._quiet = not emit
        try:
            self.list.setCurrentIndex(self.model.index(row))
            self.list.scrollTo(self.model.index(row))
        finally:
            self._quiet = False
        return True

    def next_id(self, after: str | None) -> str | None:
        row = self.model.row_of(after) if after is not None else -1
        return self.model.id_at(row + 1)

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        encounter_id = self.model.id_at(current.row()) if current.isValid() else None
        if encounter_id is not None and not self._quiet:
            self.opened.emit(encounter_id)

    def _filter_changed(self, _i: int) -> None:
        keep = self.current_id()
        self._quiet = True
        try:
            self.model.set_status(self.filter.currentData())
            if keep is not None and self.model.row_of(keep) >= 0:
                self.list.setCurrentIndex(self.model.index(self.model.row_of(keep)))
        finally:
            self._quiet = False
