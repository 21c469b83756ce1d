""""Status post" is a status, never the acute condition (guidelines I.C.21.c.3, I.C.21.c.4): "status post CABG" is
Z95.1 (presence of aortocoronary bypass graft), "s/p kidney transplant" Z94.0, "status post myocardial infarction"
I25.2 (old myocardial infarction), not I21.9.

A mention introduced by "status post" / "s/p" is looked up as any mention is, then each condition or procedure it
names becomes the code the dictionary finds for it among the codes that record a past event: status, presence of a
device or graft, acquired absence, personal history, old, sequela. Where there is none, the acute code is not a
candidate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.retrieve import Candidate, candidates_for, strict_search
from medcoder_desktop.core.dictionary.textnorm import words
from medcoder_desktop.core.models import Evidence, Mention

SYSTEM = "ICD-10-CM"
MIN_SCORE = 0.4
_TRIGGER = re.compile(r"\b(?:status\s+post|s/p)\b", re.I)
_LEADING = re.compile(r"^\s*(?:status\s+post|s/p)\b[\s:-]*", re.I)
# Titles of the codes that record what happened before: the only codes a "status post" mention can have.
_PAST = re.compile(r"\bstatus\b|^presence of|^acquired absence|^personal history|^old |^history of|\bsequelae?\b|"
                   r"^dependence on|^encounter for (?:surgical )?aftercare", re.I)


def is_status_post(note: str, mention: Mention) -> bool:
    """Whether ``mention`` says "status post" (or "s/p") of what it names: the words stand in it or just
    before it."""
    return bool(_TRIGGER.search(mention.text)) or bool(
        re.search(r"(?:status\s+post|s/p)\s*[:-]?\s*$", note[max(0, mention.start - 20):mention.start], re.I))


def _after_trigger(mention: Mention) -> Mention | None:
    """The mention from the words after "status post" on (they name what happened), or None when nothing follows."""
    last = None
    for last in _TRIGGER.finditer(mention.text):
        pass
    if last is None:
        return mention
    cut = last.end() + len(mention.text[last.end():]) - len(mention.text[last.end():].lstrip(" :-"))
    if cut >= len(mention.text):
        return None
    return mention.model_copy(update={"text": mention.text[cut:], "start": mention.start + cut})


def status_code(dictionary: Dictionary, words: str) -> tuple[str, str, float] | None:
    """(code, title, search score) of the best code recording ``words`` as a past event, or None."""
    said = _LEADING.sub("", words).strip()
    if not said:
        return None
    for query in (f"status post {said}", f"history of {said}"):
        for code, title, billable, score in strict_search(dictionary, query, 40, {SYSTEM}, must=said):
            if billable and score >= MIN_SCORE and _PAST.search(title):
                return code, title, score
    return None


def status_post_candidates(dictionary: Dictionary, note: str, mention: Mention, systems: set[str],
                           fits: Callable[[str, str, str], bool] | None = None) -> list[Candidate]:
    """The mention's candidates with each condition or procedure turned into its status / history code; the
    acute codes themselves are left out."""
    out: list[Candidate] = []
    seen: set[str] = set()
    mention = _after_trigger(mention)
    if mention is None:
        return []
    found_for_mention = status_code(dictionary, mention.text)
    for c in candidates_for(dictionary, note, mention, systems, fits):
        if c.system != SYSTEM or _PAST.search(c.title):
            if c.code not in seen:
                seen.add(c.code)
                out.append(c)
            continue
        if c.rank != 0:
            continue
        found = status_code(dictionary, c.evidence.text) or found_for_mention
        if found is None or found[0] in seen:
            continue
        seen.add(found[0])
        out.append(replace(c, code=found[0], title=found[1], billable=True, alternatives=[]))
    if not out and found_for_mention is not None and SYSTEM in systems:  # "s/p CABG": no acute reading at all
        code, title, score = found_for_mention
        span = Evidence(start=mention.start, end=mention.end, text=mention.text)
        out.append(Candidate(code=code, system=SYSTEM, title=title, billable=True, score=score, q=1.0, d=score,
                             mention=mention, evidence=span, matched_words=len(words(mention.text)), rank=0,
                             margin=score))
    return out
