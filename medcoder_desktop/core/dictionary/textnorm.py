"""Words of medical text as the search sees them: tokens, stems, abbreviations.

The same tokenizer runs over dictionary wording at build time and over a coder's query, so the two
always agree. Stems come from the Snowball English stemmer ("healing routinely" meets "routine
healing").
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache

import snowballstemmer

from medcoder_desktop.paths import resource

_STEMMER = snowballstemmer.stemmer("english")
# "w/" and "w/o" are everywhere in notes; "&" and "+" join conditions.
_PRE = [
    (re.compile(r"\bw/o\b", re.I), " without "),
    (re.compile(r"\bw/(?=\s|[a-z])", re.I), " with "),
    (re.compile(r"&"), " and "),
    (re.compile(r"(?<=[a-z])'s\b", re.I), ""),
    (re.compile(r"\b1st\b", re.I), "first"),
    (re.compile(r"\b2nd\b", re.I), "second"),
    (re.compile(r"\b3rd\b", re.I), "third"),
    (re.compile(r"\b4th\b", re.I), "fourth"),
]
TOKEN_RE = re.compile(r"[a-z0-9]+(?:\.(?=[\s,;:)]|$))?")

# Words that carry no meaning for coding in a query sentence: pronouns, auxiliaries, articles,
# reporting verbs. They are never spelling-corrected (so "her" does not become "hernia").
STOPWORDS = frozenset(
    """a an the this that these those is are was were be been being am has have had having do does did
    he she his her hers him they them their theirs it its i me my we our you your
    patient patients pt who whom which what when where while during there here also as
    suffers suffering suffered suffer experiences experienced experiencing experience presents presented
    presenting diagnosed diagnosis dx noted seen found reports reported complains complained
    shows showed shown known having currently now today recently just very some any
    mr mrs ms miss dr""".split()
)


def preclean(text: str) -> str:
    for pattern, repl in _PRE:
        text = pattern.sub(repl, text)
    return text.lower()


def raw_tokens(text: str) -> list[tuple[str, bool]]:
    """Lower-case word tokens, each with whether a period followed it ("unspec." -> ("unspec", True))."""
    out = []
    for m in TOKEN_RE.finditer(preclean(text)):
        word = m.group(0)
        dotted = word.endswith(".")
        out.append((word.rstrip("."), dotted))
    return out


def words(text: str) -> list[str]:
    return [w for w, _ in raw_tokens(text)]


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    if word.isdigit():
        return word
    return _STEMMER.stemWord(word)


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, tuple[str, ...]]:
    """The curated clinical abbreviations of ``resources/abbreviations.tsv``: abbreviation -> words.

    An abbreviation may have several expansions (one per line); each becomes an alternative.
    """
    table: dict[str, list[str]] = {}
    with resource("abbreviations.tsv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#") or len(row) < 2:
                continue
            key = " ".join(words(row[0]))
            table.setdefault(key, []).append(row[1].strip().lower())
    return {k: tuple(v) for k, v in table.items()}
