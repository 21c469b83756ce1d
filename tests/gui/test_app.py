"""The command: --screenshot writes a PNG; no display means the terminal demo; kill -9 loses no decision."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from medcoder_desktop import cli
from medcoder_desktop.core.workspace import Workspace
from medcoder_desktop.paths import resource
from tests.helpers import ROOT

PNG = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_screenshot_in_process(gui_home: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "shots" / "main.png"
    note = resource("samples", "outpatient_followup.txt")
    assert cli.main(["gui", "--screenshot", str(out), "--note", str(note), "--model", "none",
                     "--size", "1280x800"]) == 0
    assert _png_size(out) == (1280, 800)
    with Workspace(gui_home / "data" / "workspace.sqlite") as ws:
        run = ws.latest_run("outpatient_followup")
        assert run is not None and run.mode == "retrieval-only" and run.suggestions


def test_screenshot_of_the_search_dialog(gui_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "search.png"
    assert cli.main(["gui", "--screenshot", str(out), "--model", "none", "--search", "DM2 w hyperglycemia",
                     "--size", "1280x800"]) == 0
    assert _png_size(out) == (1280, 800)


def test_screenshot_command_without_a_display(gui_home: Path, tmp_path: Path) -> None:
    """The real command in a fresh process: no DISPLAY and no QT_QPA_PLATFORM either."""
    out = tmp_path / "cmd.png"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "medcoder_desktop", "gui", "--screenshot", str(out),
                           "--model", "none"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert _png_size(out) == (1920, 1080)


def test_no_display_runs_the_terminal_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = []
    monkeypatch.setattr(cli, "has_display", lambda: False)
    monkeypatch.setattr(cli, "cmd_demo", lambda args: ran.append(args) or 0)
    assert cli.main(["gui"]) == 0
    assert cli.main([]) == 0
    assert len(ran) == 2


def test_a_bad_note_file_is_a_clear_error_not_a_dialog(gui_home: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert cli.main(["gui", "--screenshot", str(tmp_path / "x.png"), "--note", str(empty), "--model", "none"]) == 2
    assert "empty" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


CHILD = textwrap.dedent(
    """
    import json, time
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from medcoder_desktop.core.service import CodingService
    from medcoder_desktop.gui.app import ensure_app
    from medcoder_desktop.gui.main_window import MainWindow
    from medcoder_desktop.gui.screenshot import wait_until

    app = ensure_app()
    window = MainWindow(CodingService(model="none"))
    window.show()
    window.start()
    assert wait_until(lambda: window.final and window.tasks.idle, 120)
    window.activateWindow()
    wait_until(window.isActiveWindow, 10)
    rows = window.suggestions.model.rows()
    for key in (Qt.Key.Key_A, Qt.Key.Key_R, Qt.Key.Key_A):
        QTest.keyClick(window.suggestions.table, key)
    print(json.dumps({"encounter": window.record.id, "codes": [r.code for r in rows[:3]]}), flush=True)
    time.sleep(120)
    """
)


def test_kill_9_after_decisions_by_key_loses_nothing(gui_home: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line.strip(), proc.stderr.read() if proc.poll() is not None else "no output"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    told = json.loads(line)
    with Workspace(gui_home / "data" / "workspace.sqlite") as ws:
        states = [(s.code, s.action) for s in ws.current_codes(told["encounter"], include_rejected=True)]
        a, b, c = told["codes"]
        assert states == [(a, "accept"), (b, "reject"), (c, "accept")]
        assert [e.action for e in ws.audit_entries(told["encounter"]) if e.action.startswith("decision.")] == [
            "decision.accept", "decision.reject", "decision.accept"]


def test_the_qt_binding_keeps_its_references() -> None:
    """PySide6 6.12.0 on Python 3.11 aborts the interpreter after about a thousand signals: never ship it."""
    from medcoder_desktop.gui.app import bindings_problem

    assert bindings_problem() is None
