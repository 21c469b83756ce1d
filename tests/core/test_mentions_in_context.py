"""What a mention means in its note, on the real dictionary: whole wordings, abbreviations by their context, family
history, "status post" and the trimester, each on named examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.conventions.trimester import stated_trimesters
from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.textnorm import stem
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.engine.text import mentions
from medcoder_desktop.core.engine.retrieve import candidates_for
from medcoder_desktop.core.models import Encounter


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


def codes(dictionary: Dictionary, note: str, setting: str = "inpatient", shown: bool = False) -> list[str]:
    out = list(suggest_events(dictionary, note, Encounter(setting=setting)))[-1].suggestions
    return [s.code for s in out if s.suggested or not shown]


def candidate_codes(dictionary: Dictionary, note: str) -> set[str]:
    return {c.code for m in mentions(note) for c in candidates_for(dictionary, note, m, {"ICD-10-CM"})}


# -- a mention holds a whole wording ----------------------------------------------------------------------------
def test_an_organ_is_not_its_inflammation() -> None:
    assert stem("thyroiditis") != stem("thyroid")
    assert stem("prostatitis") != stem("prostate")
    assert stem("urethritis") != stem("urethral")
    assert stem("arthritides") == stem("arthritis")


@pytest.mark.parametrize("note, absent", [
    ("The thyroid was enlarged.", "E06.9"),  # an organ, not thyroiditis
    ("The pain started 24 h before admission.", "E72.02"),  # "h" is no Hartnup disease
    ("In May 2010 she was admitted again.", "D72.0"),  # a month, not the May-Hegglin anomaly
    ("Height of 170 cm.", "R29.890"),  # "height" alone is no loss of height
    ("The optic nerve was spared.", "R45.0"),  # "nerve" is not "nerves" (nervousness)
    ("A filling defect was seen.", "Q89.9"),  # a generic main term alone is no congenital malformation
    ("Physical activity was encouraged.", "Y93.9"),  # a generic word names no code of its own
    ("He reports stress at work.", "Z73.3"),
    ("Local cold treatment was prescribed.", "J00"),  # a treatment, not the common cold
    ("The fracture was fixed with two pins.", "N42.31"),  # an acronym (PIN) is written in capitals
    ("He avoided sports activities.", "Y93.9"),  # a generic word, in the plural too
    ("Transient loss of vision in the left eye.", "Z59.00"),  # how long, not a homeless person
    ("Pain of three days of evolution.", "A93.1"),  # a duration is no "Fever, three-day"
    ("Fever for three days.", "A93.1"),
    ("Mechanical ventilation for worsening gas exchange.", "R14.3"),  # a measure, not flatulence
    ("Rheumatoid factor was negative.", "M05.9"),  # a test
    ("Intraocular pressure was 14 mmHg in both eyes.", "H40.053"),  # a measure
    ("Visual field examination.", "H53.40"),
])
def test_one_word_that_is_not_a_whole_wording_supports_nothing(dictionary, note, absent) -> None:
    assert absent not in candidate_codes(dictionary, note)


@pytest.mark.parametrize("note, code", [("Seizures.", "R56.9"), ("Headaches.", "R51.9"), ("Hypertension.", "I10"),
                                        ("A common cold for three days.", "J00")])
def test_one_word_that_is_a_whole_wording_still_supports_its_code(dictionary, note, code) -> None:
    assert code in candidate_codes(dictionary, note)


def test_a_test_or_exam_is_no_encounter_reason(dictionary) -> None:
    note = "Physical examination: unremarkable. Blood tests and a chest X-ray were taken."
    assert not [c for c in candidate_codes(dictionary, note) if c.startswith(("Z00", "Z01", "Z02", "Z12"))]
    assert any(c.startswith("Z00.0") for c in candidate_codes(dictionary, "He is here for his annual physical "
                                                                          "examination."))


def test_a_neoplasm_without_its_site_is_held_back_and_with_its_site_coded(dictionary) -> None:
    out = list(suggest_events(dictionary, "The tumor was removed. Histology showed a carcinoma.",
                              Encounter(setting="inpatient")))[-1].suggestions
    held = {s.code: s for s in out if s.held_back == "neoplasm site"}
    assert not [s for s in out if s.code in ("C80.1", "D49.9") and s.suggested]
    assert held and all("coded by its site" in s.reasoning for s in held.values())
    sited = codes(dictionary, "Carcinoma of the prostate.", shown=True)
    assert "C61" in sited


# -- abbreviations mean what their context allows ----------------------------------------------------------------
def test_cva_tenderness_is_an_exam_finding_and_cva_a_stroke(dictionary) -> None:
    assert "I63.9" not in candidate_codes(dictionary, "Back: CVA tenderness on the right.")
    assert "I63.9" in candidate_codes(dictionary, "She had a CVA last year.")


def test_sinus_rhythm_is_no_sinusitis(dictionary) -> None:
    assert not [c for c in candidate_codes(dictionary, "The ECG showed sinus rhythm.") if c.startswith(("J01", "J32"))]


def test_aml_is_a_leukemia_only_where_the_note_speaks_of_one(dictionary) -> None:
    assert not [c for c in candidate_codes(dictionary, "Renal AML of 3 cm on ultrasound.") if c.startswith("C92")]
    assert [c for c in candidate_codes(dictionary, "AML in remission; the bone marrow shows 2% blasts.")
            if c.startswith("C92")]
    # a coder's typed query has no note: the abbreviation means what the table says
    assert dictionary.search("AML", limit=5)[0].code.startswith("C92")


def test_an_index_acronym_needs_the_words_it_stands_for(dictionary) -> None:
    assert not [c for c in candidate_codes(dictionary, "A TAC scan showed a renal mass.") if c.startswith("G44")]


# -- family history and status post ------------------------------------------------------------------------------
def test_a_relatives_condition_is_the_family_history_code(dictionary) -> None:
    got = codes(dictionary, "Family history: mother with breast cancer, father had type 2 diabetes.\n"
                            "His brother has asthma.")
    assert {"Z80.3", "Z83.3", "Z82.5"} <= set(got)
    assert not [c for c in got if c.startswith(("C50", "E11", "J45"))]


def test_no_family_history_codes_nothing(dictionary) -> None:
    assert not [c for c in codes(dictionary, "No family history of stroke.") if c.startswith(("Z82", "I6"))]


def test_status_post_is_the_status_never_the_acute_condition(dictionary) -> None:
    got = codes(dictionary, "Status post CABG.\nS/p kidney transplant.\nStatus post myocardial infarction in 2019.")
    assert {"Z95.1", "Z94.0", "I25.2"} <= set(got)
    assert not [c for c in got if c.startswith(("I21", "T86"))]


def test_status_post_a_procedure_without_a_status_code_is_not_misread(dictionary) -> None:
    # "appendectomy" must not be read as "splenectomy" (Z90.81) nor "history of" as a history of falling
    assert not {"Z90.81", "Z91.81"} & set(codes(dictionary, "Status post appendectomy."))


# -- the trimester the note states ---------------------------------------------------------------------------
def test_trimesters_stated_by_name_or_by_weeks() -> None:
    assert stated_trimesters("in her third trimester") == {"third"}
    assert stated_trimesters("G2P1 at 31 weeks of gestation") == {"third"}
    assert stated_trimesters("gestational age 12 weeks") == {"first"}
    assert stated_trimesters("14 weeks pregnant") == {"second"}
    assert stated_trimesters("seen 2 weeks ago") == set()


def test_the_stated_trimester_replaces_unspecified_trimester(dictionary) -> None:
    got = codes(dictionary, "A 30-year-old woman, G2P1 at 31 weeks of gestation.\nAssessment:\n"
                            "1. Gestational hypertension without significant proteinuria", setting="outpatient",
                shown=True)
    assert "O13.3" in got and "O13.9" not in got


@pytest.mark.parametrize("note", ["Occasional lumbosacral pain.", "Pain in the right testicle for three months.",
                                  "Analgesia was achieved (grade 0 on the verbal pain scale)."])
def test_pain_at_a_named_site_is_never_pain_unspecified(dictionary, note: str) -> None:
    assert "R52" not in codes(dictionary, note, shown=True)  # Index: Pain, by site; R52 is pain NOS


@pytest.mark.parametrize("note", ["He had rectal bleeding for two days.", "There were hemorrhages in the retina.",
                                  "He was admitted again with bleeding of the tumor."])
def test_bleeding_at_a_named_site_is_never_hemorrhage_unspecified(dictionary, note: str) -> None:
    assert "R58" not in codes(dictionary, note, shown=True)  # Index: Hemorrhage, by site; R58 is hemorrhage NOS


def test_bleeding_at_no_site_is_hemorrhage_unspecified(dictionary) -> None:
    assert "R58" in codes(dictionary, "He was admitted with a hemorrhage.", shown=True)


def test_pain_at_no_site_is_pain_unspecified(dictionary) -> None:
    assert "R52" in codes(dictionary, "Generalized pain and fatigue for a week.", shown=True)


@pytest.mark.parametrize("note, code", [
    ("Imaging detected multiple cervical lymphadenopathies.", "R59.0"),
    ("Hard adenopathies were present in both inguinal regions.", "R59.0"),
    ("Edema of both lower limbs.", "R60.0"),
    ("He had generalized lymphadenopathy.", "R59.1"),  # said generalized: the main term's own code
    ("Edema was present.", "R60.9"),  # no site: the main term's code
])
def test_a_sign_at_a_named_site_is_the_index_subterm_localized(dictionary, note: str, code: str) -> None:
    shown = list(suggest_events(dictionary, note, Encounter(setting="inpatient")))[-1].suggestions
    got = [s for s in shown if s.code[:3] == code[:3]]
    assert [s.code for s in got] == [code]
    assert ("localized" in got[0].reasoning) == (code in {"R59.0", "R60.0"})
