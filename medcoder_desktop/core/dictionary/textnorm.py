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
# One pass over the original text, so every token keeps its character offsets.
_TOKEN = re.compile(r"w/o\b|w/(?=\s|[a-z])|&|[a-z0-9]+(?:'s\b)?(?:\.(?=[\s,;:)]|$))?", re.I)
_SHORTHAND = {"w/o": "without", "w/": "with", "&": "and", "1st": "first", "2nd": "second", "3rd": "third",
              "4th": "fourth"}
TOKEN_RE = _TOKEN  # kept for callers that only need the pattern

# Words that carry no meaning for coding in a query sentence: pronouns, auxiliaries, articles,
# reporting verbs. They are never spelling-corrected (so "her" does not become "hernia").
STOPWORDS = frozenset(
    """a an the this that these those is are was were be been being am has have had having do does did
    he she his her hers him they them their theirs it its i me my we our you your
    patient patients pt who whom which what when where while there here also as
    suffers suffering suffered suffer experiences experienced experiencing experience presents presented
    presenting diagnosed diagnosis dx noted seen found reports reported complains complained
    shows showed shown known having currently now today recently just very some any
    revealed reveals revealing showing consulted underwent undergoing developed develops began begins started
    mr mrs ms miss dr may""".split()
)


# Main terms of the Alphabetic Index that, alone, name no condition a note would be coded for: the Index lists them
# for the coder who already knows the encounter's reason ("Examination Z00.00", "Observation Z04.9", "Old (previous)
# I25.2"), but a note says "examination", "old", "stress", "activity" about anything. The bundled Index leaves their
# own line out (resources/derive_index.py) and a one-word mention of one supports no code.
GENERIC_MAIN_TERMS = frozenset({
    "admission", "aftercare", "attention", "care", "checking", "check-up", "complaint", "contact", "counseling",
    "dependence", "encounter", "evaluation", "examination", "exposure", "finding", "findings", "follow-up",
    "history", "observation", "old", "problem", "procedure", "reflex", "result", "screening", "status", "stress",
    "test", "visit", "activity", "good", "over", "personal", "well", "normal", "change", "changes", "state",
    "condition", "disease", "disorder", "syndrome", "illness", "sickness", "lesion", "mass",
    # Their default is "congenital malformation, unspecified" (Q89.9), but a note's "filling defect", "deformity of
    # the ankle" or "anomaly on imaging" is no congenital malformation: the subterms say which one is.
    "defect", "deformity", "anomaly", "malformation", "abnormal",
    # A word of everyday and clinical use alike: "cold therapy", "a cold area on scintigraphy", "cold pressure
    # test" are no common cold (J00); "common cold", "head cold" still are.
    "cold",
    # "transient" says how long, not who: the Index's "Transient (homeless)" is not "transient loss of vision"
    "transient",
})


def tokens(text: str) -> list[tuple[str, bool, int, int]]:
    """Lower-case word tokens as (word, followed by a period, start, end) in ``text``.

    "w/" and "w/o" become with / without, "&" and, "2nd" second; "'s" is dropped.
    """
    out = []
    for m in _TOKEN.finditer(text):
        raw = m.group(0).lower()
        dotted = raw.endswith(".")
        word = raw.rstrip(".")
        if word.endswith("'s"):
            word = word[:-2]
        out.append((_SHORTHAND.get(word, word), dotted, m.start(), m.end()))
    return out


def raw_tokens(text: str) -> list[tuple[str, bool]]:
    """Lower-case word tokens, each with whether a period followed it ("unspec." -> ("unspec", True))."""
    return [(w, dotted) for w, dotted, _, _ in tokens(text)]


def words(text: str) -> list[str]:
    return [w for w, _ in raw_tokens(text)]


# Snowball strips "-itis" down to the organ's own stem ("thyroiditis" -> "thyroid", "prostatitis" -> "prostat",
# "urethritis" -> "urethr"): a note naming the organ would then name its inflammation. A word ending in "-itis"
# (or its plural "-itides") keeps that ending as its own stem.
_INFLAMMATION = re.compile(r"(?:itis|itides)$")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    if word.isdigit():
        return word
    if len(word) > 6 and _INFLAMMATION.search(word):
        return word[:-6] + "itis" if word.endswith("itides") else word
    return _STEMMER.stemWord(word)


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, tuple[str, ...]]:
    """The curated clinical abbreviations of ``resources/abbreviations.tsv``: abbreviation -> words.

    An abbreviation may have several expansions (one per line); each becomes an alternative.
    """
    return _read_table("abbreviations.tsv")


@lru_cache(maxsize=1)
def abbreviation_contexts() -> dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]]:
    """When an abbreviation means what a line of ``resources/abbreviations.tsv`` says: (abbreviation, expansion)
    -> (words of which one must stand in the note, words that must not stand beside it), from the optional third
    column ("+leukemia +marrow -tenderness"). "CVA" is a stroke, but "CVA tenderness" an exam finding; "AML" a
    leukemia only in a note that speaks of leukemia, marrow or blasts."""
    out: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {}
    with resource("abbreviations.tsv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 3 or row[0].startswith("#") or not row[2].strip():
                continue
            marks = row[2].split()
            need = frozenset(stem(w[1:].lower()) for w in marks if w.startswith("+"))
            avoid = frozenset(stem(w[1:].lower()) for w in marks if w.startswith("-"))
            out[(" ".join(words(row[0])), row[1].strip().lower())] = (need, avoid)
    return out


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Note wording -> ICD-10-CM title wording (``resources/synonyms.tsv``), single words only."""
    return {k: v for k, v in _read_table("synonyms.tsv").items() if " " not in k and v != (k,)}


def _read_table(name: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    with resource(name).open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#") or len(row) < 2:
                continue
            key = " ".join(words(row[0]))
            table.setdefault(key, []).append(row[1].strip().lower())
    return {k: tuple(v) for k, v in table.items()}
