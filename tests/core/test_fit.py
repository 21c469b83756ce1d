"""Codes that cannot fit the encounter (pregnancy, newborn) leave room for those that can; list items and
"unspecified" titles; a sited neoplasm replaces the unspecified-site code — on the real dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.fit import encounter_fit
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.models import Encounter


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


def codes(dictionary: Dictionary, note: str, **encounter) -> dict[str, object]:
    done = list(suggest_events(dictionary, note, Encounter(**encounter)))[-1]
    for s in done.suggestions:
        assert all(note[e.start:e.end] == e.text for e in s.evidence)
    return {s.code: s for s in done.suggestions}


def test_unspecified_defaults_win_for_a_bare_condition(dictionary: Dictionary) -> None:
    got = codes(dictionary, "Assessment: pneumonia. Urinary tract infection. Upper gastrointestinal bleeding.")
    assert {"J18.9", "N39.0", "K92.2"} <= {c for c, s in got.items() if s.suggested}
    assert not any(c[:1] in "OP" for c in got)  # no congenital pneumonia, no UTI in pregnancy


def test_pregnancy_and_newborn_codes_need_a_pregnancy_or_a_newborn(dictionary: Dictionary) -> None:
    note = "Assessment: infection of the urinary tract in pregnancy, 20 weeks."
    pregnant = codes(dictionary, note)
    assert any(c.startswith("O23") for c in pregnant)
    man = codes(dictionary, note, sex="M")
    assert not any(c[:1] == "O" for c in man) and "N39.0" in man
    assert "P23.9" in codes(dictionary, "Assessment: congenital pneumonia.", age=0)
    assert "P23.9" not in codes(dictionary, "Assessment: congenital pneumonia.", age=40)


def test_fit_reads_age_sex_and_words() -> None:
    assert encounter_fit("postpartum day 2", Encounter()).pregnancy
    assert not encounter_fit("postpartum day 2", Encounter(age=80)).pregnancy
    assert not encounter_fit("laboratory tests", Encounter()).pregnancy
    assert encounter_fit("a preterm newborn", Encounter()).newborn and encounter_fit("x", Encounter(age=0)).newborn
    assert not encounter_fit("a preterm newborn", Encounter(age=40)).newborn
    fit = encounter_fit("cough for two days", Encounter(sex="F"))
    assert fit.allows("ICD-10-CM", "N39.0", "Urinary tract infection, site not specified")
    assert not fit.allows("ICD-10-CM", "O23.40", "Unspecified infection of urinary tract in pregnancy")
    assert fit.allows("ICD-10-PCS", "0UT90ZZ", "Resection of Uterus, Open Approach")


def test_items_of_a_list_are_mentions_of_their_own(dictionary: Dictionary) -> None:
    got = codes(dictionary, "A 76-year-old patient with a history of dyslipidemia, hypertension, old myocardial "
                            "infarction.")
    assert {"E78.5", "I10", "I25.2"} <= set(got)
    assert got["I10"].evidence[0].text == "hypertension"


def test_a_sited_neoplasm_replaces_the_unspecified_site(dictionary: Dictionary) -> None:
    alone = codes(dictionary, "Assessment: carcinoma.")
    assert "C80.1" in alone
    sited = codes(dictionary, "Assessment: carcinoma of the colon. The carcinoma was resected.")
    assert any(c.startswith("C18") and s.suggested for c, s in sited.items())
    assert "C80.1" not in sited
