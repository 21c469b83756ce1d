"""Review by keyboard: suggestions appear, accept / reject / edit / undo land in the workspace and audit log."""

from __future__ import annotations

from PySide6.QtCore import Qt

from medcoder_desktop.paths import resource
from tests.gui.conftest import wait_final


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.suggestions.table, k, modifier)


def test_a_note_opens_with_suggestions_and_highlighted_evidence(make_window) -> None:
    window = make_window()
    assert window.worklist.model.rowCount() == 2  # the bundled samples, on a first start
    assert window.record is not None
    rows = window.suggestions.model.rows()
    assert rows and all(r.confidence is not None for r in rows)
    first = window.suggestions.current()
    assert first is rows[0]
    selections = window.note.extraSelections()
    assert selections
    note = window.record.note
    assert note[first.evidence[0].start:first.evidence[0].end] == first.evidence[0].text
    assert "Model: none" in window.model_label.text()
    assert not window.banner.isHidden() and "No language model" in window.banner.text()
    assert "ICD-10-CM 2026" in window.codes_label.text()
    assert "Offline" in window.offline_label.text()


def test_accept_reject_edit_undo_by_key(make_window, qtbot) -> None:
    window = make_window()
    ws = window.service.workspace()
    enc = window.record.id
    window.suggestions.table.setFocus()
    rows = window.suggestions.model.rows()
    key(qtbot, window, Qt.Key.Key_A)
    assert [(s.code, s.action) for s in ws.current_codes(enc, include_rejected=True)] == [(rows[0].code, "accept")]
    assert window.suggestions.current_row() == 1  # moved on to the next code
    key(qtbot, window, Qt.Key.Key_R)
    states = {s.code: s.action for s in ws.current_codes(enc, include_rejected=True)}
    assert states == {rows[0].code: "accept", rows[1].code: "reject"}
    assert window.suggestions.model.data(window.suggestions.model.index(0, 4)) == "✓ Accepted"

    # E: the code search dialog, seeded with the evidence; Enter replaces the code with the chosen one.
    window.suggestions.select_row(2)
    target = window.suggestions.current()
    key(qtbot, window, Qt.Key.Key_E)
    dialog = window.search_dialog
    assert dialog is not None and dialog.replacing == target.code
    qtbot.waitUntil(lambda: dialog.detail is not None and not dialog.busy, timeout=10_000)
    new = "E11.21" if target.code != "E11.21" else "E11.29"
    dialog.query.setText(new)
    dialog.search_now()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.detail is not None and dialog.detail.code == new,
                    timeout=10_000)
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.search_dialog is None and window.isActiveWindow(), timeout=5_000)
    states = {s.code: s for s in ws.current_codes(enc, include_rejected=True)}
    assert states[new].action == "edit" and states[new].replaced_code == target.code
    assert states[target.code].action == "replaced"

    key(qtbot, window, Qt.Key.Key_U)  # undo the edit
    states = {s.code: s.action for s in ws.current_codes(enc, include_rejected=True)}
    assert states == {rows[0].code: "accept", rows[1].code: "reject"}
    actions = [e.action for e in ws.audit_entries(enc) if e.action.startswith("decision.")]
    assert actions == ["decision.accept", "decision.reject", "decision.edit", "decision.undo"]
    assert ws.get_encounter(enc).status == "in_progress"
    assert [d.run_id for d in ws.decisions(enc)] == [window.run_id] * 3


def test_reject_with_a_reason(make_window, qtbot, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    window = make_window()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("documented as ruled out", True)))
    code = window.suggestions.current().code
    key(qtbot, window, Qt.Key.Key_R, Qt.KeyboardModifier.ShiftModifier)
    [d] = window.service.workspace().decisions(window.record.id)
    assert (d.code, d.action, d.reason) == (code, "reject", "documented as ruled out")


def test_keys_typed_into_a_field_are_text_not_shortcuts(make_window, qtbot) -> None:
    window = make_window()
    payer = window.details.payer
    payer.setFocus()
    qtbot.keyClicks(payer, "Aetna Rural")  # A, R, E, U, N are all in there
    assert payer.text() == "Aetna Rural"
    assert window.service.workspace().decisions(window.record.id) == []
    qtbot.keyClick(payer, Qt.Key.Key_Return)
    assert window.service.workspace().get_encounter(window.record.id).payer == "Aetna Rural"
    assert window.service.workspace().audit_entries(window.record.id)[-1].action == "encounter.update"


