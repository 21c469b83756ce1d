"""Procedures that a note of a stay names, as ICD-10-PCS codes.

A PCS title says what a note never says ("Inspection of Lower Intestinal Tract, Via Natural or Artificial Opening
Endoscopic" for "colonoscopy", "Plain Radiography of Chest" for "chest X-ray"), so a title search finds nothing
from a note's words. A coder goes through the PCS Index; the product reads the note with a compact procedure
index (resources/procedure_terms.tsv) built the same way:

- an imaging word ("X-ray", "CT", "ultrasound", "MRI") with the site the note names beside it ("abdominal
  ultrasound", "CT of the chest") gives the imaging table's row for that site, without contrast (the ZZZ row);
  a side the note does not state reads as both sides ("renal ultrasound": Bilateral Kidneys); no site, no code;
- a named procedure ("colonoscopy", "lumbar puncture") gives its code; a paired organ's ("nephrectomy",
  "fundoscopy") by the side the sentence states, else none;
- "laparoscopic" beside an open procedure gives the percutaneous endoscopic approach (the 5th character 4);
- an inspection that is the way to another procedure ("a stent was placed by cystoscopy", "biopsies taken during
  colonoscopy") is not coded apart from it (PCS guideline B3.11a).

A procedure only planned, refused, not done or done before this stay ("colonoscopy two years ago", "history of
appendectomy", "a CT was not performed"), in the words around it, is not coded. Only ICD-10-PCS codes the dictionary holds are proposed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.retrieve import Candidate
from medcoder_desktop.core.engine.text import sections, sentences
from medcoder_desktop.core.models import Evidence, Mention
from medcoder_desktop.paths import resource

SYSTEM = "ICD-10-PCS"
SIDE_WORDS = {"right": "right", "left": "left", "bilateral": "bilateral"}
WINDOW_BEFORE = 4  # words before an imaging word that may name its site ("abdominal and pelvic CT")
WINDOW_AFTER = 6  # words after it, when they start with "of" ("X-ray of the chest and abdomen")
SIDE_SCOPE = 4  # words on each side of a named procedure that may state its side
SCOPE_BEFORE, SCOPE_AFTER = 6, 5  # words around a procedure's words read for "not done", "planned", "previous"
# A procedure only planned, refused, not done, or done before this stay.
_NOT_DONE = re.compile(
    r"\b(?:not\s+(?:be\s+)?(?:performed|done|carried\s+out|possible|feasible|available)|was\s+not|were\s+not|"
    r"refused|declined|deferred|scheduled|will|would|planned|recommended|proposed|pending|awaiting|"
    r"candidate\s+for|indication\s+for|previous(?:ly)?|prior|history\s+of|h/o|years?\s+(?:ago|before|earlier)|"
    r"months?\s+(?:ago|before|earlier)|in\s+(?:19|20)\d\d|if|should)\b", re.I)
_OTHER_TOMOGRAPHY = re.compile(r"\b(?:coherence|emission|optical)\s+(?:computed\s+)?$", re.I)
_LAPAROSCOPIC = re.compile(r"\blaparoscop\w*", re.I)
# An inspection named as the way another procedure was done: "placed by cystoscopy", "taken during colonoscopy".
_AS_THE_WAY = re.compile(r"\b(?:by|via|through|during|under|using|with)\s+(?:an?\s+|the\s+)?(?:\w+\s+)?$", re.I)
_ANOTHER_PROCEDURE = re.compile(r"\b(?:biops\w*|polypectom\w*|resect\w*|excis\w*|remov\w*|extract\w*|"
                                r"stent\w*|plac(?:ed|ement)|insert\w*|dilat\w*|lithotri\w*|ligat\w*|"
                                r"sclerothera\w*|cauteri\w*|drain\w*)", re.I)
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.I)
_IMAGING_TITLE = re.compile(r"^(.+?) of (.+)$")


@dataclass(frozen=True)
class Term:
    kind: str  # "imaging" or "procedure"
    words: tuple[str, ...]  # the spellings, lower-case
    target: str  # imaging: the imaging type ("Plain Radiography"); procedure: its code ("" when it needs a side)
    right: str = ""
    left: str = ""
    both: str = ""


@dataclass
class ProcedureIndex:
    terms: list[Term]
    pattern: re.Pattern  # every spelling of every term, longest first
    by_words: dict[str, Term]
    sites: dict[str, str]  # a note's word(s) for a site -> the site's word in the tables
    site_pattern: re.Pattern
    imaging_rows: dict[str, list[tuple[frozenset[str], str, str]]] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _terms() -> tuple[list[Term], dict[str, str]]:
    terms: list[Term] = []
    sites: dict[str, str] = {}
    for line in resource("procedure_terms.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, spellings, *rest = line.split("\t")
        words = tuple(w.strip().lower() for w in spellings.split("|") if w.strip())
        rest += [""] * (4 - len(rest))
        if kind == "site":
            sites.update({w: rest[0].strip().lower() for w in words})
        else:
            terms.append(Term(kind=kind, words=words, target=rest[0].strip(), right=rest[1].strip(),
                              left=rest[2].strip(), both=rest[3].strip()))
    return terms, sites


def _alternation(spellings) -> re.Pattern:
    ordered = sorted(set(spellings), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered) + r")(?![\w-])",
                      re.I)


def _site_words(site: str) -> frozenset[str]:
    """The words of a table row's site ("Bilateral Kidneys" -> bilateral, kidney), singular, without "and"."""
    out = set()
    for w in _WORD.findall(site.lower()):
        if w in ("and", "of", "the"):
            continue
        out.add(w[:-1] if w.endswith("s") and len(w) > 4 and not w.endswith(("ss", "us", "is")) else w)
    return frozenset(out)


