"""No note text in preferences: learned wordings are dictionary vocabulary, seen in several notes.

A wording learned from a note's evidence could carry a name, a place or any other detail of a patient
(a coder's typing inside a diagnosis phrase). What is kept is only the note's words that are also words of
the dictionary (public CMS code-set vocabulary), normalized, and only once a (wording, code) pair was seen
in at least ``MIN_WORDING_NOTES`` distinct notes. Ranking reads evidence through the same filter, so
what it matches on is unchanged in kind. Packs and ``preferences.json`` hold nothing else from notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from medcoder_desktop.core.preferences.records import LearnedSource, Tally

MIN_WORDING_NOTES = 3
MAX_WORDING_CHARS = 80
Known = Callable[[str], bool]


def vocabulary(dictionary) -> Known:
    """Whether a (lower-case) word is a word of the dictionary's wordings."""
    words = dictionary.engine.word_id
    return words.__contains__


def vocabulary_wording(text: str, known: Known | None) -> str:
    """Evidence words as they are kept and compared: lower case, letters and digits, single spaces; with
    ``known``, only the dictionary's words (anything else of the note is dropped, never stored)."""
    words = re.findall(r"[^\W_]+", text.casefold())
    if known is not None:
        words = [w for w in words if known(w)]
    return " ".join(words)[:MAX_WORDING_CHARS].strip()


def sanitized(src: LearnedSource, known: Known) -> LearnedSource:
    """``src`` with wordings re-read through the vocabulary and pairs seen in fewer than
    ``MIN_WORDING_NOTES`` notes left out (for sources learned before this rule, and for every export)."""
    out: dict[str, dict[str, Tally]] = {}
    for w, by_code in src.wordings.items():
        key = vocabulary_wording(w, known)
        if not key:
            continue
        for code, t in by_code.items():
            out.setdefault(key, {}).setdefault(code, Tally()).add(t)
    kept = {w: {c: t for c, t in by_code.items() if t.n >= MIN_WORDING_NOTES} for w, by_code in out.items()}
    return src.model_copy(update={"wordings": {w: v for w, v in kept.items() if v}})
