"""The setting of a note that comes without one (core/encounter_setting.py)."""

from __future__ import annotations

import pytest

from medcoder_desktop.core.encounter_setting import setting_for_note, stay_sentence


@pytest.mark.parametrize("note", [
    "A 54-year-old man was admitted with fever and dyspnea.",
    "He was hospitalized for ten days. Cultures grew E. coli.",
    "On admission, her hemoglobin was 7 g/dl.",
    "The patient was admitted to the intensive care unit.",
    "She was discharged on the fifth day without complications.",
    "On postoperative day 3 the drain was removed.",
    "During his hospital stay he received antibiotics.",
])
def test_a_note_that_tells_of_this_stay_is_inpatient(note: str) -> None:
    read = setting_for_note(note, None, "outpatient")
    assert read.setting == "inpatient" and read.source == "note"
    assert read.said and read.said in " ".join(note.split())
    assert "read from the note" in read.explain()


@pytest.mark.parametrize("note", [
    # an office visit
    "Chief complaint: cough. Assessment: acute bronchitis. Plan: fluids, return in a week.",
    # another stay, or a plan, is not this one
    "He was hospitalized two years ago for pneumonia. Today he feels well.",
    "She has a history of being admitted for asthma. Lungs are clear.",
    "I advised that this procedure will require her to be admitted to the hospital for an overnight stay.",
    "The surgery will be performed in an outpatient setting and he will be discharged home that same evening.",
    "Previously hospitalized for heart failure in 2019; stable on furosemide.",
])
def test_other_notes_keep_the_default(note: str) -> None:
    assert stay_sentence(note) is None
    read = setting_for_note(note, None, "outpatient")
    assert (read.setting, read.source) == ("outpatient", "default")
    assert setting_for_note(note, None, "inpatient").setting == "inpatient"  # the default is the user's


def test_a_given_setting_wins_over_the_note() -> None:
    read = setting_for_note("He was admitted with chest pain.", "outpatient", "outpatient")
    assert (read.setting, read.source) == ("outpatient", "given")
