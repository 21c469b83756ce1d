"""The trimester the note states (guideline I.C.15.a.3): "gestational hypertension, 31 weeks" is O13.3 (third
trimester), not O13.9 (unspecified trimester).

A pregnancy code whose title says "unspecified trimester" moves to the code of the same category that says the
trimester instead, when the note states one: "first / second / third trimester", or the weeks of gestation
(first: before 14 weeks; second: 14 to 27 weeks; third: 28 weeks on, as the guidelines count them). The line of the
evidence decides first; else the note, when it states only one trimester. The 7th character is kept.
"""

from __future__ import annotations

import re

from medcoder_desktop.core.conventions.context import Context, is_cm, with_reason
from medcoder_desktop.core.conventions.laterality import sided_code
from medcoder_desktop.core.models import Suggestion

RULE = "trimester"
_NAMED = re.compile(r"\b(first|second|third|1st|2nd|3rd)\s+trimester\b", re.I)
_WEEKS = re.compile(
    r"\b(\d{1,2})(?:\s*(?:\+|and)\s*\d\s*(?:days?|d)?)?\s*(?:-\s*)?(?:weeks?|wks?)(?:'|\s+and\s+\d\s+days?)?\s+"
    r"(?:of\s+)?(?:gestation|pregnan|gestational|GA\b|EGA\b|IUP\b)|"
    r"\b(?:gestational age|GA|EGA)\s*(?:of|:|is|was)?\s*(\d{1,2})\s*(?:weeks?|wks?)", re.I)
_ORDINAL = {"first": "first", "1st": "first", "second": "second", "2nd": "second", "third": "third", "3rd": "third"}


def _from_weeks(weeks: int) -> str | None:
    if weeks < 1 or weeks > 45:
        return None
    return "first" if weeks < 14 else "second" if weeks < 28 else "third"


def stated_trimesters(text: str) -> set[str]:
    """The trimesters ``text`` states, by name or by weeks of gestation."""
    out = {_ORDINAL[m.group(1).lower()] for m in _NAMED.finditer(text)}
    for m in _WEEKS.finditer(text):
        t = _from_weeks(int(m.group(1) or m.group(2)))
        if t:
            out.add(t)
    return out


def _line(note: str, start: int, end: int) -> str:
    a = note.rfind("\n", 0, start) + 1
    b = note.find("\n", end)
    return note[a:b if b >= 0 else len(note)]


def trimester_for(ctx: Context, s: Suggestion) -> str | None:
    for e in s.evidence:
        said = stated_trimesters(_line(ctx.note, e.start, e.end))
        if len(said) == 1:
            return said.pop()
    said = stated_trimesters(ctx.note)
    return said.pop() if len(said) == 1 else None


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    out: list[Suggestion] = []
    moved: set[str] = set()
    for s in suggestions:
        if not (is_cm(s) and s.code.startswith("O") and "unspecified trimester" in s.title.lower()
                and (trimester := trimester_for(ctx, s))):
            out.append(s)
            continue
        found = sided_code(ctx, s.code, s.title, trimester)  # one word apart: "unspecified" -> the trimester
        if found is None:
            out.append(s)
            continue
        code, title = found
        moved.add(code)
        out.append(with_reason(s, f"The note states the trimester ({trimester}): {code}, not {s.code} "
                                  "(unspecified trimester).", code=code, title=title))
    # the trimester's own code, found elsewhere in the note, is now this one
    seen: set[str] = set()
    final = []
    for s in out:
        if s.code in seen or (s.code in moved and "The note states the trimester" not in s.reasoning):
            continue
        seen.add(s.code)
        final.append(s)
    return final
