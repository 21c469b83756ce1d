"""From a note to ranked suggestions, as a stream of events.

1. text: sections, clauses and their context;  2. retrieval: dictionary candidates per clause;
3. (with a model) adjudication among each clause's candidates;  4. setting rules and deduplication;
5. calibrated confidence. The first event carries retrieval results at once; model answers refine them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from medcoder_desktop.core.conventions import apply_conventions
from medcoder_desktop.core.conventions.section_iv import diagnosis_statements
from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.textnorm import STOPWORDS, words
from medcoder_desktop.core.engine.confidence import Calibration, load_calibration
from medcoder_desktop.core.engine.adjudicate import Cancelled, Choice
from medcoder_desktop.core.engine.combination import add_combinations
from medcoder_desktop.core.engine.family import family_history_candidates
from medcoder_desktop.core.engine.fit import encounter_fit
from medcoder_desktop.core.engine.retrieve import Candidate, candidates_for, systems_for
from medcoder_desktop.core.engine.status_post import is_status_post, status_post_candidates
from medcoder_desktop.core.engine.text import mentions
from medcoder_desktop.core.models import Encounter, Evidence, Mention, Suggestion
from medcoder_desktop.errors import InvalidInputError, ModelError

if TYPE_CHECKING:
    from medcoder_desktop.core.preferences.ranking import PreferenceRanker

MAX_NOTE_CHARS = 200_000
DROP = {"negated": "negated", "family": "family history", "hypothetical": "hypothetical"}
ASSESSMENT = {"assessment", "plan", "chief_complaint", "procedures"}

# Adjudicator: (note, a mention's candidates) -> the model's Choice (a candidate, or None = none fits),
# or None when its answer was invalid. May raise Cancelled (stop) or ModelError (the model failed).
Adjudicator = Callable[[str, list[Candidate]], "Choice | None"]
# Mentions whose best candidate would stay this far below the display threshold even if the model chose
# it are not worth a model call.
ADJUDICATE_FLOOR = 0.25


class SuggestEvent(BaseModel):
    kind: Literal["candidates", "refined", "done"]
    suggestions: list[Suggestion] = Field(default_factory=list)
    stats: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


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
    model_sha256: str | None = None,
    preferences: PreferenceRanker | None = None,
) -> Iterator[SuggestEvent]:
    """Suggestions for one note: a ``candidates`` event, ``refined`` events, then ``done``.

    ``preferences``: the organization's (core/preferences), applied by ``build``; None changes nothing.
    """
    note = validate_note(note)
    encounter = encounter or Encounter()
    t0 = time.perf_counter()
    systems = systems_for(encounter, set(dictionary.code_sets()))
    fit = encounter_fit(note, encounter)
    per_mention: list[list[Candidate]] = []
    kept: list[Mention] = []
    dropped = 0
    for m in mentions(note):
        if m.family and not (m.negated or m.hypothetical):  # a relative's condition: family-history Z codes
            dropped += 1
            if fam := family_history_candidates(dictionary, note, m, systems, fit.allows):
                per_mention.append(fam)
            continue
        if any(getattr(m, k) for k in DROP) or (m.uncertain and encounter.setting == "outpatient"):
            dropped += 1
            continue
        kept.append(m)
        if is_status_post(note, m):  # a past event: its status or history code, never the acute one
            cands = status_post_candidates(dictionary, note, m, systems, fit.allows)
        else:
            cands = candidates_for(dictionary, note, m, systems, fit.allows)
        if cands:
            per_mention.append(cands)
    if "ICD-10-CM" in systems:
        per_mention = add_combinations(dictionary, note, kept, per_mention)
        per_mention = _external_causes_with_injuries_only(per_mention)
    t_retrieval = (time.perf_counter() - t0) * 1000
    calib = load_calibration(model_sha256 if adjudicate is not None else None)
    suggestions = build(dictionary, per_mention, encounter, {}, calib, preferences, note=note)
    yield SuggestEvent(kind="candidates", suggestions=suggestions,
                       stats={"retrieval_ms": round(t_retrieval, 1), "mentions": len(per_mention),
                              "dropped_by_context": dropped})
    choices: dict[int, Choice] = {}
    warnings: list[str] = []
    asked = invalid = 0
    if adjudicate is not None:
        for i in _worth_asking(per_mention, calib):
            if cancelled():
                warnings.append("cancelled")
                break
            try:
                choice = adjudicate(note, per_mention[i])
            except Cancelled:
                warnings.append("cancelled")
                break
            except ModelError as exc:
                warnings.append(f"The model stopped answering ({exc}); the rest comes from the dictionary.")
                break
            asked += 1
            if choice is None:
                invalid += 1
                continue
            choices[i] = choice
            yield SuggestEvent(kind="refined",
                               suggestions=build(dictionary, per_mention, encounter, choices, calib, preferences, note=note))
    final = build(dictionary, per_mention, encounter, choices, calib, preferences, note=note)
    yield SuggestEvent(kind="done", suggestions=final, warnings=warnings,
                       stats={"total_ms": round((time.perf_counter() - t0) * 1000, 1),
                              "retrieval_ms": round(t_retrieval, 1), "mentions": len(per_mention),
                              "adjudicated": asked, "invalid_answers": invalid})


def _external_causes_with_injuries_only(per_mention: list[list[Candidate]]) -> list[list[Candidate]]:
    """External-cause codes (V00-Y99: "activity, running", "fall on same level") only describe how an
    injury happened (guideline I.C.20): without an injury code (S/T) among the note's best candidates,
    they are dropped."""
    if any(c.system == "ICD-10-CM" and c.code[:1] in "ST" and c.rank == 0 for cands in per_mention for c in cands):
        return per_mention
    kept = [[c for c in cands if not (c.system == "ICD-10-CM" and c.code[:1] in "VWXY")] for cands in per_mention]
    return [c for c in kept if c]


def _worth_asking(per_mention: list[list[Candidate]], calib: Calibration) -> list[int]:
    """Mentions to put to the model, in note order: those whose best candidate could be shown."""
    keep = []
    for i, cands in enumerate(per_mention):
        best = max(calib.confidence(_features(c, chosen=True)) for c in cands)
        if best >= calib.threshold * ADJUDICATE_FLOOR:
            keep.append(i)
    return keep


def _features(c: Candidate, *, chosen: bool = False, rejected: bool = False) -> dict[str, float]:
    return {"score": c.score, "d": c.d, "q": c.q, "margin": min(c.margin, 0.5), "top": float(c.rank == 0),
            "mentions": 0.25, "assessment": float(c.mention.section in ASSESSMENT),
            "historical": float(c.mention.historical), "uncertain": float(c.mention.uncertain),
            "billable": float(c.billable), "words": min(c.matched_words, 8) / 8,
            "llm_chose": float(chosen), "llm_rejected": float(rejected), "compact": _compact(c)}


def _compact(c: Candidate) -> float:
    """Matched words over the content words of the evidence span: 1.0 for "hypertension", low for "lesion in the
    right hepatic" (a wording gathered across a clause)."""
    said = [w for w in words(c.evidence.text) if w not in STOPWORDS]
    return min(1.0, c.matched_words / len(said)) if said else 0.0


