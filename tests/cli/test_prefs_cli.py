"""`medcoder prefs ...` end to end: keys, rules, learning, export, import in a fresh data folder, and the
effect of a preference in `suggest --json`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from medcoder_desktop.cli import build_parser, main
from tests.helpers import install_dictionary

NOTE = "Assessment:\n1. Type 2 diabetes mellitus.\n2. Fever and cough."


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def suggest(capsys, tmp_path: Path) -> dict:
    note = tmp_path / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    code, out, _ = run(capsys, "suggest", str(note), "--model", "none", "--json")
    assert code == 0
    doc = json.loads(out)
    for s in doc["suggestions"]:
        for e in s["evidence"]:
            assert NOTE[e["start"]:e["end"]] == e["text"]
    return {s["code"]: s for s in doc["suggestions"]}


def test_rules_show_in_suggest_json(home: Path, capsys, tmp_path: Path) -> None:
    assert "Z79.4" not in suggest(capsys, tmp_path)
    code, out, _ = run(capsys, "prefs", "rule", "add", "pair", "E11", "--with", "Z79.4", "--json")
    assert code == 0 and json.loads(out)["id"] == 1
    assert run(capsys, "prefs", "rule", "add", "never", "R05.9")[0] == 0
    assert run(capsys, "prefs", "rule", "add", "prefer", "R50.81", "--over", "R50.9", "--setting", "outpatient",
               "--payer", "Medicare")[0] == 0
    code, out, _ = run(capsys, "prefs", "rule", "list")
    assert "1  pair E11 with Z79.4" in out and "3  prefer R50.81 over R50.9 (outpatient, payer Medicare)" in out
    got = suggest(capsys, tmp_path)
    assert "R05.9" not in got and "R50.9" in got  # no payer given: the prefer rule does not apply
    assert got["Z79.4"]["reasoning"].startswith("Organization preference: always coded with E11.9")
    assert got["Z79.4"]["evidence"] == got["E11.9"]["evidence"]
    code, out, _ = run(capsys, "prefs", "rule", "remove", "2")
    assert code == 0 and "never suggest R05.9" in out
    assert "R05.9" in suggest(capsys, tmp_path)


def test_bad_rules_exit_non_zero(home: Path, capsys) -> None:
    code, _, err = run(capsys, "prefs", "rule", "add", "never", "NOPE1")
    assert code == 3 and "not a code" in err
    code, _, err = run(capsys, "prefs", "rule", "add", "prefer", "E11.9")
    assert code == 5 and "--over" in err
    code, _, err = run(capsys, "prefs", "rule", "remove", "7")
    assert code == 5 and "no rule 7" in err


def test_learn_export_import_in_a_fresh_home(home: Path, built_dictionary: Path, capsys, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps({"id": f"n{i}", "text": "Assessment: fever and cough.",
                                          "codes": ["R50.9"]}) for i in range(6)) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "prefs", "learn", str(gold), "--json")
    assert code == 0 and json.loads(out)["items"] == 6
    code, out, _ = run(capsys, "prefs", "show", "--json")
    shown = json.loads(out)
    assert shown["counts"]["notes"] == 6 and "R05.9" in [p["code"] for p in shown["lowered"]]
    learned = suggest(capsys, tmp_path)
    assert "Organization preference: coded in 0 of 6 notes where found" in learned["R05.9"]["reasoning"]

    pack, key = tmp_path / "pack.json", tmp_path / "admin.pem"
    assert run(capsys, "prefs", "export", str(pack), "--organization", "Clinic")[0] == 5  # no signing key yet
    assert not pack.exists()
    code, out, _ = run(capsys, "prefs", "key", "create")
    fingerprint = next(w for w in out.split() if w.startswith("sha256:"))
    assert run(capsys, "prefs", "key", "export", str(key))[0] == 0
    assert run(capsys, "prefs", "rule", "add", "pair", "E11", "--with", "Z79.4")[0] == 0
    code, out, _ = run(capsys, "prefs", "export", str(pack), "--organization", "Clinic", "--json")
    assert code == 0 and json.loads(out)["signer"] == fingerprint

    fresh = tmp_path / "fresh-home"
    monkeypatch.setenv("MEDCODER_HOME", str(fresh))
    install_dictionary(built_dictionary, fresh)
    store = fresh / "data" / "preferences.json"
    assert "Organization preference" not in json.dumps(suggest(capsys, tmp_path))
    code, _, err = run(capsys, "prefs", "import", str(pack))
    assert code == 5 and "does not trust" in err and fingerprint in err and not store.exists()

    # one changed byte: refused with a clear message, the preferences exactly as they were
    assert run(capsys, "prefs", "rule", "add", "never", "I10")[0] == 0
    before = store.read_bytes()
    tampered = tmp_path / "tampered.json"
    data = bytearray(pack.read_bytes())
    i = data.index(b'"kept": 0') + 8
    data[i] = ord("9")
    tampered.write_bytes(bytes(data))
    code, out, err = run(capsys, "prefs", "import", str(tampered), "--trust-signer")
    assert code == 5 and out == ""
    assert "was refused: its signature does not match its content" in err and "Nothing was changed" in err
    assert store.read_bytes() == before

    assert run(capsys, "prefs", "trust", str(key))[0] == 0
    code, out, err = run(capsys, "prefs", "import", str(pack))
    assert code == 0 and "Imported Clinic's preferences" in out
    got = suggest(capsys, tmp_path)
    assert got == learned | {k: v for k, v in got.items() if k == "Z79.4"}
    assert got["Z79.4"]["reasoning"].startswith("Organization preference:")
    code, out, _ = run(capsys, "prefs", "show")
    assert "Imported: Clinic's pack" in out and "pair E11 with Z79.4   [from Clinic]" in out


def test_trust_signer_prints_the_fingerprint(home: Path, capsys, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, built_dictionary: Path) -> None:
    run(capsys, "prefs", "key", "create")
    run(capsys, "prefs", "rule", "add", "never", "R69")
    pack = tmp_path / "p.json"
    assert run(capsys, "prefs", "export", str(pack), "--organization", "Clinic")[0] == 0
    fresh = tmp_path / "fresh"
    monkeypatch.setenv("MEDCODER_HOME", str(fresh))
    install_dictionary(built_dictionary, fresh)
    code, out, err = run(capsys, "prefs", "import", str(pack), "--trust-signer", "--json")
    assert code == 0 and json.loads(out)["signer_newly_trusted"]
    assert f"Now trusting the pack's signer, fingerprint {json.loads(out)['signer']}" in err
    code, out, _ = run(capsys, "prefs", "key", "list", "--json")
    assert json.loads(out)["signing_key"] is None and len(json.loads(out)["trusted"]) == 1


def test_every_prefs_command_has_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    prefs = sub.choices["prefs"]

    def walk(p: argparse.ArgumentParser):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, child in a.choices.items():
                    helps = {c.dest: c.help for c in a._choices_actions}
                    assert helps.get(name), f"prefs ... {name} has no help"
                    yield child
                    yield from walk(child)
            elif a.dest != "help":
                assert a.help, f"{p.prog}: {a.dest} has no help"

    assert len(list(walk(prefs))) >= 10
