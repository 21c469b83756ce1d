"""A morphology said with its site is coded from the Neoplasm Table by that site (guideline I.C.2; the Index: "Adenoma
- see also Neoplasm, benign, by site", "Tumor - see also Neoplasm, unspecified behavior, by site"): "pituitary
adenoma" is D35.2 (Neoplasm, pituitary, benign), "liver metastases" C78.7, "tumor of the kidney" D49.51-.

Which column a morphology word points to is read from the Index itself: a main term whose paths lead, most of them,
to codes of one behavior (benign D10-D36, malignant primary C00-C76, in situ D00-D09 ...) spread over many sites is
that behavior's morphology ("Adenoma", "Carcinoma", "Adenocarcinoma", "Sarcoma"). A main term whose codes sit in one
or two categories has site codes of its own (Melanoma C43, Nevus D22) and is left to the Index. The generic words,
whose Index entries are only "see also" references, are named here as the Index names them.

A mention holding such a word and at least one word of a Neoplasm Table site gets that site's code in that column as
a candidate, ranked first: the site the note names is what a coder codes, not the morphology's unspecified site.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

import numpy as np

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.textnorm import stem, words
from medcoder_desktop.core.engine.retrieve import MIN_DOC_COVERAGE, Candidate, note_stems
from medcoder_desktop.core.models import Evidence, Mention

SYSTEM = "ICD-10-CM"
COLUMN = {  # behavior -> the Neoplasm Table's column, as the bundled table names it
    "primary": "Malignant Primary", "secondary": "Malignant Secondary", "in_situ": "Ca in situ",
    "benign": "Benign", "uncertain": "Uncertain Behavior", "unspecified": "Unspecified Behavior",
}
# The Index's "see also Neoplasm, <column>, by site" for words whose own entries are only such references.
SEE_ALSO = {
    "tumor": "unspecified", "tumour": "unspecified", "neoplasm": "unspecified",
    "metastasis": "secondary", "metastases": "secondary", "metastatic": "secondary",
    "cancer": "primary", "malignancy": "primary",
}
MIN_SHARE = 0.7  # of a main term's paths that lead to one behavior
MIN_SITES = 4  # categories of that behavior among them
MAX_ONE_SITE = 0.5  # the most of them one category may hold (else the term has site codes of its own)
MIN_SCORE = 0.3
WHOLE_ROW = 0.95  # share of a row's words the note must say for it to stand in for its site's header row
_MAIN = re.compile(r"\([^()]*\)")


def behavior(code: str) -> str | None:
    """The Neoplasm Table column a code belongs to (None: not a code of the table, e.g. lymphoma C81-C96)."""
    k = code.replace(".", "").rstrip("-")[:3]
    if len(k) < 3 or not k[1:].isdigit():
        return None
    n = int(k[1:])
    if k[0] == "C":
        return "primary" if n <= 76 or n == 80 else "secondary" if n <= 79 else None
    if k[0] == "D":
        return ("in_situ" if n <= 9 else "benign" if n <= 36 else "uncertain" if n <= 48
                else "unspecified" if n == 49 else None)
    return None


@lru_cache(maxsize=4)
def _morphologies(dictionary: Dictionary) -> dict[str, str]:
    """Stem of a morphology main term -> its behavior, read from the dictionary's Index paths."""
    counts: dict[str, Counter[str | None]] = defaultdict(Counter)
    cats: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for term, code in dictionary.db.execute(
            "select term, code from index_terms where system = ? and term not like 'Neoplasm%'", [SYSTEM]):
        main = _MAIN.sub(" ", term.split(",")[0]).strip().lower()
        if " " in main or not main:
            continue
        b = behavior(code)
        counts[main][b] += 1
        if b:
            cats[main, b][code[:3]] += 1
    out: dict[str, str] = {}
    for main, c in counts.items():
        found = [(n, b) for b, n in c.items() if b]
        if not found:
            continue
        n, b = max(found)
        sites = cats[main, b]
        if n / sum(c.values()) >= MIN_SHARE and len(sites) >= MIN_SITES and max(sites.values()) / n <= MAX_ONE_SITE:
            out[stem(main)] = b
    out.update({stem(w): b for w, b in SEE_ALSO.items()})
    return out


def _table_stems(dictionary: Dictionary) -> tuple[int | None, set[int]]:
    engine = dictionary.engine
    words = {"neoplasm", "neoplastic"} | {w.lower() for col in COLUMN.values() for w in col.split()}
    ids = {engine.stem_id.get(stem(w)) for w in words}
    return engine.stem_id.get(stem("neoplasm")), {i for i in ids if i is not None}