def procedure_index(dictionary: Dictionary) -> ProcedureIndex:
    """The procedure index with the imaging table rows of this dictionary (cached on the dictionary)."""
    cached = dictionary.__dict__.get("_procedure_index")
    if cached is not None:
        return cached
    terms, sites = _terms()
    imaging_types = {t.target for t in terms if t.kind == "imaging"}
    rows: dict[str, list[tuple[frozenset[str], str, str]]] = {k: [] for k in imaging_types}
    for code, title in dictionary.db.execute(
            "select code, title from codes where system = ? and code like 'B%ZZZ'", [SYSTEM]):
        m = _IMAGING_TITLE.match(title)
        if m and m.group(1) in rows:
            rows[m.group(1)].append((_site_words(m.group(2)), code, title))
    index = ProcedureIndex(
        terms=terms, pattern=_alternation(w for t in terms for w in t.words),
        by_words={w: t for t in terms for w in t.words}, sites=sites,
        site_pattern=_alternation(sites), imaging_rows=rows)
    dictionary.__dict__["_procedure_index"] = index
    return index


def procedure_candidates(dictionary: Dictionary, note: str, systems: set[str]) -> list[list[Candidate]]:
    """One candidate list per procedure the note names (ICD-10-PCS only, when it is among ``systems``)."""
    if SYSTEM not in systems:
        return []
    index = procedure_index(dictionary)
    out: list[list[Candidate]] = []
    for sec in sections(note):
        for sent in sentences(note, sec.start, sec.end):
            text = note[sent.start:sent.end]
            for m in index.pattern.finditer(text):
                if _not_done(text, m):
                    continue
                term = index.by_words[" ".join(m.group(0).lower().split())]
                found = _codes_for(dictionary, index, term, text, m)
                for code, (a, b), why in found:
                    if (row := dictionary.db.execute("select title from codes where system = ? and code = ?",
                                                     [SYSTEM, code]).fetchone()) is None:
                        continue
                    start, end = sent.start + a, sent.start + b
                    mention = Mention(text=note[start:end], start=start, end=end, section=sec.name)
                    out.append([Candidate(
                        code=code, system=SYSTEM, title=row[0], billable=True, score=1.0, q=1.0, d=1.0,
                        mention=mention, evidence=Evidence(start=start, end=end, text=note[start:end]),
                        matched_words=len(_WORD.findall(note[start:end])), rank=0, margin=0.5, why=why)])
    return out


def _not_done(text: str, m: re.Match) -> bool:
    """Whether the words around a procedure's words say it was not done in this stay."""
    before = " ".join(text[:m.start()].split()[-SCOPE_BEFORE:])
    after = " ".join(text[m.end():].split()[:SCOPE_AFTER])
    return bool(_NOT_DONE.search(before) or _NOT_DONE.search(after))


