"""The window, the CLI and the demo suggest through the same service call, and get the whole result from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.core.models import SuggestResult
from medcoder_desktop.core.service import CodingService
from medcoder_desktop.demo import run_demo
from medcoder_desktop.paths import resource
from tests.gui.conftest import wait_final

SAMPLE = resource("samples", "outpatient_followup.txt")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[SuggestResult]:
    """The results of every ``CodingService.suggest_stream`` run, whoever started it."""
    seen: list[SuggestResult] = []
    original = CodingService.suggest_stream

    def spy(self, note, encounter=None, cancel=None, *, record=False):
        for event in original(self, note, encounter, cancel, record=record):
            if event.kind == "done":
                seen.append(event.result)
            yield event

    monkeypatch.setattr(CodingService, "suggest_stream", spy)
    return seen


def test_the_cli_suggests_through_the_service_stream(gui_home: Path, calls, capsys) -> None:
    assert main(["suggest", str(SAMPLE), "--model", "none", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(calls) == 1
    result = calls[0]
    assert [s["code"] for s in doc["suggestions"]] == [s.code for s in result.shown()]
    assert doc["timings_ms"] == result.timings and doc["mode"] == result.mode == "retrieval-only"
    assert result.timings["first_suggestions_ms"] <= result.timings["total_ms"] + 1


def test_the_demo_suggests_through_the_service_stream(gui_home: Path, calls, capsys) -> None:
    assert run_demo(CodingService(model="none"), lambda stage, fraction: None) == 0
    out = capsys.readouterr().out
    assert len(calls) == 1
    for s in calls[0].shown():
        assert s.code in out


def test_the_window_suggests_through_the_service_stream_and_keeps_the_run(make_window, qtbot, calls) -> None:
    window = make_window()
    wait_final(qtbot, window)
    assert len(calls) == 1
    result = calls[0]
    assert result.run_id is not None and window.run_id == result.run_id
    run = window.service.workspace().latest_run(window.record.id)
    assert [s.code for s in run.suggestions] == [s.code for s in result.suggestions]
    shown = [r.code for r in window.suggestions.model.rows()]
    assert {s.code for s in result.shown()} <= set(shown)


def test_a_still_valid_run_is_reused_without_suggesting_again(make_window, qtbot, calls) -> None:
    window = make_window()
    wait_final(qtbot, window)
    first = window.record.id
    window.next_note()
    wait_final(qtbot, window)
    before = len(calls)
    window.open_encounter(first)
    wait_final(qtbot, window)
    assert len(calls) == before  # the saved run came back from the service, no new suggestion run
    assert window.run_id == calls[0].run_id
