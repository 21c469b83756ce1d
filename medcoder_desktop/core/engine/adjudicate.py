"""The model's turn: the questions retrieval leaves open, asked a few at a time.

Retrieval and the tabular conventions decide what they can; what stays open goes to the model:
whether a condition found near the display threshold is coded at all (current and affecting care, not
history, not ruled out, not part of another), which of close candidates the note's words support, and
which diagnosis is principal / first-listed. Several questions go into one call, and the answer is one
JSON object whose every item is an enum of that question's candidate codes plus ``"none"``
(``schema_for``). The model never writes a code of its own: it can only pick an option, and the answer
is validated again with pydantic before anything uses it.

Every prompt starts with the same system message, so llama.cpp serves it from its KV cache; the
answer is decoded where it is free (core/engine/enum_decoding.py), and the model's probabilities of
the options, not its words, go to calibration. The reasoning shown to the coder is built from what
matched and what the model decided (core/engine/pipeline.py).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError, create_model

from medcoder_desktop.core.engine.enum_decoding import EnumAnswer, Slot, schema_of
from medcoder_desktop.core.engine.llm_runtime import Cancelled
from medcoder_desktop.core.engine.retrieve import Candidate
from medcoder_desktop.core.models import Encounter
from medcoder_desktop.errors import ModelError

NONE = "none"
FIRST = "first"  # the answer's key for the principal / first-listed diagnosis
MAX_OPTIONS = 3  # candidates per question: more lengthen every prompt for codes that are rarely right
MAX_QUESTIONS = 12  # per note: the rest is left to retrieval (nearest the display threshold first)
BATCH = 6  # questions per call
MAX_PRINCIPAL_OPTIONS = 5
EXCERPT_CHARS = 110  # the note's words around a finding, cut at clause ends
TITLE_CHARS = 60

SYSTEM_PROMPT = (
    "You are a certified medical coder. Each numbered item is a condition that the official code set matched "
    "in a clinical note, with the note's words around it and the candidate codes. For each item answer the "
    "candidate code that the note's words support as a condition of this encounter, or \"none\" when it is "
    "not coded: denied or ruled out, only past history, a family member's, a normal finding, a sign that is "
    "part of another listed condition, or (outpatient) only suspected. When asked for \"first\", answer the "
    "diagnosis chiefly responsible for this encounter. Reply with the JSON object only."
)


@dataclass
class Question:
    """One open question: a finding (one or more mentions of the same candidates) and its options."""

    key: str
    mentions: list[int]  # indexes into the pipeline's per-mention candidate lists
    candidates: list[Candidate]  # the options, best first (at most MAX_OPTIONS)
    retrieval_confidence: float = 0.0

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.candidates]


@dataclass
class Choice:
    """What the model made of one question: a candidate code, or None when no candidate is coded.

    ``p``: the model's probability of each option (its candidate codes and "none").
    """

    code: str | None
    p: dict[str, float] = field(default_factory=dict)


@dataclass
class Decisions:
    """One call's validated answers: choices by question key, and the principal code if it was asked."""

    choices: dict[str, Choice]
    first: str | None = None


@dataclass
class AdjudicationStats:
    calls: int = 0
    questions: int = 0
    invalid: int = 0  # answers dropped: not valid under the schema, or a code outside the options
    none: int = 0  # questions answered "none"
    model_seconds: float = 0.0
    prompt_tokens: int = 0
    prompt_evaluated: int = 0  # prompt tokens decoded; the rest came from the KV cache
    generated_tokens: int = 0  # tokens of the answers
    model_steps: int = 0  # answer positions where the model chose among options
    # kept only when record=True (benchmarks): each call's messages and slots, and its answer
    prompts: list[tuple[list[dict[str, str]], list[Slot]]] = field(default_factory=list)
    answers: list[EnumAnswer] = field(default_factory=list)

    @property
    def prompt_reused(self) -> int:
        return self.prompt_tokens - self.prompt_evaluated


class ChoosingRuntime(Protocol):
    """What the adjudicator needs of a runtime (``LlamaRuntime``; a fake in tests)."""

    def choose_json(self, messages: list[dict[str, str]], slots: list[Slot], *,
                    cancel: threading.Event | None = None) -> EnumAnswer: ...


def slots_for(questions: Sequence[Question], principal: Sequence[Candidate] = ()) -> list[Slot]:
    """The answer's items: one enum per question (its codes and "none"), then "first" if asked."""
    slots = [Slot(q.key, (*q.codes, NONE)) for q in questions]
    if len(principal) > 1:
        slots.append(Slot(FIRST, tuple(c.code for c in principal)))
    return slots


def schema_for(questions: Sequence[Question], principal: Sequence[Candidate] = ()) -> dict[str, Any]:
    """The JSON schema of one call's answer."""
    return schema_of(slots_for(questions, principal))


_CLAUSE_END = re.compile(r"[.;!?](?=\s)|\n")


