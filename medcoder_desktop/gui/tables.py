"""The one way the window's tables behave: read-only rows, one selected at a time, striped, no grid."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView


def read_only_rows(view: QTableView, *, row_padding: int | None = None, grid: bool = False,
                   wrap: bool = False) -> QTableView:
    """Whole rows selected one at a time, nothing editable, alternate rows shaded, no row numbers;
    ``row_padding``: pixels added to the font's height for each row (Qt's default when None)."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(grid)
    view.setWordWrap(wrap)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().hide()
    if row_padding is not None:
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + row_padding)
    return view
