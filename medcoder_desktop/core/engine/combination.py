"""Combination codes: one ICD-10-CM code for conditions the classification links.

Two families that coders meet daily, from the ICD-10-CM Official Guidelines:

* Diabetes (I.C.4.a): "diabetic polyneuropathy" in a note that documents type 2 diabetes is
  E11.42, not G62.9; the type defaults to 2 when it is not documented (E11). The complication is
  searched in the dictionary as "type N diabetes mellitus with <complication>", within E10/E11.
* Hypertension (I.C.9.a): a causal link with heart failure and with chronic kidney disease is
  presumed. Hypertension + heart failure is I11.0; + CKD is I12.9 (I12.0 at stage 5 / ESRD); all
  three is I13.0 (I13.2). The combination replaces I10; the heart failure and CKD codes stay, as
  the tabular's "use additional code" notes ask.

Each combination candidate keeps the exact words of the note that support it as evidence.
"""

from __future__ import annotations

import re
from dataclasses import replace

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.retrieve import Candidate
from medcoder_desktop.core.models import Evidence, Mention

_ACTIVE = ("negated", "family", "hypothetical")

_TYPE2 = re.compile(r"\b(?:type\s*(?:2|ii|two)\s*(?:diabet\w*|dm)|t2dm|dm\s*(?:2|ii)|dm2|niddm|non.insulin.dependent)\b",
                    re.I)
_TYPE1 = re.compile(r"\b(?:type\s*(?:1|i|one)\s*(?:diabet\w*|dm)|t1dm|dm\s*(?:1|i)\b|dm1|iddm|juvenile diabetes)\b",
                    re.I)
_DIABETES = re.compile(r"\bdiabet(?:ic|es)\b|\bdm\s*(?:1|2|i|ii)?\b|\bt[12]dm\b|\bniddm\b|\biddm\b", re.I)
_DIABETES_WORDS = re.compile(
    r"\b(?:type\s*(?:1|2|i|ii|one|two)\s+)?(?:diabetes(?:\s+mellitus)?|diabetic|dm\s*(?:1|2|i|ii)?|t[12]dm|n?iddm)"
    r"(?:\s+(?:with|w/?|and))?\b", re.I)
# Words that say nothing of a complication: "Diabetes type 2.", "diabetes mellitus, well controlled on insulin".
_NOT_A_COMPLICATION = re.compile(
    r"^(?:\W*(?:mellitus|uncontrolled|controlled|well|poorly|type|on|insulin|oral|diet|stable|follow.?up|of|the|and|"
    r"a|in|for|with|w|patient|history|known|ii?|one|two|i|\d+)\b)*\W*$", re.I)

_HYPERTENSION = re.compile(r"\bhypertensi(?:on|ve)\b|\bhtn\b", re.I)
_HEART_FAILURE = re.compile(r"\b(?:heart|cardiac) failure\b|\bchf\b|\bhf[rp]?ef\b", re.I)
_CKD = re.compile(r"\bchronic (?:kidney|renal) (?:disease|failure|insufficiency)\b|\bckd\b|\besrd\b|"
                  r"\bend[ -]stage (?:renal|kidney) disease\b", re.I)
_STAGE5 = re.compile(r"\bstage\s*(?:5|v)\b|\besrd\b|\bend[ -]stage\b", re.I)
_NOT_HYPERTENSION = re.compile(r"\b(?:pulmonary|portal|intracranial|ocular|gestational|pregnancy)\b", re.I)


def _active(m: Mention) -> bool:
    return not any(getattr(m, k) for k in _ACTIVE)


def diabetes_type(note: str, ms: list[Mention]) -> str | None:
    """"E10" or "E11" when the note documents diabetes (type 2 when the type is not said); else None."""
    active = [m for m in ms if _active(m) and _DIABETES.search(m.text)]
    if not active:
        return None
    text = " ".join(m.text for m in active)
    if _TYPE1.search(text) and not _TYPE2.search(text):
        return "E10"
    return "E11"


def _span(note: str, m: Mention, match: re.Match) -> Evidence:
    start, end = m.start + match.start(), m.start + match.end()
    return Evidence(start=start, end=end, text=note[start:end])


def _candidate(code: str, title: str, m: Mention, evidence: Evidence, score: float, words: int) -> Candidate:
    return Candidate(code=code, system="ICD-10-CM", title=title, billable=True, score=score, q=1.0, d=score,
                     mention=m, evidence=evidence, matched_words=words, rank=0, margin=0.5)


def _diabetes_complication(dictionary: Dictionary, note: str, m: Mention, category: str) -> Candidate | None:
    match = _DIABETES_WORDS.search(m.text)
    if match is None:
        return None
    rest = (m.text[:match.start()] + " " + m.text[match.end():])
    rest = re.split(r"\s+-\s+|[;:]|\bon\b|\bstart\b|\bcontinue\b", rest, maxsplit=1)[0].strip(" ,.")
    if len(rest) < 4 or _NOT_A_COMPLICATION.match(rest):
        return None
    kind = "type 1" if category == "E10" else "type 2"
    hits = dictionary.search(f"{kind} diabetes mellitus with {rest}", limit=8, systems={"ICD-10-CM"})
    for h in hits:
        plain = h.code.replace(".", "")
        if not (h.billable and plain.startswith(category) and len(plain) > 4) or plain.endswith("9") and len(plain) == 4:
            continue
        if h.score < 0.55 or not _names_complication(rest, h.title):
            return None
        # Evidence: from the first diabetes word to the end of the complication's words.
        start = min(match.start(), m.text.find(rest) if rest in m.text else match.start())
        end = max(match.end(), (m.text.find(rest) + len(rest)) if rest in m.text else match.end())
        ev = Evidence(start=m.start + start, end=m.start + end, text=note[m.start + start:m.start + end])
        return _candidate(h.code, h.title, m, ev, h.score, len(rest.split()) + 2)
    return None


