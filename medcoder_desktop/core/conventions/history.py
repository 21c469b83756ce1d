"""History is not a current condition (guidelines I.C.21.c.4, IV.J): "history of basal cell carcinoma" is the
personal-history code Z85.828, not C44.91, which says the cancer is there now.

A shown code whose every piece of evidence follows "history of" / "h/o" / "hx of" or names a habit given up
("ex-smoker", "quit smoking") (a personal history, not the
"past medical history" heading of chronic conditions, which are current), and that is not on an outpatient
assessment's diagnosis list, becomes the personal-history code (Z85-Z87, Z92) the dictionary finds for it.
Where there is none, the condition is one that lasts ("history of hypertension"): in an outpatient visit note with a
diagnosis list (see section_iv) that does not name it, it is not suggested; elsewhere it stays, as a chronic
condition still present. The reasoning says which.
"""

from __future__ import annotations

import re

from medcoder_desktop.core.conventions.context import Context, hold_back, is_cm, with_reason
from medcoder_desktop.core.conventions.section_iv import diagnosis_statements, in_statement
from medcoder_desktop.core.conventions.tabular import SYSTEM
from medcoder_desktop.core.models import Suggestion

_HISTORY_OF = re.compile(r"(?<!medical )(?<!surgical )(?<!family )(?<!social )\b(?:history of|h/o|hx of)\s+"
                         r"(?:(?:a|an|the|his|her|prior|previous|remote)\s+)?[^.;\n]{0,40}$", re.I)
RULE = "history"
PERSONAL_HISTORY = ("Z85", "Z86", "Z87", "Z92")
CLOSE = 0.05  # search scores this close say the same words
# A personal-history code scoring less says other words than the note's ("personal history of pulmonary embolism"
# for "history of COPD" 0.51, "... of nicotine dependence" for "history of alcoholism" 0.58): the condition has no
# history code and stays as it is (COPD), or has a code of its own for the past (F10.21).
MIN_SCORE = 0.6
_PAST_STATE = re.compile(r"\bin remission\b|^old\b", re.I)


# A habit given up is history too: "ex-smoker", "ex-drinker", "quit smoking" (Index: Ex-smoker, see History,
# personal, nicotine dependence Z87.891).
_GIVEN_UP = re.compile(r"(?:\bex-?\s?|\b(?:quit|stopped|gave up|given up)\s+)$", re.I)
_LEAD = re.compile(r"(?:(?:of|the|a|an)\s+)+", re.I)


def _follows_history_of(note: str, start: int, text: str) -> bool:
    lead = _LEAD.match(text)  # evidence may begin with the "of" of "history of"
    return bool(_HISTORY_OF.search(note[max(0, start - 80):start] + (lead.group(0) if lead else ""))
                or _GIVEN_UP.search(note[max(0, start - 12):start]))


def _only_history(ctx: Context, s: Suggestion) -> bool:
    return bool(s.evidence) and all(_follows_history_of(ctx.note, e.start, e.text) for e in s.evidence)


def personal_history_code(ctx: Context, s: Suggestion) -> tuple[str, str] | None:
    """The personal-history code the dictionary finds for the words (then the title) of ``s``: the best one, or a
    specific one within ``CLOSE`` of it before an unspecified one ("history of colon cancer": Z85.038, not Z85.9)."""
    words = " ".join(e.text for e in s.evidence[:1])
    for query in (f"personal history of {words}", f"personal history of {s.title}"):
        try:
            hits = ctx.tab.dictionary.search(query[:300], limit=10, systems={SYSTEM})
        except Exception:  # a query the search refuses finds nothing
            continue
        if not hits:
            continue
        if hits[0].billable and _PAST_STATE.search(hits[0].title):
            # the Index's code for the condition that was: "history of alcoholism" F10.21 (dependence in
            # remission), "history of myocardial infarction" I25.2 (old myocardial infarction)
            return hits[0].code, hits[0].title
        found = [h for h in hits if h.billable and h.code.startswith(PERSONAL_HISTORY) and h.score >= MIN_SCORE]
        if found:
            top = found[0].score
            best = min(found, key=lambda h: (h.score < top - CLOSE, "unspecified" in h.title.lower(), -h.score))
            return best.code, best.title
    return None


def apply(suggestions: list[Suggestion], ctx: Context) -> list[Suggestion]:
    statements = diagnosis_statements(ctx.note)
    visit_list = ctx.encounter.setting == "outpatient" and bool(statements)
    have = {s.code for s in suggestions if s.suggested}
    out: list[Suggestion] = []
    converted: set[str] = set()
    for s in suggestions:
        if not (is_cm(s) and s.suggested and not s.code.startswith("Z") and _only_history(ctx, s)
                and not in_statement(s, statements)):
            out.append(s)
            continue
        found = personal_history_code(ctx, s)
        if found and found[0] not in have:
            have.add(found[0])
            converted.add(found[0])
            kind = "personal-history code" if found[0].startswith(PERSONAL_HISTORY) else "code of the past condition"
            out.append(with_reason(s, f"Documented as history, not as a current condition: the {kind} "
                                      f"{found[0]} ({found[1]}), not {s.code}.", code=found[0], title=found[1]))
        elif visit_list:
            out.append(hold_back(ctx, s, RULE, "history: not a current condition",
                                 "Documented as history, not as a current condition: not suggested."))
        else:  # no personal-history code for it (hypertension, asthma): a chronic condition, still there
            out.append(s)
    # the personal-history code, found on its own below the threshold, is now this one
    return [s for s in out if not (s.code in converted and "not as a current condition: the" not in s.reasoning)]
