"""Scores behind ``medcoder eval``: how well suggestions match gold codes."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

from medcoder_desktop.core.models import GoldItem


class PRF(BaseModel):
    precision: float
    recall: float
    f1: float


class EvalResult(BaseModel):
    n: int
    micro: PRF
    category_micro: PRF
    top1: float
    recall_at_5: float
    recall_at_10: float
    invalid_codes: int
    seconds_per_item: float
    mode: str
    per_source: dict[str, dict[str, float]] = Field(default_factory=dict)


def prf(tp: int, fp: int, fn: int) -> PRF:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(precision=round(p, 4), recall=round(r, 4), f1=round(f, 4))


def category(code: str) -> str:
    return code.replace(".", "")[:3].upper()


def _norm(code: str) -> str:
    return code.replace(".", "").upper()


def evaluate(
    items: Sequence[GoldItem],
    rank: Callable[[GoldItem], list[tuple[str, float]]],
    suggested: Callable[[GoldItem, list[tuple[str, float]]], list[str]],
    is_valid: Callable[[str], bool],
    mode: str,
) -> EvalResult:
    """Score a ranker on gold items.

    Args:
        rank: the ranked (code, score) pairs for an item, best first, up to 10.
        suggested: of those, the ones the product would show as suggested (its own threshold).
        is_valid: whether a code exists in the active code sets (anything else is counted invalid).
    """
    tp = fp = fn = ctp = cfp = cfn = 0
    top1 = r5 = r10 = invalid = 0
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    start = time.perf_counter()
    for item in items:
        gold = {_norm(c) for c in item.codes + item.procedures}
        ranked = rank(item)
        invalid += sum(1 for c, _ in ranked if not is_valid(c))
        ranked_n = [_norm(c) for c, _ in ranked]
        shown = {_norm(c) for c in suggested(item, ranked)}
        tp += len(shown & gold)
        fp += len(shown - gold)
        fn += len(gold - shown)
        gcat, scat = {category(c) for c in gold}, {category(c) for c in shown}
        ctp += len(scat & gcat)
        cfp += len(scat - gcat)
        cfn += len(gcat - scat)
        hit1 = bool(ranked_n) and ranked_n[0] in gold
        top1 += hit1
        r5 += len(gold & set(ranked_n[:5])) / len(gold) if gold else 0
        r10 += len(gold & set(ranked_n[:10])) / len(gold) if gold else 0
        src = by_source[item.source or "unknown"]
        src[0] += 1
        src[1] += hit1
        src[2] += bool(gold & set(ranked_n[:5]))
    n = len(items)
    elapsed = time.perf_counter() - start
    return EvalResult(
        n=n,
        micro=prf(tp, fp, fn),
        category_micro=prf(ctp, cfp, cfn),
        top1=round(top1 / n, 4) if n else 0.0,
        recall_at_5=round(r5 / n, 4) if n else 0.0,
        recall_at_10=round(r10 / n, 4) if n else 0.0,
        invalid_codes=invalid,
        seconds_per_item=round(elapsed / n, 5) if n else 0.0,
        mode=mode,
        per_source={
            s: {"n": v[0], "top1": round(v[1] / v[0], 4), "top5": round(v[2] / v[0], 4)}
            for s, v in sorted(by_source.items())
        },
    )
