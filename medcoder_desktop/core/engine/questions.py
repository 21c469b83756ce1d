"""What retrieval leaves open for the model, read from the first (retrieval-only) suggestions.

A finding is open when its best candidate's calibrated confidence lies between two thresholds around
the display threshold (below the band it would not be shown whatever the model said; above it the
dictionary's words already settle it), or when two of its candidates are close. Findings whose
candidates are the same are one question. The principal / first-listed diagnosis is asked among the
shown diagnoses when there are several.
"""

from __future__ import annotations

from collections.abc import Sequence

from medcoder_desktop.core.engine.adjudicate import MAX_OPTIONS, MAX_PRINCIPAL_OPTIONS, MAX_QUESTIONS, Question
from medcoder_desktop.core.engine.retrieve import Candidate
from medcoder_desktop.core.models import Suggestion

LOW = 0.5  # the band's lower end, as a share of the display threshold
HIGH = 0.6  # the band's upper end (calibrated probability that the code is right)
CLOSE = 0.12  # two candidates this close in confidence are both open


def open_questions(per_mention: Sequence[Sequence[Candidate]], first: Sequence[Suggestion],
                   threshold: float) -> list[Question]:
    """The questions to put to the model, at most MAX_QUESTIONS, in note order."""
    shown = {(s.system, s.code): s for s in first if not s.held_back}
    lo, hi = threshold * LOW, max(HIGH, threshold)
    by_options: dict[tuple[str, ...], Question] = {}
    for i, cands in enumerate(per_mention):
        options: list[tuple[float, Candidate]] = []
        seen = set()
        for c in cands:
            s = shown.get((c.system, c.code))
            if s is None or c.code in seen:
                continue  # removed by a convention, or beaten by a more specific code: choosing it changes nothing
            seen.add(c.code)
            options.append((s.confidence, c))
        if not options:
            continue
        options.sort(key=lambda t: -t[0])
        options = options[:MAX_OPTIONS]
        top = options[0][0]
        close = len(options) > 1 and options[1][0] >= lo and top - options[1][0] <= CLOSE
        if not (lo <= top <= hi or close):
            continue
        key = tuple(c.code for _, c in options)
        q = by_options.get(key)
        if q is None:
            by_options[key] = Question(key="", mentions=[i], candidates=[c for _, c in options],
                                       retrieval_confidence=top)
        else:
            q.mentions.append(i)
    ranked = sorted(by_options.values(), key=lambda q: abs(q.retrieval_confidence - threshold))[:MAX_QUESTIONS]
    ranked.sort(key=lambda q: q.candidates[0].mention.start)
    for n, q in enumerate(ranked, 1):
        q.key = str(n)
    return ranked


def principal_options(first: Sequence[Suggestion]) -> list[Suggestion]:
    """The shown diagnoses that may be principal / first-listed, best supported first."""
    dx = [s for s in first if s.system == "ICD-10-CM" and s.suggested and not s.held_back and s.billable
          and s.code[:1] not in "VWXY"]
    return sorted(dx, key=lambda s: -s.confidence)[:MAX_PRINCIPAL_OPTIONS]
