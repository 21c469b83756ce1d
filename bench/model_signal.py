"""Does a model earn its place? Its answers to the questions retrieval leaves open, against the gold coding.

For each model: the product's own calls (same questions, prompts and decoding) on the first notes of
both kinds of dev notes, and, over the questions asked:
- AUC of the model's probability for retrieval's best candidate against "that code is in the gold coding"
  (0.5 = no signal), beside the same AUC for retrieval's confidence;
- among questions with two or more candidate codes and one of them in the gold coding: how often the
  model's most likely code is the gold one, against retrieval's order;
- the principal / first-listed diagnosis: how often the model's choice is the gold file's first code,
  against the best-supported shown diagnosis.
A model with no signal here cannot raise F1, whatever calibration does with it.

    .venv/bin/python bench/model_signal.py [--limit N] [--models smollm2 gemma]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA, bench_home, machine, write_section  # noqa: E402
from bench.models import bench_models  # noqa: E402


def auc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return float("nan")
    return sum((a > b) + 0.5 * (a == b) for a in pos for b in neg) / len(pos) / len(neg)


def measure(service, golds: list[Path], limit: int) -> dict:
    from medcoder_desktop.core.engine.adjudicate import FIRST, NONE, Adjudicator
    from medcoder_desktop.core.engine.pipeline import suggest_events
    from medcoder_desktop.core.gold import read_gold
    from medcoder_desktop.core.models import Encounter

    rt, d = service.runtime(), service.dictionary()
    p_top, conf_top, labels = [], [], []
    close = close_model = close_retrieval = 0
    first_n = first_model = first_retrieval = 0
    for gold in golds:
        for item in read_gold(gold, limit=limit):
            plain = [c.replace(".", "").upper() for c in item.codes]
            in_gold = set(plain).__contains__
            enc = Encounter(setting=item.setting or "outpatient")
            adjudicator = Adjudicator(rt, enc, record=True)
            events = list(suggest_events(d, item.text, enc, adjudicate=adjudicator, model_sha256=rt.sha256))
            retrieval = {s.code: s.confidence for s in events[0].suggestions}
            for (_, slots), answer in zip(adjudicator.stats.prompts, adjudicator.stats.answers):
                for slot in slots:
                    p = answer.probabilities[slot.key]
                    if slot.key == FIRST:
                        if plain:
                            first_n += 1
                            first_model += answer.values[FIRST].replace(".", "").upper() == plain[0]
                            first_retrieval += slot.options[0].replace(".", "").upper() == plain[0]
                        continue
                    codes = [o for o in slot.options if o != NONE]
                    top = codes[0]
                    p_top.append(p[top])
                    conf_top.append(retrieval.get(top, 0.0))
                    labels.append(in_gold(top.replace(".", "").upper()))
                    right = [c for c in codes if in_gold(c.replace(".", "").upper())]
                    if len(codes) > 1 and right:
                        close += 1
                        close_model += max(codes, key=p.get) in right
                        close_retrieval += top in right
    return {"questions": len(labels), "positives": sum(labels), "auc_model": auc(p_top, labels),
            "auc_retrieval": auc(conf_top, labels), "close": close, "close_model": close_model,
            "close_retrieval": close_retrieval, "first": first_n, "first_model": first_model,
            "first_retrieval": first_retrieval}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=40, help="Notes of each dev file (default 40).")
    ap.add_argument("--models", nargs="*", choices=["smollm2", "gemma"])
    args = ap.parse_args()
    golds = [g for g in (SHARED_DATA / "notes" / "aci_dev.jsonl", SHARED_DATA / "notes" / "codiesp_dev.jsonl")
             if g.is_file()]
    if not golds:
        print("../shared/data/notes is absent: nothing to measure.")
        return 0
    bench_home()
    from medcoder_desktop.core.service import CodingService

    rows = []
    for m in bench_models(args.models):
        r = measure(CodingService(model=str(m.path)), golds, args.limit)
        rows.append((m.label, r))
        print(m.label, r, flush=True)
    lines = [
        "## Does the model earn its place? (`bench/model_signal.py`)", "",
        f"Machine: {machine()}. The product's own questions and calls on the first {args.limit} notes of "
        f"{' and '.join(g.name for g in golds)}. AUC: the model's probability of retrieval's best candidate "
        "against that code being in the gold coding (0.5 = no signal), beside retrieval's own confidence on "
        "the same questions. Close candidates: questions with two or more codes, one of them gold. First: "
        "the gold file's first code against the model's choice and against the best-supported code without "
        "the model.",
        f"Command: `.venv/bin/python bench/model_signal.py --limit {args.limit}`", "",
        "| model | questions (gold) | AUC model | AUC retrieval | close: model right | close: retrieval right "
        "| first: model | first: without model |", "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(f"| {m} | {r['questions']} ({r['positives']}) | {r['auc_model']:.3f} | {r['auc_retrieval']:.3f} | "
          f"{r['close_model']} of {r['close']} | {r['close_retrieval']} of {r['close']} | "
          f"{r['first_model']} of {r['first']} | {r['first_retrieval']} of {r['first']} |" for m, r in rows),
    ]
    write_section("model_signal", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
