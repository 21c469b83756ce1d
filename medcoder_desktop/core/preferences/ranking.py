"""Ranking with organization preferences: learned shifts of the confidence, learned replacements, rules.

For a suggestion of code c with confidence p, and the tallies of c summed over all sources (``n`` notes
where c was found, ``k`` of them coded, ``E`` the sum of the product's confidences there):

    p̂ = E / n                                   what the product alone expected
    p̃ = (k + a·p̂) / (n + a)                     Bayesian smoothing: a prior worth ``a`` notes at p̂
    shift_code = logit(p̃) − logit(p̂)

so a code seen in a handful of notes barely moves, and one the organization codes far more (or less)
often than the product predicts moves a lot. The same is done for the suggestion's evidence wording
(the wording of its evidence seen most often with c), with the code's shifted expectation as its prior:

    p̂_w = σ(logit(E_w / n_w) + shift_code);   p̃_w = (k_w + a·p̂_w) / (n_w + a)
    shift = shift_code + logit(p̃_w) − logit(p̂_w),  clipped to ±MAX_SHIFT

and the confidence becomes σ(logit(p) + shift). Shifts smaller than ``DEAD_ZONE`` are not applied (they
would only add noise to the reasoning). A learned replacement Y → X (X coded in r of the s notes where Y
was suggested, Y itself in k_s of them) puts X in Y's place, on Y's evidence, when r ≥ MIN_REPLACEMENTS
and r > k_s, with confidence σ(logit(p) + logit((r + a·p̂)/(s + a)) − logit(p̂)).

Then rules: ``never`` drops, ``prefer`` swaps, ``pair`` adds (with the trigger's evidence), limited by
setting and payer; ``suggested`` is recomputed against the threshold. Every suggestion changed says so
in its reasoning, in a sentence that starts with "Organization preference:".
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from medcoder_desktop.core.engine.confidence import shown
from medcoder_desktop.core.models import Encounter, Evidence, Rule, Suggestion
from medcoder_desktop.core.preferences.learning import wording
from medcoder_desktop.core.preferences.privacy import vocabulary
from medcoder_desktop.core.preferences.records import PreferencesData, Tally
from medcoder_desktop.core.preferences.rules import applies, matches
from medcoder_desktop.errors import CodeNotFoundError

PRIOR_NOTES = 10.0  # a: chosen on a split of the CodiEsp train notes (bench/prefs_effect.py measures dev)
MAX_SHIFT = 4.0
DEAD_ZONE = 0.1
MIN_REPLACEMENTS = 2
EPS = 1e-4


def logit(p: float) -> float:
    p = min(max(p, EPS), 1 - EPS)
    return math.log(p / (1 - p))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def smoothed_shift(n: int, kept: float, expected_rate: float, a: float = PRIOR_NOTES) -> float:
    """logit(p̃) − logit(p̂) for ``kept`` of ``n`` against the expected rate p̂ (0 when n is 0)."""
    if n <= 0:
        return 0.0
    p_hat = min(max(expected_rate, EPS), 1 - EPS)
    return logit((kept + a * p_hat) / (n + a)) - logit(p_hat)


@dataclass
class Target:
    """A code a rule or a replacement puts in: its title and billability, read once from the dictionary."""

    code: str
    system: str
    title: str
    billable: bool


class PreferenceRanker:
    """Preferences compiled for ranking: tallies summed over sources, rule targets looked up.

    Build one with :meth:`compile`; :meth:`apply` is called by ``pipeline.build`` for every note.
    """

    def __init__(self, codes: dict[str, Tally], wordings: dict[str, dict[str, Tally]],
                 replacements: dict[str, tuple[str, int]], rules: list[Rule], targets: dict[str, Target]):
        self.codes = codes
        self.wordings = wordings
        self.replacements = replacements
        self.rules = rules
        self.targets = targets
        self.known = None  # the dictionary's vocabulary, set by compile: wordings are compared through it

    @classmethod
    def compile(cls, data: PreferencesData, dictionary) -> "PreferenceRanker | None":
        """None when there is nothing to apply."""
        codes: dict[str, Tally] = defaultdict(Tally)
        wordings: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
        repl: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for src in data.sources.values():
            for c, t in src.codes.items():
                codes[c].add(t)
            for w, by_code in src.wordings.items():
                for c, t in by_code.items():
                    wordings[w][c].add(t)
            for y, xs in src.replacements.items():
                for x, r in xs.items():
                    repl[y][x] += r
        targets: dict[str, Target] = {}

        def target(code: str) -> Target | None:
            if code not in targets:
                try:
                    d = dictionary.show(code)
                except CodeNotFoundError:  # a code set rebuilt without it: the preference lapses
                    return None
                targets[code] = Target(d.code, d.system, d.title, d.billable)
            return targets[code]

        best: dict[str, tuple[str, int]] = {}
        for y, xs in repl.items():
            x, r = max(xs.items(), key=lambda kv: (kv[1], kv[0]))
            if r >= MIN_REPLACEMENTS and target(x) is not None:
                best[y] = (x, r)
        rules = []
        for rule in sorted(data.rules, key=lambda r: r.id):
            needed = rule.code if rule.kind == "prefer" else rule.add if rule.kind == "pair" else None
            if needed is None or target(needed) is not None:
                rules.append(rule)
        if not codes and not best and not rules:
            return None
        ranker = cls(dict(codes), {w: dict(v) for w, v in wordings.items()}, best, rules, targets)
        ranker.known = vocabulary(dictionary)
        return ranker

    # -- per note ------------------------------------------------------------------------------
    def shift(self, s: Suggestion) -> tuple[float, str]:
        """The log-odds shift for a suggestion and the words that explain it ("" when none)."""
        t = self.codes.get(s.code)
        if t is None or t.n == 0:
            return 0.0, ""
        shift = smoothed_shift(t.n, t.kept, t.expected / t.n)
        said = f"coded in {t.kept} of {t.n} notes where found"
        tw, w = max(((self.wordings[w][s.code], w) for w in {wording(e.text, self.known) for e in s.evidence}
                     if s.code in self.wordings.get(w, {})), key=lambda tw: tw[0].n, default=(None, ""))
        if tw is not None and tw.n:
            shift += smoothed_shift(tw.n, tw.kept, sigmoid(logit(tw.expected / tw.n) + shift))
            said += f", {tw.kept} of {tw.n} where the note says “{w}”"
        shift = max(-MAX_SHIFT, min(MAX_SHIFT, shift))
        return (shift, said) if abs(shift) >= DEAD_ZONE else (0.0, "")

    def apply(self, suggestions: list[Suggestion], encounter: Encounter, threshold: float) -> list[Suggestion]:
        """The suggestions with preferences applied (unsorted: ``build`` sorts them)."""
        items: dict[str, _Item] = {}
        for s in suggestions:
            _add(items, self._learned(s))
        rules = [r for r in self.rules if applies(r, encounter)]
        items = {c: it for c, it in items.items() if not _never(rules, c)}
        for it in list(items.values()):
            code = it.s.code
            rule = next((r for r in rules if r.kind == "prefer" and matches(r.over or "", code) and r.code != code),
                        None)
            if rule is not None:
                items.pop(code, None)
                _add(items, self._put(rule.code, it.s, f"{rule.code} is coded in place of {code} "
                                                       f"(rule {rule.id}: {rule.describe()}).", it.s.confidence))
        for rule in rules:  # one suggestion per pair rule, resting on its strongest trigger
            if rule.kind != "pair" or not rule.add:
                continue
            triggers = [it.s for it in items.values() if it.s.code != rule.add and matches(rule.code, it.s.code)]
            if triggers:
                best = max(triggers, key=lambda s: (s.confidence, s.code))
                _add(items, self._put(rule.add, best, f"always coded with {best.code} "
                                                      f"(rule {rule.id}: {rule.describe()}).", best.confidence))
        out = []
        for code, it in items.items():
            if _never(rules, code):
                continue
            reasoning = f"{PREFIX} {' '.join(it.why)} {it.s.reasoning}" if it.why else it.s.reasoning
            out.append(it.s.model_copy(update={"reasoning": reasoning,
                                               "suggested": shown(it.s.confidence, threshold)}))
        return out

    def _learned(self, s: Suggestion) -> "_Item":
        why: list[str] = []
        p0 = s.confidence
        shift, said = self.shift(s)
        if shift:
            conf = round(sigmoid(logit(s.confidence) + shift), 4)
            how = "raised" if conf > s.confidence else "lowered"
            why.append(f"{said}; confidence {how} from {s.confidence:.2f} to {conf:.2f}.")
            s = s.model_copy(update={"confidence": conf})
        repl = self.replacements.get(s.code)
        t = self.codes.get(s.code)
        if repl is None or t is None or t.n == 0 or repl[1] <= t.shown_kept:
            return _Item(s, why)
        x, r = repl
        out_of = max(t.shown, r)
        conf = sigmoid(logit(p0) + smoothed_shift(out_of, r, t.expected / t.n))
        return self._put(x, s, f"coded as {x} in place of {s.code} in {r} of {out_of} notes where {s.code} "
                               "was suggested.", conf)

    def _put(self, code: str, like: Suggestion, why: str, confidence: float) -> "_Item":
        """A suggestion of ``code`` resting on ``like``'s evidence (same offsets, same words)."""
        t = self.targets[code]
        if not t.billable:
            why += f" {t.code} is not billable."
        s = like.model_copy(update={
            "code": t.code, "system": t.system, "title": t.title, "billable": t.billable,
            "confidence": round(min(max(confidence, 0.0), 1.0), 4),
            "evidence": [Evidence(start=e.start, end=e.end, text=e.text) for e in like.evidence],
            "reasoning": f"For {like.code} ({like.title}): {like.reasoning}",
        })
        return _Item(s, [why])


PREFIX = "Organization preference:"


@dataclass
class _Item:
    s: Suggestion  # its reasoning is still the dictionary's (or the model's)
    why: list[str]  # the preference sentences, without PREFIX


def _add(items: dict[str, _Item], it: _Item) -> None:
    """Put ``it`` in; a code already there keeps the higher confidence and both evidence and reasons."""
    have = items.get(it.s.code)
    if have is None:
        items[it.s.code] = it
        return
    keep, other = (have, it) if have.s.confidence >= it.s.confidence else (it, have)
    evidence = sorted({(e.start, e.end): e for e in keep.s.evidence + other.s.evidence}.values(),
                      key=lambda e: e.start)
    why = keep.why + [w for w in other.why if w not in keep.why]
    items[it.s.code] = _Item(keep.s.model_copy(update={"evidence": evidence}), why)


def _never(rules: list[Rule], code: str) -> bool:
    return any(r.kind == "never" and matches(r.code, code) for r in rules)
