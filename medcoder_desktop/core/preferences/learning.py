"""Learning preferences: from historically coded notes (gold JSONL) and from the coders' decisions.

Both reduce to the same observation: the product suggested (or found below the threshold) a code with a
confidence and evidence, and the organization coded it or did not. Per code and per (normalized
evidence wording, code) the :class:`Tally` counts those notes, how many were coded, and the sum of the
confidences (what the product alone expected). A code coded in place of a suggested one in the same
category (an edit from E11.9 to E11.65; a gold code that the dictionary never offered beside a
suggestion it did not keep) is counted as a replacement.

Wordings hold no note text (``privacy.py``): only the evidence's words that are dictionary vocabulary,
kept once a (wording, code) pair was seen in ``MIN_WORDING_NOTES`` distinct notes.

Learning from gold runs the pipeline retrieval-only and without preferences, so what is learned never
feeds on itself; a workspace run shown with preferences already carries them in its confidences, so
what is learned from its decisions is what the coders still changed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from medcoder_desktop.core.codes import undotted
from medcoder_desktop.core.models import GoldItem, Suggestion
from medcoder_desktop.core.progress import Progress
from medcoder_desktop.core.workspace.history import code_states
from medcoder_desktop.core.preferences.records import LearnedSource, Tally
from medcoder_desktop.core.preferences.privacy import MAX_WORDING_CHARS, MIN_WORDING_NOTES, Known, vocabulary_wording

__all__ = ["MAX_WORDING_CHARS", "Learner", "learn_gold", "learn_workspace", "wording"]


def wording(text: str, known: Known | None = None) -> str:
    """Evidence words as they are compared: lower case, letters and digits, single spaces; with ``known``,
    only dictionary vocabulary (see ``privacy.py``)."""
    return vocabulary_wording(text, known)


def category(code: str) -> str:
    return undotted(code)[:3]


class Learner:
    """Collects observations into one :class:`LearnedSource`."""

    def __init__(self, known: Known | None = None) -> None:
        self.known = known  # dictionary vocabulary: the only words of a note a wording may keep
        self.codes: dict[str, Tally] = defaultdict(Tally)
        self.wordings: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
        self.replacements: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.items = 0
        self.skipped = 0

    def observe(self, s: Suggestion, kept: bool) -> None:
        one = Tally(n=1, kept=int(kept), expected=s.confidence, shown=int(s.suggested),
                    shown_kept=int(s.suggested and kept))
        self.codes[s.code].add(one)
        for w in {wording(e.text, self.known) for e in s.evidence}:
            if w:
                self.wordings[w][s.code].add(one)

    def replaced(self, suggested: str, coded: str) -> None:
        self.replacements[suggested][coded] += 1

    def source(self, id: str, kind: str, label: str, learned_at: str, code_sets: dict[str, str]) -> LearnedSource:
        for t in self.codes.values():
            t.expected = round(t.expected, 4)
        for by_code in self.wordings.values():
            for t in by_code.values():
                t.expected = round(t.expected, 4)
        # A wording seen in fewer notes than this is not kept at all: rare words are the identifying ones.
        wordings = {w: {c: t for c, t in v.items() if t.n >= MIN_WORDING_NOTES} for w, v in self.wordings.items()}
        return LearnedSource(
            id=id, kind=kind, label=label, learned_at=learned_at, items=self.items, code_sets=code_sets,
            codes=dict(self.codes), wordings={w: v for w, v in wordings.items() if v},
            replacements={y: dict(xs) for y, xs in self.replacements.items()},
        )


def learn_gold(items: Iterable[GoldItem], suggest: Callable[[GoldItem], list[Suggestion]],
               canonical: Callable[[str], str | None], total: int, progress: Progress,
               known: Known | None = None) -> Learner:
    """Observations from coded notes: each note's suggestions against its gold codes.

    Args:
        suggest: every suggestion of the product for a note (suggested or not), without preferences.
        canonical: a gold code as the dictionary writes it, or None when the dictionary lacks it.
        known: the dictionary's vocabulary (wordings keep only its words).
    """
    learner = Learner(known)
    start = time.monotonic()
    for i, item in enumerate(items):
        if item.kind != "note" or not item.text.strip():
            learner.skipped += 1
            continue
        gold = {undotted(c) for c in item.codes + item.procedures}
        suggestions = suggest(item)
        found = {undotted(s.code) for s in suggestions}
        missing = [c for c in item.codes + item.procedures if undotted(c) not in found]
        for s in suggestions:
            kept = undotted(s.code) in gold
            learner.observe(s, kept)
            if s.suggested and not kept:
                for g in missing:
                    if category(g) == category(s.code) and (code := canonical(g)):
                        learner.replaced(s.code, code)
        learner.items += 1
        if i % 10 == 0 or i + 1 == total:
            left = (time.monotonic() - start) / (i + 1) * (total - i - 1)
            progress(f"learning: note {i + 1} of {total}, about {left:.0f} s left", (i + 1) / max(total, 1))
    return learner


def learn_workspace(workspace, known: Known | None = None) -> Learner:
    """Observations from the coders' decisions: accepted, edited and added codes were coded; rejected and
    replaced ones were not. The confidence and evidence are those of the run the decision was made on."""
    learner = Learner(known)
    runs: dict[int, dict[str, Suggestion]] = {}

    def run_suggestions(run_id: int | None, encounter_id: str) -> dict[str, Suggestion]:
        run = workspace.get_run(run_id) if run_id is not None else workspace.latest_run(encounter_id)
        if run is None:
            return {}
        if run.id not in runs:
            runs[run.id] = {s.code: s for s in run.suggestions}
        return runs[run.id]

    for enc in workspace.list_encounters():
        decisions = workspace.decisions(enc.id, include_undone=False)
        if not decisions:
            learner.skipped += 1
            continue
        by_id = {d.id: d for d in decisions}
        for state in code_states(decisions):
            decision = by_id[state.decision_id]
            shown = run_suggestions(decision.run_id, enc.id)
            s = shown.get(state.code)
            if s is not None:
                learner.observe(s, state.in_effect)
            if state.action == "edit" and state.replaced_code and state.replaced_code in shown:
                learner.replaced(state.replaced_code, state.code)
        learner.items += 1
    return learner
