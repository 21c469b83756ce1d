"""Note coding accuracy by mode, side by side in one run.

Modes: retrieval only; each real model the benchmarks have (SmolLM2-135M; Gemma-3-270M when installed,
bench/models.py) deciding the questions retrieval leaves open; with --naive, the naive baseline (the
model asked for the note's codes with no dictionary, bench/naive.py). Each model mode runs on the first
--model-limit notes of each file, with retrieval only on the same notes beside it, and reports its
work a note in tokens.
Gold: ../shared/data/notes/codiesp_dev.jsonl (case reports) and aci_dev.jsonl (US outpatient visits, coded
under outpatient rules), plus any held-out gold JSONL given with --gold.

    .venv/bin/python bench/note_accuracy.py [--limit N] [--model-limit N] [--models smollm2 gemma] [--naive]
    .venv/bin/python bench/note_accuracy.py --retrieval-only
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA, bench_home, machine, write_section  # noqa: E402
from bench.models import bench_models  # noqa: E402

HEADER = ("| gold | mode | notes | micro P | micro R | micro F1 | F1, incomplete gold met beneath | category F1 "
          "| top-1 | recall@5 | recall@10 "
          "| invalid codes | non-billable shown | ECE | s / note | calls | prompt tokens (decoded) | answer tokens |")


def row(gold: Path, r, label: str | None = None) -> str:
    return (f"| {gold.name} | {label or r.mode} | {r.n} | {r.micro.precision:.3f} | {r.micro.recall:.3f} | "
            f"**{r.micro.f1:.3f}** | {_active(r)} | {r.category_micro.f1:.3f} | {r.top1:.3f} | {r.recall_at_5:.3f} | "
            f"{r.recall_at_10:.3f} | {r.invalid_codes} | {r.non_billable} | "
            f"{r.calibration.ece if r.calibration else 0.0:.3f} | {r.seconds_per_item:.2f} | {_work(r)} |")


def _active(r) -> str:
    a = getattr(r, "micro_active", None)
    return f"{a.f1:.3f}" if a is not None else "–"


def _work(r) -> str:
    w = getattr(r, "model_work", None) or {}
    if not w:
        return "– | – | –"
    return f"{w['model_calls']:.1f} | {w['prompt_tokens']:.0f} ({w['prompt_evaluated']:.0f}) | {w['generated_tokens']:.0f}"


def naive_eval(runtime, gold: Path, limit: int | None, exists):
    from bench.naive import naive_codes
    from medcoder_desktop.core.evaluation import evaluate
    from medcoder_desktop.core.gold import read_gold

    items = read_gold(gold, limit=limit)
    answers: dict[str, list[str]] = {}

    def rank(item):
        answers[item.id] = naive_codes(runtime, item.text)
        return [(c, 1.0) for c in answers[item.id]]

    return evaluate(items, rank, lambda item, ranked: answers[item.id], exists, mode="naive model (no dictionary)")


def ceiling(gold: Path, d) -> str:
    """What of the gold coding the product could match at all, counted from the file and the dictionary."""
    import json

    items = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    dx = [c for it in items for c in it.get("codes", [])]
    px = [c for it in items for c in it.get("procedures", [])]
    no_setting = sum(1 for it in items if not it.get("setting"))

    def billable(code: str) -> bool:
        try:
            return d.show(code).billable
        except Exception:  # noqa: BLE001 - a code of no current code set
            return False

    stale = sum(1 for c in dx if not billable(c))
    total = len(dx) + len(px)
    return (f"{gold.name}: {len(items)} notes, {total} gold codes: {len(px)} ({len(px) / total:.0%}) are "
            f"ICD-10-PCS procedures ({no_setting} notes name no setting: each is coded in the setting `eval` "
            f"reads from its words, inpatient when it tells of a stay, where ICD-10-PCS is used); of the {len(dx)} diagnosis codes, {stale} ({stale / len(dx):.0%}) are "
            "not billable FY2026 codes (retired or cut short, e.g. R51, M54.5), which no suggestion can match "
            "exactly; the column \"incomplete gold met beneath\" lets one shown code beneath each meet it "
            "(`medcoder eval`'s micro_active: R51.9 for R51, BW20ZZZ for a PCS code cut to BW20).")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, help="Notes for retrieval only (default: all).")
    ap.add_argument("--model-limit", type=int, default=70, help="Notes of each file for the model modes (default 70).")
    ap.add_argument("--models", nargs="*", choices=["smollm2", "gemma"], help="Models to measure (default: both).")
    ap.add_argument("--naive", action="store_true", help="Also the naive baseline with each model (slow).")
    ap.add_argument("--gold", action="append", default=[], help="Further (held-out) gold JSONL files.")
    ap.add_argument("--retrieval-only", action="store_true", help="Skip the model modes.")
    args = ap.parse_args()
    golds = [SHARED_DATA / "notes" / "codiesp_dev.jsonl", SHARED_DATA / "notes" / "aci_dev.jsonl",
             *map(Path, args.gold)]
    golds = [g for g in golds if g.is_file()]
    if not golds:
        print("../shared/data/notes is absent: nothing to measure.")
        return 0
    bench_home()
    from medcoder_desktop.core.service import CodingService

    retrieval = CodingService(model="none")
    d = retrieval.dictionary()
    d.engine
    models = [] if args.retrieval_only else bench_models(args.models)
    services = [(m, CodingService(model=str(m.path))) for m in models]
    rows = []
    for gold in golds:
        t = time.perf_counter()
        rows.append(row(gold, retrieval.evaluate(gold, limit=args.limit)))
        print(rows[-1], f"({time.perf_counter() - t:.0f} s)", flush=True)
        if not services:
            continue
        n = args.model_limit
        rows.append(row(gold, retrieval.evaluate(gold, limit=n), f"retrieval-only (same {n} notes)"))
        print(rows[-1], flush=True)
        for m, service in services:
            rows.append(row(gold, service.evaluate(gold, limit=n), f"{m.label} + dictionary"))
            print(rows[-1], flush=True)
            if args.naive:
                rows.append(row(gold, naive_eval(service.runtime(), gold, n, d.exists), f"naive: {m.label}, "
                                                                                        "no dictionary"))
                print(rows[-1], flush=True)
    notes = [ceiling(g, d) for g in golds]
    cmd = "`.venv/bin/python bench/note_accuracy.py" + (f" --limit {args.limit}" if args.limit else "") + \
          (" --retrieval-only`" if args.retrieval_only else f" --model-limit {args.model_limit}"
           + (" --naive" if args.naive else "") + "`")
    lines = [
        "## Note accuracy (`bench/note_accuracy.py`)", "",
        f"Machine: {machine()}. CodiEsp notes code every mention, negated and historical ones included, and "
        "mostly drop 7th characters: expect a low ceiling. Exact codes for micro scores; category = first 3 "
        "characters. The model modes run on the first notes only, with retrieval only on the same notes beside "
        "them; neither model is the product's Llama-3.2-1B (SmolLM2-135M is the test model; Gemma-3-270M is "
        "measured, never shipped). Each model's confidence is fitted for its SHA-256 by bench/calibrate.py "
        "on codiesp_train and the first 60 notes of aci_dev (retrieval's as well): codiesp_dev is unseen by every fit, aci_dev is not. Calls, prompt tokens (those "
        "decoded, the rest from the KV cache) and answer tokens are means a note. "
        "Invalid codes: codes that exist in no code set (the naive baseline may write any).",
        *notes,
        f"Command: {cmd}", "",
        HEADER, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *rows,
    ]
    write_section("note_accuracy", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
