"""The setting of a note that comes without one (core/encounter_setting.py)."""

from __future__ import annotations

import pytest

from medcoder_desktop.core.encounter_setting import course_sentences, setting_for_note, stay_sentence


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
    # a visit note, even one that tells of tests done, is read by its headings
    "HISTORY OF PRESENT ILLNESS\nAn echocardiogram was performed last week. It showed an ejection fraction of 55%.\n"
    "The holter monitor showed no arrhythmia.\nASSESSMENT AND PLAN\nPalpitations. Reassured.",
    # a narrative that tells of fewer tests done, or of tests done at another time
    "A 60-year-old man consults for a cough of two weeks. The chest x-ray showed no consolidation. He is afebrile.",
    "She underwent a nephrectomy in 2015. A colonoscopy was performed two years ago. The biopsy previously "
    "showed an adenoma. Today she comes for her blood pressure.",
])
def test_other_notes_keep_the_default(note: str) -> None:
    assert stay_sentence(note) is None
    read = setting_for_note(note, None, "outpatient")
    assert (read.setting, read.source) == ("outpatient", "default")
    assert setting_for_note(note, None, "inpatient").setting == "inpatient"  # the default is the user's


def test_a_given_setting_wins_over_the_note() -> None:
    read = setting_for_note("He was admitted with chest pain.", "outpatient", "outpatient")
    assert (read.setting, read.source) == ("outpatient", "given")


def test_a_case_narrative_of_tests_and_treatment_done_is_inpatient() -> None:
    note = ("A 47-year-old woman presented to the urology department with right renal colic and hematuria. "
            "Abdominal ultrasound showed a 17 cm renal cyst. A CT scan revealed distortion of the right kidney. "
            "A laparoscopic decortication was performed without complications. The patient was discharged home.")
    assert setting_for_note(note, None, "outpatient").why == "a stay"  # "was discharged" tells of the stay
    narrative = note.replace(" The patient was discharged home.", "")
    assert stay_sentence(narrative) is None
    told = course_sentences(narrative)
    assert told == ["Abdominal ultrasound showed a 17 cm renal cyst",
                    "A CT scan revealed distortion of the right kidney",
                    "A laparoscopic decortication was performed without complications"]
    read = setting_for_note(narrative, None, "outpatient")
    assert (read.setting, read.source) == ("inpatient", "note")
    assert read.said == told[0]
    assert "case narrative, 3 sentences of tests and treatment done" in read.explain()
    # one test fewer and it is no longer a narrative of a course
    shorter = narrative.replace(" A CT scan revealed distortion of the right kidney.", "")
    assert setting_for_note(shorter, None, "outpatient").source == "default"
