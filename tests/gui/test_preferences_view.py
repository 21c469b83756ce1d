"""The organization preferences view: a rule written there, or a pack imported there, changes the open note's
suggestions and says so in the reasoning; a tampered pack is refused and nothing changes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from medcoder_desktop.core.service import CodingService
from medcoder_desktop.paths import AppPaths
from tests.gui.conftest import wait_final
from tests.helpers import install_dictionary

PAIRED = ("Z79.899", "Z91.19", "Z79.01")  # the first of these the note does not suggest is paired with its top code


def open_view(window, qtbot):
    dialog = window.preferences_dialog()
    qtbot.waitUntil(lambda: dialog.summary is not None and not dialog.busy, timeout=10_000)
    return dialog


def suggested(window) -> dict[str, str]:
    return {r.code: r.reasoning for r in window.suggestions.model.rows()}


def test_rules_written_in_the_view_change_the_suggestions_and_their_reasoning(make_window, qtbot) -> None:
    window = make_window()
    before = suggested(window)
    top, second = list(before)[:2]
    extra = next(c for c in PAIRED if c not in before)
    dialog = open_view(window, qtbot)
    assert dialog.rules.rowCount() == 0 and "0 rules" in dialog.headline.text()

    form = dialog.add_rule_dialog()
    form.kind.setCurrentIndex(form.kind.findData("pair"))
    assert form.other.isVisibleTo(form) and form.other_label.text() == "Add with it"
    qtbot.keyClicks(form.code, top.lower())
    qtbot.keyClicks(form.other, extra)
    form.accept()
    qtbot.waitUntil(lambda: dialog.rules.rowCount() == 1 and not dialog.busy, timeout=10_000)
    assert dialog.last_message.startswith("Rule 1 added: pair")
    wait_final(qtbot, window)
    qtbot.waitUntil(lambda: extra in suggested(window), timeout=30_000)
    assert suggested(window)[extra].startswith("Organization preference:")

    dialog.add_rule("never", second)
    qtbot.waitUntil(lambda: dialog.rules.rowCount() == 2 and not dialog.busy, timeout=10_000)
    wait_final(qtbot, window)
    qtbot.waitUntil(lambda: second not in suggested(window), timeout=30_000)
    assert window.service.workspace().latest_run(window.record.id).suggestions  # the new run is kept

    dialog.add_rule("prefer", "E11.9")  # no --over: refused with the reason, nothing added
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    assert "names the code it replaces" in dialog.last_message and dialog.rules.rowCount() == 2

    dialog.rules.selectRow(1)
    dialog.remove_selected_rule()
    qtbot.waitUntil(lambda: dialog.rules.rowCount() == 1 and not dialog.busy, timeout=10_000)
    wait_final(qtbot, window)
    qtbot.waitUntil(lambda: second in suggested(window), timeout=30_000)


def test_import_asks_to_trust_the_signer_and_refuses_a_tampered_pack(
        make_window, qtbot, tmp_path: Path, built_dictionary: Path, gui_home: Path) -> None:
    window = make_window()
    top = next(iter(suggested(window)))
    extra = next(c for c in PAIRED if c not in suggested(window))

    # the administrator's workstation: a signing key, one rule, a signed pack
    admin_home = tmp_path / "admin"
    install_dictionary(built_dictionary, admin_home)
    admin = CodingService(AppPaths(admin_home / "data", admin_home / "config", admin_home / "cache",
                                   admin_home / "logs"), model="none")
    key = admin.preferences_manager().keys.create()
    admin.add_rule("pair", top, add=extra)
    pack = tmp_path / "clinic.json"
    admin.export_preferences(pack, organization="Clinic", author="admin")
    admin.shutdown()
    tampered = tmp_path / "tampered.json"
    data = bytearray(pack.read_bytes())
    i = data.index(extra.encode())
    data[i + len(extra) - 1] = ord("7") if data[i + len(extra) - 1] != ord("7") else ord("8")
    tampered.write_bytes(bytes(data))

    dialog = open_view(window, qtbot)
    store = gui_home / "data" / "preferences.json"

    dialog.import_pack(tampered, trust_signer=True)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    assert "was refused" in dialog.last_message and "Nothing was changed" in dialog.last_message
    assert not store.exists() and dialog.rules.rowCount() == 0
    assert extra not in suggested(window)

    dialog.import_pack(pack)  # a signer this workstation does not trust: it asks, with the fingerprint
    qtbot.waitUntil(lambda: getattr(dialog, "trust_box", None) is not None, timeout=10_000)
    assert key.fingerprint in dialog.trust_box.text() and not store.exists()
    dialog.trust_box.done(QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: dialog.rules.rowCount() == 1 and not dialog.busy, timeout=10_000)
    assert dialog.last_message.startswith("Imported Clinic's preferences")
    assert dialog.imports.rowCount() == 1 and dialog.imports.item(0, 0).text() == "Clinic"
    assert dialog.rules.item(0, 4).text() == "Clinic"
    wait_final(qtbot, window)
    qtbot.waitUntil(lambda: extra in suggested(window), timeout=30_000)
    assert suggested(window)[extra].startswith("Organization preference:")

    # the preferences survive the window: the next start shows them (the saved run is not reused stale)
    window.preferences_dialog().close()
    window.close()
    again = make_window()
    assert extra in suggested(again) and again.record.id == window.record.id
