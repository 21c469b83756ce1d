"""Candidates for each mention: dictionary codes, with the words of the note that support them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.models import Encounter, Evidence, Mention

# A candidate must hold at least this share of its own wording in the mention.
MIN_DOC_COVERAGE = 0.5
PER_MENTION = 8  # hits read per mention
DIAGNOSES = {"ICD-10-CM"}
PROCEDURES = {"inpatient": {"ICD-10-PCS"}, "outpatient": {"HCPCS", "CPT"}}


@dataclass
class Candidate:
    """One code found for one mention."""

    code: str
    system: str
    title: str
    billable: bool
    score: float  # retrieval score, sqrt(q) * d
    q: float
    d: float
    mention: Mention
    evidence: Evidence
    matched_words: int
    rank: int  # 0 = the mention's best
    margin: float  # score minus the mention's next best score
    alternatives: list[str] = field(default_factory=list)  # other codes of the same mention


def systems_for(encounter: Encounter, available: set[str]) -> set[str]:
    """ICD-10-CM always; ICD-10-PCS for inpatient stays, HCPCS/CPT for outpatient ones when imported."""
    return (DIAGNOSES | PROCEDURES[encounter.setting]) & available


def _forms(text: str) -> set[str]:
    """Words of a wording, singular ("gouts" = "gout"), lower-cased."""
    out = set()
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        out.add(w[:-2] if w.endswith("es") and len(w) > 4 else w[:-1] if w.endswith("s") and len(w) > 3 else w)
    return out


def _word_said(dictionary: Dictionary, row: tuple, word: str) -> bool:
    """A mention of one word supports a code only when that very word (or its plural) is in the code's title or
    one of its Index paths: stemming and spelling tolerance must not turn "personal" into "personality",
    "deformed" into "deformity" or "h" into "Hartnup"."""
    system, code, title = row[:3]
    said = _forms(word)
    if not said or said & _forms(title):
        return bool(said)
    if system != "ICD-10-CM":
        return False
    terms = dictionary.index_terms_of(system, code)
    terms += dictionary.note_texts(system, [code], ["inclusion_term", "includes"])
    return any(said & _forms(t) for t in terms)


def candidates_for(dictionary: Dictionary, note: str, mention: Mention, systems: set[str],
                   fits: Callable[[str, str, str], bool] | None = None) -> list[Candidate]:
    """The codes a mention supports: the best hit, and further hits that cover other words of it.

    ``fits(system, code, title)``: False for codes that cannot fit the encounter (``fit.Fit.allows``)."""
    engine = dictionary.engine
    slots = engine.read_query(mention.text, strict=True)
    if not slots:
        return []
    ranked = engine.rank_slots(slots, PER_MENTION * (3 if fits is not None else 1), systems)
    if not ranked:
        return []
    rows = dictionary.rows_by_rowid([r.code_rowid for r in ranked])
    if fits is not None:  # read further, so that codes that cannot fit leave room for those that can
        ranked = [r for r in ranked if fits(*rows[r.code_rowid][:3])][:PER_MENTION]
    out: list[Candidate] = []
    covered: list[set[int]] = []
    for i, r in enumerate(ranked):
        if r.d < MIN_DOC_COVERAGE:
            continue
        hit_slots = engine.matched(slots, r.doc)
        if len(hit_slots) == 1 and not _word_said(dictionary, rows[r.code_rowid], note[
                mention.start + hit_slots[0].start:mention.start + hit_slots[0].end]):
            continue
        ids = {id(s) for s in hit_slots}
        # A later hit must bring words of its own: else it is a rival reading of the same words.
        rival = any(ids <= c for c in covered)
        start = mention.start + min(s.start for s in hit_slots)
        end = mention.start + max(s.end for s in hit_slots)
        system, code, title, billable = rows[r.code_rowid]
        if not billable and (default := dictionary.default_billable(system, code)):
            code, title, billable = default[0], default[1], 1  # "type 2 diabetes" -> E11.9
        nxt = ranked[i + 1].score if i + 1 < len(ranked) else 0.0
        out.append(Candidate(
            code=code, system=system, title=title, billable=bool(billable), score=r.score, q=r.q, d=r.d,
            mention=mention, evidence=Evidence(start=start, end=end, text=note[start:end]),
            matched_words=len(hit_slots), rank=len(covered) if not rival else 99, margin=r.score - nxt,
        ))
        if not rival:
            covered.append(ids)
    best = [c for c in out if c.rank != 99]
    for c in best:
        c.alternatives = [o.code for o in out if o is not c][:4]
    return best
