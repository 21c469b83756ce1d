"""The tabular conventions on the real dictionary, each on named examples: what a coder would remove or
change, and the reasoning that says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.conventions import (Context, Tabular, apply_conventions, billable, companions, encounter,
                                               excludes1, history, laterality, one_per_condition, section_iv,
                                               stay_symptoms)
from medcoder_desktop.core.conventions.tabular import parse_refs
from medcoder_desktop.paths import resource
from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.models import Encounter, Evidence, Suggestion


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


def ctx(dictionary: Dictionary, note: str, **enc) -> Context:
    return Context(note=note, encounter=Encounter(**enc), tab=Tabular(dictionary), threshold=0.3)


def sugg(dictionary: Dictionary, note: str, code: str, words: str, confidence: float = 0.8) -> Suggestion:
    start = note.index(words)
    return Suggestion(code=code, system="ICD-10-CM", title=dictionary.show(code).title, confidence=confidence,
                      reasoning=f"The note says “{words}”.", evidence=[Evidence(start=start, end=start + len(words),
                                                                                  text=words)],
                      billable=dictionary.show(code).billable)


def by_code(out: list[Suggestion]) -> dict[str, Suggestion]:
    return {s.code: s for s in out}


def test_excludes1_references_parse_prefixes_and_ranges() -> None:
    refs = parse_refs("malignant neoplasm of skin of genital organs (C51-C52, C60.-, C63.2)")
    assert [(r.lo, r.hi) for r in refs] == [("C51", "C52"), ("C60", "C60"), ("C632", "C632")]
    assert refs[0].covers("C52") and refs[0].covers("C51.9") and not refs[0].covers("C53.0")
    assert refs[1].covers("C60.1") and refs[2].covers("C63.2") and not refs[2].covers("C63.7")


# -- billable ------------------------------------------------------------------------------------------
def test_a_header_becomes_the_initial_encounter_code_the_note_supports(dictionary) -> None:
    note = "Acute lumbar strain after lifting boxes."
    out = billable.apply([sugg(dictionary, note, "S39.012", "lumbar strain")], ctx(dictionary, note))
    assert [s.code for s in out] == ["S39.012A"]
    assert out[0].billable and "S39.012 is a header, not billable" in out[0].reasoning


def test_a_subsequent_encounter_gets_its_7th_character(dictionary) -> None:
    note = "Lumbar strain, subsequent encounter: healing as expected."
    out = billable.apply([sugg(dictionary, note, "S39.012", "Lumbar strain")], ctx(dictionary, note))
    assert [s.code for s in out] == ["S39.012D"]


def test_a_header_without_a_documented_billable_code_is_not_shown(dictionary) -> None:
    note = "Blood type recorded."
    c = ctx(dictionary, note)
    assert billable.apply([sugg(dictionary, note, "Z67", "Blood type")], c) == []
    assert c.removed and c.removed[0][0] == "Z67"


# -- Excludes1 -----------------------------------------------------------------------------------------
def test_excludes1_keeps_the_diagnosis_and_names_the_note(dictionary) -> None:
    note = "Type 2 diabetes. Hyperglycemia."
    c = ctx(dictionary, note)
    out = excludes1.apply([sugg(dictionary, note, "R73.9", "Hyperglycemia", 0.9),
                           sugg(dictionary, note, "E11.9", "Type 2 diabetes", 0.7)], c)
    assert list(by_code(out)) == ["E11.9"]
    assert "Excludes1 at R73" in out[0].reasoning and "removed R73.9" in out[0].reasoning


def test_excludes1_of_an_ancestor_forbids_type_1_beside_type_2(dictionary) -> None:
    note = "Type 1 diabetes. Type 2 diabetes."
    out = excludes1.apply([sugg(dictionary, note, "E10.9", "Type 1 diabetes", 0.6),
                           sugg(dictionary, note, "E11.9", "Type 2 diabetes", 0.8)], ctx(dictionary, note))
    assert list(by_code(out)) == ["E11.9"]
    assert "Excludes1 at E11" in out[0].reasoning


# -- one code per condition -------------------------------------------------------------------------------
def test_parent_beside_child_leaves_the_child(dictionary) -> None:
    note = "Coronary artery disease."
    out = one_per_condition.apply([sugg(dictionary, note, "I25.1", "Coronary artery disease"),
                                   sugg(dictionary, note, "I25.10", "Coronary artery disease")],
                                  ctx(dictionary, note))
    assert list(by_code(out)) == ["I25.10"]
    assert "I25.1 is a parent of I25.10" in out[0].reasoning


def test_unspecified_side_gives_way_to_the_stated_side(dictionary) -> None:
    note = "Right knee pain. Knee pain worse on stairs."
    out = one_per_condition.apply([sugg(dictionary, note, "M25.569", "Knee pain"),
                                   sugg(dictionary, note, "M25.561", "Right knee pain")], ctx(dictionary, note))
    assert list(by_code(out)) == ["M25.561"]



def test_an_unspecified_code_that_says_more_is_no_unspecified_sibling(dictionary) -> None:
    # R11.2 "Nausea with vomiting, unspecified" says more than R11.0 "Nausea"; "Vomiting, unspecified" says
    # another thing: neither gives way to "Nausea"
    note = "She had nausea, then vomiting; nausea with vomiting for two days."
    out = one_per_condition.apply([sugg(dictionary, note, "R11.0", "nausea"),
                                   sugg(dictionary, note, "R11.10", "vomiting"),
                                   sugg(dictionary, note, "R11.2", "nausea with vomiting")], ctx(dictionary, note))
    assert {s.code for s in out} == {"R11.0", "R11.10", "R11.2"}


def test_an_unspecified_code_of_the_same_condition_gives_way(dictionary) -> None:
    note = "Abdominal pain, mostly epigastric pain after meals."
    out = one_per_condition.apply([sugg(dictionary, note, "R10.9", "Abdominal pain"),
                                   sugg(dictionary, note, "R10.13", "epigastric pain")], ctx(dictionary, note))
    assert [s.code for s in out] == ["R10.13"]

def test_component_inside_a_combination_code_goes(dictionary) -> None:
    note = "Diabetic polyneuropathy. Hypertension with heart failure."
    out = one_per_condition.apply([sugg(dictionary, note, "E11.42", "Diabetic polyneuropathy"),
                                   sugg(dictionary, note, "G62.9", "polyneuropathy"),
                                   sugg(dictionary, note, "I10", "Hypertension"),
                                   sugg(dictionary, note, "I11.0", "heart failure")], ctx(dictionary, note))
    assert sorted(by_code(out)) == ["E11.42", "I11.0"]
    assert "G62.9 is part of the combination code E11.42" in by_code(out)["E11.42"].reasoning


def test_hypertensive_heart_or_kidney_disease_gives_way_to_both(dictionary) -> None:
    note = "Hypertensive heart disease. Hypertensive heart and chronic kidney disease with heart failure, CKD 3b."
    out = one_per_condition.apply([sugg(dictionary, note, "I11.9", "Hypertensive heart disease"),
                                   sugg(dictionary, note, "I13.0", "Hypertensive heart and chronic kidney disease"),
                                   sugg(dictionary, note, "N18.32", "CKD 3b")], ctx(dictionary, note))
    assert sorted(by_code(out)) == ["I13.0", "N18.32"]
    assert "I11.9 is part of the combination code I13.0" in by_code(out)["I13.0"].reasoning


# -- the patient and the encounter ----------------------------------------------------------------------
def test_a_childs_exam_does_not_fit_an_adult_nor_a_prostate_code_a_woman(dictionary) -> None:
    note = "A 45-year-old woman for her annual exam. Enlarged prostate noted in her husband's chart."
    c = ctx(dictionary, note)
    assert (c.age, c.sex) == (45, "F")
    out = encounter.apply([sugg(dictionary, note, "Z00.129", "annual exam"),
                           sugg(dictionary, note, "N40.0", "Enlarged prostate"),
                           sugg(dictionary, note, "Z00.00", "annual exam")], c)
    assert list(by_code(out)) == ["Z00.00"]


def test_one_weeks_of_gestation_code(dictionary) -> None:
    note = "Pregnant at 32 weeks. Gestation 33 weeks by scan."
    out = encounter.apply([sugg(dictionary, note, "Z3A.32", "32 weeks", 0.7),
                           sugg(dictionary, note, "Z3A.33", "33 weeks", 0.6)], ctx(dictionary, note, sex="F"))
    assert list(by_code(out)) == ["Z3A.32"]
    assert "One weeks-of-gestation" in out[0].reasoning


# -- companions ------------------------------------------------------------------------------------------
def test_insulin_and_metformin_bring_their_long_term_use_codes(dictionary) -> None:
    note = "Type 2 diabetes on metformin and insulin glargine."
    out = by_code(companions.apply([sugg(dictionary, note, "E11.9", "Type 2 diabetes")], ctx(dictionary, note)))
    assert {"Z79.4", "Z79.84"} <= set(out)
    assert note[out["Z79.4"].evidence[0].start:out["Z79.4"].evidence[0].end] == "insulin"
    assert "Companion code" in out["E11.9"].reasoning
    assert not out["Z79.4"].suggested and "Proposed for review" in out["Z79.4"].reasoning


def test_a_stopped_drug_brings_no_companion(dictionary) -> None:
    note = "Type 2 diabetes. She stopped metformin last year."
    out = by_code(companions.apply([sugg(dictionary, note, "E11.9", "Type 2 diabetes")], ctx(dictionary, note)))
    assert "Z79.84" not in out


# -- in the pipeline ---------------------------------------------------------------------------------------
def test_suggestions_of_a_note_keep_the_conventions(dictionary) -> None:
    note = ("ASSESSMENT AND PLAN\n\nDiabetes type 2.\n• Medical Treatment: Continue metformin.\n\n"
            "Right knee pain.\n• Medical Reasoning: Pain with stairs; hyperglycemia on labs.\n")
    out = list(suggest_events(dictionary, note, Encounter(setting="outpatient")))[-1].suggestions
    codes = [s.code for s in out]
    assert "E11.620" not in codes  # plain "type 2 diabetes" is no complication
    assert "E11.9" in codes and "Z79.84" in codes
    assert all(s.suggested for s in out if s.code == "E11.9")
    tab = Tabular(dictionary)
    assert all(tab.billable(s.code) for s in out if s.system == "ICD-10-CM")
    for a in out:
        for b in out:
            assert a is b or excludes1.pair_note(ctx(dictionary, note), a.code, b.code) is None
            assert a is b or not b.code.replace(".", "").startswith(a.code.replace(".", ""))


def test_apply_conventions_ranks_by_confidence(dictionary) -> None:
    note = "Type 2 diabetes. Hyperglycemia."
    out = apply_conventions(dictionary, [sugg(dictionary, note, "R73.9", "Hyperglycemia", 0.9),
                                         sugg(dictionary, note, "E11.9", "Type 2 diabetes", 0.7)],
                            note, Encounter())
    assert [s.code for s in out] == ["E11.9"]


def test_a_subsequent_encounter_moves_an_initial_7th_character(dictionary) -> None:
    note = "Follow-up of the wrist fracture, subsequent encounter with routine healing."
    out = billable.apply([sugg(dictionary, note, "S52.501A", "wrist fracture")], ctx(dictionary, note))
    assert out[0].code.startswith("S52.501") and out[0].code != "S52.501A"
    assert "subsequent encounter" in out[0].reasoning


# -- outpatient (Section IV) -------------------------------------------------------------------------------
SOAP = ("CHIEF COMPLAINT\n\nBack pain.\n\nHISTORY OF PRESENT ILLNESS\n\nHe reports back pain and fatigue, and some "
        "wheezing at night. He has gout.\n\nASSESSMENT AND PLAN\n\nAcid reflux with nausea and vomiting.\n"
        "• Medical Reasoning: She reports vomiting in the morning.\n• Medical Treatment: Continue omeprazole.\n\n"
        "Gout.\n• Medical Treatment: Continue allopurinol.\n")


def test_the_diagnosis_list_is_read_from_the_assessment() -> None:
    lines = [SOAP[a:b].strip() for a, b in section_iv.diagnosis_statements(SOAP)]
    assert lines == ["Acid reflux with nausea and vomiting.", "Gout."]


def test_outpatient_codes_what_the_assessment_lists(dictionary) -> None:
    out = list(suggest_events(dictionary, SOAP, Encounter(setting="outpatient")))[-1].suggestions
    shown = {s.code: s for s in out if s.suggested}
    assert "K21.9" in shown and "M10.9" in shown
    # a finding of the history that the list accounts for, and a symptom beside its diagnosis: not shown
    hidden = {s.code: s for s in out if not s.suggested}
    assert "R53.83" not in shown and "R06.2" not in shown
    assert not any(c.startswith("R11") for c in shown)
    assert any("Section IV" in s.reasoning for s in hidden.values())


def test_inpatient_and_notes_without_a_list_are_left_as_they_are(dictionary) -> None:
    note = "He reports wheezing at night and gout."
    c = ctx(dictionary, note)
    s = [sugg(dictionary, note, "R06.2", "wheezing")]
    assert section_iv.apply(s, c) == s
    inpatient = ctx(dictionary, SOAP, setting="inpatient")
    s = [sugg(dictionary, SOAP, "R06.2", "wheezing")]
    assert section_iv.apply(s, inpatient) == s


# -- laterality ----------------------------------------------------------------------------------------------
def test_the_side_the_line_states_replaces_the_unspecified_side(dictionary) -> None:
    note = "ASSESSMENT\n\nRight elbow medial epicondylitis.\n"
    out = laterality.apply([sugg(dictionary, note, "M77.00", "medial epicondylitis")], ctx(dictionary, note))
    assert [s.code for s in out] == ["M77.01"]
    assert "The note says the side (right)" in out[0].reasoning


def test_bilateral_takes_the_bilateral_code_or_both_sides(dictionary) -> None:
    note = "Bilateral carpal tunnel syndrome. Bilateral medial epicondylitis."
    out = laterality.apply([sugg(dictionary, note, "G56.00", "carpal tunnel syndrome"),
                            sugg(dictionary, note, "M77.00", "medial epicondylitis")], ctx(dictionary, note))
    assert sorted(s.code for s in out) == ["G56.03", "M77.01", "M77.02"]


def test_no_side_said_leaves_the_code(dictionary) -> None:
    note = "Carpal tunnel syndrome."
    s = [sugg(dictionary, note, "G56.00", "Carpal tunnel syndrome")]
    assert [x.code for x in laterality.apply(s, ctx(dictionary, note))] == ["G56.00"]


# -- history --------------------------------------------------------------------------------------------------
VISIT = ("HISTORY OF PRESENT ILLNESS\n\nShe has a history of basal cell carcinoma of the skin, excised in 2019.\n\n"
         "ASSESSMENT AND PLAN\n\nCough.\n")


def test_history_of_a_condition_is_its_personal_history_code(dictionary) -> None:
    out = history.apply([sugg(dictionary, VISIT, "C44.91", "basal cell carcinoma of the skin")],
                        ctx(dictionary, VISIT))
    assert [s.code for s in out] == ["Z85.828"]
    assert "not as a current condition" in out[0].reasoning and "C44.91" in out[0].reasoning


def test_past_medical_history_keeps_the_condition(dictionary) -> None:
    note = VISIT.replace("She has a history of", "Past medical history of")
    s = [sugg(dictionary, note, "C44.91", "basal cell carcinoma of the skin")]
    assert history.apply(s, ctx(dictionary, note)) == s  # chronic conditions listed as past medical history


def test_a_case_report_codes_a_past_cancer_as_history_and_a_lasting_condition_as_itself(dictionary) -> None:
    report = "A 60-year-old man with a history of basal cell carcinoma of the skin presented with cough."
    s = [sugg(dictionary, report, "C44.91", "basal cell carcinoma of the skin")]
    out = history.apply(s, ctx(dictionary, report))
    assert [x.code for x in out] == ["Z85.828"] and "not as a current condition" in out[0].reasoning
    report = "A 60-year-old man with a history of hypertension presented with cough."
    s = [sugg(dictionary, report, "I10", "hypertension")]
    assert history.apply(s, ctx(dictionary, report)) == s  # no personal-history code: still there


def test_a_rule_holds_a_code_back_whatever_the_users_threshold(dictionary) -> None:
    note = ("CHIEF COMPLAINT\n\nCough.\n\nASSESSMENT AND PLAN\n\nCommunity acquired pneumonia with cough and fever.\n"
            "• Medical Treatment: Start amoxicillin.\n")
    out = list(suggest_events(dictionary, note, Encounter(setting="outpatient")))[-1].suggestions
    held = [s for s in out if s.held_back]
    # the symptoms beside their diagnosis on the same line: confident readings, held back by the rule
    assert {"R50.9", "R05.9"} <= {s.code for s in held} and max(s.confidence for s in held) > 0.8
    assert all(not s.suggested for s in held) and "J18.9" in {s.code for s in out if s.suggested}


# -- mentions are conditions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("note, absent", [
    ("Personal background: she works as a teacher.", "F60.9"),  # "personal" is not "personality"
    ("Over the weekend he was fine.", "R63.2"),  # "over" is not "overeating"
])
def test_one_word_supports_a_code_only_when_it_is_the_codes_own_word(dictionary, note, absent) -> None:
    out = list(suggest_events(dictionary, note, Encounter(setting="outpatient")))[-1].suggestions
    assert absent not in [s.code for s in out]


def test_a_plural_is_still_the_word(dictionary) -> None:
    out = list(suggest_events(dictionary, "Gouts.", Encounter(setting="outpatient")))[-1].suggestions
    assert "M10.9" in [s.code for s in out]


def test_a_numbered_problem_list_item_lists_its_diagnosis_part() -> None:
    note = ("Assessment and plan:\n1. DM2 w hyperglycemia - increase glargine to 24 units, recheck A1c in 3 months.\n"
            "2. Hypertension: continue lisinopril.\n• Medical Reasoning: doing well.\n")
    lines = [note[a:b] for a, b in section_iv.diagnosis_statements(note)]
    assert lines == ["DM2 w hyperglycemia", "Hypertension"]


def test_the_personal_history_code_keeps_the_site(dictionary) -> None:
    report = "A 58-year-old man with a history of colon cancer presented with fever."
    s = [sugg(dictionary, report, "C18.9", "colon cancer")]
    out = history.apply(s, ctx(dictionary, report))
    assert [x.code for x in out] == ["Z85.038"]  # large intestine, not the unspecified Z85.9


@pytest.mark.parametrize(("note", "absent"), [
    ("Arterial blood gas showed pH 7.21 and pCO2 60.", "R14.3"),  # a test, not flatulence
    ("Venous gas: pH 7.31.", "R14.3"),
    ("The lesion was resected under general anesthesia.", "R20.0"),  # a procedure's anesthesia, not numbness
    ("Examination under anesthesia showed a bladder tumor.", "R20.0"),
    ("Lumbar puncture was performed prior to intradural anesthesia.", "R20.0"),
    ("C-reactive protein 12 mg/dl and ferritin 300.", "R79.82"),  # a result not called abnormal
])
def test_a_test_or_its_value_is_not_a_finding(dictionary, note: str, absent: str) -> None:
    out = list(suggest_events(dictionary, note, Encounter(setting="inpatient")))[-1].suggestions
    assert absent not in {s.code for s in out}


def test_anesthesia_of_the_skin_is_still_a_finding(dictionary) -> None:
    note = "She reports anesthesia of the skin over the left lateral thigh for two months."
    out = list(suggest_events(dictionary, note, Encounter(setting="outpatient")))[-1].suggestions
    assert "R20.0" in {s.code for s in out if s.suggested}


def test_a_result_called_abnormal_once_is_supported_by_its_other_mentions(dictionary) -> None:
    note = ("Labs: C-reactive protein 180 mg/l.\nHe had abdominal gas and bloating.\n"
            "Assessment: Elevated C-reactive protein, likely from the pneumonia.")
    out = {s.code: s for s in list(suggest_events(dictionary, note, Encounter(setting="inpatient")))[-1].suggestions}
    assert "R14.3" in out  # gas that is not a blood gas is still gas
    assert "R79.82" in out and len(out["R79.82"].evidence) == 2


def test_a_stay_with_a_diagnosis_list_holds_its_symptoms_back(dictionary) -> None:
    note = resource("samples", "inpatient_discharge.txt").read_text(encoding="utf-8")
    out = {s.code: s for s in list(suggest_events(dictionary, note, Encounter(setting="inpatient")))[-1].suggestions}
    shown = {c for c, s in out.items() if s.suggested}
    assert {"N17.9", "E87.6"} <= shown  # established diagnoses of the list
    for code in ("R06.01", "R06.02"):  # orthopnea, shortness of breath: the heart failure's
        assert code not in shown and out[code].held_back == stay_symptoms.RULE
        assert "I.B.5" in out[code].reasoning
    report = "A 60-year-old man was admitted with fever and cough. Chest X-ray showed an infiltrate."
    out = list(suggest_events(dictionary, report, Encounter(setting="inpatient")))[-1].suggestions
    assert not any(s.held_back == stay_symptoms.RULE for s in out)  # no list: nothing says what accounts for them


@pytest.mark.parametrize("note", ["No hypertension. Ex-smoker 8 years old. No hematuria.",
                                  "She quit smoking five years ago."])
def test_a_habit_given_up_is_its_personal_history_code(dictionary, note: str) -> None:
    shown = {s.code for s in list(suggest_events(dictionary, note, Encounter(setting="outpatient")))[-1].suggestions
             if s.suggested}
    assert "Z87.891" in shown and not any(c.startswith("F17") for c in shown)


def test_an_active_smoker_is_coded_as_dependence(dictionary) -> None:
    note = "He is an active smoker of 1 pack/day."
    shown = {s.code for s in list(suggest_events(dictionary, note, Encounter(setting="outpatient")))[-1].suggestions
             if s.suggested}
    assert "F17.200" in shown and "Z87.891" not in shown


@pytest.mark.parametrize(("words", "code", "past"), [
    ("chronic alcoholism", "F10.20", "F10.21"),  # dependence in remission, not the nicotine history code
    ("myocardial infarction", "I21.9", "I25.2"),  # old myocardial infarction, never the acute one
])
def test_history_of_a_condition_with_a_code_of_its_own_for_the_past(dictionary, words: str, code: str,
                                                                    past: str) -> None:
    report = f"A 45-year-old man with a history of {words} presented with cough."
    out = history.apply([sugg(dictionary, report, code, words)], ctx(dictionary, report))
    assert [x.code for x in out] == [past]
    assert f"code of the past condition {past}" in out[0].reasoning and code in out[0].reasoning


def test_a_chronic_condition_without_a_history_code_of_its_own_stays(dictionary) -> None:
    report = "A 70-year-old man with a history of COPD presented with cough."
    s = [sugg(dictionary, report, "J44.9", "COPD")]
    assert history.apply(s, ctx(dictionary, report)) == s  # never "personal history of pulmonary embolism"
