"""Start the window: the QApplication, the service, the main window; or a screenshot of it, then exit."""

from __future__ import annotations

import json
import os
import sys
import time
from argparse import Namespace
from pathlib import Path

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from medcoder_desktop.errors import MedcoderError
from medcoder_desktop.gui import theme


def _quiet_offscreen(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    # The offscreen platform (screenshots, tests) warns about window hints it cannot honour: noise.
    if "does not support propagateSizeHints" in message:
        return
    if sys.stderr is not None:
        sys.stderr.write(message + "\n")


def ensure_app() -> QApplication:
    """The process's QApplication (created once), with the product's look."""
    app = QApplication.instance()
    if app is None:
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            qInstallMessageHandler(_quiet_offscreen)
        app = QApplication(sys.argv[:1])
        app.setApplicationName("medcoder")
        app.setOrganizationName("medcoder")
        app.setApplicationDisplayName("medcoder")
    theme.apply(app)
    return app


def bindings_problem() -> str | None:
    """Why the installed Qt binding cannot run the window, or None when it can.

    PySide6 6.12.0 on Python 3.11 drops a reference to True, False or None at every signal emission and
    slot call; the interpreter aborts after about a thousand of them, minutes into a session.
    """
    import PySide6
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = [sys.getrefcount(x) for x in (True, False, None)]
    for _ in range(16):
        probe.ping.emit()
    after = [sys.getrefcount(x) for x in (True, False, None)]
    if any(b - a >= 16 for a, b in zip(after, before)):
        return (f"PySide6 {PySide6.__version__} loses a Python reference at every signal on Python "
                f"{sys.version_info.major}.{sys.version_info.minor}: the window would crash within minutes. "
                "Install another version: pip install 'PySide6-Essentials<6.12'.")
    return None


def _size(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    if not text:
        return default
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def _route_slot_errors_to(window) -> None:
    """An exception that escapes a slot (a disk that filled up, a folder made read-only meanwhile) is shown in
    the window's error dialog, and the window keeps working; PySide hands such exceptions to sys.excepthook."""
    previous = sys.excepthook

    def hook(kind, exc, tb):
        if isinstance(exc, Exception) and not getattr(window, "_closed", False):
            window._error(exc)
        else:
            previous(kind, exc, tb)

    sys.excepthook = hook


def run(args: Namespace) -> int:
    """``medcoder gui``: the window until it is closed, or ``--screenshot PATH`` of it."""
    app = ensure_app()
    entered = time.time()
    headless = os.environ.get("QT_QPA_PLATFORM") == "offscreen"
    screenshot = getattr(args, "screenshot", None)
    probe = getattr(args, "startup_probe", False)
    problem = bindings_problem()
    if problem:
        if not (headless or screenshot or probe):
            QMessageBox.critical(None, "medcoder", problem)
        print(f"medcoder: {problem}", file=sys.stderr)
        return 1
    try:
        from medcoder_desktop.core.service import CodingService
        from medcoder_desktop.gui.main_window import MainWindow

        imported = time.time()
        service = CodingService(model=getattr(args, "model", None))
        window = MainWindow(service)
        built = time.time()
    except Exception as exc:  # noqa: BLE001 - a read-only data folder, a locked file ...: a dialog, no traceback
        from medcoder_desktop.core.failures import user_error

        err = user_error(exc)
        if err is None:
            raise
        if not (headless or screenshot or probe):
            QMessageBox.critical(None, "medcoder", str(err))
        if sys.stderr is not None:
            print(f"medcoder: {err}", file=sys.stderr)
        return err.exit_code
    _route_slot_errors_to(window)
    if screenshot:
        from medcoder_desktop.gui.screenshot import take_screenshot

        return take_screenshot(window, Path(screenshot), note=getattr(args, "note", None),
                               setting=getattr(args, "setting", None), search=getattr(args, "search", None),
                               settings=getattr(args, "settings", False),
                               prefs=getattr(args, "prefs", False), select=getattr(args, "select", None),
                               keys=getattr(args, "keys", None) or "",
                               size=_size(getattr(args, "size", None), (1920, 1080)))
    if probe:
        def painted() -> None:
            # Read by bench/startup.py: when the window was first drawn, and that its worklist was filled.
            print(json.dumps({"run_at": entered, "imported_at": imported, "window_at": built,
                              "painted_at": time.time(), "encounters": window.worklist.model.rowCount()}), flush=True)
            window.close()
            app.quit()

        window.firstPaint.connect(painted)
    screen = app.primaryScreen().availableGeometry() if app.primaryScreen() else None
    if screen is not None and not probe:
        window.resize(min(1600, int(screen.width() * 0.9)), min(1000, int(screen.height() * 0.9)))
    else:
        window.resize(*_size(getattr(args, "size", None), (1920, 1080)))
    window.show()
    window.start(open_first=not getattr(args, "note", None))
    if getattr(args, "note", None):
        window.open_note_file(Path(args.note), setting=getattr(args, "setting", None))
    code = app.exec()
    window.shutdown()
    return code
