"""Smaller hardening points of the CLI: --limit, gold warnings, no model in the settings, UTF-16 notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.core.settings import Settings, save_settings
from medcoder_desktop.paths import AppPaths
from tests.helpers import install_dictionary

NOTE = "Assessment:\n1. Type 2 diabetes mellitus with hyperglycemia.\n2. Essential hypertension.\n"


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


@pytest.mark.parametrize("limit", ["0", "-1", "two"])
def test_eval_limit_must_be_positive(limit: str, home: Path, tmp_path: Path, capsys) -> None:
    gold = tmp_path / "g.jsonl"
    gold.write_text(json.dumps({"id": "a", "text": NOTE, "codes": ["I10"]}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["eval", str(gold), "--model", "none", "--limit", limit, "--json"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--limit" in err and ("at least 1" in err or "whole number" in err)


def test_duplicate_gold_ids_and_unknown_codes_are_warnings(home: Path, tmp_path: Path, capsys) -> None:
    gold = tmp_path / "g.jsonl"
    lines = [{"id": "a", "text": NOTE, "codes": ["I10"]}, {"id": "a", "text": NOTE, "codes": ["E11.65", "Q99.999"]},
             {"id": "b", "text": "fever", "codes": ["R50.9"], "kind": "phrase"}]
    gold.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    assert main(["eval", str(gold), "--model", "none", "--json"]) == 0
    out, err = capsys.readouterr()
    warnings = json.loads(out)["warnings"]
    assert any("ids appear more than once: a" in w for w in warnings)
    assert any("in no code set" in w and "Q99.999" in w and "I10" not in w for w in warnings)
    assert err.count("medcoder: warning:") == 2
    assert main(["eval", str(gold), "--model", "none", "--limit", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 1


def test_settings_can_name_no_model(home: Path, tmp_path: Path, capsys) -> None:
    save_settings(AppPaths.default(), Settings(model_path="none"))
    note = tmp_path / "n.txt"
    note.write_text(NOTE, encoding="utf-8")
    assert main(["suggest", str(note), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "retrieval-only" and doc["model"] is None
    gold = tmp_path / "g.jsonl"
    gold.write_text(json.dumps({"id": "a", "text": NOTE, "codes": ["I10"]}) + "\n", encoding="utf-8")
    assert main(["eval", str(gold), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "retrieval-only"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32-be"])
def test_a_utf16_note_gives_the_same_suggestions(encoding: str, home: Path, tmp_path: Path, capsys) -> None:
    plain, wide = tmp_path / "plain.txt", tmp_path / "wide.txt"
    plain.write_text(NOTE, encoding="utf-8")
    wide.write_bytes(NOTE.encode(encoding))
    docs = []
    for f in (plain, wide):
        assert main(["suggest", str(f), "--model", "none", "--json"]) == 0
        docs.append(json.loads(capsys.readouterr().out)["suggestions"])
    assert docs[0] == docs[1] and any(s["code"] == "E11.65" for s in docs[0])


def test_a_folder_a_pipe_and_a_device_are_named(home: Path, tmp_path: Path, capsys) -> None:
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "zero"
    link.symlink_to("/dev/zero")
    for path, words in ((tmp_path, "is a folder"), (fifo, "is a pipe"), (link, "is a device")):
        assert main(["suggest", str(path), "--model", "none"]) == 2
        err = capsys.readouterr().err
        assert words in err and "no such file" not in err
