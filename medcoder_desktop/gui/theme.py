"""Colours and fonts: calm, high-contrast, legible for a full working day."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

BASE_POINT_SIZE = 10
NOTE_POINT_SIZE = 11

TEXT = "#1f2328"
MUTED = "#5f6b7a"
WINDOW = "#f3f4f6"
PANEL = "#ffffff"
BORDER = "#d0d7de"
ACCENT = "#1f5fae"
SELECTION = "#d4e4fa"

HEADING = "#1d4e89"                # section headings of the note
EVIDENCE_SELECTED = "#ffd54f"      # the selected suggestion's words
EVIDENCE_SELECTED_EDGE = "#c79100"
EVIDENCE_OTHER = "#e3edfb"         # words behind the other suggestions (click one to select its code)

CONFIDENCE_HIGH = "#2e7d32"
CONFIDENCE_MID = "#e0a100"
CONFIDENCE_LOW = "#9aa4b1"
CONFIDENCE_TRACK = "#e6e9ee"

STATUS_COLORS = {
    "accept": "#2e7d32",
    "reject": "#c62828",
    "replaced": "#1565c0",
    "edit": "#1565c0",
    "add": "#6a1b9a",
}
WORKLIST_STATUS = {  # label, chip colour
    "new": ("New", "#1f5fae"),
    "in_progress": ("In progress", "#b26a00"),
    "coded": ("Coded", "#2e7d32"),
    "skipped": ("Skipped", "#6b7280"),
}

BANNER_BG = "#fff4ce"
BANNER_BORDER = "#e0b000"
BANNER_TEXT = "#4d3a00"
OFFLINE = "#2e7d32"


def confidence_color(confidence: float) -> QColor:
    if confidence >= 0.7:
        return QColor(CONFIDENCE_HIGH)
    if confidence >= 0.45:
        return QColor(CONFIDENCE_MID)
    return QColor(CONFIDENCE_LOW)


def note_font() -> QFont:
    font = QFont(QApplication.font())
    font.setPointSize(NOTE_POINT_SIZE)
    return font


def apply(app: QApplication) -> None:
    """Fusion style with a light palette and a slightly larger base font."""
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)
    pal = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, WINDOW), (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.Base, PANEL), (QPalette.ColorRole.AlternateBase, "#f7f9fb"),
        (QPalette.ColorRole.Text, TEXT), (QPalette.ColorRole.Button, "#f6f8fa"),
        (QPalette.ColorRole.ButtonText, TEXT), (QPalette.ColorRole.ToolTipBase, "#ffffff"),
        (QPalette.ColorRole.ToolTipText, TEXT), (QPalette.ColorRole.PlaceholderText, "#8a94a3"),
        (QPalette.ColorRole.Link, ACCENT),
    ):
        pal.setColor(role, QColor(color))
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        # The selected row stays clearly visible while the keyboard focus is elsewhere.
        pal.setColor(group, QPalette.ColorRole.Highlight, QColor(SELECTION))
        pal.setColor(group, QPalette.ColorRole.HighlightedText, QColor(TEXT))
    app.setPalette(pal)
    app.setStyleSheet(STYLESHEET)


STYLESHEET = f"""
QSplitter::handle {{ background: {WINDOW}; }}
QTableView, QListView, QTextEdit, QTextBrowser {{
    border: 1px solid {BORDER}; border-radius: 4px; background: {PANEL};
}}
QHeaderView::section {{
    background: #f6f8fa; color: {MUTED}; border: none; border-bottom: 1px solid {BORDER};
    padding: 4px 6px; font-weight: 600;
}}
QLabel#paneTitle {{ color: {MUTED}; font-weight: 600; padding: 2px 0; }}
QLabel#banner {{
    background: {BANNER_BG}; color: {BANNER_TEXT}; border: 1px solid {BANNER_BORDER};
    border-radius: 4px; padding: 6px 10px; font-weight: 600;
}}
QLabel#why {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; padding: 8px;
}}
QLabel#offline {{ color: {OFFLINE}; font-weight: 600; padding: 0 6px; }}
QLabel#statusItem {{ color: {MUTED}; padding: 0 6px; }}
QLabel#error {{ color: #b42318; }}
QFrame#detailsBar {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; }}
QPushButton#primary {{
    background: {ACCENT}; color: white; border: 1px solid {ACCENT}; border-radius: 4px; padding: 4px 12px;
}}
QPushButton#primary:disabled {{ background: #9db7da; border-color: #9db7da; }}
"""
