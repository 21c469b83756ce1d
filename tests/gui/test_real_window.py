"""The real window under a real X server (Xvfb, the xcb platform), driven by real key presses (xdotool).

Skipped where Xvfb or xdotool is missing; `.ci/run` installs both from Debian's packages.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, install_dictionary

pytestmark = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                                reason="Xvfb and xdotool are not installed (Debian packages xvfb, xdotool)")


def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _free_display() -> int:
    for n in range(91, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    pytest.skip("no free X display number")


@pytest.fixture
def xserver():
    n = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _until(lambda: Path(f"/tmp/.X11-unix/X{n}").exists(), 20, "Xvfb to start")
        yield f":{n}"
    finally:
        proc.terminate()
        proc.wait(10)


def _query(db: Path, sql: str, args=()) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet
    finally:
        conn.close()


def test_keys_pressed_in_the_real_window_are_the_decisions_saved(xserver: str, built_dictionary: Path,
                                                                 medcoder_home: Path) -> None:
    install_dictionary(built_dictionary, medcoder_home)
    env = {**os.environ, "DISPLAY": xserver, "QT_QPA_PLATFORM": "xcb", "MEDCODER_HOME": str(medcoder_home),
           "LANG": "C.UTF-8"}
    app = subprocess.Popen([sys.executable, "-m", "medcoder_desktop", "gui", "--model", "none"], env=env,
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db = medcoder_home / "data" / "workspace.sqlite"
    try:
        xdo = {**env}
        wid = _until(lambda: subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "medcoder"],
                                            capture_output=True, text=True, env=xdo).stdout.split(),
                     60, "the window to be mapped")[0]
        # The first encounter's suggestions are on screen once its run is saved.
        first = _until(lambda: _query(db, "select encounter_id from runs order by id limit 1"), 120,
                       "the first suggestions")[0][0]
        time.sleep(1.0)  # the table is filled in the same event-loop turn; give the X server a moment
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=xdo, check=True, timeout=20)
        for k in ("j", "a", "r", "u", "n"):
            subprocess.run(["xdotool", "key", "--window", wid, "--clearmodifiers", k], env=xdo, check=True,
                           timeout=20)
            time.sleep(0.6)  # each decision is saved before the next key, as a coder types
        _until(lambda: _query(db, "select count(*) from audit where action = 'decision.undo'") == [(1,)],
               30, "the undo to be saved")
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            out, err = app.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
            out, err = app.communicate()
    assert "Traceback" not in err, err[-2000:]

    from medcoder_desktop.core.workspace import Workspace

    with Workspace(db) as ws:
        run = ws.latest_run(first)
        shown = [s.code for s in run.suggestions if s.suggested]
        decisions = ws.decisions(first)
        # J moved to the second code, A accepted it, R rejected the third, U took the rejection back.
        assert [(d.code, d.action, d.undone) for d in decisions] == [(shown[1], "accept", False),
                                                                     (shown[2], "reject", True)]
        assert [s.code for s in ws.current_codes(first)] == [shown[1]]
        actions = [e.action for e in ws.audit_entries(first) if e.action.startswith("decision.")]
        assert actions == ["decision.accept", "decision.reject", "decision.undo"]
        # N opened the next note: it has a run of its own and no decision.
        others = [e.id for e in ws.list_encounters() if e.id != first]
        assert any(ws.latest_run(e) is not None for e in others)
        assert all(ws.decisions(e) == [] for e in others)
