"""Learning preferences from coded notes (gold JSONL) and from the coders' decisions, and their effect."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from medcoder_desktop.core.models import Encounter
from medcoder_desktop.core.preferences.learning import wording
from medcoder_desktop.core.preferences.ranking import DEAD_ZONE, PRIOR_NOTES, smoothed_shift
from medcoder_desktop.core.service import CodingService
from medcoder_desktop.core.workspace import Workspace
from tests.helpers import install_dictionary

NOTES = [
    "Assessment: fever and cough. Anemia.",
    "Assessment:\n1. Fever.\n2. Cough.\n3. Anemia.",
    "Plan: treat the fever; the cough is better. Anemia stable.",
    "Assessment: cough, fever, anemia.",
    "Assessment: persistent cough with fever. Anemia.",
    "Assessment: fever. Cough. Anemia, chronic.",
]


@pytest.fixture
def service(built_dictionary: Path, medcoder_home: Path) -> CodingService:
    install_dictionary(built_dictionary, medcoder_home)
    return CodingService(model="none")


def gold_file(tmp_path: Path, codes: list[str]) -> Path:
    """Coded notes where the organization codes ``codes`` (never the product's R05.9 for "cough")."""
    path = tmp_path / "gold.jsonl"
    lines = [json.dumps({"id": f"n{i}", "text": t, "codes": codes, "kind": "note"}) for i, t in enumerate(NOTES)]
    lines.append(json.dumps({"id": "p1", "text": "fever", "codes": ["R50.9"], "kind": "phrase"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def by_code(service: CodingService, note: str) -> dict:
    suggestions = service.suggest(note, Encounter()).suggestions
    return {s.code: s for s in suggestions}


def test_smoothing_barely_moves_codes_seen_a_few_times() -> None:
    assert smoothed_shift(0, 0, 0.3) == 0.0
    few = smoothed_shift(2, 0, 0.3)
    many = smoothed_shift(50, 0, 0.3)
    assert -0.5 < few < 0 and many < -2.0
    # the formula of the docstring
    p_tilde = (0 + PRIOR_NOTES * 0.3) / (2 + PRIOR_NOTES)
    assert few == pytest.approx(math.log(p_tilde / (1 - p_tilde)) - math.log(0.3 / 0.7))


def test_learning_from_gold_shifts_confidence_and_says_so(service: CodingService, tmp_path: Path) -> None:
    note = "Assessment: cough. Fever. Anemia."
    before = by_code(service, note)
    assert {"R05.9", "R50.9", "D64.9"} <= set(before)
    report = service.learn_preferences(gold_file(tmp_path, ["R50.9", "D64.9"]))
    assert report.items == len(NOTES) and report.skipped == 1  # the phrase is not a note
    assert report.codes >= 3 and not report.replaced_previous
    after = by_code(service, note)
    cough, fever = after["R05.9"], after["R50.9"]
    found = service.preferences_manager().ranker().codes["R05.9"].n
    assert 4 <= found <= len(NOTES)
    assert cough.confidence < before["R05.9"].confidence
    assert cough.reasoning.startswith(f"Organization preference: coded in 0 of {found} notes where found")
    assert "where the note says “cough”" in cough.reasoning and "confidence lowered" in cough.reasoning
    assert fever.confidence > before["R50.9"].confidence and "confidence raised" in fever.reasoning
    assert cough.evidence == before["R05.9"].evidence

    summary = service.preferences()
    assert [s.kind for s in summary.sources] == ["gold"] and summary.sources[0].items == len(NOTES)
    assert "R05.9" in [p.code for p in summary.lowered] and "R50.9" in [p.code for p in summary.raised]
    lowered = next(p for p in summary.lowered if p.code == "R05.9")
    assert (lowered.found, lowered.coded) == (found, 0) and lowered.title == "Cough, unspecified"


def test_learning_the_same_file_again_replaces_it(service: CodingService, tmp_path: Path) -> None:
    gold = gold_file(tmp_path, ["R50.9", "D64.9"])
    service.learn_preferences(gold)
    again = service.learn_preferences(gold)
    assert again.replaced_previous
    summary = service.preferences()
    assert summary.counts["sources"] == 1 and summary.counts["notes"] == len(NOTES)


def test_codes_coded_in_place_of_suggested_ones(service: CodingService, tmp_path: Path) -> None:
    # The organization codes the category R05 where the product suggests R05.9 (as CodiEsp coders do).
    service.learn_preferences(gold_file(tmp_path, ["R05", "R50.9", "D64.9"]))
    assert any((r.code, r.instead_of) == ("R05", "R05.9") for r in service.preferences().replacements)
    note = "Assessment: cough."
    got = by_code(service, note)
    assert "R05.9" not in got
    r05 = got["R05"]
    n = service.preferences_manager().ranker().codes["R05.9"].shown
    assert r05.reasoning.startswith(f"Organization preference: coded as R05 in place of R05.9 in {n} of {n} notes")
    assert [note[e.start:e.end] for e in r05.evidence] == [e.text for e in r05.evidence] == ["cough"]


def test_learning_from_workspace_decisions(service: CodingService, medcoder_home: Path) -> None:
    note = "Assessment: cough. Fever. Anemia."
    with Workspace(medcoder_home / "data" / "workspace.sqlite") as ws:
        for i in range(8):
            ws.add_encounter(f"e{i}", note)
            suggestions = service.suggest(note, Encounter()).suggestions
            run = ws.save_run(f"e{i}", suggestions, mode="retrieval-only")
            ws.record_decision(f"e{i}", "R05.9", "ICD-10-CM", "reject", run_id=run.id)
            ws.record_decision(f"e{i}", "R50.9", "ICD-10-CM", "accept", run_id=run.id)
            ws.record_decision(f"e{i}", "D63.8", "ICD-10-CM", "edit", run_id=run.id, replaced_code="D64.9")
        ws.add_encounter("untouched", note)
    report = service.learn_from_workspace()
    assert report.items == 8 and report.skipped == 1 and report.source.startswith("workspace:")
    got = by_code(service, note)
    assert "R05.9" not in got or not got["R05.9"].suggested or got["R05.9"].confidence < 0.5
    assert "coded in 0 of 8 notes" in got["R05.9"].reasoning
    assert "coded in 8 of 8 notes" in got["R50.9"].reasoning
    assert "D64.9" not in got and got["D63.8"].reasoning.startswith(
        "Organization preference: coded as D63.8 in place of D64.9 in 8 of 8 notes")
    assert service.learn_from_workspace().replaced_previous  # learning again replaces, never adds up


def test_wording_normalization() -> None:
    assert wording("DM2 w/ Hyperglycemia,") == "dm2 w hyperglycemia"
    assert wording("  ") == ""
    assert DEAD_ZONE > 0
