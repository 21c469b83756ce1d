"""`medcoder suggest` as DESIGN.md's contract describes it."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.paths import resource
from tests.helpers import install_dictionary

SAMPLE = resource("samples", "outpatient_followup.txt")


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


def test_suggest_json_contract(home: Path, capsys) -> None:
    assert main(["suggest", str(SAMPLE), "--model", "none", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"suggestions", "mode", "model", "code_sets", "timings_ms"}
    assert doc["mode"] == "retrieval-only" and doc["model"] is None
    assert doc["code_sets"]["ICD-10-CM"] == "2026"
    note = SAMPLE.read_text(encoding="utf-8")
    assert doc["suggestions"]
    for s in doc["suggestions"]:
        assert {"code", "system", "title", "confidence", "reasoning", "evidence"} <= set(s)
        for e in s["evidence"]:
            assert note[e["start"]:e["end"]] == e["text"]
    assert "E11.65" in [s["code"] for s in doc["suggestions"]]


def test_suggest_reads_standard_input(home: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Assessment: essential hypertension.")))
    assert main(["suggest", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["suggestions"][0]["code"] == "I10"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"%PDF-1.7\x00\x01\x02", "binary"), ("Caf\xe9 au lait".encode("latin-1"), "not UTF-8")],
)
def test_bad_note_files(home: Path, tmp_path: Path, capsys, content: bytes, message: str) -> None:
    note = tmp_path / "note.txt"
    note.write_bytes(content)
    assert main(["suggest", str(note), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err


def test_missing_note_file(home: Path, tmp_path: Path, capsys) -> None:
    assert main(["suggest", str(tmp_path / "nope.txt")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_human_output_shows_evidence(home: Path, capsys) -> None:
    assert main(["suggest", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "E11.65" in out and "evidence [" in out and "“DM2 w hyperglycemia”" in out


def test_suggest_says_which_setting_it_coded(home: Path, tmp_path: Path, capsys) -> None:
    note = tmp_path / "stay.txt"
    note.write_text("The patient was admitted with cough and fever.\nAssessment: probable pneumonia.\n",
                    encoding="utf-8")
    assert main(["suggest", str(note), "--model", "none", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["setting"] == {"setting": "inpatient", "from": "note",
                              "said": "The patient was admitted with cough and fever", "why": "a stay"}
    assert "J18.9" in [s["code"] for s in doc["suggestions"]]
    assert main(["suggest", str(note), "--model", "none", "--setting", "outpatient", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["setting"]["from"] == "given" and "J18.9" not in [s["code"] for s in doc["suggestions"]]
    assert main(["suggest", str(SAMPLE), "--model", "none"]) == 0
    assert "setting: outpatient, the default setting" in capsys.readouterr().out
