"""The GUI thread never waits for the engine; moving to another note cancels the running suggestions."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QTimer

from medcoder_desktop.core.engine.pipeline import SuggestEvent
from medcoder_desktop.core.service import CodingService
from tests.gui.conftest import wait_final


class SlowService(CodingService):
    """The real retrieval, then a pretend model that thinks for ``seconds`` (checking its cancel event)."""

    def __init__(self, seconds: float, *, honour_cancel: bool = True) -> None:
        super().__init__(model="none")
        self.seconds, self.honour_cancel = seconds, honour_cancel
        self.cancelled: list[str] = []
        self.thread_names: set[str] = set()

    def suggest_stream(self, note, encounter=None, cancel=None, *, record=False):
        self.thread_names.add(threading.current_thread().name)
        events = list(super().suggest_stream(note, encounter, cancel))
        yield events[0]
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            if cancel is not None and cancel.is_set() and self.honour_cancel:
                self.cancelled.append(note[:20])
                yield SuggestEvent(kind="done", suggestions=events[0].suggestions, warnings=["cancelled"])
                return
            time.sleep(0.02)
        # A late refinement that must never reach the screen when this run was cancelled.
        stale = [s.model_copy(update={"code": "Z00.00", "title": "stale"}) for s in events[-1].suggestions[:1]]
        yield SuggestEvent(kind="refined", suggestions=stale + events[-1].suggestions)
        yield events[-1]


def test_the_event_loop_keeps_running_while_the_engine_works(make_window, qtbot) -> None:
    service = SlowService(seconds=1.5)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    try:
        window = make_window(service, wait=False)
        qtbot.waitUntil(lambda: window.suggestions.model.rowCount() > 0, timeout=30_000)  # retrieval results
        assert not window.final  # ... while the pretend model is still thinking
        start = len(ticks)
        wait_final(qtbot, window)
        during = ticks[start:]
    finally:
        timer.stop()
    assert len(during) > 30
    gaps = [b - a for a, b in zip(during, during[1:])]
    assert max(gaps) < 0.5, f"the GUI thread stalled for {max(gaps):.3f} s"  # the engine works 1.5 s
    assert service.thread_names and all(name.startswith("medcoder-engine") for name in service.thread_names)
    assert threading.current_thread().name not in service.thread_names
    assert window.service.workspace().latest_run(window.record.id).id == window.run_id


def test_moving_to_another_note_cancels_the_running_job(make_window, qtbot) -> None:
    service = SlowService(seconds=20)
    window = make_window(service, wait=False)
    first = window.record.id
    qtbot.waitUntil(lambda: window.suggestions.model.rowCount() > 0, timeout=30_000)
    job = window.job
    service.seconds = 0.3
    second = window.worklist.next_id(first)
    window.open_encounter(second)
    assert job.cancelled
    wait_final(qtbot, window)
    assert window.record.id == second
    assert service.cancelled == [window.service.workspace().get_encounter(first).note[:20]]
    assert window.service.workspace().latest_run(first) is None  # a cancelled run is not kept
    note = window.record.note
    for row in window.suggestions.model.rows():
        assert row.code != "Z00.00"
        for e in row.evidence:
            assert note[e.start:e.end] == e.text  # evidence of the note on screen, not of the first


def test_a_stale_job_that_ignores_its_cancel_is_still_ignored(make_window, qtbot) -> None:
    service = SlowService(seconds=1.0, honour_cancel=False)
    window = make_window(service, wait=False)
    first = window.record.id
    qtbot.waitUntil(lambda: window.suggestions.model.rowCount() > 0, timeout=30_000)
    window.open_encounter(window.worklist.next_id(first))
    wait_final(qtbot, window)
    qtbot.wait(200)
    assert all(r.code != "Z00.00" for r in window.suggestions.model.rows())
    assert window.service.workspace().latest_run(first) is None


def test_closing_the_window_mid_run_joins_every_thread(make_window, qtbot) -> None:
    service = SlowService(seconds=30)
    window = make_window(service, wait=False)
    qtbot.waitUntil(lambda: window.suggestions.model.rowCount() > 0, timeout=30_000)
    t = time.monotonic()
    window.close()
    assert time.monotonic() - t < 5
    assert window.tasks.closed
    # no_thread_left (conftest) checks that the worker threads are gone.


def test_decisions_made_while_the_model_refines_are_kept(make_window, qtbot) -> None:
    from PySide6.QtCore import Qt

    service = SlowService(seconds=1.0)
    window = make_window(service, wait=False)
    qtbot.waitUntil(lambda: window.suggestions.model.rowCount() > 0, timeout=30_000)
    assert not window.final
    code = window.suggestions.current().code
    qtbot.keyClick(window.suggestions.table, Qt.Key.Key_A)
    wait_final(qtbot, window)
    row = window.suggestions.model.rows()[window.suggestions.model.row_of(code)]
    assert window.suggestions.model.state(row).action == "accept"
    [decision] = window.service.workspace().decisions(window.record.id)
    assert decision.code == code and decision.run_id is None  # made before the run was kept
