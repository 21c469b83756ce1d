"""Outpatient rules (ICD-10-CM Official Guidelines, Section IV): code the conditions the visit is for and the
coexisting ones that affect care, as the provider's assessment lists them.

Where the note has a diagnosis list (short lines, one condition each, under Assessment / Impression /
Diagnosis / Plan), what it lists is what is coded: findings of the history, review of systems, exam and
results stand only where no listed diagnosis accounts for them, and the list accounts for the visit (IV.D,
IV.J). A sign or symptom beside the confirmed diagnosis on the same line ("Acid reflux with nausea and
vomiting") is not coded (IV.D). External-cause codes stay beside a listed injury: they say how it happened.
A note without such a list is left as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from medcoder_desktop.core.conventions.context import Context, hold_back, is_cm
from medcoder_desktop.core.engine.text import sections
from medcoder_desktop.core.models import Suggestion

RULE = "outpatient (Section IV)"
OFF_THE_LIST = "Outpatient (Section IV): not on the assessment's diagnosis list."
LIST_SECTIONS = {"assessment", "plan"}
MAX_WORDS = 12  # a diagnosis line names a condition, it does not tell a story
_BULLET = re.compile(r"^\s*(?:[-*•#>]|\d{1,2}[.)])\s*")
_NOT_A_DIAGNOSIS = re.compile(r"^(?:continue|follow|return|start|stop|obtain|order|refer|recheck|repeat|schedule|"
                              r"discussed|patient|we|i|he|she|they|all|no|none|see|plan)\b", re.I)


# "Medical Reasoning:", "Additional Testing:": labels of a problem's paragraph, not diagnoses.
_LABEL = re.compile(r"\b(?:reasoning|treatment|testing|tests?|education|counseling|referrals?|agreements?|"
                    r"instructions|follow.?up|plan|disposition|medications?|labs?|imaging|results?|orders?|"
                    r"recommendations?|discussion|goals?)\s*$", re.I)
_HEAD_END = re.compile(r"\s[-\u2013\u2014]\s|:")


@lru_cache(maxsize=64)
def diagnosis_statements(note: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each line of the note's diagnosis list (its diagnosis part: "1. DM2 w hyperglycemia - increase
    glargine" lists "DM2 w hyperglycemia"); empty when the note has none."""
    out: list[tuple[int, int]] = []
    for sec in sections(note):
        if sec.name not in LIST_SECTIONS or not sec.heading:
            continue
        pos = sec.start + len(sec.heading)
        for line in note[pos:sec.end].split("\n"):
            start = pos
            pos += len(line) + 1
            bullet = _BULLET.match(line)
            offset = bullet.end() if bullet else 0
            cut = _HEAD_END.search(line, offset)
            head = line[offset:cut.start() if cut else len(line)]
            if cut and cut.group(0) == ":" and (_LABEL.search(head) or not bullet and len(head.split()) > 4):
                continue
            body = head.strip().rstrip(".")
            words = body.split()
            if not words or len(words) > MAX_WORDS or body.isupper() and len(words) > 1:
                continue
            if _NOT_A_DIAGNOSIS.match(body) or "." in body:
                continue
            out.append((start + offset, start + offset + len(head)))
    return tuple(out)


def in_statement(s: Suggestion, statements: tuple[tuple[int, int], ...]) -> bool:
    return any(a <= e.start and e.end <= b for e in s.evidence for a, b in statements)


def _statement_of(s: Suggestion, statements) -> set[tuple[int, int]]:
    return {(a, b) for e in s.evidence for a, b in statements if a <= e.start and e.end <= b}


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    if ctx.encounter.setting != "outpatient":
        return suggestions
    statements = diagnosis_statements(ctx.note)
    if not statements:
        return suggestions
    listed = [s for s in suggestions if is_cm(s) and s.suggested and in_statement(s, statements)]
    injury = any(s.code[:1] in "ST" for s in listed)
    diagnosis_lines = {st for s in listed if not s.code.startswith("R") for st in _statement_of(s, statements)}
    out: list[Suggestion] = []
    for s in suggestions:
        if is_cm(s) and not s.suggested and not s.held_back and not in_statement(s, statements):
            # below the threshold already (its confidence counts the list): the coder who opens it sees why
            out.append(s.model_copy(update={"reasoning": f"{s.reasoning} {OFF_THE_LIST}"}))
        elif not is_cm(s) or not s.suggested:
            out.append(s)
        elif not in_statement(s, statements):
            if s.code[:1] in "VWXY" and injury:
                out.append(s)
                continue
            out.append(hold_back(ctx, s, RULE, "outpatient: not on the assessment's diagnosis list",
                                 "Outpatient (Section IV): the assessment lists the diagnoses of the visit, and this "
                                 "is not among them: not suggested."))
        elif s.code.startswith("R") and _statement_of(s, statements) & diagnosis_lines:
            out.append(hold_back(ctx, s, RULE, "outpatient: a symptom of the diagnosis on its line",
                                 "Outpatient (Section IV): a symptom beside the confirmed diagnosis on the same line "
                                 "is not coded: not suggested."))
        else:
            out.append(s)
    return out
