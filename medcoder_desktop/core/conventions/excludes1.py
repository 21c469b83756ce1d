"""Excludes1 (Official Guidelines I.A.12.a): "NOT CODED HERE" — the two conditions are never coded together.

A note on the code or on any of its ancestors forbids every code its references cover (prefixes and ranges:
"(E10.-)", "(C51-C52, C60.-)"). Of two suggestions it forbids together, the better supported one stays
(shown, a diagnosis rather than a symptom, higher
confidence, then more evidence); its reasoning names the note that removed the other.
"""

from __future__ import annotations

from medcoder_desktop.core.conventions.context import Context, is_cm, with_reason
from medcoder_desktop.core.conventions.tabular import CodeRange
from medcoder_desktop.core.models import Suggestion


def forbids(ctx: Context, a: str, b: str) -> tuple[str, CodeRange] | None:
    """The Excludes1 note (its owner and range) of ``a`` or its ancestors that covers ``b``, if any."""
    for owner, rng in ctx.tab.ranges(a, "excludes1"):
        if rng.covers(b):
            return owner, rng
    return None


def pair_note(ctx: Context, a: str, b: str) -> tuple[str, CodeRange] | None:
    """The Excludes1 note that forbids ``a`` and ``b`` together, read from either side."""
    return forbids(ctx, a, b) or forbids(ctx, b, a)


def _strength(s: Suggestion) -> tuple[bool, bool, float, int]:
    """Shown before not shown; a diagnosis before a symptom or sign (chapter 18: the Excludes1 notes of R codes
    name the diagnoses that explain them, guideline I.C.18.b); then confidence and evidence."""
    return (s.suggested, not s.code.startswith("R"), s.confidence, len(s.evidence))


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    ranked = sorted(suggestions, key=_strength, reverse=True)
    kept: list[Suggestion] = []
    for s in ranked:
        if not is_cm(s):
            kept.append(s)
            continue
        clash = next(((i, k, note) for i, k in enumerate(kept)
                      if is_cm(k) and k.code != s.code and (note := pair_note(ctx, k.code, s.code))), None)
        if clash is None:
            kept.append(s)
            continue
        i, k, (owner, rng) = clash
        ctx.removed.append((s.code, f"Excludes1 at {owner} beside {k.code}"))
        kept[i] = with_reason(k, f"Excludes1 at {owner} (“{rng.text}”) removed {s.code} ({s.title}).")
    order = {(s.system, s.code): n for n, s in enumerate(suggestions)}
    return sorted(kept, key=lambda s: order.get((s.system, s.code), len(order)))
