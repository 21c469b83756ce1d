"""Combination codes on the real dictionary: diabetes with its complications, hypertension with heart and
kidney disease (ICD-10-CM Official Guidelines I.C.4.a and I.C.9.a)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.combination import diabetes_type
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.engine.text import mentions
from medcoder_desktop.core.models import Encounter
from medcoder_desktop.paths import resource


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


def codes(dictionary, note, setting="outpatient") -> dict[str, object]:
    done = list(suggest_events(dictionary, note, Encounter(setting=setting)))[-1]
    for s in done.suggestions:
        assert all(note[e.start:e.end] == e.text for e in s.evidence)
    return {s.code: s for s in done.suggestions}


@pytest.mark.parametrize("note, expected", [
    ("Type 2 diabetes. Diabetic neuropathy noted.", "E11"),
    ("T1DM on insulin pump.", "E10"),
    ("Diabetes mellitus, diet controlled.", "E11"),  # type not documented: E11 (guideline I.C.4.a.2)
    ("Denies diabetes.", None),
    ("Mother has diabetes.", None),
])
def test_diabetes_type(note, expected) -> None:
    assert diabetes_type(note, mentions(note)) == expected


def test_diabetic_complication_becomes_the_combination_code(dictionary) -> None:
    note = "HPI: 60-year-old with type 2 diabetes.\nAssessment:\n1. Diabetic polyneuropathy - start gabapentin."
    got = codes(dictionary, note)
    assert "E11.42" in got
    assert got["E11.42"].evidence[0].text.lower().startswith("diabetic polyneuropathy")
    assert got["E11.42"].confidence > got["G62.9"].confidence if "G62.9" in got else True


def test_type_1_uses_e10(dictionary) -> None:
    got = codes(dictionary, "Type 1 diabetes mellitus with diabetic chronic kidney disease.")
    assert "E10.22" in got and "E11.22" not in got


@pytest.mark.parametrize("note, combo", [
    ("PMH: Hypertension. CKD stage 3a.", "I12.9"),
    ("PMH: Hypertension. End stage renal disease on dialysis.", "I12.0"),
    ("Hypertension. Chronic systolic heart failure.", "I11.0"),
    ("Hypertension. Chronic systolic heart failure. CKD stage 4.", "I13.0"),
])
def test_hypertension_combinations_replace_i10(dictionary, note, combo) -> None:
    got = codes(dictionary, note)
    assert combo in got and "I10" not in got
    ev = {e.text.lower() for e in got[combo].evidence}
    assert "hypertension" in ev  # the combination quotes each condition it joins


def test_no_combination_without_the_second_condition(dictionary) -> None:
    got = codes(dictionary, "Essential hypertension, well controlled. Denies heart failure.")
    assert "I10" in got and not any(c.startswith(("I11", "I12", "I13")) for c in got)


def test_pulmonary_hypertension_is_not_essential(dictionary) -> None:
    got = codes(dictionary, "Pulmonary hypertension. CKD stage 3a.")
    assert not any(c.startswith(("I12", "I13")) for c in got)


def test_inpatient_sample(dictionary) -> None:
    note = resource("samples", "inpatient_discharge.txt").read_text(encoding="utf-8")
    got = codes(dictionary, note, "inpatient")
    assert {"I13.0", "E11.22", "N18.32", "I50.23", "E87.6"} <= set(got)
    assert "I10" not in got and "Z85.3" in got  # remote breast cancer: personal history
    assert not any(c.startswith("I63") for c in got)  # the mother's stroke


def test_external_causes_only_with_an_injury(dictionary) -> None:
    calm = codes(dictionary, "HPI: Home glucose readings run 250-300. He enjoys running and swimming.")
    assert not any(c[0] in "VWXY" for c in calm)
    hurt = codes(dictionary, "Fracture of the right radius after a fall from a ladder while running.")
    assert any(c.startswith("S52") for c in hurt)