def build(dictionary: Dictionary, per_mention: list[list[Candidate]], encounter: Encounter,
          choices: dict[int, Choice], calib: Calibration | None = None,
          preferences: PreferenceRanker | None = None, note: str = "") -> list[Suggestion]:
    """Aggregate candidates by code, apply the model's choices, deduplicate, score, apply the organization's
    preferences (learned shifts and rules, after confidence: see core/preferences/ranking.py), then the
    tabular conventions and setting rules (core/conventions), and rank."""
    calib = calib or load_calibration()
    by_code: dict[tuple[str, str], dict] = {}
    for i, cands in enumerate(per_mention):
        choice = choices.get(i)
        for c in cands:
            chosen = choice is not None and choice.code == c.code
            x = _features(c, chosen=chosen, rejected=choice is not None and not chosen)
            key = (c.system, c.code)
            agg = by_code.get(key)
            if agg is None:
                by_code[key] = {"best": c, "x": x, "evidence": [c.evidence], "mentions": 1,
                                "reason": choice.reason if chosen and choice else ""}
            else:
                agg["mentions"] += 1
                if c.evidence not in agg["evidence"]:
                    agg["evidence"].append(c.evidence)
                if x["score"] + x["llm_chose"] > agg["x"]["score"] + agg["x"]["llm_chose"]:
                    agg["best"], agg["x"] = c, x
                    if chosen and choice and choice.reason:
                        agg["reason"] = choice.reason
    parents = _codes_with_descendants(by_code)
    statements = diagnosis_statements(note) if note else ()
    out: list[Suggestion] = []
    for (system, code), agg in by_code.items():
        if (system, code.replace(".", "")) in parents:
            continue  # a specific code beats its own parent
        agg["x"]["mentions"] = min(agg["mentions"], 4) / 4
        agg["x"].update(_list_features(system, code, agg["evidence"], statements, encounter))
        conf = calib.confidence(agg["x"])
        c: Candidate = agg["best"]
        out.append(Suggestion(
            code=code, system=system, title=c.title, confidence=conf,
            reasoning=_reasoning(c, agg, encounter, choices),
            evidence=sorted(agg["evidence"], key=lambda e: e.start), billable=c.billable,
            source="llm" if agg["x"]["llm_chose"] else "retrieval", context=c.mention.context,
            suggested=conf >= calib.threshold,
        ))
    out = _site_beats_unspecified_site(out)
    if preferences is not None:
        out = preferences.apply(out, encounter, calib.threshold)
    out = apply_conventions(dictionary, out, note, encounter, calib.threshold)
    out.sort(key=lambda s: (-s.confidence, s.evidence[0].start if s.evidence else 0))
    return out


