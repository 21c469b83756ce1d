"""Adjudication logic with a fake model: validation, dropping and counting, cancellation, failures.

The engine is not what these tests are about, so a fake stands in for llama.cpp; the real model is
exercised in tests/llm/test_adjudicate_llm.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.adjudicate import (
    NONE, Adjudicator, Choice, grounded_reason, messages_for, schema_for, surrounding_text, validate_answer,
)
from medcoder_desktop.core.engine.llm_runtime import Cancelled
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.models import Encounter
from medcoder_desktop.errors import ModelError
from medcoder_desktop.paths import resource

SAMPLE = resource("samples", "outpatient_followup.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


class FakeRuntime:
    """Answers each call with ``answer(messages, schema)``; records what it was asked."""

    def __init__(self, answer):
        self.answer, self.asked, self.last_call = answer, [], None

    def chat_json(self, messages, schema, *, max_tokens=128, cancel=None):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        self.asked.append((messages, schema))
        obj = self.answer(messages, schema)
        return obj, str(obj)


def enum(schema) -> list[str]:
    return schema["properties"]["code"]["enum"]


def test_schema_enum_is_the_candidates_and_none() -> None:
    s = schema_for(["E11.9", "E11.65"])
    assert enum(s) == ["E11.9", "E11.65", NONE]
    assert s["required"] == ["code", "reason"]


@pytest.mark.parametrize("obj, expected", [
    ({"code": "E11.65", "reason": "DM2 w hyperglycemia"}, "E11.65"),
    ({"code": " none ", "reason": ""}, NONE),
    ({"code": "E11.9"}, "E11.9"),  # reason is optional once parsed
])
def test_valid_answers(obj, expected) -> None:
    assert validate_answer(obj, ["E11.9", "E11.65"]).code == expected


@pytest.mark.parametrize("obj", [None, {}, {"code": 11}, {"code": "I10"}, {"reason": "x"}, {"code": ["E11.9"]}])
def test_invalid_answers_are_refused(obj) -> None:
    assert validate_answer(obj, ["E11.9", "E11.65"]) is None


def test_reason_kept_only_when_it_quotes_the_note() -> None:
    note = "Assessment: DM2 w hyperglycemia, A1c 9.1"
    assert grounded_reason("note says hyperglycemia, A1c 9.1", note)
    assert grounded_reason("the patient is very ill", note) == ""


def test_surrounding_text_stays_in_the_sentence() -> None:
    note = "First sentence here. Patient has type 2 diabetes with CKD. Next one about knees."
    start = note.index("type 2")
    got = surrounding_text(note, start, start + 15)
    assert got == "Patient has type 2 diabetes with CKD."


def test_prompt_prefix_is_fixed(dictionary: Dictionary) -> None:
    asked = []
    fake = FakeRuntime(lambda m, s: asked.append(m) or {"code": enum(s)[0], "reason": ""})
    list(suggest_events(dictionary, SAMPLE, adjudicate=Adjudicator(fake)))
    assert len(asked) >= 3
    assert len({m[0]["content"] for m in asked}) == 1  # the system prompt is the shared, cached prefix
    assert len({m[1]["content"] for m in asked}) == len(asked)


def test_model_choice_changes_ranking_and_reasoning(dictionary: Dictionary) -> None:
    def prefer_second(messages, schema):
        codes = enum(schema)
        return {"code": codes[1] if len(codes) > 2 else codes[0], "reason": "DM2 w hyperglycemia"}

    fake = FakeRuntime(prefer_second)
    events = list(suggest_events(dictionary, SAMPLE, adjudicate=Adjudicator(fake), model_sha256="0" * 64))
    assert [e.kind for e in events][0] == "candidates" and events[-1].kind == "done"
    assert any(e.kind == "refined" for e in events)
    done = events[-1]
    assert done.stats["adjudicated"] == len(fake.asked) > 0 and done.stats["invalid_answers"] == 0
    chosen = [s for s in done.suggestions if s.source == "llm"]
    assert chosen and all("The model chose it" in s.reasoning for s in chosen)
    assert any("“DM2 w hyperglycemia”" in s.reasoning for s in chosen)
    # The model can only pick what the dictionary found: every code exists.
    assert all(dictionary.exists(s.code, s.system) for s in done.suggestions)


def test_invalid_answers_are_dropped_and_counted(dictionary: Dictionary) -> None:
    answers = iter([{"code": "Z99.999", "reason": "invented"}, None, {"code": 3}])
    fake = FakeRuntime(lambda m, s: next(answers, {"code": enum(s)[0], "reason": ""}))
    adjudicator = Adjudicator(fake)
    events = list(suggest_events(dictionary, SAMPLE, adjudicate=adjudicator))
    assert adjudicator.stats.invalid == 3
    assert events[-1].stats["invalid_answers"] == 3
    assert "Z99.999" not in {s.code for s in events[-1].suggestions}


def test_none_lowers_confidence(dictionary: Dictionary) -> None:
    base = {s.code: s.confidence for s in list(suggest_events(dictionary, SAMPLE))[-1].suggestions}
    fake = FakeRuntime(lambda m, s: {"code": NONE, "reason": ""})
    done = list(suggest_events(dictionary, SAMPLE, adjudicate=Adjudicator(fake), model_sha256="0" * 64))[-1]
    lowered = [s for s in done.suggestions if s.code in base and s.confidence < base[s.code]]
    assert lowered and "preferred another candidate, or none" in lowered[0].reasoning


def test_cancel_stops_the_model_and_keeps_retrieval(dictionary: Dictionary) -> None:
    cancel = threading.Event()
    calls = []

    def answer(messages, schema):
        calls.append(1)
        if len(calls) == 2:
            cancel.set()
        return {"code": enum(schema)[0], "reason": ""}

    fake = FakeRuntime(answer)
    events = list(suggest_events(dictionary, SAMPLE, adjudicate=Adjudicator(fake, cancel=cancel),
                                 cancelled=cancel.is_set))
    assert len(calls) == 2
    assert events[-1].kind == "done" and "cancelled" in events[-1].warnings
    assert events[-1].suggestions  # what retrieval found is still there


def test_model_failure_is_a_warning_not_a_lost_note(dictionary: Dictionary) -> None:
    def broken(messages, schema):
        raise ModelError("The model call failed: RuntimeError.")

    events = list(suggest_events(dictionary, SAMPLE, adjudicate=Adjudicator(FakeRuntime(broken))))
    assert events[-1].kind == "done" and events[-1].suggestions
    assert any("stopped answering" in w for w in events[-1].warnings)


def test_messages_name_setting_context_and_candidates(dictionary: Dictionary) -> None:
    fake = FakeRuntime(lambda m, s: {"code": enum(s)[0], "reason": ""})
    list(suggest_events(dictionary, SAMPLE, Encounter(setting="inpatient"), adjudicate=Adjudicator(
        fake, Encounter(setting="inpatient"))))
    user = fake.asked[0][0][1]["content"]
    assert user.startswith("Setting: inpatient.") and "Candidates:\n- " in user
    codes = [line[2:].split(":")[0] for line in user.splitlines() if line.startswith("- ")]
    assert codes == enum(fake.asked[0][1])[:-1]


def test_choice_is_a_plain_record() -> None:
    assert Choice("I10", "x").code == "I10" and Choice(None).code is None


def test_messages_for_quotes_the_note() -> None:
    from medcoder_desktop.core.engine.retrieve import Candidate
    from medcoder_desktop.core.models import Evidence, Mention

    note = "Assessment: essential hypertension, stable."
    m = Mention(text="essential hypertension", start=12, end=34, section="assessment")
    c = Candidate(code="I10", system="ICD-10-CM", title="Essential (primary) hypertension", billable=True,
                  score=0.9, q=1, d=1, mention=m, evidence=Evidence(start=12, end=34, text=note[12:34]),
                  matched_words=2, rank=0, margin=0.5)
    msgs = messages_for(note, [c], Encounter())
    assert 'Finding: "essential hypertension" (context: none)' in msgs[1]["content"]
    assert "- I10: Essential (primary) hypertension" in msgs[1]["content"]
