"""Background work for the window: core calls run on worker threads, results come back on the GUI thread.

Two lanes of one thread each, so that the work of each lane is serialised:

- ``engine``: the dictionary, the model and suggestions (the model answers one call at a time anyway);
- ``lookup``: code search and code details, imports, exports, model import: quick work that must not
  wait behind a model run.

Results return through a queued signal: no widget is touched from a worker thread, and an op must not
touch one either. ``Tasks.shutdown()`` joins both threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal

from medcoder_desktop.core.models import SuggestResult

if TYPE_CHECKING:  # the window imports the service when it starts, not with this module
    from medcoder_desktop.core.service import CodingService

log = logging.getLogger(__name__)
LANES = ("engine", "lookup")


class Tasks(QObject):
    """Runs ops on the lanes' threads and calls their callbacks on the GUI thread."""

    _deliver = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._deliver.connect(self._call, Qt.ConnectionType.QueuedConnection)
        self._lanes = {name: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"medcoder-{name}")
                       for name in LANES}
        self._pending = 0
        self.closed = False

    @property
    def idle(self) -> bool:
        """No op queued or running, and no result waiting to be delivered."""
        return self._pending == 0

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` on the GUI thread, soon (callable from any thread)."""
        self._deliver.emit(partial(fn, *args))

    def _call(self, fn: Callable[[], Any]) -> None:
        if not self.closed:
            fn()

    def run(self, op: Callable[[], Any], success: Callable[[Any], Any] | None = None,
            failure: Callable[[BaseException], Any] | None = None, *, lane: str = "engine") -> Future:
        """Run ``op()`` on ``lane``; then ``success(result)`` or ``failure(exception)`` on the GUI thread."""
        if self.closed:
            raise RuntimeError("the window is closing")
        self._pending += 1

        def work() -> None:
            try:
                result = op()
            except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, which decides
                self.post(self._finish, failure, exc, True)
            else:
                self.post(self._finish, success, result, False)

        return self._lanes[lane].submit(work)

    def _finish(self, callback: Callable[[Any], Any] | None, value: Any, failed: bool) -> None:
        self._pending -= 1
        if callback is not None:
            callback(value)
        elif failed:
            log.error("background work failed: %s", value.__class__.__name__)

    def shutdown(self) -> None:
        """Drop queued ops, wait for the running ones and join the threads. Callbacks stop at once."""
        self.closed = True
        for lane in self._lanes.values():
            lane.shutdown(wait=True, cancel_futures=True)


class EngineLoad:
    """The dictionary, then the model (or retrieval-only when there is none), on the engine lane.

    ``on_progress(stage, fraction)`` while it loads; ``on_ready(info)`` with ``CodingService.info()``, whose
    ``model_error`` says why the chosen model could not be loaded (the service then runs without one).
    """

    def __init__(self, tasks: Tasks, service: CodingService, *, on_progress: Callable[[str, float], None],
                 on_ready: Callable[[dict], None], on_failed: Callable[[BaseException], None]) -> None:
        self.tasks, self.service = tasks, service
        self.on_progress, self.on_ready, self.on_failed = on_progress, on_ready, on_failed

    def start(self) -> Future:
        return self.tasks.run(self._op, self.on_ready, self.on_failed, lane="engine")

    def _progress(self, stage: str, fraction: float) -> None:
        self.tasks.post(self.on_progress, stage, fraction)

    def _op(self) -> dict:
        self.service.prepare(self._progress, fall_back=True)
        return self.service.info()


class SuggestJob:
    """Suggestions for one encounter on the engine lane: the service's events, handed to the GUI thread.

    ``cancel()`` sets the event the core honours (the model stops at its next token); from then on none of
    the job's callbacks is called: a stale job's results are ignored. With ``reuse``, the service gives back
    the encounter's saved run when the same model and code sets would make it again.

    Callbacks (GUI thread): ``on_event(SuggestEvent)`` for ``candidates`` and ``refined``;
    ``on_done(SuggestResult)``; ``on_failed(exception)``.
    """

    def __init__(self, tasks: Tasks, service: CodingService, encounter_id: str, *, reuse: bool,
                 on_event: Callable, on_done: Callable, on_failed: Callable,
                 on_progress: Callable[[str, float], None] | None = None) -> None:
        self.tasks, self.service = tasks, service
        self.encounter_id, self.reuse = encounter_id, reuse
        self.on_event, self.on_done, self.on_failed, self.on_progress = on_event, on_done, on_failed, on_progress
        self._cancel = threading.Event()
        self.future: Future | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def start(self) -> "SuggestJob":
        self.future = self.tasks.run(self._op, self._done, self._failed, lane="engine")
        return self

    def _progress(self, stage: str, fraction: float) -> None:
        if self.on_progress is not None:
            self.tasks.post(self._if_live, self.on_progress, stage, fraction)

    def _if_live(self, fn: Callable, *args: Any) -> None:
        if not self.cancelled:
            fn(*args)

    def _op(self) -> SuggestResult | None:
        if self.cancelled:
            return None
        self.service.prepare(self._progress, index=False)
        result = None
        for event in self.service.suggest_encounter(self.encounter_id, self._cancel, reuse=self.reuse):
            if self.cancelled:
                return None
            if event.kind != "done":
                self.tasks.post(self._if_live, self.on_event, event)
            else:
                result = event.result or SuggestResult(  # a done event made outside the service (tests)
                    suggestions=event.suggestions, warnings=[w for w in event.warnings if w != "cancelled"],
                    cancelled="cancelled" in event.warnings)
        return None if self.cancelled else result

    def _done(self, result: SuggestResult | None) -> None:
        if result is not None and not self.cancelled:
            self.on_done(result)

    def _failed(self, exc: BaseException) -> None:
        if not self.cancelled:
            self.on_failed(exc)
