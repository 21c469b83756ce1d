"""The worklist: the workspace's encounters, filtered by status."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from medcoder_desktop.core.models import EncounterSummary

SummaryRole = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


class WorklistModel(QAbstractListModel):
    """All encounters are kept; ``status`` chooses which are listed (None: all)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._all: list[EncounterSummary] = []
        self._shown: list[EncounterSummary] = []
        self.status: str | None = None

    # -- Qt --------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._shown):
            return None
        item = self._shown[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.preview
        if role == SummaryRole:
            return item
        return None

    # -- ours ------------------------------------------------------------------------------------
    def set_items(self, items: list[EncounterSummary]) -> None:
        self.beginResetModel()
        self._all = list(items)
        self._refilter()
        self.endResetModel()

    def set_status(self, status: str | None) -> None:
        self.beginResetModel()
        self.status = status
        self._refilter()
        self.endResetModel()

    def _refilter(self) -> None:
        self._shown = [i for i in self._all if self.status is None or i.status == self.status]

    def update(self, item: EncounterSummary) -> None:
        """Refresh one encounter in place. It stays listed even when its new status is filtered out, so that
        the list does not move under the coder; the next filter change drops it."""
        self._all = [item if i.id == item.id else i for i in self._all]
        for row, shown in enumerate(self._shown):
            if shown.id == item.id:
                self._shown[row] = item
                idx = self.index(row)
                self.dataChanged.emit(idx, idx)

    def counts(self) -> dict[str | None, int]:
        out: dict[str | None, int] = {None: len(self._all)}
        for i in self._all:
            out[i.status] = out.get(i.status, 0) + 1
        return out

    def row_of(self, encounter_id: str) -> int:
        return next((r for r, i in enumerate(self._shown) if i.id == encounter_id), -1)

    def id_at(self, row: int) -> str | None:
        return self._shown[row].id if 0 <= row < len(self._shown) else None

    def has(self, encounter_id: str) -> bool:
        return any(i.id == encounter_id for i in self._all)
