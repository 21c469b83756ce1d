"""Only billable codes are suggested (Official Guidelines I.A.2, I.B.1: a code is used only at its highest level
of specificity, 7th character included).

A header ("S39.012", "I25.1") becomes, in this order: the billable code below it that the note's own sentence
supports (the dictionary searched with that sentence, among the header's descendants); the 7th character the
note states (initial, subsequent, sequela; initial when it says none); the header's default code ("without
complications", "unspecified"); else it is not shown. A header the organization's preferences put in place of a
code on purpose (its coders code "R05" for "R05.9") is the organization's call and stays, its reasoning saying so.
"""

from __future__ import annotations

import re

from medcoder_desktop.core.conventions.context import Context, is_cm, sentence_around, with_reason
from medcoder_desktop.core.conventions.tabular import SYSTEM, plain
from medcoder_desktop.core.models import Suggestion

_SUBSEQUENT = re.compile(r"\bsubsequent (?:encounter|visit)\b|\broutine healing\b|\bdelayed healing\b|"
                         r"\b(?:nonunion|non-union|malunion)\b|\bhealing (?:fracture|well)\b", re.I)
_SEQUELA = re.compile(r"\bsequela[e]?\b|\blate effects?\b", re.I)


ORGANIZATION = "Organization preference:"  # core/preferences/ranking.PREFIX (no import: the rules stay light)


def encounter_kind(note: str) -> str:
    """The 7th character's meaning the note states: "sequela", "subsequent" or (by default) "initial"."""
    if _SEQUELA.search(note):
        return "sequela"
    if _SUBSEQUENT.search(note):
        return "subsequent"
    return "initial"


def _by_seventh(ctx: Context, code: str) -> tuple[str, str] | None:
    """A 7th-character extension of ``code`` (through "X" placeholders) for the encounter the note states."""
    kids = ctx.tab.children(code)
    ext = [(c, t) for c, t, b in kids if b and len(plain(c)) == 7]
    if not ext:
        return None
    wanted = encounter_kind(ctx.note)
    for c, t in ext:
        if wanted in t.lower():
            return c, t
    return ext[0][0], ext[0][1]


# Words of a child's title that state no fact of their own ("other", "unspecified", the encounter).
_EMPTY = {"unspecified", "other", "without", "with", "encounter", "initial", "subsequent", "sequela", "specified",
          "elsewhere", "classified", "site", "part", "type", "not", "and", "the", "for", "of", "in", "to", "or",
          "due", "nos", "nec",
          # guideline I.C.19.c.1: a fracture not said to be displaced is displaced, not said to be open is closed
          "displaced", "closed"}


# "not intractable", "without status migrainosus": what a child's title says is absent is the default a coder
# takes when the note says nothing (the Index's "Migraine G43.909"), not a fact the note must state.
_ABSENT = re.compile(r"\b(?:not|without)\b[^,]*", re.I)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z0-9]+", _ABSENT.sub(" ", text.lower())) if w not in _EMPTY}


def _words_said(child: str, header: str, sentence: str) -> bool:
    """Every word the child's title adds to its header's is in the note's sentence ("Rh positive" is not said
    by "blood type")."""
    return _stems(child) - _stems(header) <= _stems(sentence)


def _supported_child(ctx: Context, s: Suggestion) -> tuple[str, str] | None:
    head = plain(s.code)
    for ev in s.evidence:
        text = sentence_around(ctx.note, ev.start, ev.end)
        if not text.strip():
            continue
        try:
            hits = ctx.tab.dictionary.search(text[:500], limit=25, systems={SYSTEM})
        except Exception:  # a sentence the search refuses (empty after filtering) supports nothing
            continue
        for h in hits:
            if h.billable and plain(h.code).startswith(head) and plain(h.code) != head \
                    and _words_said(h.title, s.title, text):
                return h.code, h.title
    return None


def _encounter_of(title: str) -> str | None:
    t = title.lower()
    return next((k for k in ("sequela", "subsequent", "initial") if k in t), None)


def seventh_for_note(ctx: Context, code: str, title: str) -> tuple[str, str]:
    """A code with a 7th character, moved to the sibling whose encounter (initial, subsequent, sequela) is the
    one the note states; unchanged when it already is, or has none."""
    said = _encounter_of(title)
    row = ctx.tab.row(code)
    if said is None or row is None or len(plain(code)) != 7 or said == encounter_kind(ctx.note):
        return code, title
    return _by_seventh(ctx, row[2]) or (code, title)


def billable_for(ctx: Context, s: Suggestion) -> tuple[tuple[str, str] | None, str]:
    """(the billable code and title, how it was chosen) for a header; (None, why) when there is none."""
    if (found := _supported_child(ctx, s)) is not None:
        return seventh_for_note(ctx, *found), "the note's sentence supports it"
    if (found := _by_seventh(ctx, s.code)) is not None:
        return found, f"7th character for the {encounter_kind(ctx.note)} encounter"
    if (found := ctx.tab.dictionary.default_billable(SYSTEM, s.code)) is not None:
        return found, "the header's default code"
    return None, "no billable code below it is documented"


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    out: list[Suggestion] = []
    for s in suggestions:
        if not is_cm(s) or not ctx.tab.exists(s.code):
            out.append(s)
            continue
        if ctx.tab.billable(s.code):
            code, title = seventh_for_note(ctx, s.code, s.title)
            if code != s.code and not any(o.code == code for o in suggestions):
                s = with_reason(s, f"The note states a {encounter_kind(ctx.note)} encounter: {code}, not {s.code}.",
                                code=code, title=title)
            out.append(s)
            continue
        if ORGANIZATION in s.reasoning:  # the organization codes it so on purpose (core/preferences): its call
            out.append(s)
            continue
        found, how = billable_for(ctx, s)
        if found is None or any(o.code == found[0] for o in suggestions if o is not s):
            ctx.removed.append((s.code, f"not billable: {how}" if found is None else "not billable"))
            continue
        code, title = found
        s = s.model_copy(update={"reasoning": s.reasoning.replace(" Not billable: choose a more specific code.", "")})
        out.append(with_reason(s, f"{s.code} is a header, not billable: {code} ({how}).",
                               code=code, title=title, billable=True))
    return out