def _codes_for(dictionary: Dictionary, index: ProcedureIndex, term: Term, text: str,
               m: re.Match) -> list[tuple[str, tuple[int, int], str]]:
    """(code, (start, end) of the words that support it within ``text``, how it was read)."""
    said = " ".join(m.group(0).split())
    if term.kind == "imaging":
        if _OTHER_TOMOGRAPHY.search(text[:m.start()]):
            return []  # optical coherence / positron emission tomography: not a CT
        return _imaging(index, term, text, m)
    near = " ".join(text[:m.start()].split()[-SIDE_SCOPE:] + text[m.end():].split()[:SIDE_SCOPE])
    sides = _sides(near)  # "left nephrectomy; the right kidney was normal": the left one
    if term.right or term.left or term.both:
        if "bilateral" in sides:
            codes = [term.both] if term.both else [c for c in (term.right, term.left) if c]
        elif sides:
            codes = [c for c in (term.right if "right" in sides else "", term.left if "left" in sides else "") if c]
        else:
            codes = [term.target] if term.target else []
        side = f", {'/'.join(sorted(sides))} side" if sides else ""
    else:
        codes, side = [term.target], ""
    out = []
    for code in codes:
        if code[2:3] == "J" and code[:1] == "0" and (
                _AS_THE_WAY.search(text[:m.start()]) or _ANOTHER_PROCEDURE.search(text[m.end():])):
            continue  # an inspection that is the way to another procedure (B3.11a)
        why = f"Procedure index: “{said}”{side}"
        if code[:1] == "0" and code[4:5] == "0" and _LAPAROSCOPIC.search(text):
            scoped = code[:4] + "4" + code[5:]
            if dictionary.db.execute("select 1 from codes where system = ? and code = ?", [SYSTEM, scoped]).fetchone():
                code, why = scoped, why + ", laparoscopic (percutaneous endoscopic approach)"
        out.append((code, (m.start(), m.end()), why + "."))
    return out


def _sides(text: str) -> set[str]:
    found = {w.lower() for w in re.findall(r"\b(right|left|bilateral|both)\b", text, re.I)}
    return {"bilateral"} if "bilateral" in found or "both" in found or {"right", "left"} <= found else found


def _imaging(index: ProcedureIndex, term: Term, text: str, m: re.Match) -> list[tuple[str, tuple[int, int], str]]:
    """The imaging row for the site named just before the imaging word, or after it when "of" follows."""
    before = [w for w in _WORD.finditer(text[:m.start()])][-WINDOW_BEFORE:]
    stop = re.search(r"[,;:()]", text[:m.start()][::-1])
    if stop is not None:
        cut = m.start() - stop.start()
        before = [w for w in before if w.start() >= cut]
    after_text = text[m.end():]
    after: list[re.Match] = []
    if re.match(r"\s+(?:of|of\s+the)\s", after_text, re.I):
        end = re.search(r"[,;:()]", after_text)
        limit = end.start() if end else len(after_text)
        after = [w for w in _WORD.finditer(after_text[:limit])][:WINDOW_AFTER]
    spans: list[tuple[int, int, str]] = []
    for w in before:
        spans.append((w.start(), w.end(), w.group(0)))
    for w in after:
        spans.append((m.end() + w.start(), m.end() + w.end(), w.group(0)))
    window = " ".join(s[2] for s in spans)
    found: list[tuple[frozenset[str], tuple[int, int]]] = []  # the tables' words for each site said, and where
    for s in index.site_pattern.finditer(window):
        first = len(window[:s.start()].split())  # the window's words are the sentence's, one for one
        last = first + len(s.group(0).split()) - 1
        found.append((frozenset(index.sites[" ".join(s.group(0).lower().split())].split()),
                      (spans[first][0], spans[last][1])))
    said_sides = {w.lower() for _, _, w in spans if w.lower() in SIDE_WORDS}
    said_sides |= {w for words, _ in found for w in words if w in SIDE_WORDS}
    places = {w for words, _ in found for w in words if w not in SIDE_WORDS}
    if not places:
        return []
    said = places | ({"bilateral"} if not said_sides or said_sides >= {"right", "left"} else said_sides)
    rows = [(words, code, title) for words, code, title in index.imaging_rows.get(term.target, [])
            if words <= said and words & places]
    out: list[tuple[str, tuple[int, int], str]] = []
    left = set(places)
    while left:  # "chest and abdomen X-ray": one row for both where the table has it, else one for each
        best = max(rows, key=lambda r: (len(r[0] & left), -len(r[0]), r[1]), default=None)
        if best is None or not best[0] & left:
            break
        words, code, title = best
        left -= words
        site = title.split(" of ", 1)[1]
        used = [span for found_words, span in found if found_words & words]
        start = min([m.start()] + [a for a, _ in used])
        end = max([m.end()] + [b for _, b in used])
        out.append((code, (start, end), f"Procedure index: “{' '.join(m.group(0).split())}” is {term.target}; "
                                        f"site read beside it: {site}."))
    return out