def excerpt(note: str, start: int, end: int, width: int = EXCERPT_CHARS) -> str:
    """The note's words around ``[start, end)``: at most ``width`` characters, cut at clause or line ends."""
    side = max(0, (width - (end - start)) // 2)
    lo = max(0, start - side)
    left = note[lo:start]
    cuts = list(_CLAUSE_END.finditer(left))
    if cuts:
        lo += cuts[-1].end()
    hi = min(len(note), end + side)
    cut = _CLAUSE_END.search(note[end:hi])
    if cut:
        hi = end + cut.start() + 1
    return " ".join(note[lo:hi].split())


def _title(c: Candidate) -> str:
    t = " ".join(c.title.split())
    return t if len(t) <= TITLE_CHARS else t[: TITLE_CHARS - 1].rstrip() + "…"


def messages_for(note: str, questions: Sequence[Question], encounter: Encounter,
                 principal: Sequence[Candidate] = ()) -> list[dict[str, str]]:
    """The chat messages of one call: the fixed system prompt, then the questions' own lines."""
    lines = [f"Setting: {encounter.setting}."]
    for q in questions:
        m = q.candidates[0].mention
        section = (m.section or "body").replace("_", " ")
        lines.append(f"{q.key}. \"{excerpt(note, m.start, m.end)}\" ({section})")
        lines.extend(f"   {c.code}: {_title(c)}" for c in q.candidates)
    if len(principal) > 1:
        lines.append(f"{FIRST}: which of these is the main reason for the encounter?")
        lines.extend(f"   {c.code}: {_title(c)}" for c in principal)
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}]


def validate_answer(obj: dict[str, Any] | None, slots: Sequence[Slot]) -> dict[str, str] | None:
    """The answer as {key: option} if it is an object holding every slot with one of its options; else None."""
    if not isinstance(obj, dict):
        return None
    Model = create_model("Answer", **{f"k{i}": (str, ...) for i in range(len(slots))})
    try:
        parsed = Model.model_validate({f"k{i}": obj.get(s.key) for i, s in enumerate(slots)})
    except ValidationError:
        return None
    values = {s.key: getattr(parsed, f"k{i}").strip() for i, s in enumerate(slots)}
    if any(values[s.key] not in s.options for s in slots):
        return None
    return values


class Adjudicator:
    """Puts a note's open questions to a loaded model, ``BATCH`` to a call, on the runtime's model thread.

    ``cancel`` stops the current call at its next model step and every later one.
    """

    def __init__(self, runtime: ChoosingRuntime, encounter: Encounter | None = None, *,
                 cancel: threading.Event | None = None, record: bool = False) -> None:
        self.runtime = runtime
        self.encounter = encounter or Encounter()
        self.cancel = cancel or threading.Event()
        self.record = record
        self.stats = AdjudicationStats()

    def decide(self, note: str, questions: Sequence[Question],
               principal: Sequence[Candidate] = ()) -> Iterator[Decisions]:
        """One ``Decisions`` per call, in order; the principal is asked with the last batch.

        Raises:
            Cancelled: the cancel event was set.
            ModelError: a model call failed.
        """
        batches = [list(questions[i:i + BATCH]) for i in range(0, len(questions), BATCH)] or [[]]
        for n, batch in enumerate(batches):
            ask_first = principal if n == len(batches) - 1 else ()
            slots = slots_for(batch, ask_first)
            if not slots:
                continue
            messages = messages_for(note, batch, self.encounter, ask_first)
            if self.record:
                self.stats.prompts.append((messages, slots))
            answer = self.runtime.choose_json(messages, slots, cancel=self.cancel)
            if self.record:
                self.stats.answers.append(answer)
            self._count(answer, len(batch))
            values = validate_answer(_parsed(answer.text), slots)
            if values is None:
                self.stats.invalid += len(batch)
                continue
            choices = {}
            for q in batch:
                code = values[q.key]
                self.stats.none += code == NONE
                choices[q.key] = Choice(None if code == NONE else code, dict(answer.probabilities.get(q.key, {})))
            yield Decisions(choices, values.get(FIRST))

    def _count(self, answer: EnumAnswer, questions: int) -> None:
        s = self.stats
        s.calls += 1
        s.questions += questions
        s.prompt_tokens += answer.prompt_tokens
        s.prompt_evaluated += answer.prompt_evaluated
        s.generated_tokens += answer.answer_tokens
        s.model_steps += answer.model_steps
        call = getattr(self.runtime, "last_call", None)
        if call is not None:
            s.model_seconds += call.seconds


def _parsed(text: str) -> dict[str, Any] | None:
    import json

    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


__all__ = ["Adjudicator", "AdjudicationStats", "Cancelled", "Choice", "Decisions", "FIRST", "ModelError", "NONE",
           "Question", "SYSTEM_PROMPT", "excerpt", "messages_for", "schema_for", "slots_for", "validate_answer"]
