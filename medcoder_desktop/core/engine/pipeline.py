"""From a note to ranked suggestions, as a stream of events.

1. text: sections, clauses and their context;  2. retrieval: dictionary candidates per clause;
3. (with a model) the questions retrieval leaves open, a few to a call;  4. setting rules and deduplication;
5. calibrated confidence. The first event carries retrieval results at once; model answers refine them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from medcoder_desktop.core.conventions import apply_conventions
from medcoder_desktop.core.conventions.section_iv import diagnosis_statements
from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.textnorm import STOPWORDS, words
from medcoder_desktop.core.engine.confidence import Calibration, load_calibration, shown
from medcoder_desktop.core.engine.adjudicate import Adjudicator, Cancelled, Choice, Question
from medcoder_desktop.core.engine.questions import open_questions, principal_options
from medcoder_desktop.core.engine.combination import add_combinations
from medcoder_desktop.core.engine.family import family_history_candidates
from medcoder_desktop.core.engine.fit import encounter_fit
from medcoder_desktop.core.engine.reranking import Reranker
from medcoder_desktop.core.engine.retrieve import Candidate, candidates_for, results_called_abnormal, systems_for
from medcoder_desktop.core.engine.procedures import SYSTEM as PCS
from medcoder_desktop.core.engine.procedures import procedure_candidates
from medcoder_desktop.core.engine.neoplasm_table import neoplasm_table_candidates, with_table_codes
from medcoder_desktop.core.engine.status_post import is_status_post, status_post_candidates
from medcoder_desktop.core.engine.text import mentions
from medcoder_desktop.core.models import Encounter, Evidence, Mention, SuggestEvent, Suggestion
from medcoder_desktop.core.notefile import MAX_NOTE_CHARS, validate_note  # noqa: F401 - MAX_NOTE_CHARS: said here too
from medcoder_desktop.errors import ModelError

DROP = {"negated": "negated", "family": "family history", "hypothetical": "hypothetical"}
ASSESSMENT = {"assessment", "plan", "chief_complaint", "procedures"}


def suggest_events(
    dictionary: Dictionary,
    note: str,
    encounter: Encounter | None = None,
    adjudicate: Adjudicator | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    model_sha256: str | None = None,
    preferences: Reranker | None = None,
) -> Iterator[SuggestEvent]:
    """Suggestions for one note: a ``candidates`` event, ``refined`` events, then ``done``.

    ``preferences``: the organization's (core/preferences), applied by ``build``; None changes nothing.
    """
    note = validate_note(note)
    encounter = encounter or Encounter()
    t0 = time.perf_counter()
    systems = systems_for(encounter, set(dictionary.code_sets()))
    searched = systems - {PCS}  # ICD-10-PCS titles are not a note's words: the procedure index reads them
    fit = encounter_fit(note, encounter)
    per_mention: list[list[Candidate]] = []
    kept: list[Mention] = []
    dropped = 0
    for m in mentions(note):
        if m.family and not (m.negated or m.hypothetical):  # a relative's condition: family-history Z codes
            dropped += 1
            if fam := family_history_candidates(dictionary, note, m, searched, fit.allows):
                per_mention.append(fam)
            continue
        if any(getattr(m, k) for k in DROP) or (m.uncertain and encounter.setting == "outpatient"):
            dropped += 1
            continue
        kept.append(m)
        if is_status_post(note, m):  # a past event: its status or history code, never the acute one
            cands = status_post_candidates(dictionary, note, m, searched, fit.allows)
        else:
            cands = with_table_codes(neoplasm_table_candidates(dictionary, note, m, searched, fit.allows),
                                     candidates_for(dictionary, note, m, searched, fit.allows))
        if cands:
            per_mention.append(cands)
    per_mention = results_called_abnormal(per_mention)
    per_mention += procedure_candidates(dictionary, note, systems)
    if "ICD-10-CM" in systems:
        per_mention = add_combinations(dictionary, note, kept, per_mention)
        per_mention = _external_causes_with_injuries_only(per_mention)
    t_retrieval = (time.perf_counter() - t0) * 1000
    # Retrieval's own calibration scores what retrieval found and picks the open questions; the model's
    # (fitted for its SHA-256) scores what comes after its answers.
    retrieval_calib = load_calibration(None)
    calib = load_calibration(model_sha256) if adjudicate is not None else retrieval_calib
    suggestions = build(dictionary, per_mention, encounter, {}, retrieval_calib, preferences, note=note)
    yield SuggestEvent(kind="candidates", suggestions=suggestions,
                       stats={"retrieval_ms": round(t_retrieval, 1), "mentions": len(per_mention),
                              "dropped_by_context": dropped})
    choices: dict[int, Choice] = {}
    first: str | None = None
    warnings: list[str] = []
    questions: list[Question] = []
    if adjudicate is not None and cancelled():
        warnings.append("cancelled")
    elif adjudicate is not None:
        questions = open_questions(per_mention, suggestions, retrieval_calib.threshold)
        principal = principal_options(suggestions)
        by_key = {q.key: q for q in questions}
        try:
            for decisions in adjudicate.decide(note, questions, principal):
                for key, choice in decisions.choices.items():
                    for i in by_key[key].mentions:
                        choices[i] = choice
                first = decisions.first or first
                yield SuggestEvent(kind="refined", suggestions=build(
                    dictionary, per_mention, encounter, choices, calib, preferences, note=note, first=first))
                if cancelled():
                    warnings.append("cancelled")
                    break
        except Cancelled:
            warnings.append("cancelled")
        except ModelError as exc:
            warnings.append(f"The model stopped answering ({exc}); the rest comes from the dictionary.")
    final = build(dictionary, per_mention, encounter, choices, calib, preferences, note=note, first=first)
    stats = {"total_ms": round((time.perf_counter() - t0) * 1000, 1), "retrieval_ms": round(t_retrieval, 1),
             "mentions": len(per_mention), "questions": len(questions)}
    if adjudicate is not None:
        a = adjudicate.stats
        stats.update({"adjudicated": a.questions, "invalid_answers": a.invalid, "model_calls": a.calls,
                      "model_ms": round(a.model_seconds * 1000, 1), "prompt_tokens": a.prompt_tokens,
                      "prompt_evaluated": a.prompt_evaluated, "generated_tokens": a.generated_tokens,
                      "model_steps": a.model_steps})
    else:
        stats.update({"adjudicated": 0, "invalid_answers": 0})
    yield SuggestEvent(kind="done", suggestions=final, warnings=warnings, stats=stats)


def _external_causes_with_injuries_only(per_mention: list[list[Candidate]]) -> list[list[Candidate]]:
    """External-cause codes (V00-Y99: "activity, running", "fall on same level") only describe how an
    injury happened (guideline I.C.20): without an injury code (S/T) among the note's best candidates,
    they are dropped."""
    if any(c.system == "ICD-10-CM" and c.code[:1] in "ST" and c.rank == 0 for cands in per_mention for c in cands):
        return per_mention
    kept = [[c for c in cands if not (c.system == "ICD-10-CM" and c.code[:1] in "VWXY")] for cands in per_mention]
    return [c for c in kept if c]


def _features(c: Candidate, *, chosen: bool = False, rejected: bool = False, p: float = 0.0,
              asked: bool = False) -> dict[str, float]:
    return {"llm_p": p, "llm_asked": float(asked), "score": c.score, "d": c.d, "q": c.q, "margin": min(c.margin, 0.5), "top": float(c.rank == 0),
            "mentions": 0.25, "assessment": float(c.mention.section in ASSESSMENT),
            "historical": float(c.mention.historical), "uncertain": float(c.mention.uncertain),
            "billable": float(c.billable), "words": min(c.matched_words, 8) / 8,
            "llm_chose": float(chosen), "llm_rejected": float(rejected), "compact": _compact(c),
            "procedure": float(c.system == PCS)}


def _compact(c: Candidate) -> float:
    """Matched words over the content words of the evidence span: 1.0 for "hypertension", low for "lesion in the
    right hepatic" (a wording gathered across a clause)."""
    said = [w for w in words(c.evidence.text) if w not in STOPWORDS]
    return min(1.0, c.matched_words / len(said)) if said else 0.0