@lru_cache(maxsize=8)
def _column_docs(dictionary: Dictionary, column: str) -> np.ndarray:
    """The search documents that are Neoplasm Table paths of one column (sorted document numbers)."""
    engine = dictionary.engine
    ix = engine.ix
    neoplasm = engine.stem_id.get(stem("neoplasm"))
    wanted = {engine.stem_id.get(stem(w)) for w in column.lower().split()}
    if neoplasm is None or None in wanted:
        return np.zeros(0, dtype=np.int64)
    others = _distinct(engine) - wanted
    out = []
    for d in np.flatnonzero(ix.doc_main == neoplasm).tolist():
        toks = set(ix.doc_tok[ix.doc_ptr[d]:ix.doc_ptr[d + 1]].tolist())
        # the column's words and no other column's ("unspecified whether descended ..., Uncertain Behavior")
        if wanted <= toks and not toks & others:
            out.append(d)
    return np.asarray(out, dtype=np.int64)


def _distinct(engine) -> set[int]:
    """The words that tell the columns apart."""
    return {engine.stem_id.get(stem(w)) for w in ("primary", "secondary", "situ", "benign", "uncertain")} - {None}


_BETWEEN = re.compile(r"[\s\-]*")  # what may stand between a site's words and the morphology ("renal-cell")
_AFTER = frozenset({"of", "in", "on", "at"})
MAX_SITE_WORDS = 3


def _site_words(text: str, slots: list, morph_slot, morph_stems: set[str], engine) -> tuple[list, list]:
    """The words that name the morphology's site: those written right before it ("pituitary adenoma", "renal cell
    carcinoma") and those after "of / in / on / at" ("adenocarcinoma of the sigmoid colon"), unless these lead to
    another morphology ("metastasis of renal cell carcinoma" names the primary, not the metastasis' site).
    Returned apart: (before, after)."""
    ordered = sorted(slots, key=lambda s: s.start)
    i = ordered.index(morph_slot)
    # a word a synonym reads as several ("carcinoma": malignant neoplasm) stands in one place: skip its other slots
    same = [s for s in ordered if s.start == morph_slot.start and s.end == morph_slot.end]
    ordered = [s for s in ordered if s is morph_slot or s not in same]
    i = ordered.index(morph_slot)
    before = []
    for s in reversed(ordered[:i]):
        nxt = (before[0] if before else morph_slot)
        if s.word in _AFTER or not _BETWEEN.fullmatch(text[s.end:nxt.start]) or len(before) >= MAX_SITE_WORDS:
            break
        before.insert(0, s)
    after = []
    rest = ordered[i + 1:]
    if rest and rest[0].word in _AFTER:
        for s in rest[1:]:
            if s.word in _AFTER or len(after) >= MAX_SITE_WORDS or re.search(r"[,;:.()]", text[
                    (after[-1].end if after else rest[0].end):s.start]):
                break
            if any(engine.ix.stems[a] in morph_stems for a in s.alts):
                after = []
                break
            after.append(s)
    return before, after


@lru_cache(maxsize=4)
def _site_stems(dictionary: Dictionary) -> frozenset[int]:
    """The stems of the Neoplasm Table's site words, once a dictionary."""
    engine = dictionary.engine
    return frozenset(i for w in dictionary.neoplasm_site_words(SYSTEM) if (i := engine._stem_of_word(w)) is not None)


