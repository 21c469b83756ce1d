"""A morphology said with its site is coded from the Neoplasm Table by that site (guideline I.C.2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.neoplasm_table import _morphologies, behavior
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.models import Encounter


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


def codes(dictionary: Dictionary, note: str) -> dict[str, str]:
    """Every code the pipeline suggests (shown or not) -> its evidence."""
    done = list(suggest_events(dictionary, note, Encounter(setting="outpatient")))[-1]
    return {s.code: " | ".join(e.text for e in s.evidence) for s in done.suggestions}


def test_behavior_columns_follow_the_neoplasm_chapter() -> None:
    assert behavior("C18.7") == "primary" and behavior("C78.7") == "secondary"
    assert behavior("D35.2") == "benign" and behavior("D05.1") == "in_situ"
    assert behavior("D44.3") == "uncertain" and behavior("D49.6") == "unspecified"
    assert behavior("C83.30") is None  # a lymphoma is coded by its type, not by a site
    assert behavior("I10") is None


def test_morphologies_are_read_from_the_index(dictionary: Dictionary) -> None:
    morph = _morphologies(dictionary)
    assert morph["adenoma"] == "benign"
    assert morph["carcinoma"] == "primary" and morph["adenocarcinoma"] == "primary"
    # terms with site codes of their own stay with the Index: melanoma (C43), nevus (D22)
    assert "melanoma" not in morph and "nevus" not in morph


@pytest.mark.parametrize(
    ("note", "code", "words"),
    [
        ("Pathology showed a pituitary adenoma.", "D35.2", "pituitary adenoma"),
        ("CT showed multiple liver metastases.", "C78.7", "liver metastases"),
        ("Colonoscopy found an adenocarcinoma of the sigmoid colon.", "C18.7", "adenocarcinoma of the sigmoid colon"),
        ("Biopsy: metastasis of renal cell carcinoma in the ovary.", "C79.60", "carcinoma in the ovary"),
        # the row of the site named, not the row a morphology is listed under ("skin NOS, squamous cell carcinoma")
        ("Biopsy showed a squamous cell carcinoma of the larynx.", "C32.9", "carcinoma of the larynx"),
        ("Basal cell carcinoma of the nose.", "C44.311", "Basal cell carcinoma of the nose"),
    ],
)
def test_a_morphology_with_its_site_gets_the_site_code(dictionary: Dictionary, note: str, code: str,
                                                      words: str) -> None:
    found = codes(dictionary, note)
    assert code in found
    assert words in found[code]


def test_a_morphology_without_a_site_gets_no_table_code(dictionary: Dictionary) -> None:
    found = codes(dictionary, "No residual adenoma on MRI follow-up.")
    assert not {c for c in found if c.startswith(("D1", "D2", "D3"))}


@pytest.mark.parametrize(("note", "code"), [
    ("Colonoscopy found an adenocarcinoma of the sigmoid colon.", "C18.7"),
    ("CT showed multiple liver metastases.", "C78.7"),  # "metastases" is read by a synonym, still a morphology
])
def test_a_table_reading_that_says_the_whole_title_is_shown(dictionary: Dictionary, note: str, code: str) -> None:
    done = list(suggest_events(dictionary, note, Encounter(setting="inpatient")))[-1].suggestions
    shown = {s.code: s for s in done if s.suggested}
    assert code in shown  # the morphology says the neoplasm and its behavior; the note, the site
    assert not {"C79.9", "C80.1", "D49.9"} & set(shown)  # no unspecified-site code beside it


def test_an_unspecified_site_code_gives_way_to_the_sited_neoplasm(dictionary: Dictionary) -> None:
    note = ("Colonoscopy found an adenocarcinoma of the sigmoid colon. "
            "The tumor located in the junction of the sigmoid and the descending colon was resected.")
    done = list(suggest_events(dictionary, note, Encounter(setting="inpatient")))[-1].suggestions
    held = {s.code: s for s in done if s.held_back}
    assert "C18.7" in {s.code for s in done if s.suggested}
    if "D49.9" in {s.code for s in done}:  # found from "the tumor located in ...": held back, saying why
        assert "D49.9" in held and "C18.7" in held["D49.9"].reasoning


def test_a_morphology_at_a_named_site_is_not_coded_at_another(dictionary: Dictionary) -> None:
    done = list(suggest_events(dictionary, "Biopsy showed a squamous cell carcinoma of the larynx.",
                               Encounter(setting="inpatient")))[-1].suggestions
    shown = {s.code for s in done if s.suggested}
    assert "C32.9" in shown and "C44.92" not in shown  # squamous cell carcinoma of skin: the note names the larynx


@pytest.mark.parametrize(("note", "shown"), [
    ("A chest CT revealed a 5 cm diameter tumor with cortical destruction.", False),
    ("Metastatic carcinoma of unknown primary site.", True),
])
def test_an_unspecified_site_code_only_where_the_note_says_the_site_is_unknown(dictionary: Dictionary, note: str,
                                                                           shown: bool) -> None:
    done = list(suggest_events(dictionary, note, Encounter(setting="inpatient")))[-1].suggestions
    unspecified = [s for s in done if s.code in {"C79.9", "C80.1", "D49.9"}]
    assert unspecified
    assert any(s.suggested for s in unspecified) == shown
    if not shown:
        assert all(s.held_back == "neoplasm site" and "I.C.2.d" in s.reasoning for s in unspecified
                   if "coded by its site" not in s.reasoning and "name none" not in s.reasoning)
