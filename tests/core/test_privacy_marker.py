"""The marker test: a unique word inside the diagnosis phrases of many notes must reach no file the product
writes outside the workspace database (preferences, packs, exports, eval reports, logs, caches) and no
output of the commands that learn, export or import (docs/security.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.core.models import Encounter
from medcoder_desktop.core.service import CodingService
from tests.helpers import install_dictionary

MARKER = "Zqxv7Marker"
NOTE = (f"Assessment:\n1. Type 2 diabetes {MARKER} with hyperglycemia.\n2. Essential {MARKER} hypertension.\n"
        f"3. Fever and cough {MARKER}.\n")


def holds_marker(data: bytes) -> bool:
    low = data.lower()
    return any(MARKER.lower().encode(enc) in low for enc in ("utf-8", "utf-16-le", "utf-16-be"))


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert not holds_marker((out + err).encode()), f"{argv} printed the marker"
    return out


def test_the_marker_is_in_no_pack_no_export_no_log(home: Path, tmp_path: Path, capsys) -> None:
    gold = tmp_path / "coded.jsonl"
    gold.write_text("".join(json.dumps({"id": f"n{i}", "text": NOTE, "codes": ["E11.65", "I10", "R50.9"]}) + "\n"
                            for i in range(6)), encoding="utf-8")
    learned = json.loads(run(capsys, "prefs", "learn", str(gold), "--json"))
    assert learned["wordings"] > 0  # wordings are learned (as dictionary vocabulary), so the test can fail

    # The coders' decisions, with a reject reason that repeats the note.
    service = CodingService(model="none")
    ws = service.workspace()
    for i in range(4):
        ws.add_encounter(f"e{i}", NOTE)
        suggestions = service.suggest(NOTE, Encounter()).suggestions
        run_ = ws.save_run(f"e{i}", suggestions, mode="retrieval-only")
        ws.record_decision(f"e{i}", "R50.9", "ICD-10-CM", "reject", run_id=run_.id, reason=f"no, {MARKER}")
        ws.record_decision(f"e{i}", "I10", "ICD-10-CM", "accept", run_id=run_.id)
        ws.set_status(f"e{i}", "coded")
    outside = tmp_path / "outside"
    outside.mkdir()
    ws.export_json(outside / "coded.json")
    ws.export_csv(outside / "coded.csv")
    service.shutdown()
    run(capsys, "prefs", "learn", "--workspace")
    run(capsys, "prefs", "key", "create")
    run(capsys, "prefs", "export", str(outside / "pack.json"), "--organization", "Clinic")
    run(capsys, "prefs", "show", "--json")
    run(capsys, "eval", str(gold), "--model", "none", "--out", str(outside / "eval"), "--json")
    run(capsys, "prefs", "key", "export", str(outside / "admin.pem"))

    written = [p for p in [*home.rglob("*"), *outside.rglob("*")] if p.is_file()]
    in_workspace = [p for p in written if p.name.startswith("workspace.sqlite")]
    assert any(holds_marker(p.read_bytes()) for p in in_workspace)  # where the notes are kept, by design
    leaked = [str(p) for p in written if p not in in_workspace and holds_marker(p.read_bytes())]
    assert leaked == []
    pack = json.loads((outside / "pack.json").read_text(encoding="ascii"))
    assert any(src["wordings"] for src in pack["payload"]["sources"])  # vocabulary wordings do travel

    # Reject reasons only when the user asks for them.
    with CodingService(model="none").workspace() as ws2:
        ws2.export_json(outside / "with-reasons.json", include_reasons=True)
    assert holds_marker((outside / "with-reasons.json").read_bytes())


def test_a_wording_needs_several_notes(home: Path, tmp_path: Path, capsys) -> None:
    gold = tmp_path / "two.jsonl"
    gold.write_text("".join(json.dumps({"id": f"n{i}", "text": NOTE, "codes": ["E11.65"]}) + "\n"
                            for i in range(2)), encoding="utf-8")
    assert json.loads(run(capsys, "prefs", "learn", str(gold), "--json"))["wordings"] == 0  # 2 < 3 notes
