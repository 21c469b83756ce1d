"""Confidence in [0, 1] from retrieval (and model) evidence: a logistic model fitted on
development data by ``bench/calibrate.py``, stored in ``resources/calibration.json``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache

from medcoder_desktop.paths import resource

FEATURES = (
    "score", "d", "q", "margin", "top", "mentions", "assessment", "historical", "uncertain",
    "billable", "words", "llm_chose", "llm_rejected",
    # beside the note's diagnosis list (outpatient, Section IV) and symptom codes: refit on both kinds of notes
    "listed", "unlisted", "symptom",
    # the model's probability of this candidate among its question's options, and whether it was asked
    "llm_p", "llm_asked",
    # how tightly the evidence holds the code's words: matched words / words of the evidence span
    "compact",
    # an ICD-10-PCS procedure read through the procedure index (core/engine/procedures.py)
    "procedure",
)


@dataclass
class Calibration:
    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    threshold: float = 0.5
    fitted_on: str = ""
    n: int = 0

    def confidence(self, x: dict[str, float]) -> float:
        if not self.weights:  # not fitted yet: the retrieval score stands for itself
            return round(max(0.0, min(1.0, x.get("score", 0.0))), 4)
        z = self.bias + sum(self.weights.get(k, 0.0) * x.get(k, 0.0) for k in FEATURES)
        return round(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))), 4)


def shown(confidence: float, threshold: float, held_back: str | None = None) -> bool:
    """Whether a suggestion is shown as suggested: at or above the display threshold, and not held back by a
    coding convention. The one place this is decided (the pipeline, the preferences and the service ask here)."""
    return confidence >= threshold and not held_back


def mark_shown(suggestions: list, threshold: float) -> None:
    """Set each suggestion's ``suggested`` for the display threshold ``threshold`` (the user's or calibrated)."""
    for s in suggestions:
        s.suggested = shown(s.confidence, threshold, s.held_back)


# A model that has not been calibrated here (bench/calibrate.py --model) still moves the log-odds:
# a prior of +/-1 for "the model chose this candidate" / "the model chose another one or none".
UNCALIBRATED_MODEL_PRIOR = {"llm_chose": 1.0, "llm_rejected": -1.0}


def _calibration(data: dict) -> Calibration:
    return Calibration(**{k: data[k] for k in ("weights", "bias", "threshold", "fitted_on", "n") if k in data})


@lru_cache(maxsize=8)
def load_calibration(model_sha256: str | None = None) -> Calibration:
    """The retrieval calibration, or the one fitted for the model with this SHA-256.

    ``resources/calibration.json`` holds ``{"retrieval": {...}, "models": {sha256: {...}}}``.
    """
    path = resource("calibration.json")
    if not path.is_file():
        return Calibration()
    data = json.loads(path.read_text(encoding="utf-8"))
    retrieval = _calibration(data.get("retrieval", data))
    if model_sha256 is None:
        return retrieval
    fitted = data.get("models", {}).get(model_sha256)
    if fitted:
        # A feature added after the model's fit takes retrieval's weight: the model's fit only refines
        # what retrieval's features say.
        own = _calibration(fitted)
        own.weights = {**{k: v for k, v in retrieval.weights.items() if k not in own.weights}, **own.weights}
        return own
    weights = {**retrieval.weights, **UNCALIBRATED_MODEL_PRIOR}
    return Calibration(weights=weights, bias=retrieval.bias, threshold=retrieval.threshold,
                       fitted_on=retrieval.fitted_on + " (retrieval; model prior not fitted)", n=retrieval.n)


MODEL_FEATURES = ("llm_chose", "llm_rejected", "llm_p", "llm_asked")


def fit(rows: list[dict[str, float]], labels: list[int], *, l2: float = 1e-3, steps: int = 3000,
        base: Calibration | None = None) -> tuple[dict, float]:
    """Logistic regression by gradient descent (numpy): a dozen features need nothing more.

    With ``base`` (retrieval's calibration), only the model's features and a bias shift are fitted, on
    top of ``base``'s log-odds: a model's answers refine what retrieval found, and a few hundred asked
    codes are not asked to re-learn retrieval's weights.
    """
    import numpy as np

    names = MODEL_FEATURES if base is not None else FEATURES
    X = np.array([[r.get(k, 0.0) for k in names] for r in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    offset = np.zeros(len(rows))
    if base is not None:
        offset = np.array([base.bias + sum(base.weights.get(k, 0.0) * r.get(k, 0.0) for k in FEATURES
                                           if k not in MODEL_FEATURES) for r in rows], dtype=np.float64)
    w = np.zeros(X.shape[1])
    b = 0.0
    lr = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(X @ w + b + offset)))
        g = p - y
        w -= lr * (X.T @ g / len(y) + l2 * w)
        b -= lr * g.mean()
    fitted = {k: round(float(v), 5) for k, v in zip(names, w)}
    if base is None:
        return fitted, round(float(b), 5)
    weights = {k: v for k, v in base.weights.items() if k not in MODEL_FEATURES}
    return {**weights, **fitted}, round(float(base.bias + b), 5)