def test_j_k_move_n_goes_to_the_next_note_and_search_adds_a_code(make_window, qtbot) -> None:
    window = make_window()
    first = window.record.id
    key(qtbot, window, Qt.Key.Key_J)
    key(qtbot, window, Qt.Key.Key_J)
    assert window.suggestions.current_row() == 2
    key(qtbot, window, Qt.Key.Key_K)
    assert window.suggestions.current_row() == 1
    key(qtbot, window, Qt.Key.Key_Slash)
    dialog = window.search_dialog
    dialog.query.setText("Z79.4")
    dialog.search_now()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.detail is not None, timeout=10_000)
    dialog.choose_button.click()
    qtbot.waitUntil(lambda: window.search_dialog is None and window.isActiveWindow(), timeout=5_000)
    assert [(s.code, s.action) for s in window.service.workspace().current_codes(first)] == [("Z79.4", "add")]
    key(qtbot, window, Qt.Key.Key_N)
    wait_final(qtbot, window)
    assert window.record.id != first


def test_clicking_a_highlight_selects_its_code(make_window, qtbot) -> None:
    window = make_window()
    rows = window.suggestions.model.rows()
    target = rows[2]
    window._span_clicked(target.evidence[0].start + 1)
    assert window.suggestions.current() is target
    note = window.note
    cursor = note.textCursor()
    cursor.setPosition(rows[1].evidence[0].start + 1)
    point = note.cursorRect(cursor).center()
    qtbot.mouseClick(note.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.suggestions.current() is rows[1]


def test_details_are_saved_and_a_setting_change_suggests_again(make_window, qtbot) -> None:
    window = make_window()
    enc = window.record.id
    window.details.setting.setCurrentIndex(window.details.setting.findData("inpatient"))
    window.details.setting.activated.emit(window.details.setting.currentIndex())
    wait_final(qtbot, window)
    assert window.service.workspace().get_encounter(enc).setting == "inpatient"
    assert window.service.workspace().latest_run(enc).id == window.run_id
    window.details.dos.setText("13/45/2026")
    window.details.dos.editingFinished.emit()
    assert not window.details.error.isHidden()
    assert window.service.workspace().get_encounter(enc).date_of_service is None


def test_mark_coded_filter_and_export(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    enc = window.record.id
    qtbot.keyClick(window.suggestions.table, Qt.Key.Key_A)
    qtbot.keyClick(window.suggestions.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    # the claim's edits are checked on a worker before the status changes
    qtbot.waitUntil(lambda: window.service.workspace().get_encounter(enc).status == "coded", timeout=30_000)
    wait_final(qtbot, window)
    window.worklist.filter.setCurrentIndex(window.worklist.filter.findData("coded"))
    assert [window.worklist.model.id_at(i) for i in range(window.worklist.model.rowCount())] == [enc]
    out = tmp_path / "coded.csv"
    window.export("csv", out)
    qtbot.waitUntil(lambda: window.tasks.idle, timeout=10_000)
    assert enc in out.read_text(encoding="utf-8")


def test_importing_a_folder_of_notes(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "visit-1.txt").write_text("Assessment: essential hypertension.", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    from PySide6.QtWidgets import QMessageBox

    shown = []
    import pytest

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: shown.append(a[2])))
        window.import_notes("folder", folder)
        qtbot.waitUntil(lambda: window.tasks.idle, timeout=10_000)
    assert window.worklist.model.has("visit-1")
    assert shown and "empty" in shown[0]


def test_opening_a_note_file_adds_it_once(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    path = tmp_path / "walk-in.txt"
    path.write_text(resource("samples", "outpatient_followup.txt").read_text(encoding="utf-8"), encoding="utf-8")
    rec = window.open_note_file(path)
    wait_final(qtbot, window)
    assert rec.id == "walk-in" and window.record.id == "walk-in"
    assert window.open_note_file(path).id == "walk-in"
    wait_final(qtbot, window)
    assert window.worklist.model.rowCount() == 3


def test_a_note_file_that_tells_of_a_stay_opens_as_inpatient(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    path = tmp_path / "stay.txt"
    path.write_text("The patient was admitted with community-acquired pneumonia.\n", encoding="utf-8")
    rec = window.open_note_file(path)
    wait_final(qtbot, window)
    assert rec.setting == "inpatient"
    office = tmp_path / "office.txt"
    office.write_text("Assessment: acute bronchitis. Return in a week.\n", encoding="utf-8")
    assert window.open_note_file(office).setting == "outpatient"  # the settings' default
    wait_final(qtbot, window)
