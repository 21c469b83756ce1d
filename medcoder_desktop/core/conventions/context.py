"""What every convention rule reads: the note, the encounter, the tabular list, and the helpers that edit a
suggestion's reasoning."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medcoder_desktop.core.conventions.tabular import SYSTEM, Tabular
from medcoder_desktop.core.models import Encounter, Suggestion

_AGE_SEX = re.compile(
    r"\b(\d{1,3})[- ](?:year|yr)s?[- ]old\b(?:\s+(?:\w+\s+){0,2}?(male|man|boy|gentleman|female|woman|girl|lady))?",
    re.I)
_FEMALE = {"female", "woman", "girl", "lady"}


@dataclass
class Context:
    """One note's facts for the rules. ``age``/``sex`` come from the encounter, else from the note's own
    "a 62-year-old male" (the first such phrase: the patient is introduced first)."""

    note: str
    encounter: Encounter
    tab: Tabular
    threshold: float = 0.5
    age: int | None = None
    sex: str | None = None
    removed: list[tuple[str, str]] = field(default_factory=list)  # (code, why): for benchmarks and tests

    def __post_init__(self) -> None:
        self.age = self.encounter.age
        self.sex = self.encounter.sex if self.encounter.sex in ("F", "M") else None
        m = _AGE_SEX.search(self.note[:2000])
        if m:
            if self.age is None and int(m.group(1)) <= 120:
                self.age = int(m.group(1))
            if self.sex is None and m.group(2):
                self.sex = "F" if m.group(2).lower() in _FEMALE else "M"


def is_cm(s: Suggestion) -> bool:
    return s.system == SYSTEM


def with_reason(s: Suggestion, sentence: str, **update) -> Suggestion:
    """A copy of ``s`` whose reasoning ends with ``sentence`` (and other fields updated)."""
    reasoning = (s.reasoning + " " + sentence).strip()
    return s.model_copy(update={"reasoning": reasoning, **update})


def hold_back(ctx: "Context", s: Suggestion, rule: str, why: str, sentence: str) -> Suggestion:
    """``s`` kept off the screen by ``rule`` whatever its confidence: counted in ``ctx.removed`` as ``why``, and
    its reasoning ends with ``sentence``."""
    ctx.removed.append((s.code, why))
    return with_reason(s, sentence, suggested=False, held_back=rule)


def sentence_around(note: str, start: int, end: int, limit: int = 300) -> str:
    """The sentence (or line) holding note[start:end], at most ``limit`` characters around it."""
    lo = max(note.rfind(". ", 0, start), note.rfind("\n", 0, start)) + 1
    hi_candidates = [i for i in (note.find(". ", end), note.find("\n", end)) if i >= 0]
    hi = min(hi_candidates) if hi_candidates else len(note)
    lo, hi = max(lo, start - limit // 2), min(hi, end + limit // 2)
    return note[lo:hi]
