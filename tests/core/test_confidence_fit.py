"""Fitting confidence: a model's fit refines retrieval's log-odds and learns only the model's features."""

from __future__ import annotations

import random

from medcoder_desktop.core.engine.confidence import MODEL_FEATURES, Calibration, fit, load_calibration


def _rows(n: int, seed: int = 7):
    rng = random.Random(seed)
    rows, labels = [], []
    for _ in range(n):
        score = rng.random()
        asked = rng.random() < 0.5
        right = rng.random() < score
        # the model is right four times in five on what it is asked
        chose = asked and (right if rng.random() < 0.8 else not right)
        rows.append({"score": score, "llm_asked": float(asked), "llm_chose": float(chose),
                     "llm_rejected": float(asked and not chose), "llm_p": 0.9 if chose else 0.1 if asked else 0.0})
        labels.append(int(right))
    return rows, labels


def test_a_model_fit_keeps_retrievals_weights_and_learns_the_models() -> None:
    base = Calibration(weights={"score": 3.0, "top": 0.5}, bias=-1.5, threshold=0.4)
    rows, labels = _rows(2000)
    weights, bias = fit(rows, labels, base=base)
    assert weights["score"] == 3.0 and weights["top"] == 0.5  # retrieval's part unchanged
    assert set(MODEL_FEATURES) <= set(weights)
    # a model that is mostly right earns a positive weight for its choice and a negative one for "no"
    assert weights["llm_chose"] + weights["llm_p"] * 0.9 > weights["llm_rejected"] + weights["llm_p"] * 0.1
    fitted = Calibration(weights=weights, bias=bias)
    asked_right = [fitted.confidence(r) for r, y in zip(rows, labels) if r["llm_chose"] and y]
    base_right = [base.confidence(r) for r, y in zip(rows, labels) if r["llm_chose"] and y]
    assert sum(asked_right) > sum(base_right)


def test_a_retrieval_fit_learns_every_feature() -> None:
    rows, labels = _rows(500)
    weights, _ = fit(rows, labels)
    assert weights["score"] > 0 and "words" in weights


def test_an_unfitted_model_gets_a_stated_prior() -> None:
    calib = load_calibration("f" * 64)
    assert calib.weights["llm_chose"] > 0 > calib.weights["llm_rejected"]
    assert "not fitted" in calib.fitted_on


def test_a_feature_added_after_a_models_fit_takes_retrievals_weight() -> None:
    import json

    from medcoder_desktop.paths import resource

    data = json.loads(resource("calibration.json").read_text(encoding="utf-8"))
    retrieval = load_calibration(None)
    for sha, entry in data.get("models", {}).items():
        calib = load_calibration(sha)
        for k, v in retrieval.weights.items():
            assert calib.weights[k] == entry["weights"].get(k, v)  # the model's own, else retrieval's
        assert calib.bias == entry["bias"]
