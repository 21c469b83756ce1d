"""One code per condition (Official Guidelines I.B.1, I.B.9, I.B.10): the most specific code the note supports,
once.

* a parent beside its own child: the child stays ("I25.1" beside "I25.10");
* an unspecified code beside a specific sibling of the same category ("Pain in unspecified knee" beside "Pain in
  right knee", "Type 2 diabetes mellitus without complications" beside "... with hyperglycemia"): the specific
  one stays;
* a component beside the combination code that contains it: a code all of whose evidence lies inside the evidence
  of a combination code that says more ("polyneuropathy" inside "diabetic polyneuropathy"), unless the
  combination's "use additional code" note asks for it; essential hypertension (I10) beside a hypertensive
  heart or kidney disease code (I11-I16), which already says it; and hypertensive heart disease (I11) or
  hypertensive chronic kidney disease (I12) beside hypertensive heart and chronic kidney disease (I13).
"""

from __future__ import annotations

import re

from medcoder_desktop.core.conventions.context import Context, is_cm, with_reason
from medcoder_desktop.core.conventions.tabular import plain
from medcoder_desktop.core.models import Suggestion

_UNSPECIFIED = re.compile(r"\bunspecified\b|\bwithout complications\b|\bNOS\b", re.I)
_HYPERTENSIVE = ("I11", "I12", "I13", "I15", "I16")
# Chapters whose codes name a condition one at a time; Z (status, history) and external causes name other facts.
_CONDITION = re.compile(r"^[A-TV-Y]")
# A combination code names two conditions, or one with its manifestation or complication (I.B.9).
_COMBINATION = re.compile(r"\b(?:with|due to|in diseases|and)\b(?! unspecified)", re.I)


def _is_ancestor(a: str, b: str) -> bool:
    pa, pb = plain(a), plain(b)
    return pa != pb and pb.startswith(pa)


_LINKING = {"of", "in", "on", "the", "a", "an", "and", "or", "with", "without", "to", "due", "for", "by", "site",
            "part", "other", "specified", "unspecified", "complications", "nos", "type", "organism"}


def _said(title: str) -> set[str]:
    """The words a title states, singular, without linking words and its own "unspecified"."""
    return {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", title.lower()) if w not in _LINKING}


def unspecified_beside(ctx: Context, s: Suggestion, other: Suggestion) -> bool:
    """``s`` is the unspecified code of a category in which ``other`` is a specific code of the same condition
    ("Pain in right knee" for "Pain in unspecified knee", "Epigastric pain" for "Unspecified abdominal pain").
    Not when ``s`` says more than ``other`` ("Nausea with vomiting, unspecified" is no unspecified "Nausea") or
    names another condition ("Vomiting, unspecified" beside "Nausea")."""
    if plain(s.code)[:3] != plain(other.code)[:3] or s.code == other.code:
        return False
    if not _UNSPECIFIED.search(s.title) or _UNSPECIFIED.search(other.title):
        return False
    mine, theirs = _said(s.title), _said(other.title)
    return bool(mine & theirs) and not theirs < mine


def _inside(s: Suggestion, combo: Suggestion) -> bool:
    return bool(s.evidence) and all(any(c.start <= e.start and e.end <= c.end and (c.start, c.end) != (e.start, e.end)
                                        for c in combo.evidence) for e in s.evidence)


def _component_of(ctx: Context, s: Suggestion, combo: Suggestion) -> bool:
    if s.code == "I10" and plain(combo.code)[:3] in _HYPERTENSIVE:
        return True
    if plain(s.code)[:3] in ("I11", "I12") and plain(combo.code)[:3] == "I13":
        return True  # heart and kidney involvement both: I13 says each (guideline I.C.9.a.3)
    if not (_CONDITION.match(s.code) and _CONDITION.match(combo.code) and _COMBINATION.search(combo.title)) \
            or not _inside(s, combo):
        return False
    asked = ctx.tab.ranges(combo.code, "use_additional")
    return not any(r.covers(s.code) for _, r in asked)


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    cm = [s for s in suggestions if is_cm(s)]
    out: list[Suggestion] = []
    notes: dict[str, list[str]] = {}
    for s in suggestions:
        why = None
        if is_cm(s):
            for o in cm:
                if o is s or (s.suggested and not o.suggested):
                    continue  # a code not shown removes nothing that is
                if _is_ancestor(s.code, o.code):
                    why = (o.code, f"{s.code} is a parent of {o.code}: the specific code stays.")
                elif unspecified_beside(ctx, s, o):
                    why = (o.code, f"{s.code} (unspecified) gave way to the specific {o.code}.")
                elif _component_of(ctx, s, o):
                    why = (o.code, f"{s.code} is part of the combination code {o.code}, which says it.")
                if why:
                    break
        if why is None:
            out.append(s)
            continue
        ctx.removed.append((s.code, why[1]))
        notes.setdefault(why[0], []).append(why[1])
    return [with_reason(s, "One code per condition: " + " ".join(notes[s.code])) if s.code in notes and is_cm(s)
            else s for s in out]
