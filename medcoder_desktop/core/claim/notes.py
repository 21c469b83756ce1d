"""The tabular notes that order codes: "code first" and "use additional code" (Official Guidelines I.A.13)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A code reference in a note: "I13.-", "I11.0", "O00-O07", "A40.-, A41.-", "(E10.4-)".
_CODE = r"[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?"
_REF = re.compile(rf"\b({_CODE})(?:\s*-\s*({_CODE})\b|\.?-)?")


@dataclass
class OrderNotes:
    """For one code: the references of its own and its ancestors' ordering notes."""

    code_first: list[tuple[str, str | None]] = field(default_factory=list)
    use_additional: list[tuple[str, str | None]] = field(default_factory=list)
    manifestation: bool = False  # "in diseases classified elsewhere", or a "code first" note of its own line


def references(text: str) -> list[tuple[str, str | None]]:
    """(start, end) code references of a note; end is None for a single code or category."""
    return [(m.group(1), m.group(2)) for m in _REF.finditer(text)]


def matches(code: str, ref: tuple[str, str | None]) -> bool:
    """Whether ``code`` is what a note's reference names (a code, a category with its children, a range)."""
    start, end = ref
    plain = code.replace(".", "")
    if end is None:
        return plain.startswith(start.replace(".", ""))
    return start.replace(".", "")[:3] <= plain[:3] <= end.replace(".", "")[:3]


def order_notes(db, code: str, ancestors: list[str]) -> OrderNotes:
    """The "code first" and "use additional" references of a code and its ancestors (chapters excluded:
    their notes speak of whole chapters, not of a neighbour on the claim)."""
    chain = [code, *[a for a in ancestors if "-" not in a or len(a) > 7]]
    marks = ",".join("?" * len(chain))
    out = OrderNotes()
    rows = db.execute(
        f"select n.code, n.kind, n.text from notes n join codes c on c.system = n.system and c.code = n.code "
        f"where n.system = 'ICD-10-CM' and n.code in ({marks}) and c.level not in ('chapter', 'block') "
        f"and n.kind in ('code_first', 'use_additional')", chain).fetchall()
    for _owner, kind, text in rows:
        refs = references(text)
        (out.code_first if kind == "code_first" else out.use_additional).extend(refs)
    title = db.execute("select title from codes where system = 'ICD-10-CM' and code = ?", [code]).fetchone()
    out.manifestation = bool(title and "classified elsewhere" in title[0].lower() and out.code_first)
    return out
