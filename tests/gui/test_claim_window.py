"""The claim panel: sequence, POA, severity marks, DRG and edits beside the suggestions; keys move codes; edits
block "coded" until overridden; the grouping runs on a worker thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog

from medcoder_desktop.core.models import SearchHit


def _claim_ready(qtbot, window, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: window.claim is not None and window.tasks.idle, timeout=timeout)


def _open_inpatient(make_window, qtbot):
    window = make_window()
    rec = next(r for r in window.service.workspace().list_encounters() if r.setting == "inpatient")
    if window.record.id != rec.id:
        window.open_encounter(rec.id)
        qtbot.waitUntil(lambda: window.final and window.record.id == rec.id and window.tasks.idle, timeout=60_000)
    _claim_ready(qtbot, window)
    return window


def test_the_panel_shows_the_grouped_claim_and_the_selected_codes_impact(make_window, qtbot) -> None:
    window = _open_inpatient(make_window, qtbot)
    panel, claim = window.claim_panel, window.claim
    assert panel.table.rowCount() == 1 + len(claim.secondary) + len(claim.procedures)
    assert panel.table.item(0, 0).text() == "P" and panel.table.item(0, 1).text() == claim.principal.code
    assert f"MS-DRG {claim.drg.code}" in panel.drg.text() and f"{claim.drg.weight:.4f}" in panel.drg.text()
    assert "age 72 (from the note)" in panel.drg.text()
    marks = [panel.table.item(r, 3).text() for r in range(panel.table.rowCount())]
    assert any(m.startswith(("CC", "MCC")) for m in marks)
    window.suggestions.select_code(claim.secondary[0].code)
    assert "Removing" in panel.impact.text() and claim.secondary[0].code in panel.impact.text()


def test_alt_arrows_and_p_reorder_the_claim_and_are_audited(make_window, qtbot) -> None:
    window = _open_inpatient(make_window, qtbot)
    rec_id = window.record.id
    third = window.claim.secondary[1].code
    window.suggestions.select_code(third)
    window.suggestions.table.setFocus()
    threads = set()
    original = window.service.encounter_claim

    def spy(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return original(*args, **kwargs)

    window.service.encounter_claim = spy
    qtbot.keyClick(window.suggestions.table, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.claim.diagnosis_codes().index(third) == 1 and window.tasks.idle, timeout=30_000)
    assert threads and threading.main_thread().name not in threads  # regrouped off the GUI thread
    qtbot.keyClick(window.suggestions.table, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: window.claim.principal.code == third and window.tasks.idle, timeout=30_000)
    assert window.claim_panel.table.item(0, 1).text() == third
    qtbot.keyClick(window.suggestions.table, Qt.Key.Key_O)
    qtbot.waitUntil(lambda: window.tasks.idle and window.service.workspace().claim(rec_id).poa.get(third) is not None,
                    timeout=30_000)
    actions = [e.action for e in window.service.workspace().audit_entries(rec_id)]
    assert "claim.move" in actions and "claim.principal" in actions and "claim.poa" in actions


def test_edits_block_marking_coded_until_overridden(make_window, qtbot, monkeypatch) -> None:
    window = _open_inpatient(make_window, qtbot)
    window.quiet_errors = True
    rec_id = window.record.id
    window._added(SearchHit(code="Z38.00", system="ICD-10-CM", title="Single liveborn infant", billable=True,
                            score=1.0))  # a newborn code for a 72-year-old: an age conflict
    qtbot.waitUntil(lambda: window.tasks.idle and any(e.name == "AGE_CONFLICT" for e in window.claim.edits),
                    timeout=30_000)
    assert "✖" in window.claim_panel.edits.text() and window.claim_panel.override_button.isVisibleTo(window)
    window.mark_coded()
    qtbot.waitUntil(lambda: window.tasks.idle, timeout=30_000)
    assert window.service.workspace().get_encounter(rec_id).status != "coded"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Newborn record merged by registration", True))
    window.override_edits()
    qtbot.waitUntil(lambda: window.tasks.idle and not window.claim.open_edits(), timeout=30_000)
    window.mark_coded()
    qtbot.waitUntil(lambda: window.tasks.idle and window.service.workspace().get_encounter(rec_id).status == "coded", timeout=30_000)
    override = next(e for e in window.service.workspace().audit_entries(rec_id) if e.action == "claim.override")
    assert override.detail["reason"] == "Newborn record merged by registration"
