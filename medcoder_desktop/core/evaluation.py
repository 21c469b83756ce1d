"""Scores behind ``medcoder eval``: how well suggestions match gold codes."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

from medcoder_desktop.core.codes import undotted
from medcoder_desktop.core.models import GoldItem
from medcoder_desktop.errors import CodeNotFoundError

CALIBRATION_BINS = 10
TOP_CODES = 20


class PRF(BaseModel):
    precision: float
    recall: float
    f1: float


class ReliabilityBin(BaseModel):
    """One equal-width bin of the ranked codes' scores: how often a score this high was right."""

    lo: float
    hi: float
    count: int
    confidence: float  # mean score in the bin (0 when empty)
    accuracy: float  # share of the bin's codes that are gold codes (0 when empty)


class Reliability(BaseModel):
    """How far scores can be read as probabilities: reliability bins, ECE and Brier score (``medcoder eval``)."""

    n: int  # scored (code, score) pairs
    ece: float  # expected calibration error: count-weighted mean |accuracy - confidence|
    brier: float  # mean (score - correct)^2
    bins: list[ReliabilityBin]


class CodeCount(BaseModel):
    code: str
    count: int
    title: str | None = None


class ItemRecord(BaseModel):
    """What happened on one gold item (codes only, never the note text)."""

    id: str
    source: str
    gold: list[str]
    suggested: list[str]
    ranked: list[tuple[str, float]]


MODEL_WORK = ("model_calls", "questions", "prompt_tokens", "prompt_evaluated", "generated_tokens", "model_steps",
              "model_ms")


class EvalResult(BaseModel):
    n: int
    micro: PRF
    category_micro: PRF
    top1: float
    recall_at_5: float
    recall_at_10: float
    invalid_codes: int
    non_billable: int = 0  # shown suggestions that are headers, not billable codes (should be 0)
    # Gold codes that are no complete code of the active code sets: a category since split into subcodes
    # (R51 -> R51.9 in FY2021), a code written without its 7th character, a PCS code cut to its first characters.
    # No shown code can equal them; ``micro_active`` lets one shown code beneath each meet it (``micro`` does not).
    gold_incomplete: int = 0
    micro_active: PRF | None = None
    seconds_per_item: float
    mode: str
    # source -> n, top1, top5, precision, recall, f1
    per_source: dict[str, dict[str, int | float]] = Field(default_factory=dict)
    calibration: Reliability | None = None
    calibration_by_source: dict[str, Reliability] = Field(default_factory=dict)  # each kind of note apart
    top_misses: list[CodeCount] = Field(default_factory=list)
    top_false_positives: list[CodeCount] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)  # duplicate ids, gold codes in no code set
    # With a model: its work a note, means (MODEL_WORK: calls, questions, tokens, model steps, ms)
    model_work: dict[str, float] = Field(default_factory=dict)
    # Left out of model_dump() (and so of `--json`): write_report puts it in eval.json.
    items: list[ItemRecord] = Field(default_factory=list, exclude=True)


def prf(tp: int, fp: int, fn: int) -> PRF:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(precision=round(p, 4), recall=round(r, 4), f1=round(f, 4))


def met_beneath(gold: set[str], extra: set[str]) -> dict[str, str]:
    """Pair each incomplete gold code with one shown code beneath it (undotted codes; each shown code once)."""
    pairs: dict[str, str] = {}
    free = sorted(extra)
    for g in sorted(gold, key=lambda c: (-len(c), c)):  # the longest (most specific) gold codes choose first
        hit = next((c for c in free if c.startswith(g) and c != g), None)
        if hit:
            pairs[g] = hit
            free.remove(hit)
    return pairs


def category(code: str) -> str:
    return code.replace(".", "")[:3].upper()


def calibration(pairs: Sequence[tuple[float, bool]], bins: int = CALIBRATION_BINS) -> Reliability:
    """Reliability bins, ECE and Brier score of (score, correct) pairs; scores are clipped to [0, 1]."""
    count, conf, hits = [0] * bins, [0.0] * bins, [0] * bins
    brier = 0.0
    for score, correct in pairs:
        s = min(1.0, max(0.0, score))
        b = min(int(s * bins), bins - 1)
        count[b] += 1
        conf[b] += s
        hits[b] += correct
        brier += (s - correct) ** 2
    n = len(pairs)
    out, ece = [], 0.0
    for b in range(bins):
        mean_conf = conf[b] / count[b] if count[b] else 0.0
        acc = hits[b] / count[b] if count[b] else 0.0
        ece += count[b] / n * abs(acc - mean_conf) if n else 0.0
        out.append(ReliabilityBin(lo=round(b / bins, 4), hi=round((b + 1) / bins, 4), count=count[b],
                                  confidence=round(mean_conf, 4), accuracy=round(acc, 4)))
    return Reliability(n=n, ece=round(ece, 4), brier=round(brier / n, 4) if n else 0.0, bins=out)


