"""A neoplasm is coded by its site (Neoplasm Table; guideline I.C.2): "the tumor", "carcinoma", "a mass" said alone
name no site, and the unspecified-site codes (C80.1, D49.9 ...) they would give say nothing a coder can bill
where the note names the site elsewhere, as notes about a neoplasm do.

An unspecified-site neoplasm code whose every piece of evidence is such a generic word is held back, with the
reasoning that says why. So is one shown beside a neoplasm coded by its site: "the tumor" of a note about an
adenocarcinoma of the colon is that adenocarcinoma, which its own code says. And so is any other: the
unspecified-site codes are for a site that cannot be determined (guideline I.C.2.d), so only words that say so in
the code's sentence ("unknown primary", "occult", "disseminated") keep one.
"""

from __future__ import annotations

import re

from medcoder_desktop.core.conventions.context import Context, hold_back, is_cm
from medcoder_desktop.core.engine.text import sentences
from medcoder_desktop.core.models import Suggestion

RULE = "neoplasm site"
UNSPECIFIED_SITE = {"C80.0", "C80.1", "C79.9", "D49.9", "D48.9", "D36.9", "D09.9"}
_GENERIC = re.compile(
    r"(?:(?:the|a|an|of|this|that|its|with|large|small|big|primary)\s+)*"
    r"(?:tumou?rs?|mass(?:es)?|neoplasms?|neoplasia|neoplastic|carcinomas?|cancers?|ca|malignan(?:cy|cies|t)|"
    r"metastas[ie]s|metastatic|growths?|lesions?)(?:\s+(?:of|in))?", re.I)


_SITE_UNKNOWN = re.compile(r"\b(?:unknown|occult|undetermined|disseminated|widespread|multiple sites)\b", re.I)


def _site_unknown(note: str, s: Suggestion) -> bool:
    """Whether the note says, in the sentence of one of the code's words, that the site is unknown."""
    spans = sentences(note)
    return any(_SITE_UNKNOWN.search(note[sent.start:sent.end])
               for e in s.evidence for sent in spans if sent.start <= e.start < sent.end)


def only_generic(text: str) -> bool:
    return bool(_GENERIC.fullmatch(text.strip(" .,;:()")))


def _neoplasm_with_site(s: Suggestion) -> bool:
    return is_cm(s) and s.suggested and s.code not in UNSPECIFIED_SITE and (
        s.code[:1] == "C" or (s.code[:1] == "D" and s.code[1:3].isdigit() and int(s.code[1:3]) <= 49))


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    out: list[Suggestion] = []
    sited = next((s for s in suggestions if _neoplasm_with_site(s)), None)
    for s in suggestions:
        if not (is_cm(s) and s.suggested and s.code in UNSPECIFIED_SITE and s.evidence):
            out.append(s)
        elif all(only_generic(e.text) for e in s.evidence):
            out.append(hold_back(ctx, s, RULE, "neoplasm: no site said", "A neoplasm is coded by its site (Neoplasm "
                                 "Table), and these words name none: not suggested."))
        elif _site_unknown(ctx.note, s):
            out.append(s)
        elif sited is not None:
            out.append(hold_back(ctx, s, RULE, "neoplasm: coded by its site",
                                 f"The note's neoplasm is coded by its site ({sited.code}): its unspecified-site code "
                                 f"is not suggested beside it."))
        else:
            out.append(hold_back(ctx, s, RULE, "neoplasm: site not said unknown",
                                 "A neoplasm is coded by its site (Neoplasm Table); an unspecified-site code is for "
                                 "a site the note says cannot be determined (guideline I.C.2.d), and this note does "
                                 "not say so: not suggested."))
    return out
