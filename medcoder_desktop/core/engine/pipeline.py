"""From a note to ranked suggestions, as a stream of events.

1. text: sections, clauses and their context;  2. retrieval: dictionary candidates per clause;
3. (with a model) adjudication among each clause's candidates;  4. setting rules and deduplication;
5. calibrated confidence. The first event carries retrieval results at once; model answers refine them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Literal

from pydantic import BaseModel, Field

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.confidence import load_calibration
from medcoder_desktop.core.engine.retrieve import Candidate, candidates_for, systems_for
from medcoder_desktop.core.engine.text import mentions
from medcoder_desktop.core.models import Encounter, Evidence, Suggestion
from medcoder_desktop.errors import InvalidInputError

MAX_NOTE_CHARS = 200_000
DROP = {"negated": "negated", "family": "family history", "hypothetical": "hypothetical"}
ASSESSMENT = {"assessment", "plan", "chief_complaint", "procedures"}

# Adjudicator: (note, mention candidates) -> the chosen code or None (none fits), raises nothing.
Adjudicator = Callable[[str, list[Candidate]], "str | None"]


class SuggestEvent(BaseModel):
    kind: Literal["candidates", "refined", "done"]
    suggestions: list[Suggestion] = Field(default_factory=list)
    stats: dict[str, float] = Field(default_factory=dict)


def validate_note(note: str) -> str:
    if not isinstance(note, str) or not note.strip():
        raise InvalidInputError("The note is empty: there is nothing to code.")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInputError(
            f"The note has {len(note):,} characters; at most {MAX_NOTE_CHARS:,} are coded at once. "
            "Split it into its documents."
        )
    if "\x00" in note:
        raise InvalidInputError("The note contains binary data (NUL characters); open it as text.")
    return note


def suggest_events(
    dictionary: Dictionary,
    note: str,
    encounter: Encounter | None = None,
    adjudicate: Adjudicator | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[SuggestEvent]:
    """Suggestions for one note: a ``candidates`` event, ``refined`` events, then ``done``."""
    note = validate_note(note)
    encounter = encounter or Encounter()
    t0 = time.perf_counter()
    systems = systems_for(encounter, set(dictionary.code_sets()))
    per_mention: list[list[Candidate]] = []
    dropped = 0
    for m in mentions(note):
        cands = candidates_for(dictionary, note, m, systems)
        if not cands:
            continue
        if any(getattr(m, k) for k in DROP) or (m.uncertain and encounter.setting == "outpatient"):
            dropped += len(cands)
            continue
        per_mention.append(cands)
    t_retrieval = (time.perf_counter() - t0) * 1000
    suggestions = build(dictionary, per_mention, encounter, {})
    yield SuggestEvent(kind="candidates", suggestions=suggestions,
                       stats={"retrieval_ms": round(t_retrieval, 1), "mentions": len(per_mention),
                              "dropped_by_context": dropped})
    choices: dict[int, str | None] = {}
    if adjudicate is not None:
        for i, cands in enumerate(per_mention):
            if cancelled():
                break
            choices[i] = adjudicate(note, cands)
            if len(cands) > 1 or choices[i] is None:
                yield SuggestEvent(kind="refined", suggestions=build(dictionary, per_mention, encounter, choices))
    final = build(dictionary, per_mention, encounter, choices)
    yield SuggestEvent(kind="done", suggestions=final,
                       stats={"total_ms": round((time.perf_counter() - t0) * 1000, 1),
                              "retrieval_ms": round(t_retrieval, 1), "adjudicated": len(choices)})


def build(dictionary: Dictionary, per_mention: list[list[Candidate]], encounter: Encounter,
          choices: dict[int, str | None]) -> list[Suggestion]:
    """Aggregate candidates by code, apply the model's choices, deduplicate, score and rank."""
    calib = load_calibration()
    by_code: dict[tuple[str, str], dict] = {}
    for i, cands in enumerate(per_mention):
        chosen = choices.get(i, "")
        for c in cands:
            x = {"score": c.score, "d": c.d, "q": c.q, "margin": min(c.margin, 0.5), "top": float(c.rank == 0),
                 "mentions": 1.0, "assessment": float(c.mention.section in ASSESSMENT),
                 "historical": float(c.mention.historical), "uncertain": float(c.mention.uncertain),
                 "billable": float(c.billable), "words": min(c.matched_words, 8) / 8,
                 "llm_chose": float(chosen == c.code), "llm_rejected": float(i in choices and chosen != c.code)}
            key = (c.system, c.code)
            agg = by_code.get(key)
            if agg is None:
                by_code[key] = {"best": c, "x": x, "evidence": [c.evidence], "mentions": 1}
            else:
                agg["mentions"] += 1
                if c.evidence not in agg["evidence"]:
                    agg["evidence"].append(c.evidence)
                if x["score"] + x["llm_chose"] > agg["x"]["score"] + agg["x"]["llm_chose"]:
                    agg["best"], agg["x"] = c, x
    keys = set(by_code)
    out: list[Suggestion] = []
    for (system, code), agg in by_code.items():
        if _has_kept_descendant(system, code, keys):
            continue  # a specific code beats its own parent
        agg["x"]["mentions"] = min(agg["mentions"], 4) / 4
        conf = calib.confidence(agg["x"])
        c: Candidate = agg["best"]
        out.append(Suggestion(
            code=code, system=system, title=c.title, confidence=conf,
            reasoning=_reasoning(c, agg, encounter, choices),
            evidence=sorted(agg["evidence"], key=lambda e: e.start), billable=c.billable,
            source="llm" if agg["x"]["llm_chose"] else "retrieval", context=c.mention.context,
            suggested=conf >= calib.threshold,
        ))
    out.sort(key=lambda s: (-s.confidence, s.evidence[0].start if s.evidence else 0))
    return out


def _has_kept_descendant(system: str, code: str, keys: set[tuple[str, str]]) -> bool:
    plain = code.replace(".", "")
    return any(s == system and k != code and k.replace(".", "").startswith(plain) for s, k in keys)


def _reasoning(c: Candidate, agg: dict, encounter: Encounter, choices: dict) -> str:
    words = f"“{c.evidence.text}”"
    where = f" ({c.mention.section.replace('_', ' ')})" if c.mention.section not in ("", "body") else ""
    parts = [f"The note says {words}{where}; the code reads “{c.title}”."]
    if agg["mentions"] > 1:
        parts.append(f"Documented {agg['mentions']} times.")
    if agg["x"]["llm_chose"]:
        parts.append("The model chose it among the dictionary's candidates.")
    elif agg["x"]["llm_rejected"]:
        parts.append("The model preferred another candidate.")
    if c.mention.uncertain:
        parts.append("Documented as uncertain: coded as if established (inpatient).")
    if c.mention.historical:
        parts.append("Documented as history: check it is still present.")
    if not c.billable:
        parts.append("Not billable: choose a more specific code.")
    return " ".join(parts)