def build(dictionary: Dictionary, per_mention: list[list[Candidate]], encounter: Encounter,
          choices: dict[int, Choice], calib: Calibration | None = None,
          preferences: Reranker | None = None, note: str = "", first: str | None = None) -> list[Suggestion]:
    """Aggregate candidates by code, apply the model's choices, deduplicate, score, apply the organization's
    preferences (learned shifts and rules, after confidence: see core/preferences/ranking.py), then the
    tabular conventions and setting rules (core/conventions), and rank."""
    calib = calib or load_calibration()
    by_code: dict[tuple[str, str], dict] = {}
    for i, cands in enumerate(per_mention):
        choice = choices.get(i)
        for c in cands:
            chosen = choice is not None and choice.code == c.code
            x = _features(c, chosen=chosen, rejected=choice is not None and not chosen,
                          p=choice.p.get(c.code, 0.0) if choice else 0.0, asked=choice is not None)
            key = (c.system, c.code)
            agg = by_code.get(key)
            if agg is None:
                by_code[key] = {"best": c, "x": x, "evidence": [c.evidence], "mentions": 1, "choice": choice}
            else:
                agg["mentions"] += 1
                if c.evidence not in agg["evidence"]:
                    agg["evidence"].append(c.evidence)
                if x["score"] + x["llm_chose"] > agg["x"]["score"] + agg["x"]["llm_chose"]:
                    agg["best"], agg["x"], agg["choice"] = c, x, choice
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
            suggested=shown(conf, calib.threshold), model_first=first is not None and code == first,
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
    parts = [f"The note says {words}{where}; the code reads “{c.title}”."] + ([c.why] if c.why else [])
    if agg["mentions"] > 1:
        parts.append(f"Documented {agg['mentions']} times.")
    choice = agg.get("choice")
    if agg["x"]["llm_chose"]:
        n = len(choice.p) - 1 if choice else 0
        among = f"chose it among {n} candidates" if n > 1 else "kept it"
        parts.append(f"The model {among} for these words (p {agg['x']['llm_p']:.2f}).")
    elif agg["x"]["llm_rejected"] and choice is not None:
        if choice.code is None:
            parts.append(f"The model judged these words not coded here (“none”, p {choice.p.get('none', 0):.2f}).")
        else:
            parts.append(f"The model preferred {choice.code} for these words.")
    if c.mention.uncertain:
        parts.append("Documented as uncertain: coded as if established (inpatient).")
    if c.mention.family:
        parts.append("A relative's condition: the family-history code, not the condition itself.")
    elif c.mention.historical:
        parts.append("Documented as history: check it is still present.")
    if not c.billable:
        parts.append("Not billable: choose a more specific code.")
    return " ".join(parts)