def _top(counts: Counter[str], shown_as: dict[str, str], title: Callable[[str], str | None]) -> list[CodeCount]:
    """The most frequent codes, most frequent first (ties by code), with their titles when known."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CODES]
    return [CodeCount(code=shown_as[k], count=v, title=_title(title, shown_as[k])) for k, v in ranked]


def _title(title: Callable[[str], str | None], code: str) -> str | None:
    try:
        return title(code)
    except CodeNotFoundError:  # a code the dictionary does not know has no title
        return None


def evaluate(
    items: Sequence[GoldItem],
    rank: Callable[[GoldItem], list[tuple[str, float]]],
    suggested: Callable[[GoldItem, list[tuple[str, float]]], list[str]],
    is_valid: Callable[[str], bool],
    mode: str,
    title: Callable[[str], str | None] = lambda code: None,
    is_billable: Callable[[str], bool] = lambda code: True,
) -> EvalResult:
    """Score a ranker on gold items.

    Args:
        rank: the ranked (code, score) pairs for an item, best first, up to 10; the score is the
            product's calibrated confidence (the calibration bins are computed from it).
        suggested: of those, the ones the product would show as suggested (its own threshold).
        is_valid: whether a code exists in the active code sets (anything else is counted invalid).
        title: a code's title, for the tables of misses and false positives (None when unknown).
        is_billable: whether a valid code is billable (shown codes that are not are counted ``non_billable``).
    """
    tp = fp = fn = ctp = cfp = cfn = 0
    below = gold_incomplete = 0  # gold codes met by a shown code beneath them, for micro_active
    top1 = r5 = r10 = invalid = non_billable = 0
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    scored: list[tuple[float, bool]] = []
    scored_by_source: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    misses: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()
    shown_as: dict[str, str] = {}  # normalized code -> the code as first written
    records: list[ItemRecord] = []
    start = time.perf_counter()
    for item in items:
        gold_codes = [c.strip().upper() for c in item.codes + item.procedures]
        gold = {undotted(c) for c in gold_codes}
        ranked = rank(item)
        invalid += sum(1 for c, _ in ranked if not is_valid(c))
        ranked_n = [undotted(c) for c, _ in ranked]
        shown_codes = suggested(item, ranked)
        shown = {undotted(c) for c in shown_codes}
        non_billable += sum(1 for c in shown_codes if is_valid(c) and not is_billable(c))
        for c in gold_codes + shown_codes:
            shown_as.setdefault(undotted(c), c)
        tp += len(shown & gold)
        fp += len(shown - gold)
        fn += len(gold - shown)
        misses.update(gold - shown)
        incomplete = {g for g in gold if not (is_valid(g) and is_billable(g))}
        gold_incomplete += len(incomplete)
        below += len(met_beneath(incomplete - shown, shown - gold))
        false_pos.update(shown - gold)
        gcat, scat = {category(c) for c in gold}, {category(c) for c in shown}
        ctp += len(scat & gcat)
        cfp += len(scat - gcat)
        cfn += len(gcat - scat)
        hit1 = bool(ranked_n) and ranked_n[0] in gold
        top1 += hit1
        r5 += len(gold & set(ranked_n[:5])) / len(gold) if gold else 0
        r10 += len(gold & set(ranked_n[:10])) / len(gold) if gold else 0
        scored += [(score, undotted(c) in gold) for c, score in ranked]
        source = item.source or "unknown"
        scored_by_source[source] += [(score, undotted(c) in gold) for c, score in ranked]
        by_source[source].update(n=1, top1=hit1, top5=bool(gold & set(ranked_n[:5])),
                                 tp=len(shown & gold), fp=len(shown - gold), fn=len(gold - shown))
        records.append(ItemRecord(id=item.id, source=source, gold=gold_codes, suggested=list(shown_codes),
                                  ranked=[(c, round(s, 4)) for c, s in ranked[:10]]))
    n = len(items)
    elapsed = time.perf_counter() - start
    return EvalResult(
        n=n,
        micro=prf(tp, fp, fn),
        gold_incomplete=gold_incomplete,
        micro_active=prf(tp + below, fp - below, fn - below),
        category_micro=prf(ctp, cfp, cfn),
        top1=round(top1 / n, 4) if n else 0.0,
        recall_at_5=round(r5 / n, 4) if n else 0.0,
        recall_at_10=round(r10 / n, 4) if n else 0.0,
        invalid_codes=invalid,
        non_billable=non_billable,
        seconds_per_item=round(elapsed / n, 5) if n else 0.0,
        mode=mode,
        per_source={s: _source_scores(v) for s, v in sorted(by_source.items())},
        calibration=calibration(scored),
        calibration_by_source={s: calibration(v) for s, v in sorted(scored_by_source.items())},
        top_misses=_top(misses, shown_as, title),
        top_false_positives=_top(false_pos, shown_as, title),
        items=records,
    )


def _source_scores(v: Counter[str]) -> dict[str, int | float]:
    return {"n": v["n"], "top1": round(v["top1"] / v["n"], 4), "top5": round(v["top5"] / v["n"], 4),
            **prf(v["tp"], v["fp"], v["fn"]).model_dump()}
