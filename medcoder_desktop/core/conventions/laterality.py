"""Laterality the note states (guideline I.B.13): "Right elbow medial epicondylitis" is M77.01, not the
unspecified-side M77.00; "bilateral carpal tunnel syndrome" is G56.03.

A code whose title says "unspecified <site>" moves to the code of the same category whose title says the side
instead ("right", "left", "bilateral"), when the line of the note that supports it names one side (right and left
together, "both" or "bilateral": bilateral). The 7th character is kept.
"""

from __future__ import annotations

import re

from medcoder_desktop.core.conventions.context import Context, is_cm, sentence_around, with_reason
from medcoder_desktop.core.conventions.tabular import SYSTEM, plain
from medcoder_desktop.core.models import Suggestion

_SIDE = re.compile(r"\b(right|left|bilateral(?:ly)?|both)\b", re.I)


def stated_side(text: str) -> str | None:
    said = {m.group(1).lower() for m in _SIDE.finditer(text)}
    if not said:
        return None
    if said & {"bilateral", "bilaterally", "both"} or {"right", "left"} <= said:
        return "bilateral"
    return said.pop()


def _words(title: str) -> list[str]:
    return [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in re.findall(r"[a-z0-9]+", title.lower())]


def _one_word_apart(orig: list[str], cand: list[str], side: str) -> bool:
    if len(orig) != len(cand):
        return False
    diff = [(a, b) for a, b in zip(orig, cand) if a != b]
    return len(diff) == 1 and diff[0] == ("unspecified", side)


def sided_code(ctx: Context, code: str, title: str, side: str) -> tuple[str, str] | None:
    """The code of ``code``'s category that says ``side`` where ``code`` says "unspecified"."""
    p = plain(code)
    seventh = p[6] if len(p) == 7 else None
    rows = ctx.tab.db.execute(
        "select code, title from codes where system = ? and code like ? and length(code) = ? and billable = 1",
        [SYSTEM, code[:3] + "%", len(code)]).fetchall()
    orig = _words(title)
    for c, t in rows:
        if seventh and plain(c)[6:7] != seventh:
            continue
        if _one_word_apart(orig, _words(t), side if side != "bilateral" else "bilateral"):
            return c, t
    return None


def _side_for(ctx: Context, s: Suggestion) -> str | None:
    for e in s.evidence:
        line_start = ctx.note.rfind("\n", 0, e.start) + 1
        line_end = ctx.note.find("\n", e.end)
        line = ctx.note[line_start:line_end if line_end >= 0 else len(ctx.note)]
        side = stated_side(line if len(line) <= 160 else sentence_around(ctx.note, e.start, e.end, 160))
        if side:
            return side
    return None


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    out: list[Suggestion] = []
    merged: set[str] = set()
    for s in suggestions:
        if not (is_cm(s) and "unspecified" in s.title.lower() and (side := _side_for(ctx, s))):
            out.append(s)
            continue
        found = [sided_code(ctx, s.code, s.title, side)]
        if found[0] is None and side == "bilateral":  # no bilateral code: the right one and the left one
            found = [sided_code(ctx, s.code, s.title, "right"), sided_code(ctx, s.code, s.title, "left")]
        found = [f for f in found if f is not None]
        if not found:
            out.append(s)
            continue
        for code, title in found:
            # The sided code found elsewhere in the note joins this one (its evidence too), once.
            other = next((o for o in suggestions if o.code == code and o is not s), None)
            evidence = sorted({(e.start, e.end): e for e in s.evidence + (other.evidence if other else [])}.values(),
                              key=lambda e: e.start)
            merged.add(code)
            out.append(with_reason(s, f"The note says the side ({side}): {code}, not {s.code} (unspecified side).",
                                   code=code, title=title, evidence=evidence,
                                   confidence=max(s.confidence, other.confidence if other else 0.0)))
    seen: set[str] = set()
    final = []
    for s in out:
        if s.code in seen or (s.code in merged and "The note says the side" not in s.reasoning):
            continue
        seen.add(s.code)
        final.append(s)
    return final
