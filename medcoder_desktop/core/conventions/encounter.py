"""Codes the patient can have at all (the Medicare Code Editor's age and sex edits, by their wording), and one
weeks-of-gestation code per encounter (Z3A, guideline I.C.15.b.4).

Age and sex come from the encounter, else from the note's own introduction ("a 62-year-old male"). A code for a
newborn, a child or an adolescent does not fit an adult, nor an adult's code a child; a code of the female or
the male genital organs or of pregnancy does not fit the other sex.
"""

from __future__ import annotations

import re

from medcoder_desktop.core.conventions.context import Context, is_cm, with_reason
from medcoder_desktop.core.conventions.tabular import plain
from medcoder_desktop.core.models import Suggestion

_CHILD = re.compile(r"\b(?:child|children|infant|newborn|neonat\w*|perinatal|adolescent|pediatric|juvenile)\b", re.I)
_ADULT = re.compile(r"\badult\b", re.I)
_FEMALE_TITLE = re.compile(r"\b(?:female|uterus|uterine|ovar(?:y|ian)|vagina\w*|vulva\w*|cervix|cervical uteri|"
                           r"endometri\w*|fallopian|pregnan\w*|puerper\w*|childbirth|menstrua\w*|menopaus\w*)\b", re.I)
_MALE_TITLE = re.compile(r"\b(?:male|prostat\w*|testi(?:s|cle|cular)|scrot\w*|penis|penile|epididym\w*|"
                         r"spermat\w*|seminal)\b", re.I)
# Categories reserved to one sex whatever their titles say (ICD-10-CM chapters 2, 14, 15).
_FEMALE_CATS = ("O", "N7", "N8", "N9", "C51", "C52", "C53", "C54", "C55", "C56", "C57", "C58", "D25", "D26",
                "D27", "D28", "Z3A", "Z33", "Z34", "Z36", "Z37", "Z39")
_MALE_CATS = ("N40", "N41", "N42", "N43", "N44", "N45", "N46", "N47", "N48", "N49", "N50", "N51", "N52", "N53",
              "C60", "C61", "C62", "C63", "D29")
_NOT_SEX_SPECIFIC = ("N94.3", "N95")  # premenstrual tension; menopausal states (both sexes' codes elsewhere)


def _misfit(ctx: Context, s: Suggestion) -> str | None:
    code, title = plain(s.code), s.title
    if ctx.age is not None:
        if ctx.age >= 18 and _CHILD.search(title) and not _ADULT.search(title):
            return f"a code for a child does not fit a patient of {ctx.age}"
        if ctx.age < 15 and _ADULT.search(title) and not _CHILD.search(title):
            return f"a code for an adult does not fit a patient of {ctx.age}"
    if ctx.sex == "M" and (code.startswith(_FEMALE_CATS) or _FEMALE_TITLE.search(title)) \
            and not code.startswith(_MALE_CATS) and not _MALE_TITLE.search(title.replace("female", "")):
        return "a code for a female patient does not fit a male one"
    if ctx.sex == "F" and (code.startswith(_MALE_CATS) or _MALE_TITLE.search(title)) \
            and not _FEMALE_TITLE.search(title):
        return "a code for a male patient does not fit a female one"
    return None


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    out: list[Suggestion] = []
    z3a: Suggestion | None = None
    for s in sorted(suggestions, key=lambda s: -s.confidence):
        if not is_cm(s):
            out.append(s)
            continue
        why = _misfit(ctx, s) if not s.code.startswith(_NOT_SEX_SPECIFIC) else None
        if why:
            ctx.removed.append((s.code, why))
            continue
        if s.code.startswith("Z3A"):
            if z3a is not None:
                ctx.removed.append((s.code, f"one weeks-of-gestation code: {z3a.code}"))
                continue
            z3a = s
        out.append(s)
    order = {(s.system, s.code): n for n, s in enumerate(suggestions)}
    out.sort(key=lambda s: order[(s.system, s.code)])
    if z3a is not None and any(c.startswith("Z3A") for c, _ in ctx.removed):
        out = [with_reason(s, "One weeks-of-gestation (Z3A) code per encounter: the others were removed.")
               if s is z3a else s for s in out]
    return out
