"""Bounded work on long notes: sentences are cut for context scanning, and a note at the size limit,
even one without a full stop, finishes (speed itself is measured in bench/latency.py --long)."""

from __future__ import annotations

import re

from medcoder_desktop.core.engine.pipeline import MAX_NOTE_CHARS, suggest_events
from medcoder_desktop.core.engine.text import MAX_SENTENCE_CHARS, mentions, sentences
from medcoder_desktop.core.models import Encounter

BASE = ("Patient with type 2 diabetes mellitus with hyperglycemia, essential hypertension, chronic kidney "
        "disease stage 3 and no fever; denies chest pain, history of asthma. ")


def test_a_sentence_without_full_stops_is_cut_into_bounded_pieces() -> None:
    text = re.sub(r"[.;]", " ", BASE) * 200  # 30,000 characters, not one full stop
    spans = sentences(text)
    assert len(spans) > 10
    assert max(s.end - s.start for s in spans) <= MAX_SENTENCE_CHARS
    covered = "".join(text[s.start:s.end] for s in spans)
    assert len(covered.split()) >= len(text.split()) - len(spans)  # no words lost, at most one per cut


def test_short_sentences_are_unchanged() -> None:
    text = "Fever. No cough. History of asthma."
    assert [text[s.start:s.end] for s in sentences(text)] == ["Fever", "No cough", "History of asthma"]


def test_context_still_applies_inside_cut_pieces() -> None:
    filler = "stable vitals and normal exam " * 40  # 1,200 characters without a full stop
    text = filler + "with no fever and " + filler + "diabetes"
    found = [m for m in mentions(text) if "fever" in m.text]
    assert found and all(m.negated for m in found)
    assert not any(m.negated for m in mentions(text) if "diabetes" in m.text)


def test_a_note_at_the_size_limit_finishes(built_dictionary) -> None:
    from medcoder_desktop.core.dictionary import Dictionary

    note = (re.sub(r"[.;,]", " ", BASE) * (MAX_NOTE_CHARS // len(BASE) + 1))[:MAX_NOTE_CHARS]
    d = Dictionary(built_dictionary)
    try:
        events = list(suggest_events(d, note, Encounter()))
    finally:
        d.close()
    done = events[-1]
    # (without full stops, "history of asthma Patient with type 2 diabetes ..." reads the diabetes as history)
    assert done.kind == "done" and any(s.code.startswith("N18.3") for s in done.suggestions)
