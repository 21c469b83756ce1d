"""Signs and symptoms of a stay whose diagnoses are established (guidelines I.B.4-5, Section III): a discharge
summary's diagnosis list names the conditions that account for the stay, and a symptom code beside them ("shortness
of breath", "orthopnea", "edema" in a heart-failure admission) says again what a listed diagnosis says.

In an inpatient note with a diagnosis list that holds at least one established condition (a code outside
chapter 18), a shown sign or symptom code (R00-R69) that is not on the list is held back, with the reasoning that
says why; the coder still sees it among the weaker candidates. A note without such a list keeps its symptoms:
nothing there says which conditions account for them. Abnormal results (R70-R94) are left to their own rule.
"""

from __future__ import annotations

from medcoder_desktop.core.conventions.context import Context, hold_back, is_cm
from medcoder_desktop.core.conventions.section_iv import diagnosis_statements, in_statement
from medcoder_desktop.core.models import Suggestion

RULE = "inpatient symptoms"


def _symptom(s: Suggestion) -> bool:
    return is_cm(s) and s.code[:1] == "R" and s.code[1:3] < "70"


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    if ctx.encounter.setting != "inpatient":
        return suggestions
    statements = diagnosis_statements(ctx.note)
    if not statements or not any(s.suggested and is_cm(s) and not _symptom(s) and in_statement(s, statements)
                                 for s in suggestions):
        return suggestions
    return [hold_back(ctx, s, RULE, "inpatient: a symptom beside the established diagnoses",
                      "Inpatient (guideline I.B.5): the diagnosis list names the established conditions of the stay, "
                      "and this sign or symptom is not on it: not suggested.")
            if s.suggested and _symptom(s) and not in_statement(s, statements) else s
            for s in suggestions]