def _list_features(system: str, code: str, evidence: list[Evidence], statements, encounter: Encounter) -> dict:
    """Where the code stands beside the note's diagnosis list (core/conventions/section_iv.py): on it, off it in
    an outpatient note that has one, and whether it is a symptom (chapter 18)."""
    listed = any(a <= e.start and e.end <= b for e in evidence for a, b in statements)
    return {"listed": float(listed),
            "unlisted": float(bool(statements) and encounter.setting == "outpatient" and not listed),
            "symptom": float(system == "ICD-10-CM" and code.startswith("R"))}


def _neoplasm_kind(code: str) -> str | None:
    """"malignant" (C00-C96), "other" (D00-D49: in situ, benign, uncertain or unspecified behavior) or None."""
    if code[:1] == "C" and code[1:3].isdigit():
        return "malignant"
    if code[:1] == "D" and code[1:3].isdigit() and int(code[1:3]) <= 49:
        return "other"
    return None


# The unspecified-site codes, and the neoplasm kinds whose sited codes replace them.
_UNSPECIFIED_SITE = {"C80.1": {"malignant"}, "C80.0": {"malignant"}, "D49.9": {"malignant", "other"},
                     "D48.9": {"malignant", "other"}, "D36.9": {"malignant", "other"}}


def _site_beats_unspecified_site(out: list[Suggestion]) -> list[Suggestion]:
    """A neoplasm without a site ("the tumor", "carcinoma") is, in a note that names one with its site, that
    one: the unspecified-site code goes when a suggested neoplasm code names a site."""
    sited = {_neoplasm_kind(s.code) for s in out
             if s.system == "ICD-10-CM" and s.suggested and s.code not in _UNSPECIFIED_SITE}
    sited.discard(None)
    if not sited:
        return out
    return [s for s in out if not (s.system == "ICD-10-CM" and _UNSPECIFIED_SITE.get(s.code, set()) & sited)]


def _codes_with_descendants(keys) -> set[tuple[str, str]]:
    """(system, undotted code) of every code that has a more specific code among ``keys``: one pass over
    each key's prefixes, so that a long note with many codes stays linear (not every pair compared)."""
    out: set[tuple[str, str]] = set()
    for system, code in keys:
        plain = code.replace(".", "")
        out.update((system, plain[:n]) for n in range(1, len(plain)))
    return out


def _reasoning(c: Candidate, agg: dict, encounter: Encounter, choices: dict) -> str:
    words = f"“{c.evidence.text}”"
    where = f" ({c.mention.section.replace('_', ' ')})" if c.mention.section not in ("", "body") else ""
    parts = [f"The note says {words}{where}; the code reads “{c.title}”."]
    if agg["mentions"] > 1:
        parts.append(f"Documented {agg['mentions']} times.")
    if agg["x"]["llm_chose"]:
        said = f" (“{agg['reason']}”)" if agg.get("reason") else ""
        parts.append(f"The model chose it among the dictionary's candidates{said}.")
    elif agg["x"]["llm_rejected"]:
        parts.append("The model preferred another candidate, or none.")
    if c.mention.uncertain:
        parts.append("Documented as uncertain: coded as if established (inpatient).")
    if c.mention.family:
        parts.append("A relative's condition: the family-history code, not the condition itself.")
    elif c.mention.historical:
        parts.append("Documented as history: check it is still present.")
    if not c.billable:
        parts.append("Not billable: choose a more specific code.")
    return " ".join(parts)
