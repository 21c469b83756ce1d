"""Sections, sentences, clauses and ConText-style context, on notes as coders see them."""

from __future__ import annotations

import json

import pytest

from medcoder_desktop.core.engine.text import Span, context, mentions, sections, sentences
from medcoder_desktop.paths import resource
from tests.helpers import SHARED_DATA

SAMPLE = resource("samples", "outpatient_followup.txt").read_text(encoding="utf-8")


def ctx_of(text: str, phrase: str) -> list[str]:
    """Context of the mention that contains ``phrase``."""
    for m in mentions(text):
        if phrase in m.text:
            return m.context
    raise AssertionError(f"no mention holds {phrase!r}: {[m.text for m in mentions(text)]}")


def test_sections_of_a_soap_note() -> None:
    names = [s.name for s in sections(SAMPLE)]
    assert names == ["body", "chief_complaint", "hpi", "pmh", "assessment"]
    assess = sections(SAMPLE)[-1]
    assert SAMPLE[assess.start:].startswith("Assessment and plan:")


def test_wrapped_lines_continue_and_list_items_split() -> None:
    text = "Home glucose readings run\n250-300 mg/dL. Denies pain.\n1. Asthma\n2. Obesity\n"
    got = [text[s.start:s.end] for s in sentences(text)]
    assert got == ["Home glucose readings run\n250-300 mg/dL", "Denies pain", "Asthma", "Obesity"]


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("Denies chest pain.", "chest pain", ["negated"]),
        ("No history of nephrolithiasis, hematuria or urinary tract infections.", "urinary tract", ["negated", "historical"]),
        ("No fever but productive cough.", "productive cough", []),
        ("Pulmonary embolism was ruled out.", "Pulmonary embolism", ["negated"]),
        ("Probable community acquired pneumonia.", "pneumonia", ["uncertain"]),
        ("Findings compatible with renal colic.", "renal colic", ["uncertain"]),
        ("History of myocardial infarction in 2015.", "myocardial infarction", ["historical"]),
        ("Her mother had breast cancer.", "breast cancer", ["family"]),
        ("Return if fever develops.", "fever", ["hypothetical"]),
        ("Acute appendicitis.", "appendicitis", []),
        # ", with" ends what "without" denies
        ("A 76-year-old man without known allergies, with a history of dyslipidemia, hypertension and gout.",
         "hypertension", ["historical"]),
        ("Afebrile, without cough, and with dysuria.", "dysuria", []),
        ("A left testicle with no abnormalities and an epididymal cyst in the head.", "epididymal cyst", []),
        ("Azoospermia confirming the clinical suspicion of vas deferens agenesis.", "agenesis", []),
        ("Findings suggestive of vas deferens agenesis.", "agenesis", ["uncertain"]),
    ],
)
def test_context(text: str, phrase: str, expected: list[str]) -> None:
    assert ctx_of(text, phrase) == expected


def test_family_history_section_marks_family() -> None:
    text = "Family history: diabetes in father.\nAssessment: asthma."
    assert "family" in ctx_of(text, "diabetes")
    assert ctx_of(text, "asthma") == []


def test_context_span_inside_sentence() -> None:
    text = "Patient denies dyspnea."
    sent = sentences(text)[0]
    start = text.index("dyspnea")
    assert context(text, sent, Span(start, start + 7))["negated"]


def test_offsets_are_exact_on_the_sample_and_dev_notes() -> None:
    notes = [SAMPLE]
    dev = SHARED_DATA / "notes" / "codiesp_dev.jsonl"
    if dev.is_file():
        notes += [json.loads(line)["text"] for line in dev.open(encoding="utf-8")][:40]
    for note in notes:
        ms = mentions(note)
        assert ms
        for m in ms:
            assert note[m.start:m.end] == m.text
            assert m.text == m.text.strip()



@pytest.mark.parametrize("note, negated, kept", [
    ("He has neither chest pain nor shortness of breath.", ["chest pain", "shortness of breath"], []),
    ("Walks without pain.", ["pain"], ["Walks"]),
    ("Hypertension without heart failure.", ["heart failure"], ["Hypertension"]),
    ("Type 2 diabetes without complications.", [], ["Type 2 diabetes without complications"]),
    ("White blood cell count is within normal limits.", ["White blood cell count"], []),
    ("X-ray of the right knee is unremarkable.", ["X-ray of the right knee"], []),
    # what the patient has not ends where what they came with begins
    ("A woman with no past history who began with nasal obstruction and epistaxis.", [],
     ["epistaxis"]),
    ("A 45-year-old man without history of interest consulted for hematuria.", ["history of interest"],
     ["hematuria"]),
    ("He denied fever and reported a productive cough.", ["fever"], ["productive cough"]),
])
def test_negation_scope(note, negated, kept) -> None:
    ms = mentions(note)
    for words in negated:
        assert any(words in m.text and m.negated for m in ms), (words, ms)
    for words in kept:
        assert any(words in m.text and not m.negated for m in ms), (words, ms)
