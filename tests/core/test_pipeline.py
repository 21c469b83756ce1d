"""From a note to suggestions on the real dictionary (retrieval only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.models import Encounter
from medcoder_desktop.errors import InvalidInputError
from medcoder_desktop.paths import resource

SAMPLE = resource("samples", "outpatient_followup.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


def final(dictionary, note, setting="outpatient"):
    events = list(suggest_events(dictionary, note, Encounter(setting=setting)))
    assert events[0].kind == "candidates" and events[-1].kind == "done"
    return events[-1].suggestions


def test_sample_note_gets_its_codes_with_exact_evidence(dictionary: Dictionary) -> None:
    suggestions = final(dictionary, SAMPLE)
    codes = {s.code for s in suggestions}
    assert {"E11.65", "E11.42", "I12.9", "N18.31", "E78.5", "Z79.4"} <= codes
    assert "I10" not in codes  # hypertension with CKD is I12.9 (guideline I.C.9.a.2)
    assert "R07.9" not in codes and "R07.89" not in codes  # "Denies chest pain"
    for s in suggestions:
        assert 0.0 <= s.confidence <= 1.0 and s.reasoning
        assert dictionary.exists(s.code, s.system)
        for e in s.evidence:
            assert SAMPLE[e.start:e.end] == e.text
    e1165 = next(s for s in suggestions if s.code == "E11.65")
    assert e1165.evidence[0].text == "DM2 w hyperglycemia"
    assert "DM2 w hyperglycemia" in e1165.reasoning
    confs = [s.confidence for s in suggestions]
    assert confs == sorted(confs, reverse=True)


def test_uncertain_diagnosis_depends_on_the_setting(dictionary: Dictionary) -> None:
    note = "Assessment:\n1. Probable viral pneumonia.\n2. Cough."
    outpatient = {s.code for s in final(dictionary, note, "outpatient")}
    inpatient = final(dictionary, note, "inpatient")
    assert not any(c.startswith("J12") for c in outpatient)
    assert any(c.startswith("R05") for c in outpatient)  # the symptom is coded instead
    pneumonia = [s for s in inpatient if s.code.startswith("J12")]
    assert pneumonia and "uncertain" in pneumonia[0].reasoning


def test_a_specific_code_replaces_its_parent(dictionary: Dictionary) -> None:
    note = "Chronic kidney disease.\nChronic kidney disease, stage 3a."
    codes = {s.code for s in final(dictionary, note)}
    assert "N18.31" in codes and "N18" not in codes and "N18.3" not in codes


@pytest.mark.parametrize(
    ("note", "message"),
    [("", "empty"), ("   \n", "empty"), ("x" * 200_001, "at most"), ("abc\x00def", "binary")],
)
def test_bad_notes_are_refused(dictionary: Dictionary, note: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        list(suggest_events(dictionary, note))


def test_cancelled_stream_still_finishes(dictionary: Dictionary) -> None:
    from medcoder_desktop.core.engine.adjudicate import Adjudicator

    class Unused:
        def choose_json(self, *a, **k):
            raise AssertionError("a cancelled note asks the model nothing")

    events = list(suggest_events(dictionary, SAMPLE, adjudicate=Adjudicator(Unused()), cancelled=lambda: True))
    assert events[-1].kind == "done" and events[-1].stats["adjudicated"] == 0
    assert events[-1].warnings == ["cancelled"] and events[-1].suggestions
