"""The note as text: sections, sentences, clauses, and the context of each stretch.

Context follows the ConText algorithm (Harkema et al., 2009): trigger phrases open a scope that
runs forward (or, for post-triggers, backward) to the end of the sentence or to a terminating word.
The rules are our own, tested, and small: medspaCy brings spaCy and its models for the same result.
Trigger lists follow the ICD-10-CM guidelines' wording for uncertain diagnoses (Section II.H, IV.H:
probable, suspected, likely, questionable, possible, still to be ruled out, compatible with,
consistent with). Character offsets index the original note throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medcoder_desktop.core.models import Mention, Section

# Canonical section names and how notes write their headings.
SECTION_NAMES: dict[str, tuple[str, ...]] = {
    "chief_complaint": ("chief complaint", "cc", "reason for visit", "reason for admission", "presenting complaint"),
    "hpi": ("history of present illness", "hpi", "history of the present illness", "present illness",
            "clinical history", "case report", "case presentation", "subjective"),
    "pmh": ("past medical history", "pmh", "medical history", "past history", "background", "antecedents",
            "past surgical history", "psh", "surgical history", "problem list", "active problems"),
    "family_history": ("family history", "fh", "fhx"),
    "social_history": ("social history", "sh"),
    "medications": ("medications", "current medications", "meds", "home medications", "discharge medications"),
    "allergies": ("allergies",),
    "ros": ("review of systems", "ros"),
    "exam": ("physical exam", "physical examination", "exam", "examination", "objective", "vital signs", "vitals"),
    "results": ("labs", "laboratory", "laboratory data", "results", "imaging", "studies", "diagnostic studies"),
    "procedures": ("procedures", "procedure", "operations", "operation", "procedures performed", "operative procedure"),
    "hospital_course": ("hospital course", "course", "evolution", "clinical course"),
    "assessment": ("assessment", "impression", "assessment and plan", "a/p", "assessment/plan", "diagnosis",
                   "diagnoses", "discharge diagnosis", "discharge diagnoses", "final diagnosis",
                   "principal diagnosis", "secondary diagnoses", "admission diagnosis"),
    "plan": ("plan", "recommendations", "disposition", "follow-up", "follow up"),
}
_HEADING_LOOKUP = {h: name for name, heads in SECTION_NAMES.items() for h in heads}
_HEADING_RE = re.compile(r"^[ \t]*([A-Za-z][A-Za-z /&-]{1,48}?)[ \t]*(?::|$)", re.M)

_SENTENCE_END = re.compile(r"(?<!\bDr)(?<!\bMr)(?<!\bMs)(?<!\bvs)(?<!\be\.g)(?<!\bi\.e)[.!?](?=\s|$)|\n")
_LIST_ITEM = re.compile(r"[ \t]*(?:\d{1,2}[.)]|[-*•#>])\s")
_CLAUSE_SPLIT = re.compile(
    r"[,;:\[\]]|\s-\s|\s(?:and|or|but|then|although|however|whereas|while|which|who|after|before|"
    r"because|since|so|nor)\s|\b(?:compatible with|consistent with|secondary to|due to)\b|"
    r"\s(?=without\s(?!complications?\b|foreign body\b))|"  # what follows "without" is negated on its own
    # a verb of presenting starts what the patient came with ("without history of interest consulted for hematuria")
    r"\s(?=(?:presented|consulted|came|began|complained|reported)\s)",
    re.I,
)

# (pattern, kind, direction) — direction "pre" scopes forward, "post" backward.
_TRIGGERS: list[tuple[str, str, str]] = [
    (r"\bno\b|\bnot\b|\bnever\b|\bdenie[sd]\b|\bdeny\b|\bnegative for\b|\bfree of\b|\babsence of\b|"
     r"\bno (?:evidence|signs?|history) of\b|\bruled out\b|\brules out\b|\bwithout (?:evidence|signs?) of\b|"
     r"\bresolved\b|\bneither\b|\bwithout\b(?!\s+(?:complications?|foreign body)\b)", "negated", "pre"),
    (r"\b(?:was|were|is|are|been) (?:ruled out|excluded|negative|absent|normal)\b|\bunlikely\b|"
     r"\b(?:is |are |was |were )?within normal limits\b|\bwnl\b|\b(?:is |are |was |were )?unremarkable\b",
     "negated", "post"),
    (r"\bpossible\b|\bpossibly\b|\bprobable\b|\bprobably\b|\bsuspected\b|\bsuspect(?:ed)?\b|\bsuspicion of\b|"
     r"\blikely\b|\bquestionable\b|\brule out\b|\br/o\b|\bdifferential\b|\bversus\b|\bvs\.?|"
     r"\bconcern for\b|\bcompatible with\b|\bconsistent with\b|\bsuggestive of\b|\bmay (?:be|have)\b|"
     r"\bcannot be excluded\b|\bto be ruled out\b|\bpresumed\b|\bimpression of\b", "uncertain", "pre"),
    (r"\bhistory of\b|\bh/o\b|\bhx of\b|\bprevious(?:ly)?\b|\bprior\b|\bpast\b|\bformer(?:ly)?\b|"
     r"\bin (?:19|20)\d\d\b|\byears? ago\b|\bmonths? ago\b|\bremote\b|\bstatus post\b|\bs/p\b|"
     # a habit given up: "ex-smoker", "ex-drinker", "ex-ADVP", "quit smoking"
     r"\bex-?\s?(?=smok|drink|alcohol|user|addict|abuser|advp|udvp|(?:drug|heroin|cocaine|parenteral|iv)\s)|"
     r"\b(?:quit|stopped|gave up|given up)\b(?=\s+(?:smoking|drinking|tobacco|alcohol|cigarettes))",
     "historical", "pre"),
    (r"\bfamily history\b|\b(?:his|her|the patient's)? ?(?:mother|father|brother|sister|sibling|siblings|"
     r"aunt|uncle|grandmother|grandfather|cousin|son|daughter)\b(?= (?:had|has|with|died|was|is|suffered))",
     "family", "pre"),
    (r"\bif\b|\bin case of\b|\bshould\b|\bwatch for\b|\bmonitor for\b|\breturn (?:for|if)\b|\brisk of\b|"
     r"\bprevent(?:ion of)?\b|\bscreening for\b", "hypothetical", "pre"),
]
_TRIGGER_RES = [(re.compile(p, re.I), kind, direction) for p, kind, direction in _TRIGGERS]
# Words that end a trigger's scope inside a sentence.
# ", with ..." starts what the patient has after what they are without ("without known allergies, with a history of
# hypertension"); "and a / and an" a new finding after a denied one ("no abnormalities and an epididymal cyst").
# "who" and the verbs of presenting start what the patient came with after what they have not ("with no history
# of interest who consulted for hematuria", "without past history, presented with epistaxis").
_TERMINATORS = re.compile(r"\b(?:but|however|although|though|yet|except|aside from|apart from|which|whose|who|"
                          r"presented|presents|consulted|consults|came|comes|began|begins|complained|complains|"
                          r"reported|reports)\b|;|"
                          r",\s*(?:and\s+)?with\b|\band\s+(?:a|an)\s", re.I)
# A suspicion confirmed is no longer uncertain ("confirming the clinical suspicion of agenesis").
_CONFIRMED = re.compile(r"\bconfirm(?:s|ed|ing)?\s+(?:the\s+)?(?:\w+\s+)?$", re.I)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def sections(text: str) -> list[Section]:
    """Headed sections in order; text before the first heading belongs to ``body``."""
    found: list[tuple[int, int, str, str]] = []
    for m in _HEADING_RE.finditer(text):
        heading = m.group(1).strip()
        name = _HEADING_LOOKUP.get(heading.lower().rstrip(" -"))
        if name is None:
            continue
        found.append((m.start(1), m.end(), name, heading))
    out: list[Section] = []
    if not found or found[0][0] > 0:
        out.append(Section(name="body", heading="", start=0, end=found[0][0] if found else len(text)))
    for i, (start, body_start, name, heading) in enumerate(found):
        end = found[i + 1][0] if i + 1 < len(found) else len(text)
        out.append(Section(name=name, heading=heading, start=start, end=end))
    return [s for s in out if s.end > s.start]


def _line_break_ends_sentence(text: str, i: int, pos: int) -> bool:
    """A newline ends a sentence after punctuation, before a blank line or a list item, or after a
    short line followed by a capital (problem lists); a wrapped line goes on."""
    before = text[max(pos, i - _LOOKBEHIND):i].rstrip()  # bounded: a long wrapped paragraph stays linear
    after = text[i + 1:i + 80]
    if not before or not after.strip() or after.startswith("\n") or _LIST_ITEM.match(after):
        return True
    if before[-1] in ".:;!?)":
        return True
    line = before[before.rfind("\n") + 1:]
    return len(line) < 60 and after.lstrip()[:1].isupper()


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    end = len(text) if end is None else end
    out, pos = [], start
    for m in _SENTENCE_END.finditer(text, start, end):
        if m.group(0) == "\n" and not _line_break_ends_sentence(text, m.start(), pos):
            continue
        if m.end() - pos > 1 and text[pos:m.end()].strip():
            out.append(_trim(text, pos, m.end()))
        pos = m.end()
    if pos < end and text[pos:end].strip():
        out.append(_trim(text, pos, end))
    return _bounded([s for s in out if s.end > s.start], text)


# Work per clause grows with its sentence (context scans the whole sentence): a note without full stops
# would make it quadratic. Sentences longer than this are cut at a space, so time stays linear in the note.
MAX_SENTENCE_CHARS = 1_000
_LOOKBEHIND = 400  # characters before a line break that decide whether it ends a sentence


def _bounded(spans: list[Span], text: str) -> list[Span]:
    """``spans`` with each one longer than ``MAX_SENTENCE_CHARS`` cut into pieces at spaces (or hard)."""
    out: list[Span] = []
    for s in spans:
        start = s.start
        while s.end - start > MAX_SENTENCE_CHARS:
            cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
            cut = cut if cut > start else start + MAX_SENTENCE_CHARS
            piece = _trim(text, start, cut)
            if piece.end > piece.start:
                out.append(piece)
            start = cut
        piece = _trim(text, start, s.end)
        if piece.end > piece.start:
            out.append(piece)
    return out


# Words that qualify a condition when they follow it after a comma, as in the titles of the code sets.
_QUALIFIER = re.compile(
    r"(?:unspecified|nos|nec|other|acute|chronic|subacute|recurrent|bilateral|unilateral|left|right|primary|"
    r"secondary|essential|benign|malignant|mild|moderate|severe|controlled|uncontrolled|initial|subsequent|"
    r"sequela|resolved|intractable|unstable|stable|unknown|congenital|acquired|generalized|localized|"
    r"multiple|single|simple|complicated|uncomplicated|partial|complete|total|upper|lower|anterior|posterior|"
    r"proximal|distal|medial|lateral|superficial|deep|open|closed|displaced|nondisplaced|early|late)",
    re.I)


def clauses(text: str, sentence: Span) -> list[Span]:
    """Pieces of a sentence between commas, parentheses and joining words."""
    out, pos = [], sentence.start
    for m in _CLAUSE_SPLIT.finditer(text, sentence.start, sentence.end):
        if m.start() > pos:
            out.append(_trim(text, pos, m.start()))
        pos = m.end()
    if pos < sentence.end:
        out.append(_trim(text, pos, sentence.end))
    out = [s for s in out if s.end - s.start >= 2]
    # A qualifier after a comma belongs to the piece before it ("Hyperlipidemia, unspecified"); any other
    # word after a comma is an item of a list ("history of dyslipidemia, hypertension").
    merged: list[Span] = []
    for s in out:
        if merged and _QUALIFIER.fullmatch(text[s.start:s.end]) and text[merged[-1].end:s.start].strip() == ",":
            merged[-1] = Span(merged[-1].start, s.end)
        else:
            merged.append(s)
    return [s for s in merged if s.end - s.start >= 3]


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and (text[start].isspace() or text[start] in "-*•.#>0123456789" and _list_marker(text, start)):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;:"):
        end -= 1
    return Span(start, end)


def _list_marker(text: str, i: int) -> bool:
    """A leading "1." / "-" / "•" of a list item, not a number that belongs to the text."""
    m = re.match(r"(?:\d{1,2}[.)]|[-*•#>])\s", text[i:i + 4])
    return bool(m) or text[i] in "-*•#>" and (i + 1 >= len(text) or text[i + 1].isspace())


def context(text: str, sentence: Span, span: Span, section: str = "") -> dict[str, bool]:
    """Which ConText properties hold for ``span`` inside ``sentence``."""
    flags = {"negated": False, "uncertain": False, "historical": False, "family": section == "family_history",
             "hypothetical": False}
    s_text = text[sentence.start:sentence.end]
    terms = [sentence.start + m.start() for m in _TERMINATORS.finditer(s_text)]
    for regex, kind, direction in _TRIGGER_RES:
        for m in regex.finditer(s_text):
            if kind == "uncertain" and _CONFIRMED.search(s_text[:m.start()]):
                continue
            t_start, t_end = sentence.start + m.start(), sentence.start + m.end()
            if direction == "pre":
                scope_end = min([t for t in terms if t >= t_end] + [sentence.end])
                hit = t_end <= span.start < scope_end or (t_start >= span.start and t_end <= span.end)
            else:
                scope_start = max([t for t in terms if t <= t_start] + [sentence.start])
                hit = scope_start <= span.start and span.end <= t_end
            # A trigger inside the mention itself ("history of" in "family history of") counts too.
            if hit:
                flags[kind] = True
    return flags


def mentions(text: str) -> list[Mention]:
    """Every clause of the note as a candidate mention, with its section and context."""
    out: list[Mention] = []
    for sec in sections(text):
        for sent in sentences(text, sec.start, sec.end):
            if sec.heading and sent.start == sec.start:  # the heading line itself
                head_end = sec.start + len(sec.heading)
                rest = text.find(":", head_end, sent.end)
                sent = _trim(text, (rest + 1) if rest >= 0 else head_end, sent.end)
                if sent.end <= sent.start:
                    continue
            for cl in clauses(text, sent):
                flags = context(text, sent, cl, sec.name)
                out.append(Mention(text=text[cl.start:cl.end], start=cl.start, end=cl.end, section=sec.name, **flags))
    return out
