"""The tabular list's notes as the convention rules read them: codes, parents, and the code references
of Excludes1, "use additional code" and "code first" notes, parsed into ranges.

A note such as "type 1 diabetes mellitus (E10.-)" or "malignant neoplasm of skin of genital organs (C51-C52,
C60.-, C63.2)" names codes by prefix ("E10.-": E10 and all below it) or by range of categories ("C51-C52").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from medcoder_desktop.core.dictionary import Dictionary

SYSTEM = "ICD-10-CM"
_CODE = r"[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?"
_REF = re.compile(rf"\b({_CODE})(?:\.?-)?(?:\s*-\s*({_CODE})(?:\.?-)?)?(?![0-9A-Z])")
_PAREN = re.compile(r"\(([^()]*\d[^()]*)\)")


def plain(code: str) -> str:
    return code.replace(".", "").upper()


@dataclass(frozen=True)
class CodeRange:
    """Codes from ``lo`` to ``hi`` (dotless prefixes, inclusive): a single prefix when they are equal."""

    lo: str
    hi: str
    text: str  # the note as the tabular prints it

    def covers(self, code: str) -> bool:
        c = plain(code)
        return self.lo <= c[:len(self.lo)] and c[:len(self.hi)] <= self.hi


def parse_refs(text: str) -> list[CodeRange]:
    """The code ranges a note names inside its parentheses (``"(C51-C52, C60.-, C63.2)"`` -> three)."""
    out: list[CodeRange] = []
    for group in _PAREN.findall(text):
        for m in _REF.finditer(group):
            lo, hi = plain(m.group(1)), plain(m.group(2) or m.group(1))
            out.append(CodeRange(lo, hi, text))
    return out


class Tabular:
    """Cached reads of ICD-10-CM codes and their notes from one dictionary."""

    def __init__(self, dictionary: Dictionary):
        self.db = dictionary.db
        self.dictionary = dictionary
        self.row = lru_cache(maxsize=4096)(self._row)
        self.notes = lru_cache(maxsize=4096)(self._notes)
        self.children = lru_cache(maxsize=1024)(self._children)

    def _row(self, code: str) -> tuple[str, bool, str] | None:
        """(title, billable, parent) of a code, or None when the code set lacks it."""
        r = self.db.execute("select title, billable, parent from codes where system = ? and code = ?",
                            [SYSTEM, code]).fetchone()
        return (r[0], bool(r[1]), r[2] or "") if r else None

    def _notes(self, code: str, kind: str) -> tuple[str, ...]:
        rows = self.db.execute("select text from notes where system = ? and code = ? and kind = ? order by seq",
                               [SYSTEM, code, kind]).fetchall()
        return tuple(r[0] for r in rows)

    def _children(self, code: str) -> tuple[tuple[str, str, bool], ...]:
        rows = self.db.execute("select code, title, billable from codes where system = ? and parent = ? "
                               "order by seq", [SYSTEM, code]).fetchall()
        return tuple((r[0], r[1], bool(r[2])) for r in rows)

    def exists(self, code: str) -> bool:
        return self.row(code) is not None

    def billable(self, code: str) -> bool:
        row = self.row(code)
        return bool(row and row[1])

    def title(self, code: str) -> str:
        row = self.row(code)
        return row[0] if row else ""

    def lineage(self, code: str) -> list[str]:
        """The code and its ancestors up to (not including) the block and chapter."""
        out, cur = [], code
        while cur and (row := self.row(cur)) is not None and not ("-" in cur or cur.isdigit()):
            out.append(cur)
            cur = row[2]
        return out

    def ranges(self, code: str, kind: str) -> list[tuple[str, CodeRange]]:
        """(the code or ancestor that carries the note, range) for every reference of ``kind`` notes."""
        return [(owner, r) for owner in self.lineage(code) for text in self.notes(owner, kind)
                for r in parse_refs(text)]
