"""The model's turn: choose among a mention's dictionary candidates, or none.

The model never writes a code of its own. Its answer is generated under a JSON schema whose ``code``
field is an enum of the mention's candidate codes plus ``"none"``; the answer is then validated again
with pydantic, and anything that does not validate is dropped and counted (``Adjudicator.invalid``).

Every prompt starts with the same system message, so llama.cpp serves that prefix from its KV cache
and only the mention's own lines are evaluated per call (see ``LlamaRuntime``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator

from medcoder_desktop.core.engine.llm_runtime import Cancelled, LlamaRuntime
from medcoder_desktop.core.engine.retrieve import Candidate
from medcoder_desktop.core.models import Encounter
from medcoder_desktop.errors import ModelError

NONE = "none"
MAX_CANDIDATES = 6  # more would lengthen every prompt for codes that are rarely right
MAX_REASON_CHARS = 160
CONTEXT_CHARS = 220  # note text shown around the mention, cut at sentence or line ends
MAX_TOKENS = 72

SYSTEM_PROMPT = (
    "You are a certified medical coder. You are shown one finding from a clinical note and a short list of "
    "candidate codes that the official code set matched to it. Choose the one candidate that the note's words "
    "support, or \"none\" when no candidate fits: the finding is denied, belongs to a family member, is only "
    "planned or suspected in an outpatient visit, or the codes describe something else. Prefer the most specific "
    "code that the words support. Never answer a code that is not in the list. Reply with JSON "
    "{\"code\": \"...\", \"reason\": \"...\"}; the reason quotes the note's words in at most fifteen words."
)


class Answer(BaseModel):
    """One validated model answer."""

    code: str
    reason: str = ""

    @field_validator("code")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()


@dataclass
class Choice:
    """What the model made of one mention: a candidate code, or None when no candidate fits."""

    code: str | None
    reason: str = ""


@dataclass
class AdjudicationStats:
    calls: int = 0
    invalid: int = 0  # answers dropped: not JSON, not in the schema, or a code outside the candidates
    none: int = 0  # answers that no candidate fits
    model_seconds: float = 0.0
    prompt_tokens: int = 0
    prompt_reused: int = 0
    completion_tokens: int = 0
    prompts: list[list[dict[str, str]]] = field(default_factory=list)  # kept only when record=True


def schema_for(codes: list[str]) -> dict[str, Any]:
    """The JSON schema of an answer: ``code`` is one of ``codes`` or "none"."""
    return {
        "type": "object",
        "properties": {
            "code": {"type": "string", "enum": [*codes, NONE]},
            "reason": {"type": "string", "maxLength": MAX_REASON_CHARS},
        },
        "required": ["code", "reason"],
    }


_BOUNDARY = re.compile(r"[.!?](?=\s)|\n")


def surrounding_text(note: str, start: int, end: int, width: int = CONTEXT_CHARS) -> str:
    """The note around ``[start, end)``: up to ``width`` characters each side, cut at sentence or line ends."""
    lo = max(0, start - width)
    left = note[lo:start]
    cuts = list(_BOUNDARY.finditer(left))
    if cuts:
        lo += cuts[-1].end()
    hi = min(len(note), end + width)
    right = note[end:hi]
    cut = _BOUNDARY.search(right)
    if cut:
        hi = end + cut.end()
    return " ".join(note[lo:hi].split())


def messages_for(note: str, cands: list[Candidate], encounter: Encounter) -> list[dict[str, str]]:
    """The chat messages for one mention: the fixed system prompt, then the mention's own lines."""
    m = cands[0].mention
    flags = ", ".join(m.context) or "none"
    lines = [
        f"Setting: {encounter.setting}. Section: {(m.section or 'body').replace('_', ' ')}.",
        f"Note: \"{surrounding_text(note, m.start, m.end)}\"",
        f"Finding: \"{' '.join(m.text.split())}\" (context: {flags})",
        "Candidates:",
        *(f"- {c.code}: {c.title}" for c in cands[:MAX_CANDIDATES]),
    ]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}]


def validate_answer(obj: dict[str, Any] | None, codes: list[str]) -> Answer | None:
    """The answer if it is a JSON object naming one of ``codes`` or "none"; else None."""
    if obj is None:
        return None
    try:
        answer = Answer.model_validate(obj)
    except ValidationError:
        return None
    if answer.code != NONE and answer.code not in codes:
        return None
    answer.reason = " ".join(answer.reason.split())[:MAX_REASON_CHARS]
    return answer


def grounded_reason(reason: str, note: str) -> str:
    """Keep the model's reason only when it quotes the note: two consecutive words of it, or none."""
    words = re.findall(r"[a-z0-9]+", reason.lower())
    text = " " + " ".join(re.findall(r"[a-z0-9]+", note.lower())) + " "
    for a, b in zip(words, words[1:]):
        if len(a) + len(b) >= 6 and f" {a} {b} " in text:
            return reason
    return ""


class Adjudicator:
    """Asks a loaded model to choose among each mention's candidates (one call per mention).

    Calls go through the runtime's single model thread; ``cancel`` stops the current call at its
    next token and every later one.
    """

    def __init__(self, runtime: LlamaRuntime, encounter: Encounter | None = None, *,
                 cancel: threading.Event | None = None, record: bool = False) -> None:
        self.runtime = runtime
        self.encounter = encounter or Encounter()
        self.cancel = cancel or threading.Event()
        self.record = record
        self.stats = AdjudicationStats()

    def __call__(self, note: str, cands: list[Candidate]) -> Choice | None:
        """The model's choice for one mention; None when its answer was invalid (dropped and counted).

        Raises:
            Cancelled: the cancel event was set.
            ModelError: the model call failed.
        """
        shown = cands[:MAX_CANDIDATES]
        codes = [c.code for c in shown]
        messages = messages_for(note, shown, self.encounter)
        if self.record:
            self.stats.prompts.append(messages)
        obj, _raw = self.runtime.chat_json(messages, schema_for(codes), max_tokens=MAX_TOKENS, cancel=self.cancel)
        self.stats.calls += 1
        call = self.runtime.last_call
        if call is not None:
            self.stats.model_seconds += call.seconds
            self.stats.prompt_tokens += call.prompt_tokens
            self.stats.prompt_reused += call.prompt_reused
            self.stats.completion_tokens += call.completion_tokens
        answer = validate_answer(obj, codes)
        if answer is None:
            self.stats.invalid += 1
            return None
        if answer.code == NONE:
            self.stats.none += 1
            return Choice(None, grounded_reason(answer.reason, note))
        return Choice(answer.code, grounded_reason(answer.reason, note))


__all__ = ["Adjudicator", "AdjudicationStats", "Answer", "Cancelled", "Choice", "ModelError", "SYSTEM_PROMPT",
           "messages_for", "schema_for", "surrounding_text", "validate_answer", "grounded_reason"]
