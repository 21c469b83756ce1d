"""The tabular list's conventions and the setting's rules, applied to ranked suggestions before anything is shown.

Each rule is a module with ``apply(suggestions, ctx) -> suggestions``; each one that changes a suggestion says so
in its reasoning, and each one that removes one records why in ``ctx.removed``. The order matters: a header
becomes its billable code before one-code-per-condition and Excludes1 compare codes; the outpatient rules
(Section IV) decide what is shown before the pairs are compared, so that a code not shown removes none that is;
companions are proposed for what remains.
"""

from __future__ import annotations

from medcoder_desktop.core.conventions import (billable, companions, encounter, excludes1, history, laterality,
                                               neoplasm_site, one_per_condition, section_iv, stay_symptoms,
                                               trimester)
from medcoder_desktop.core.conventions.context import Context
from medcoder_desktop.core.conventions.tabular import Tabular
from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.models import Encounter, Suggestion

RULES = (billable, laterality, trimester, encounter, section_iv, stay_symptoms, history, neoplasm_site,
         one_per_condition, excludes1, companions)


def apply_conventions(dictionary: Dictionary, suggestions: list[Suggestion], note: str, encounter_: Encounter,
                      threshold: float = 0.5, ctx: Context | None = None) -> list[Suggestion]:
    """The suggestions after every rule, ranked by confidence (ties in note order)."""
    ctx = ctx or Context(note=note, encounter=encounter_, tab=Tabular(dictionary), threshold=threshold)
    for rule in RULES:
        suggestions = rule.apply(suggestions, ctx)
    suggestions.sort(key=lambda s: (-s.confidence, s.evidence[0].start if s.evidence else 0))
    return suggestions


__all__ = ["Context", "RULES", "Tabular", "apply_conventions"]
