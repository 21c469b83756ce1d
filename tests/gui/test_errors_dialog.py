"""The window says every failure in its dialog, in plain words, and keeps working."""

from __future__ import annotations

import errno
import sys

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import wait_final


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    texts: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: texts.append(a[2])))
    return texts


def test_a_failure_escaping_a_slot_is_a_dialog(make_window, qtbot, shown, tmp_path, monkeypatch) -> None:
    from medcoder_desktop.gui.app import _route_slot_errors_to

    window = make_window()
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    _route_slot_errors_to(window)
    exc = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "workspace.sqlite"))
    sys.excepthook(OSError, exc, None)
    assert shown and "disk is full" in shown[-1] and "Traceback" not in shown[-1]
    note = tmp_path / "after.txt"
    note.write_text("Assessment: essential hypertension.", encoding="utf-8")
    assert window.open_note_file(note) is not None  # and the window goes on working
    wait_final(qtbot, window)


def test_bad_note_files_are_said_and_utf16_is_read(make_window, qtbot, shown, tmp_path) -> None:
    window = make_window()
    assert window.open_note_file(tmp_path) is None
    assert "is a folder" in shown[-1]
    wide = tmp_path / "wide.txt"
    wide.write_bytes("Assessment: essential hypertension.".encode("utf-16"))
    rec = window.open_note_file(wide)
    wait_final(qtbot, window)
    assert rec is not None and rec.note.startswith("Assessment")
