"""The window, offscreen, on a private MEDCODER_HOME with the session's real dictionary."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.helpers import install_dictionary  # noqa: E402


@pytest.fixture
def gui_home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


@pytest.fixture(autouse=True)
def no_thread_left(qapp) -> Iterator[None]:
    """Every test ends with the threads it started joined (napari's guard, for Python and Qt threads)."""
    from PySide6.QtCore import QThreadPool

    from medcoder_desktop.gui.app import ensure_app

    ensure_app()
    before = {t.ident for t in threading.enumerate()}
    yield
    left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not left, f"threads left running: {left}"
    assert QThreadPool.globalInstance().activeThreadCount() == 0


@pytest.fixture
def make_window(qtbot, gui_home: Path) -> Iterator[Callable[..., object]]:
    """Open the main window on a service (retrieval only unless told); it is closed after the test."""
    from medcoder_desktop.core.service import CodingService
    from medcoder_desktop.gui.main_window import MainWindow

    windows = []

    def make(service=None, *, model: str | None = "none", start: bool = True, wait: bool = True):
        window = MainWindow(service or CodingService(model=model))
        qtbot.addWidget(window)
        windows.append(window)
        window.resize(1600, 960)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        if start:
            window.start()
            if wait:
                wait_final(qtbot, window)
        return window

    yield make
    for window in windows:
        window.close()


def wait_final(qtbot, window, timeout: int = 60_000) -> None:
    """Until the open encounter's final suggestions are shown and no background work is left."""
    qtbot.waitUntil(lambda: window.final and window.info is not None and window.tasks.idle, timeout=timeout)