_STOP = {"with", "without", "type", "diabetes", "mellitus", "diabetic", "other", "unspecified", "patient", "history",
         "reports", "regarding", "newly", "diagnosed", "known", "terms", "their", "which"}


def _names_complication(rest: str, title: str) -> bool:
    """The title's complication (after "with") shares a word stem with the note's words beside diabetes: a search
    for "type 2 diabetes mellitus with newly diagnosed" must not end on "... with diabetic dermatitis"."""
    said = title.lower().split(" with ", 1)[-1]
    stems = {w[:5] for w in re.findall(r"[a-z]{4,}", said) if w not in _STOP}
    return any(w[:5] in stems for w in re.findall(r"[a-z]{4,}", rest.lower()) if w not in _STOP)


def _title(dictionary: Dictionary, code: str) -> str:
    return dictionary.show(code, "ICD-10-CM").title


def hypertension_combination(dictionary: Dictionary, note: str, ms: list[Mention]) -> list[Candidate]:
    """Candidates for I11.0 / I12.x / I13.x, one per supporting mention (so each carries its own words)."""
    found: dict[str, list[tuple[Mention, re.Match]]] = {"htn": [], "hf": [], "ckd": []}
    for m in ms:
        if not _active(m):
            continue
        for key, rx in (("htn", _HYPERTENSION), ("hf", _HEART_FAILURE), ("ckd", _CKD)):
            hit = rx.search(m.text)
            if hit and not (key == "htn" and _NOT_HYPERTENSION.search(m.text)):
                found[key].append((m, hit))
    if not found["htn"] or not (found["hf"] or found["ckd"]):
        return []
    stage5 = any(_STAGE5.search(m.text) for m, _ in found["ckd"])
    if found["hf"] and found["ckd"]:
        code = "I13.2" if stage5 else "I13.0"
    elif found["hf"]:
        code = "I11.0"
    else:
        code = "I12.0" if stage5 else "I12.9"
    title = _title(dictionary, code)
    out = []
    for key in ("htn", "hf", "ckd"):
        if found[key]:
            m, hit = found[key][0]
            out.append(_candidate(code, title, m, _span(note, m, hit), 0.9, 3))
    return out


def _use_additional(dictionary: Dictionary, code: str) -> set[str]:
    """Categories the tabular's "use additional code" notes of ``code`` and its headers name."""
    heads = {code, code[:5], code[:4], code[:3]}
    texts = dictionary.note_texts("ICD-10-CM", heads, ["use_additional"])
    return {m for text in texts for m in re.findall(r"\b([A-Z]\d[0-9A-Z])", text)}


def _covered_by(c: Candidate, combo: Candidate, also: set[str]) -> bool:
    """A manifestation the combination code already says ("polyneuropathy" in "diabetic polyneuropathy"):
    its words lie inside the combination's, it is no diabetes code, and no "use additional" note asks for it."""
    inside = combo.evidence.start <= c.evidence.start and c.evidence.end <= combo.evidence.end
    return (c.system == "ICD-10-CM" and inside and c.code[:3] not in also
            and not (c.code[:1] == "E" and c.code[1:3] in ("08", "09", "10", "11", "13")))


def _lead(combo: Candidate, cands: list[Candidate]) -> None:
    """The combination code leads its mention: it scores above the codes it combines ("Diabetic
    polyneuropathy" is E11.42 first, G62.9 only an alternative)."""
    best = max((c.score for c in cands if c.code != combo.code), default=0.0)
    if best >= combo.score:
        combo.score = combo.d = round(best + 0.05, 4)
        combo.margin = 0.05


def add_combinations(dictionary: Dictionary, note: str, ms: list[Mention],
                     per_mention: list[list[Candidate]]) -> list[list[Candidate]]:
    """``per_mention`` with combination candidates put first in their mentions' lists (and I10 replaced)."""
    out = [list(c) for c in per_mention]
    category = diabetes_type(note, ms)
    if category:
        for cands in out:
            m = cands[0].mention
            if _active(m) and _DIABETES.search(m.text):
                combo = _diabetes_complication(dictionary, note, m, category)
                if combo and all(c.code != combo.code for c in cands):
                    _lead(combo, cands)
                    also = _use_additional(dictionary, combo.code)
                    cands[:] = [c for c in cands if not _covered_by(c, combo, also)]
                    cands.insert(0, combo)
                    for c in cands[1:]:
                        c.rank += 1
    combos = hypertension_combination(dictionary, note, ms)
    if combos:
        out = [[c for c in cands if c.code != "I10"] for cands in out]  # the combination replaces I10
        by_mention = {id(c[0].mention): c for c in out if c}
        for combo in combos:
            cands = by_mention.get(id(combo.mention))
            if cands is None:
                out.append([combo])
                continue
            _lead(combo, cands)
            cands[:] = [combo] + [replace(c, rank=c.rank + 1) for c in cands if c.code != combo.code]
    return [c for c in out if c]
