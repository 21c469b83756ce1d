"""Adjudication logic with a fake model: which questions are asked, batching, validation, dropping and
counting, the principal, cancellation, failures.

The engine is not what these tests are about, so a fake stands in for llama.cpp; the real model is
exercised in tests/llm/test_adjudicate_llm.py and tests/llm/test_enum_decoding.py.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.adjudicate import (
    BATCH, FIRST, MAX_QUESTIONS, NONE, SYSTEM_PROMPT, Adjudicator, Choice, Question, excerpt, messages_for,
    schema_for, slots_for, validate_answer,
)
from medcoder_desktop.core.engine.confidence import load_calibration
from medcoder_desktop.core.engine.enum_decoding import EnumAnswer
from medcoder_desktop.core.engine.llm_runtime import Cancelled
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.engine.questions import CLOSE, HIGH, LOW
from medcoder_desktop.core.models import Encounter, Evidence, Mention
from medcoder_desktop.errors import ModelError
from medcoder_desktop.paths import resource

SAMPLE = resource("samples", "outpatient_followup.txt").read_text(encoding="utf-8")
SHA = "0" * 64


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


class FakeRuntime:
    """Answers each call with ``pick(slot) -> option``; records what it was asked."""

    def __init__(self, pick=lambda slot: slot.options[0], text=None):
        self.pick, self.text, self.asked, self.last_call = pick, text, [], None

    def choose_json(self, messages, slots, *, cancel=None):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        self.asked.append((messages, slots))
        values = {s.key: self.pick(s) for s in slots}
        probs = {s.key: {o: (0.7 if o == values[s.key] else 0.3 / max(1, len(s.options) - 1)) for o in s.options}
                 for s in slots}
        text = self.text(slots) if self.text else json.dumps(values)
        return EnumAnswer(values=values, probabilities=probs, text=text, prompt_tokens=100, prompt_evaluated=40,
                          answer_tokens=8 * len(slots), model_steps=len(slots))


def _question(note: str, phrase: str, *codes: str, key: str = "1") -> Question:
    from medcoder_desktop.core.engine.retrieve import Candidate

    start = note.index(phrase)
    m = Mention(text=phrase, start=start, end=start + len(phrase), section="assessment")
    cands = [Candidate(code=c, system="ICD-10-CM", title=f"title of {c}", billable=True, score=0.5, q=1, d=1,
                       mention=m, evidence=Evidence(start=m.start, end=m.end, text=phrase), matched_words=2,
                       rank=i, margin=0.1) for i, c in enumerate(codes)]
    return Question(key=key, mentions=[0], candidates=cands)


def test_each_item_is_an_enum_of_its_candidates_and_none() -> None:
    note = "Assessment: DM2 w hyperglycemia. Essential hypertension."
    q1 = _question(note, "DM2 w hyperglycemia", "E11.65", "E11.9")
    q2 = _question(note, "Essential hypertension", "I10", key="2")
    schema = schema_for([q1, q2], principal=[q1.candidates[0], q2.candidates[0]])
    props = schema["properties"]
    assert props["1"]["enum"] == ["E11.65", "E11.9", NONE] and props["2"]["enum"] == ["I10", NONE]
    assert props[FIRST]["enum"] == ["E11.65", "I10"]
    assert schema["required"] == ["1", "2", FIRST] and schema["additionalProperties"] is False
    assert [s.key for s in slots_for([q1])] == ["1"]  # one diagnosis: no principal to ask


@pytest.mark.parametrize("obj, ok", [
    ({"1": "E11.65"}, True), ({"1": " none "}, True), ({"1": "I10"}, False), ({}, False), ({"1": 3}, False),
    (None, False), ([], False), ({"1": ["E11.65"]}, False),
])
def test_answers_are_validated_against_the_options(obj, ok) -> None:
    note = "Assessment: DM2 w hyperglycemia."
    slots = slots_for([_question(note, "DM2 w hyperglycemia", "E11.65", "E11.9")])
    assert (validate_answer(obj, slots) is not None) is ok


def test_excerpt_stays_in_the_clause() -> None:
    note = "First sentence here. Patient has type 2 diabetes with CKD. Next one about knees."
    start = note.index("type 2")
    assert excerpt(note, start, start + 15) == "Patient has type 2 diabetes with CKD."


def test_messages_list_each_question_with_its_words_and_candidates() -> None:
    note = "Assessment: DM2 w hyperglycemia. Essential hypertension."
    qs = [_question(note, "DM2 w hyperglycemia", "E11.65", "E11.9"),
          _question(note, "Essential hypertension", "I10", key="2")]
    msgs = messages_for(note, qs, Encounter(setting="inpatient"))
    assert msgs[0] == {"role": "system", "content": SYSTEM_PROMPT}
    user = msgs[1]["content"].splitlines()
    assert user[0] == "Setting: inpatient."
    assert user[1].startswith('1. "Assessment: DM2 w hyperglycemia.') and user[1].endswith("(assessment)")
    assert user[2:4] == ["   E11.65: title of E11.65", "   E11.9: title of E11.9"]
    assert user[4].startswith("2. ")


def _run(dictionary, fake, encounter=None, **kw):
    encounter = encounter or Encounter()
    adjudicator = Adjudicator(fake, encounter, **kw)
    events = list(suggest_events(dictionary, SAMPLE, encounter, adjudicate=adjudicator, model_sha256=SHA,
                                 cancelled=adjudicator.cancel.is_set))
    return events, adjudicator


def test_only_open_questions_go_to_the_model_a_batch_at_a_time(dictionary: Dictionary) -> None:
    retrieval = {s.code: s for s in list(suggest_events(dictionary, SAMPLE))[-1].suggestions}
    fake = FakeRuntime()
    events, adjudicator = _run(dictionary, fake)
    asked = [s for _, slots in fake.asked for s in slots if s.key != FIRST]
    assert 0 < len(asked) <= MAX_QUESTIONS
    assert all(len([s for s in slots if s.key != FIRST]) <= BATCH for _, slots in fake.asked)
    assert len({m[0]["content"] for m, _ in fake.asked}) == 1  # the system prompt is the shared, cached prefix
    threshold = load_calibration().threshold
    for slot in asked:
        confs = sorted((retrieval[c].confidence for c in slot.options if c in retrieval), reverse=True)
        assert confs[0] <= max(HIGH, threshold) or (len(confs) > 1 and confs[0] - confs[1] <= CLOSE)
        assert confs[0] >= threshold * LOW or len(confs) > 1
    # what retrieval settles is not asked: the best-supported code of the note
    best = max(retrieval.values(), key=lambda s: s.confidence)
    assert best.confidence > HIGH and not any(best.code in s.options for s in asked)
    done = events[-1]
    assert done.stats["questions"] == done.stats["adjudicated"] == len(asked)
    assert done.stats["model_calls"] == len(fake.asked)
    assert done.stats["prompt_tokens"] == 100 * len(fake.asked) and done.stats["prompt_evaluated"] == 40 * len(fake.asked)
    assert done.stats["generated_tokens"] == sum(8 * len(slots) for _, slots in fake.asked)


def test_model_choice_changes_confidence_and_reasoning(dictionary: Dictionary) -> None:
    fake = FakeRuntime()
    events, _ = _run(dictionary, fake)
    assert [e.kind for e in events][0] == "candidates" and events[-1].kind == "done"
    assert any(e.kind == "refined" for e in events)
    done = events[-1]
    chosen = [s for s in done.suggestions if s.source == "llm"]
    assert chosen and all("The model " in s.reasoning and "(p 0.70)" in s.reasoning for s in chosen)
    # The model can only pick what the dictionary found: every code exists.
    assert all(dictionary.exists(s.code, s.system) for s in done.suggestions)


def test_none_lowers_confidence_and_says_so(dictionary: Dictionary) -> None:
    base = {s.code: s.confidence for s in list(suggest_events(dictionary, SAMPLE))[-1].suggestions}
    fake = FakeRuntime(pick=lambda slot: NONE if NONE in slot.options else slot.options[0])
    done = _run(dictionary, fake)[0][-1]
    asked = {c for _, slots in fake.asked for s in slots if s.key != FIRST for c in s.options}
    lowered = [s for s in done.suggestions if s.code in asked and s.code in base and s.confidence < base[s.code]]
    assert lowered and all("not coded here (“none”, p 0.70)" in s.reasoning for s in lowered)


def test_invalid_answers_are_dropped_and_counted(dictionary: Dictionary) -> None:
    base = list(suggest_events(dictionary, SAMPLE))[-1].suggestions
    fake = FakeRuntime(text=lambda slots: json.dumps({s.key: "Z99.999" for s in slots}))
    events, adjudicator = _run(dictionary, fake)
    assert adjudicator.stats.invalid == events[-1].stats["invalid_answers"] == events[-1].stats["questions"] > 0
    assert "Z99.999" not in {s.code for s in events[-1].suggestions}
    assert not any(s.source == "llm" for s in events[-1].suggestions)
    assert {s.code for s in events[-1].suggestions} == {s.code for s in base}


def test_the_model_names_the_first_listed_diagnosis(dictionary: Dictionary) -> None:
    def last_option(slot):
        return slot.options[-1] if slot.key == FIRST else slot.options[0]

    fake = FakeRuntime(pick=last_option)
    done = _run(dictionary, fake)[0][-1]
    first = [s for s in done.suggestions if s.model_first]
    (_, slots) = fake.asked[-1]
    assert slots[-1].key == FIRST and [s.code for s in first] == [slots[-1].options[-1]]


def test_cancel_stops_the_model_and_keeps_retrieval(dictionary: Dictionary) -> None:
    cancel = threading.Event()

    def pick(slot):
        cancel.set()
        return slot.options[0]

    events, _ = _run(dictionary, FakeRuntime(pick=pick), cancel=cancel)
    assert events[-1].kind == "done" and "cancelled" in events[-1].warnings
    assert events[-1].stats["model_calls"] == 1
    assert events[-1].suggestions  # what retrieval found is still there


def test_model_failure_is_a_warning_not_a_lost_note(dictionary: Dictionary) -> None:
    def broken(slot):
        raise ModelError("The model call failed: RuntimeError.")

    events, _ = _run(dictionary, FakeRuntime(pick=broken))
    assert events[-1].kind == "done" and events[-1].suggestions
    assert any("stopped answering" in w for w in events[-1].warnings)


def test_choice_is_a_plain_record() -> None:
    assert Choice("I10", {"I10": 0.9}).code == "I10" and Choice(None).code is None
