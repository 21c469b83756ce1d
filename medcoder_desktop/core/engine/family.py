"""Family history is not the patient's condition (guideline I.C.21.c.4): "mother had breast cancer" is Z80.3, family
history of malignant neoplasm of breast, never C50.919.

A mention read as a relative's ("family history of", "her father has", the family-history section) is looked up as
any mention is; each condition it names (its best candidate) becomes the family-history code (Z80-Z84) the
dictionary finds for "family history of <the words>" or "family history of <the condition's title>", and the
condition code itself is never a candidate. A condition without a family-history code is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.retrieve import Candidate, candidates_for, strict_search
from medcoder_desktop.core.models import Mention

FAMILY_HISTORY = ("Z80", "Z81", "Z82", "Z83", "Z84")
MIN_SCORE = 0.5  # a family-history code must hold the condition's words, not only "family history"
SYSTEM = "ICD-10-CM"


def family_history_code(dictionary: Dictionary, *said: str) -> tuple[str, str] | None:
    """(code, title) of the family-history code for a condition said in one of the ways ``said`` (most specific
    first: the clause, the condition's words, its title)."""
    for s in said:
        query = f"family history of {s}"
        for code, title, billable, score in strict_search(dictionary, query, 10, {SYSTEM}, must=s):
            if billable and code.startswith(FAMILY_HISTORY) and score >= MIN_SCORE:
                return code, title
    return None


def family_history_candidates(dictionary: Dictionary, note: str, mention: Mention, systems: set[str],
                              fits: Callable[[str, str, str], bool] | None = None) -> list[Candidate]:
    """The family-history codes for the conditions a relative's mention names (empty when none)."""
    if SYSTEM not in systems:
        return []
    out: list[Candidate] = []
    seen: set[str] = set()
    for c in candidates_for(dictionary, note, mention, {SYSTEM}, fits):
        if c.rank != 0 or c.code[:1] in "RVWXYZ":  # a symptom or a circumstance has no family-history code
            continue
        found = family_history_code(dictionary, mention.text, c.evidence.text, c.title)
        if found is None or found[0] in seen:
            continue
        seen.add(found[0])
        out.append(replace(c, code=found[0], title=found[1], billable=True, alternatives=[]))
    return out
