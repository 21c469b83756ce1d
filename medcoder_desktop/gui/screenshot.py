"""``medcoder gui --screenshot``: open a note, wait for its final suggestions, select the first, save a PNG."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

TIMEOUT_S = 600


def wait_until(done: Callable[[], bool], timeout: float = TIMEOUT_S) -> bool:
    """Run the event loop until ``done()`` or the timeout; True when done."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    QApplication.processEvents()
    return True


def _with_dialog(window: QWidget, dialog: QWidget) -> QPixmap:
    """The window, dimmed a little, with the dialog on top at its centre, as a coder sees it."""
    shot = window.grab()
    painter = QPainter(shot)
    painter.fillRect(shot.rect(), QColor(0, 0, 0, 40))
    pix = dialog.grab()
    at = QPoint((shot.width() - pix.width()) // 2, (shot.height() - pix.height()) // 2)
    for i, alpha in enumerate((26, 18, 10)):
        painter.fillRect(QRect(at, pix.size()).adjusted(-i - 1, -i - 1, i + 3, i + 3), QColor(0, 0, 0, alpha))
    painter.drawPixmap(at, pix)
    painter.setPen(QColor("#8a94a3"))
    painter.drawRect(QRect(at, pix.size()).adjusted(-1, -1, 0, 0))
    painter.end()
    return shot


def take_screenshot(window: Any, path: Path, *, note: str | None = None, setting: str | None = None,
                    search: str | None = None, settings: bool = False, prefs: bool = False, select: str | None = None, size: tuple[int, int] = (1920, 1080),
                    keys: str = "", timeout: float = TIMEOUT_S) -> int:
    """Save a PNG of the window (and of the search, settings or preferences dialog over it). Returns the exit
    code."""
    window.quiet_errors = True
    window.resize(*size)
    window.show()
    window.start(open_first=note is None)
    if note is not None:
        if window.open_note_file(Path(note), setting=setting) is None:
            window.close()
            return 2
    elif setting is not None and window.record is not None and window.record.setting != setting:
        window._detail_changed("setting", setting)
    ready = wait_until(lambda: window.engine_error is not None
                       or (window.final and window.info is not None and window.tasks.idle), timeout)
    if window.engine_error is not None:
        print(f"medcoder: {window.engine_error}", file=sys.stderr)
        window.close()
        return 1
    if not ready:
        print(f"medcoder: no suggestions within {timeout:.0f} s; no screenshot taken.", file=sys.stderr)
        window.close()
        return 1
    window.suggestions.select_row(0)
    window.suggestions.table.setFocus(Qt.FocusReason.OtherFocusReason)
    window.activateWindow()
    wait_until(window.isActiveWindow, 5)
    for key in keys:  # decisions typed as a coder would, e.g. "AAR": accept, accept, reject
        QTest.keyClick(window.suggestions.table, key)
    if select is not None and not window.suggestions.select_code(select):
        print(f"medcoder: {select} is not among the suggestions; the first one stays selected.", file=sys.stderr)
    wait_until(lambda: window.tasks.idle, timeout)  # the claim regrouped after the keys' decisions
    dialog = None
    if search is not None:
        dialog = window._open_search(search, replacing=None)
        wait_until(lambda: not dialog.busy and dialog.detail is not None, timeout)
    elif settings:
        from medcoder_desktop.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(window.tasks, window.service, window)
        dialog.show()
        wait_until(lambda: True)
    elif prefs:
        dialog = window.preferences_dialog()
        wait_until(lambda: dialog.summary is not None and not dialog.busy, timeout)
    if dialog is not None:
        dialog.adjustSize() if settings else None
        wait_until(lambda: True)
        shot = _with_dialog(window, dialog)
        dialog.close()
    else:
        shot = window.grab()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = shot.save(str(path), "PNG")
    window.close()
    if not ok:
        print(f"medcoder: could not write {path}.", file=sys.stderr)
        return 1
    print(str(path))
    return 0
