"""Ranked dictionary candidates for free text.

How a query is read, word by word:
  1. a word of the dictionary's vocabulary, or one whose stem is, stands for itself;
  2. an unknown word is looked up in the curated abbreviations (``resources/abbreviations.tsv``);
  3. a word cut short ("unspec.", "hemorrh.") stands for the vocabulary words it begins;
  4. a misspelt word stands for its nearest vocabulary words (rapidfuzz, Indel similarity);
  5. a word with dropped vowels ("encntr") stands for the words it is a subsequence of;
  6. anything else (a name, a filler word) is dropped.
Each word becomes a *slot* of weighted alternatives. Documents (titles, inclusion terms, index
terms) collect the IDF of the slots they contain; the best few hundred are re-ranked by how much of
the query they cover and how much of themselves the query covers, both weighted by IDF, so that
laterality, encounter, type and acuity words decide between close siblings.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from medcoder_desktop.core.dictionary.search_index import (
    KIND_INDEX,
    KIND_TITLE,
    SYSTEMS,
    IndexArrays,
    doc_key,
    unspecified_mask,
)
from medcoder_desktop.core.dictionary.textnorm import (STOPWORDS, abbreviation_contexts, abbreviations, stem, synonyms,
                                                       tokens)

FUZZY_CUTOFF = 74.0
STRICT_FUZZY = 0.87
NON_BILLABLE = 0.97  # a category or subcategory ranks below an equally good billable code
# An Index path ("Reflux, acid") finds what no title says, but the tabular's own wording decides where both
# match as well: a title's or inclusion term's match ranks above an Index path's.
INDEX_TERM = 0.95
MAIN_TERM_MISSING = 0.3
SUBSPAN_WORDS = 8  # longest wording looked up inside a query
SUBSPAN_EXTRA = 0.2  # and a little more, times the share of the query it leaves out (a long clause)
DOTTED_LETTERS = {"l": "left", "r": "right", "b": "bilateral"}
CANDIDATES = 400
# An "unspecified" wording gives way to a sibling that holds more of the query ("left orbital floor" ->
# "..., left side", not "..., unspecified side") when that sibling scores at least this share of it.
SIBLING_SHARE = 0.8
SIBLING_POOL = 20  # codes re-ordered this way, however few are asked for


@dataclass
class Slot:
    """One query word: the stems it may stand for, each with a confidence in (0, 1]."""

    word: str
    alts: dict[int, float] = field(default_factory=dict)
    how: str = "exact"
    start: int = 0  # where the word stands in the query text
    end: int = 0
    also_at: list[int] = field(default_factory=list)  # where the same word stands again (counted once)
    written: int | None = None  # the stem of the word as written, where an abbreviation or synonym expanded it


def _placed(slots: list[Slot], start: int, end: int) -> list[Slot]:
    for s in slots:
        s.start, s.end = start, end
    return slots


@dataclass
class RankedDoc:
    code_rowid: int
    score: float
    doc: int
    q: float = 0.0  # share of the query's weight the document holds
    d: float = 0.0  # share of the document's weight the query holds


class SearchEngine:
    """Query-time side of the search index (read-only, safe to share between threads)."""

    def __init__(self, ix: IndexArrays):
        self.ix = ix
        self.n_docs = len(ix.doc_code)
        self.stem_id = {s: i for i, s in enumerate(ix.stems)}
        self.word_id = {w: i for i, w in enumerate(ix.words)}
        # Word weights come from the tabular's own wordings (titles, inclusion terms): the Index repeats
        # "with", "without", "left" in thousands of paths, and must not make them weigh less.
        tabular = ix.doc_kind != KIND_INDEX
        tok_tabular = np.repeat(tabular, np.diff(ix.doc_ptr))
        df = np.bincount(ix.doc_tok[tok_tabular], minlength=len(ix.stems)).astype(np.float64)
        n_tab = float(tabular.sum())
        self.idf = np.log((n_tab - df + 0.5) / (df + 0.5) + 1.0).astype(np.float32)
        self.sorted_words = sorted(ix.words)
        self.by_length: dict[int, list[str]] = {}
        for w in ix.words:
            if len(w) >= 3 and not w.isdigit():
                self.by_length.setdefault(len(w), []).append(w)
        self._near_length: dict[int, list[str]] = {}
        self.key_docs: dict[int, list[int]] = {}
        for d, k in enumerate(ix.doc_key.tolist()):
            self.key_docs.setdefault(k, []).append(d)
        self.abbrev = {**synonyms(), **abbreviations()}
        self.abbrev_context = abbreviation_contexts()
        weights = self.idf[ix.doc_tok] * ix.doc_w
        self.doc_total = np.add.reduceat(weights, ix.doc_ptr[:-1]).astype(np.float32)

    # -- reading the query ---------------------------------------------------------------------
    def _stem_of_word(self, w: str) -> int | None:
        i = self.word_id.get(w)
        if i is not None:
            return int(self.ix.word_stem[i])
        return self.stem_id.get(stem(w))

    def _candidates_by_length(self, n: int) -> list[str]:
        if n not in self._near_length:
            self._near_length[n] = [w for k in range(n - 2, n + 3) for w in self.by_length.get(k, [])]
        return self._near_length[n]

    def _prefix_alts(self, w: str) -> dict[int, float]:
        i = bisect.bisect_left(self.sorted_words, w)
        found = []
        while i < len(self.sorted_words) and self.sorted_words[i].startswith(w) and len(found) < 60:
            if self.sorted_words[i] != w:
                found.append(self.sorted_words[i])
            i += 1
        found.sort(key=lambda x: -int(self.ix.word_df[self.word_id[x]]))
        alts: dict[int, float] = {}
        for x in found[:4]:
            alts.setdefault(int(self.ix.word_stem[self.word_id[x]]), 0.9)
        return alts

    def _fuzzy_alts(self, w: str) -> dict[int, float]:
        if len(w) < 3 or w.isdigit():
            return {}
        cutoff = FUZZY_CUTOFF if len(w) > 3 else 85.0  # a 3-letter word: one letter missing at most
        hits = process.extract(
            w, self._candidates_by_length(len(w)), scorer=fuzz.ratio, score_cutoff=cutoff, limit=8
        )
        if not hits:
            return {}
        # Among near ties, the word seen in more documents is the likelier intent.
        ranked = sorted(
            hits, key=lambda h: -(h[1] + 2.0 * math.log1p(int(self.ix.word_df[self.word_id[h[0]]])))
        )
        best = ranked[0][1] + 2.0 * math.log1p(int(self.ix.word_df[self.word_id[ranked[0][0]]]))
        alts: dict[int, float] = {}
        for cand, score, _ in ranked:
            adj = score + 2.0 * math.log1p(int(self.ix.word_df[self.word_id[cand]]))
            if adj >= best - 4.0 and len(alts) < 3:
                alts.setdefault(int(self.ix.word_stem[self.word_id[cand]]), round(score / 100.0, 3))
        return alts

    def _strict_fuzzy_alts(self, w: str) -> dict[int, float]:
        if len(w) < 6:
            return {}
        return {s: c for s, c in self._fuzzy_alts(w).items() if c >= STRICT_FUZZY}

    def _subsequence_alts(self, w: str) -> dict[int, float]:
        # Only for words written without their vowels ("encntr", "subsq"), not for names ("Sarah").
        if len(w) < 3 or sum(ch in "aeiouy" for ch in w) > 1:
            return {}
        lo = bisect.bisect_left(self.sorted_words, w[0])
        hi = bisect.bisect_left(self.sorted_words, chr(ord(w[0]) + 1))
        found = []
        for cand in self.sorted_words[lo:hi]:
            if len(cand) <= len(w) or len(cand) > 3 * len(w):
                continue
            it = iter(cand)
            if all(ch in it for ch in w):
                found.append(cand)
        found.sort(key=lambda x: -int(self.ix.word_df[self.word_id[x]]))
        return {int(self.ix.word_stem[self.word_id[x]]): 0.8 for x in found[:2]}

    def _meant(self, w: str, beside: set[str], note: frozenset[str] | None) -> tuple[str, ...]:
        """The expansions of abbreviation ``w`` that its context allows: none whose excluded words stand
        ``beside`` it ("CVA tenderness"), and, in a note, none whose required words the note lacks ("AML" in a
        note without leukemia, marrow or blasts). A coder's typed query has no note: only ``beside`` counts."""
        out = []
        for exp in self.abbrev[w]:
            need, avoid = self.abbrev_context.get((w, exp), (frozenset(), frozenset()))
            if avoid & beside or (need and note is not None and not need & note):
                continue
            out.append(exp)
        return tuple(out)

    def _abbreviation_slots(self, w: str, expansions: tuple[str, ...]) -> list[Slot]:
        """One expansion: a slot per word. Several ("ca": carcinoma | malignant neoplasm): one slot
        that any of their words fills."""
        if len(expansions) == 1:
            sids = [(part, self._stem_of_word(part)) for part in expansions[0].split()]
            return [Slot(part, {sid: 1.0}, "abbreviation") for part, sid in sids if sid is not None]
        alts = {
            sid: 1.0
            for exp in expansions
            for sid in (self._stem_of_word(part) for part in exp.split())
            if sid is not None
        }
        return [Slot(w, alts, "abbreviation")] if alts else []

    def read_query(self, text: str, strict: bool = False, note: frozenset[str] | None = None) -> list[Slot]:
        """Slots of a query. ``strict`` (running text of a note, full of drug and proper names):
        only close misspellings are corrected and cut-short words must end with a period. ``note``: the stems
        of the whole note the query comes from, which decide what an ambiguous abbreviation means there."""
        toks = tokens(text)
        slots: list[Slot] = []
        i = 0
        while i < len(toks):
            w, dotted, start, end = toks[i]
            nxt = toks[i + 1][0] if i + 1 < len(toks) else None
            # A word split in two ("non rheumatic") that the dictionary writes as one.
            if nxt and (w not in self.word_id or nxt not in self.word_id) and (w + nxt) in self.word_id:
                slots.append(Slot(w + nxt, {self._stem_of_word(w + nxt): 1.0}, "joined", start, toks[i + 1][3]))
                i += 2
                continue
            i += 1
            if w in STOPWORDS:
                continue
            sid = self._stem_of_word(w)
            meant = ()
            if w in self.abbrev:
                beside = {stem(t[0]) for t in toks[max(0, i - 4):i + 3]}  # i already points past w
                meant = self._meant(w, beside, note)
            if w in self.abbrev and not meant and w not in synonyms():
                continue  # what the abbreviation means here is none of what the dictionary codes
            if meant:
                # Curated abbreviations expand even when the dictionary also prints them ("CKD"):
                # the word itself stays an alternative of the first slot.
                expanded = self._abbreviation_slots(w, meant)
                if expanded:
                    if sid is not None:
                        expanded[0].alts.setdefault(sid, 1.0)
                        expanded[0].written = sid
                    slots.extend(_placed(expanded, start, end))
                    continue
            if sid is not None:
                slots.append(Slot(w, {sid: 1.0}, "exact", start, end, written=sid))
                continue
            if dotted and len(w) == 1 and w in DOTTED_LETTERS:  # "l. ear", "r. knee"
                slots.append(Slot(w, {self._stem_of_word(DOTTED_LETTERS[w]): 1.0}, "abbreviation", start, end))
                continue
            # A word cut short with a period is an abbreviation first; otherwise a misspelling.
            if strict:
                order = (self._prefix_alts,) if dotted else (self._strict_fuzzy_alts,)
            else:
                order = (self._prefix_alts, self._fuzzy_alts) if dotted else (self._fuzzy_alts, self._prefix_alts)
            alts, how = {}, ""
            for fn in order + (() if strict else (self._subsequence_alts,)):
                alts = fn(w)
                if alts:
                    how = fn.__name__.strip("_").replace("_alts", "")
                    break
            if alts:
                slots.append(Slot(w, alts, how, start, end))
        # The same word twice ("heart" typed and "heart" from CHF) counts once.
        unique: dict[tuple[int, ...], Slot] = {}
        for slot in slots:
            kept = unique.setdefault(tuple(sorted(slot.alts)), slot)
            if kept is not slot:
                kept.also_at.append(slot.start)
        return list(unique.values())

    # -- ranking -------------------------------------------------------------------------------
    def rank(self, text: str, limit: int = 10, systems: set[str] | None = None) -> list[RankedDoc]:
        """The best documents' codes for ``text``, one entry per code, best first."""
        return self.rank_slots(self.read_query(text), limit, systems)

    def matched(self, slots: list[Slot], doc: int) -> list[Slot]:
        """The query words that a document contains (for evidence spans)."""
        ix = self.ix
        toks = set(ix.doc_tok[ix.doc_ptr[doc] : ix.doc_ptr[doc + 1]].tolist())
        return [s for s in slots if any(a in toks for a in s.alts)]

    def rank_slots(self, slots: list[Slot], limit: int = 10, systems: set[str] | None = None,
                   only: np.ndarray | None = None) -> list[RankedDoc]:
        """Rank for an already-read query (``only``: only these documents, a sorted array of their numbers).

        For every document: q = the share of the query's weight it contains, d = the share of its
        own weight the query contains (IDF-weighted, modifiers and context light); score = sqrt(q) * d.
        Both shares are summed over postings with numpy, so every matching document is scored.
        """
        if not slots:
            return []
        ix, idf = self.ix, self.idf
        q_hit = np.zeros(self.n_docs, dtype=np.float32)  # query weight found in the document
        d_hit = np.zeros(self.n_docs, dtype=np.float32)  # document weight found in the query
        total_q = 0.0
        for slot in slots:
            total_q += max(float(idf[s]) * c for s, c in slot.alts.items())
            if len(slot.alts) == 1:
                ((s, c),) = slot.alts.items()
                lo, hi = ix.post_ptr[s], ix.post_ptr[s + 1]
                docs = ix.post_doc[lo:hi]
                q_hit[docs] += float(idf[s]) * c
                d_hit[docs] += float(idf[s]) * ix.post_w[lo:hi]
            else:  # a slot counts once, by its best alternative present
                tq = np.zeros(self.n_docs, dtype=np.float32)
                td = np.zeros(self.n_docs, dtype=np.float32)
                for s, c in slot.alts.items():
                    lo, hi = ix.post_ptr[s], ix.post_ptr[s + 1]
                    docs = ix.post_doc[lo:hi]
                    np.maximum.at(tq, docs, float(idf[s]) * c)
                    np.maximum.at(td, docs, float(idf[s]) * ix.post_w[lo:hi])
                q_hit += tq
                d_hit += td
        cand = np.flatnonzero(q_hit > 0)  # a boolean mask first: several times faster than nonzero on floats
        if systems:
            wanted = np.array([SYSTEMS.index(s) for s in systems if s in SYSTEMS], dtype=np.int8)
            cand = cand[np.isin(ix.code_system[ix.doc_code[cand]], wanted)]
        if only is not None:
            cand = cand[np.isin(cand, only, assume_unique=True)]
        if cand.size == 0:
            return []
        q_cov = q_hit[cand] / total_q
        d_cov = np.minimum(d_hit[cand] / self.doc_total[cand], 1.0)
        score = np.sqrt(q_cov) * d_cov
        score = np.where(ix.code_billable[ix.doc_code[cand]] == 1, score, score * NON_BILLABLE)
        score = np.where(ix.doc_kind[cand] == KIND_INDEX, score * INDEX_TERM, score)
        # An Index path is read from its main term: "Disease, retroperitoneal" is not what "retroperitoneal" says,
        # and "Disorder, personality" not what "personal" says. Without its main term, a path weighs little.
        said = np.fromiter({a for slot in slots for a in slot.alts}, dtype=np.int32)
        main = ix.doc_main[cand]
        score = np.where((main >= 0) & ~np.isin(main, said), score * MAIN_TERM_MISSING, score)
        score += np.where(ix.doc_kind[cand] == KIND_TITLE, 0.001, 0.0)
        best = [max(s.alts, key=s.alts.get) for s in slots]
        exact = set(self.key_docs.get(doc_key(best), ()))
        mask = unspecified_mask([self.ix.stems[b] for b in best])
        if any(mask) and not all(mask):  # "Pneumonia, unspecified organism" is keyed as "pneumonia"
            exact.update(self.key_docs.get(doc_key([b for b, m in zip(best, mask) if not m]), ()))
        for d in exact:
            i = int(np.searchsorted(cand, d))  # an exact wording (any word order) ranks first
            if i < cand.size and cand[i] == d:
                score[i] += 1.0
        if len(slots) > 1:
            # A complete wording inside a longer query ("... history to mention was hypertension") scores as
            # if the query held all of its words (d = 1), and a little more: above partial matches of the
            # same words, below documents that hold much more of the query. Windows run over the words in
            # the order written, a repeated word at each place ("renal ... renal cell carcinoma").
            order = sorted([(s.start, i) for i, s in enumerate(slots)] +
                           [(p, i) for i, s in enumerate(slots) for p in s.also_at])
            seq = [best[i] for _, i in order]
            # and the words as written, where a synonym read them otherwise ("renal cell carcinoma", not
            # "kidney cell malignant neoplasm")
            as_written = [slots[i].written for _, i in order if slots[i].written is not None]
            if as_written == seq:
                as_written = []
            inside: set[int] = set()
            for words in (seq, as_written):
                for a in range(len(words)):
                    for b in range(a + 1, min(a + SUBSPAN_WORDS, len(words)) + 1):
                        if b - a < len(seq):
                            inside.update(self.key_docs.get(doc_key(words[a:b]), ()))
            for d in inside:
                i = int(np.searchsorted(cand, d))
                if i < cand.size and cand[i] == d:
                    billable = ix.code_billable[ix.doc_code[cand[i]]] == 1  # else more characters are needed
                    extra = SUBSPAN_EXTRA * (1.0 - float(q_cov[i])) if billable else 0.0
                    score[i] = max(score[i], float(np.sqrt(q_cov[i]))) + extra
        k = min(CANDIDATES, cand.size)
        top = np.argpartition(-score, k - 1)[:k]
        top = top[np.argsort(-score[top], kind="stable")]
        best_by_code: dict[int, RankedDoc] = {}
        pool = max(limit, SIBLING_POOL)
        for i in top.tolist():
            code = int(ix.doc_code[cand[i]])
            if code not in best_by_code:
                best_by_code[code] = RankedDoc(code, float(score[i]), int(cand[i]), float(q_cov[i]), float(d_cov[i]))
                if len(best_by_code) >= pool:
                    break
        return self._specific_first(list(best_by_code.values()), slots)[:limit]

    def _specific_first(self, ranked: list[RankedDoc], slots: list[Slot]) -> list[RankedDoc]:
        """A less specific code gives way to (changes places with) a more specific relative that says what the
        query names and matches nearly as well otherwise:
          - an "unspecified" wording to a sibling ("left orbital floor" -> "..., left side", not "..., unspecified
            side") that holds more of the query, or all of whose words the query holds;
          - a header (non-billable) to a descendant that holds more of the query, billable or lacking only its 7th
            character ("right axillary artery laceration, sequela" -> S45.011S, not S45.01; "right ankle sprain" ->
            S93.401, whose 7th character the conventions give, not S93.40).
        A query that itself says "unspecified" keeps the unspecified wording."""
        ix = self.ix
        says_unspecified = any(unspecified_mask([self.ix.stems[max(s.alts, key=s.alts.get)] for s in slots]))
        moved = False
        for u in ranked:
            fam = int(ix.code_family[u.code_rowid])
            unspec = (bool(fam) and bool(ix.doc_unspec[u.doc] or ix.code_unspec[u.code_rowid])
                      and not says_unspecified)
            header = not ix.code_billable[u.code_rowid]
            if not (unspec or header):
                continue
            code_u = ix.code_text[u.code_rowid]
            better = []
            for s in ranked:
                if s is u or s.score >= u.score:
                    continue
                # nearly as good a match, or (a header's descendant) one that holds every word of the query
                close = s.score >= SIBLING_SHARE * u.score
                if not close and not (header and s.q >= 0.999):
                    continue
                if unspec and close and int(ix.code_family[s.code_rowid]) == fam and not ix.doc_unspec[s.doc] \
                        and not ix.code_unspec[s.code_rowid] and (
                        s.q > u.q + 1e-6 or (s.d >= 0.999 and s.q >= u.q - 1e-6)):
                    better.append(s)
                elif header and ix.code_text[s.code_rowid].startswith(code_u) and s.q > u.q + 1e-6 \
                        and (ix.code_billable[s.code_rowid] or len(ix.code_text[s.code_rowid]) == 6):
                    better.append(s)
            if better:  # the relative takes the less specific code's place, and that code its
                best = max(better, key=lambda r: r.score)
                best.score, u.score = u.score, best.score - 1e-4
                moved = True
        if moved:
            ranked.sort(key=lambda r: -r.score)
        return ranked
