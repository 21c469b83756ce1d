"""Companion codes the tabular asks for ("use additional code", guideline I.A.13 / I.B.7), proposed where the
note names what they code.

Each companion here has the words that document it. It is proposed only when a shown code's own "use additional
code" note (or its ancestors') names it, and the note documents it outside a negated or hypothetical phrase:
diabetes (E08-E13) with insulin -> Z79.4, with oral antidiabetic drugs -> Z79.84, with injectable non-insulin
drugs -> Z79.85 (guideline I.C.4.a.3: both Z79.4 and Z79.84 when both are used).
"""

from __future__ import annotations

import re

from medcoder_desktop.core.conventions.context import Context, is_cm, with_reason
from medcoder_desktop.core.models import Evidence, Suggestion

COMPANIONS: dict[str, re.Pattern] = {
    "Z79.4": re.compile(r"\binsulin\b|\b(?:lantus|levemir|humalog|novolog|tresiba|basaglar|toujeo|humulin|novolin|"
                        r"glargine|detemir|lispro|aspart|degludec)\b", re.I),
    "Z79.84": re.compile(r"\b(?:metformin|glucophage|glipizide|glyburide|glimepiride|sitagliptin|januvia|janumet|"
                         r"linagliptin|tradjenta|saxagliptin|alogliptin|pioglitazone|actos|empagliflozin|jardiance|"
                         r"dapagliflozin|farxiga|canagliflozin|invokana|ertugliflozin|repaglinide|nateglinide|"
                         r"rybelsus|oral (?:hypoglycemic|antidiabetic|diabetic) (?:agents?|drugs?|medications?))\b",
                         re.I),
    "Z79.85": re.compile(r"\b(?:semaglutide|ozempic|liraglutide|victoza|dulaglutide|trulicity|exenatide|byetta|"
                         r"bydureon|tirzepatide|mounjaro|pramlintide)\b", re.I),
}
_NOT_TAKEN = re.compile(r"\b(?:no|not|never|denies|stopped|discontinued?|off|allerg\w*|intoleran\w*|consider\w*|"
                        r"if|may|might|could|would)\b[^.\n]{0,40}$", re.I)
CONFIDENCE_SHARE = 0.9  # of the code that asks for it: a companion is as sure as what it completes, a little less
# Proposed for the coder's review rather than pre-selected: whether a drug is long-term use is the coder's call
# (outpatient coders on the dev notes did not code it beside diabetes).
PRESELECT = False


def _documented(note: str, rx: re.Pattern) -> Evidence | None:
    for m in rx.finditer(note):
        line_start = max(note.rfind("\n", 0, m.start()), note.rfind(". ", 0, m.start())) + 1
        if _NOT_TAKEN.search(note[line_start:m.start()]):
            continue
        return Evidence(start=m.start(), end=m.end(), text=note[m.start():m.end()])
    return None


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    have = {s.code for s in suggestions if is_cm(s)}
    out = list(suggestions)
    for i, s in enumerate(suggestions):
        if not is_cm(s) or not s.suggested or s.code.startswith("Z79"):
            continue
        asked = ctx.tab.ranges(s.code, "use_additional")
        for code, rx in COMPANIONS.items():
            if code in have or not any(r.covers(code) for _, r in asked):
                continue
            ev = _documented(ctx.note, rx)
            if ev is None:
                continue
            have.add(code)
            conf = round(s.confidence * CONFIDENCE_SHARE, 4)
            out.append(Suggestion(
                code=code, system=s.system, title=ctx.tab.title(code), confidence=conf,
                reasoning=(f"The note says “{ev.text}”; {s.code} asks to “use additional code” for it "
                           f"({ctx.tab.title(code)}). Proposed for review: confirm long-term use."),
                evidence=[ev], billable=ctx.tab.billable(code), source="retrieval",
                suggested=PRESELECT and conf >= ctx.threshold, held_back=None if PRESELECT else "companion"))
            out[i] = with_reason(out[i], f"Companion code {code} proposed, as its “use additional code” note asks.")
    return out