def neoplasm_table_candidates(dictionary: Dictionary, note: str, mention: Mention, systems: set[str],
                              fits: Callable[[str, str, str], bool] | None = None) -> list[Candidate]:
    """The Neoplasm Table codes for the morphology and site a mention names (empty when it names none)."""
    if SYSTEM not in systems:
        return []
    engine = dictionary.engine
    morph = _morphologies(dictionary)
    if not any(stem(w) in morph for w in words(mention.text)):  # most mentions: no query to read
        return []
    slots = engine.read_query(mention.text, strict=True, note=note_stems(note))
    # the words as written: "mass" read as "neoplasm", "carcinoma" as "malignant neoplasm" are not what was said
    said = [(s, morph[engine.ix.stems[s.written]]) for s in slots
            if s.written is not None and engine.ix.stems[s.written] in morph]
    if not said:  # a word a synonym reads as other words ("metastases": secondary malignant neoplasm)
        for w in re.finditer(r"[A-Za-z]+", mention.text):
            if (b := morph.get(stem(w.group(0).lower()))) is not None:
                at = [s for s in slots if s.start <= w.start() and w.end() <= s.end]
                if at:
                    said.append((at[0], b))
    if not said:
        return []
    neoplasm, table_words = _table_stems(dictionary)
    if neoplasm is None:
        return []
    out: list[Candidate] = []
    spread = False  # "metastasis of renal cell carcinoma in ovary": the site after the primary's is the spread's
    for morph_slot, b in said:  # the first morphology the mention names with a site
        before, after = _site_words(mention.text, slots, morph_slot, set(morph), engine)
        if spread:
            b, before = "secondary", []
        spread = spread or b == "secondary"
        site = [s for s in before + after if not (set(s.alts) & table_words)]
        if not site:
            continue
        site_stems = _site_stems(dictionary)
        named = {id(s) for s in site if set(s.alts) & site_stems}
        column = engine.read_query(f"neoplasm {COLUMN[b]}")
        ranked = engine.rank_slots(site + column, 10, {SYSTEM}, only=_column_docs(dictionary, COLUMN[b]))
        rows = dictionary.rows_by_rowid([r.code_rowid for r in ranked])
        header = ""
        for r in ranked:
            if r.d < MIN_DOC_COVERAGE:
                continue
            hit = engine.matched(site, r.doc)
            # where the mention names a site, the row must be that site's, not a morphology's row under another
            # ("skin NOS, squamous cell carcinoma" is not "squamous cell carcinoma of the larynx")
            if not hit or r.score < MIN_SCORE or (named and not any(s in named for s in map(id, hit))):
                continue
            system, code, title, billable = rows[r.code_rowid]
            if not billable and (default := dictionary.default_billable(system, code)):
                code, title, billable = default[0], default[1], 1
            if header and (not code.startswith(header) or r.d < WHOLE_ROW):
                # another site's row ("breast, skin" C44.501), or a row saying more than the note ("breast,
                # inflammatory"), does not stand in for the site's own
                continue
            if not billable:  # the site's row needs a choice the note does not make: only its own codes may follow
                header = header or code[:3]
                continue
            if fits is not None and not fits(system, code, title):
                continue
            start = mention.start + min(s.start for s in [morph_slot, *hit])
            end = mention.start + max(s.end for s in [morph_slot, *hit])
            d = max(r.d, _title_said(title, note[start:end], b))
            out.append(Candidate(
                code=code, system=system, title=title, billable=True, score=max(r.score, r.q ** 0.5 * d), q=r.q, d=d,
                mention=mention, evidence=Evidence(start=start, end=end, text=note[start:end]),
                matched_words=len(hit) + 1, rank=0, margin=r.score,
            ))
            break
        if out:
            break
    return out


# What a morphology word says of a code's title: the neoplasm and its behavior ("adenocarcinoma": malignant
# primary neoplasm), beside the site the note names.
_BEHAVIOR_WORDS = {
    "primary": "malignant neoplasm primary", "secondary": "secondary malignant neoplasm",
    "in_situ": "carcinoma in situ neoplasm", "benign": "benign neoplasm",
    "uncertain": "neoplasm of uncertain behavior", "unspecified": "neoplasm of unspecified behavior",
}


def _title_said(title: str, said: str, behavior: str) -> float:
    """The share of the code title's words that the note's words (the site) and the morphology (the neoplasm and
    its behavior) say: "adenocarcinoma of the sigmoid colon" says all of "Malignant neoplasm of sigmoid colon"."""
    from medcoder_desktop.core.dictionary.textnorm import STOPWORDS

    wanted = {stem(w) for w in words(title)} - {stem(w) for w in STOPWORDS}
    known = {stem(w) for w in words(said)} | {stem(w) for w in words(_BEHAVIOR_WORDS[behavior])}
    return len(wanted & known) / len(wanted) if wanted else 0.0


def with_table_codes(table: list[Candidate], found: list[Candidate]) -> list[Candidate]:
    """A mention's candidates with the Neoplasm Table's first: the others keep their order, one rank lower, and
    a code found both ways is kept once (the table's)."""
    if not table:
        return found
    codes = {c.code for c in table}
    rest = [replace(c, rank=c.rank + 1) for c in found if c.code not in codes]
    for c in table:
        c.alternatives = [o.code for o in rest][:4]
    return table + rest
