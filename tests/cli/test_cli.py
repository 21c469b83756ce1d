"""The CLI contract of DESIGN.md: one JSON document on stdout, errors on stderr with exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from medcoder_desktop.cli import build_parser, main
from tests.helpers import ROOT, SHARED_DATA, install_dictionary


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


def run_json(capsys: pytest.CaptureFixture[str], *argv: str):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_codes_stats_json(home: Path, capsys) -> None:
    doc = run_json(capsys, "codes", "stats", "--json")
    cm = doc["systems"]["ICD-10-CM"]
    assert cm["version"] == "2026" and cm["billable"] >= 74_000 and cm["codes"] > cm["billable"]


def test_codes_show_json_has_the_contract_fields(home: Path, capsys) -> None:
    doc = run_json(capsys, "codes", "show", "E11", "--json")
    for field in ("code", "system", "title", "billable", "version", "parent", "inclusion_terms",
                  "excludes1", "excludes2", "code_first", "use_additional", "code_also"):
        assert field in doc, field
    assert doc["billable"] is False and doc["excludes1"]
    assert run_json(capsys, "codes", "show", "S72.001A", "--json")["billable"] is True
    assert "hyperglycemia" in run_json(capsys, "codes", "show", "E11.65", "--json")["title"]


def test_codes_search_json(home: Path, capsys) -> None:
    hits = run_json(capsys, "codes", "search", "DM2 w hyperglycemia", "--limit", "3", "--json")
    assert len(hits) == 3
    assert set(hits[0]) == {"code", "system", "title", "billable", "score"}
    assert hits[0]["code"] == "E11.65"


def test_errors_go_to_stderr_with_nonzero_exit(home: Path, capsys) -> None:
    assert main(["codes", "show", "Q99.999", "--json"]) == 3
    out, err = capsys.readouterr()
    assert out == "" and "not a code" in err
    assert main(["codes", "search", " ", "--json"]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["eval", str(home / "missing.jsonl"), "--json"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_import_error_names_the_line_and_changes_nothing(home: Path, tmp_path: Path, capsys) -> None:
    db = home / "data" / "dictionary.sqlite"
    before = db.read_bytes()
    bad = tmp_path / "cpt.csv"
    bad.write_text("code,description\n99213,Office visit\n9921,Too short\n", encoding="utf-8")
    assert main(["codes", "import", "cpt", str(bad)]) == 2
    assert "line 3" in capsys.readouterr().err
    assert db.read_bytes() == before


def test_eval_on_a_phrase_file(home: Path, tmp_path: Path, capsys) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "\n".join(json.dumps({"id": str(i), "text": t, "codes": [c], "kind": "phrase", "source": "t"})
                  for i, (t, c) in enumerate([("DM2 w hyperglycemia", "E11.65"), ("htn", "I10"),
                                              ("Sarah has nonrheumatic aortic valve insufficiency", "I35.1")]))
        + "\n", encoding="utf-8")
    doc = run_json(capsys, "eval", str(gold), "--model", "none", "--json", "--out", str(tmp_path / "out"))
    assert doc["n"] == 3 and doc["top1"] == 1.0 and doc["recall_at_5"] == 1.0
    assert doc["mode"] == "retrieval-only" and doc["invalid_codes"] == 0
    assert {"micro", "category_micro", "recall_at_10", "seconds_per_item"} <= set(doc)
    assert json.loads((tmp_path / "out" / "eval.json").read_text())["n"] == 3


def test_search_and_eval_open_no_socket(home: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    run_json(capsys, "codes", "search", "chest pain", "--json")
    gold = tmp_path / "g.jsonl"
    gold.write_text(json.dumps({"id": "1", "text": "chest pain", "codes": ["R07.9"]}) + "\n", encoding="utf-8")
    run_json(capsys, "eval", str(gold), "--json")


@pytest.mark.skipif(not (SHARED_DATA / "phrases").is_dir(), reason="development data not present")
def test_eval_on_the_dev_typo_phrases(home: Path, capsys) -> None:
    doc = run_json(capsys, "eval", str(SHARED_DATA / "phrases" / "typo_dev.jsonl"), "--limit", "200", "--json")
    assert doc["n"] == 200
    assert doc["top1"] >= 0.85


def test_every_command_has_help() -> None:
    parser = build_parser()
    actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    for sub in actions[0].choices.values():
        assert sub.description or sub.format_help()
    for choice in actions[0]._choices_actions:
        assert choice.help, choice.dest


def test_console_script_runs_the_demo(home: Path) -> None:
    exe = Path(sys.executable).with_name("medcoder")
    env = {**os.environ, "MEDCODER_HOME": str(home)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "E11.65" in proc.stdout and "Type 2 diabetes mellitus with hyperglycemia" in proc.stdout


def test_eval_setting_applies_to_notes_without_one(home: Path, tmp_path: Path, capsys) -> None:
    # An uncertain diagnosis: not coded outpatient (the symptom is), coded as established inpatient.
    note = "Chief complaint: cough.\nAssessment: probable pneumonia."
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "1", "text": note, "codes": ["J18.9"], "kind": "note"}) + "\n",
                    encoding="utf-8")
    out = run_json(capsys, "eval", str(gold), "--model", "none", "--json")
    inpatient = run_json(capsys, "eval", str(gold), "--model", "none", "--setting", "inpatient", "--json")
    assert out["micro"]["recall"] == 0.0 and inpatient["micro"]["recall"] == 1.0
    gold.write_text(json.dumps({"id": "1", "text": note, "codes": ["J18.9"], "kind": "note",
                                "setting": "outpatient"}) + "\n", encoding="utf-8")
    named = run_json(capsys, "eval", str(gold), "--model", "none", "--setting", "inpatient", "--json")
    assert named["micro"]["recall"] == 0.0  # the gold's own setting wins


def test_eval_reads_a_stay_in_hospital_from_a_note_without_a_setting(home: Path, tmp_path: Path, capsys) -> None:
    # The same uncertain diagnosis, in a note that tells of an admission: coded as established (inpatient).
    note = "The patient was admitted with cough and fever.\nAssessment: probable pneumonia."
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "1", "text": note, "codes": ["J18.9"], "kind": "note"}) + "\n",
                    encoding="utf-8")
    assert run_json(capsys, "eval", str(gold), "--model", "none", "--json")["micro"]["recall"] == 1.0
    given = run_json(capsys, "eval", str(gold), "--model", "none", "--setting", "outpatient", "--json")
    assert given["micro"]["recall"] == 0.0  # a setting given on the command line wins
