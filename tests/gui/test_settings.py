"""The settings dialog: saved with save_settings and used at once; a model file is imported on a worker."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from medcoder_desktop.core.settings import load_settings
from medcoder_desktop.gui.settings_dialog import SettingsDialog
from tests.gui.conftest import wait_final


def test_settings_are_saved_and_used(make_window, qtbot) -> None:
    window = make_window()
    dialog = SettingsDialog(window.tasks, window.service, window)
    qtbot.addWidget(dialog)
    dialog.user.setText("coder7")
    dialog.calibrated.setChecked(False)
    dialog.threshold.setValue(0.7)
    dialog.default_setting.setCurrentIndex(dialog.default_setting.findData("inpatient"))
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    window.apply_settings(dialog.result_settings())
    wait_final(qtbot, window)
    saved = load_settings(window.service.paths)
    assert (saved.user_name, saved.confidence_threshold, saved.default_setting) == ("coder7", 0.7, "inpatient")
    rows = window.suggestions.model.rows()
    assert rows and all(r.confidence >= 0.7 for r in rows)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(window.suggestions.table, Qt.Key.Key_A)
    [decision] = window.service.workspace().decisions(window.record.id)
    assert decision.user == "coder7"
    assert window.service.workspace().audit_entries(window.record.id)[-2].user == "coder7"


def test_a_file_that_is_not_a_model_is_refused_with_a_message(make_window, qtbot, tmp_path: Path) -> None:
    window = make_window()
    dialog = SettingsDialog(window.tasks, window.service, window)
    qtbot.addWidget(dialog)
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"not a model at all")
    dialog.import_model(bogus)
    qtbot.waitUntil(lambda: not dialog.error.isHidden(), timeout=10_000)
    assert "GGUF" in dialog.error.text() or "model" in dialog.error.text().lower()
    assert dialog.import_button.isEnabled()
    assert window.service.model_manager().list() == []


def test_the_settings_can_name_no_model(make_window, qtbot) -> None:
    window = make_window()
    dialog = SettingsDialog(window.tasks, window.service, window)
    qtbot.addWidget(dialog)
    dialog.model.setCurrentIndex(dialog.model.findData("none"))
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    window.apply_settings(dialog.result_settings())
    wait_final(qtbot, window)
    assert load_settings(window.service.paths).model_path == "none"
    assert window.service.mode() == "retrieval-only"
    assert window.service.model_manager().resolve_with_source(None) == (None, "settings")
    again = SettingsDialog(window.tasks, window.service, window)  # shown as chosen when opened again
    qtbot.addWidget(again)
    assert again.model.currentData() == "none"
