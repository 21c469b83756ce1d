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

Two other ways of asking, on every candidate of the same open questions, to see whether the signal
lies in the question's form rather than in the model:
- yes / no: "Does the patient have <title> now?" after the note's words, the log-odds of "Yes" over
  "No" at the answer's first token (one model step a candidate);
- likelihood: how much the note's words raise the log-probability of the code's title after "The
  patient's diagnosis is:" (pointwise mutual information, per title token; no model step at all).
Each is scored alone (AUC) and on top of retrieval's log-odds (logistic regression, 5-fold
cross-validated AUC beside retrieval's own in the same folds).

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


def open_candidates(golds: list[Path], limit: int) -> list[dict]:
    """Every candidate of the questions retrieval leaves open, with its words, retrieval's confidence and label."""
    from medcoder_desktop.core.engine.adjudicate import Adjudicator, excerpt
    from medcoder_desktop.core.engine.pipeline import suggest_events
    from medcoder_desktop.core.gold import read_gold
    from medcoder_desktop.core.models import Encounter
    from medcoder_desktop.core.service import CodingService

    class Recorder(Adjudicator):  # takes the questions, answers none
        def decide(self, note, questions, principal=()):
            self.asked = list(questions)
            return iter(())

    service = CodingService(model="none")
    d = service.dictionary()
    rows = []
    for gold in golds:
        for item in read_gold(gold, limit=limit):
            codes = {c.replace(".", "").upper() for c in item.codes + item.procedures}
            enc = Encounter(setting=service.setting_of(item.text, item.setting).setting)
            rec = Recorder(None, enc)  # type: ignore[arg-type]
            events = list(suggest_events(d, item.text, enc, adjudicate=rec))
            conf = {x.code: x.confidence for x in events[0].suggestions}
            for q in getattr(rec, "asked", []):
                for c in q.candidates:
                    rows.append({"words": excerpt(item.text, c.mention.start, c.mention.end, 220),
                                 "title": c.title, "confidence": conf.get(c.code, 0.0),
                                 "gold": c.code.replace(".", "").upper() in codes})
    return rows


def other_formats(path: Path, rows: list[dict]) -> list[dict]:
    """The yes / no and likelihood scores of each row for one model, with their AUCs alone and on top of retrieval."""
    import time

    import numpy as np

    from medcoder_desktop.core.engine.llm_runtime import chat_tokens, default_threads, import_llama

    llama = import_llama().Llama(model_path=str(path), n_ctx=1024, n_threads=default_threads(),
                                 n_threads_batch=default_threads(), logits_all=True, verbose=False)

    def tok(text: str) -> list[int]:
        return llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    yes, no = [tok(w)[0] for w in ("Yes", "yes")], [tok(w)[0] for w in ("No", "no")]

    def yes_no(r: dict) -> float:
        msg = f'A clinical note says: "{r["words"]}"\nDoes the patient have {r["title"]} now? Answer Yes or No.'
        llama.reset()
        llama.eval(chat_tokens(llama, [{"role": "user", "content": msg}]))
        z = np.asarray(llama.scores[llama.n_tokens - 1], dtype=np.float64)  # logits_all: every position kept
        return float(np.logaddexp.reduce(z[yes]) - np.logaddexp.reduce(z[no]))

    def title_logp(prefix: str, title: str) -> float:
        a = [llama.token_bos()] + tok(prefix)
        b = tok(" " + title + ".")
        llama.reset()
        llama.eval(a + b)
        scores = np.asarray(llama.scores[: len(a) + len(b)], dtype=np.float64)
        rows_ = scores[len(a) - 1: len(a) + len(b) - 1]
        logp = rows_ - np.logaddexp.reduce(rows_, axis=1, keepdims=True)
        return float(logp[np.arange(len(b)), b].mean())

    def likelihood(r: dict) -> float:
        return (title_logp(f'Clinical note: "{r["words"]}"\nThe patient\'s diagnosis is:', r["title"])
                - title_logp("The patient's diagnosis is:", r["title"]))

    out = []
    labels = [r["gold"] for r in rows]
    base = [_logit(r["confidence"]) for r in rows]
    for name, score in (("yes / no", yes_no), ("likelihood", likelihood)):
        t0 = time.perf_counter()
        s = [score(r) for r in rows]
        seconds = (time.perf_counter() - t0) / max(1, len(rows))
        alone, both = cross_validated_auc(base, s, labels)
        out.append({"format": name, "auc": auc(s, labels), "cv_retrieval": float(alone), "cv_both": float(both),
                    "seconds": seconds})
    llama.close()
    return out


def _logit(p: float) -> float:
    import math

    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def cross_validated_auc(base: list[float], extra: list[float], labels: list[bool], folds: int = 5
                        ) -> tuple[float, float]:
    """5-fold AUC of a logistic regression on retrieval's log-odds alone, and on it with the model's score."""
    import random

    import numpy as np

    X = np.array([base, extra], dtype=np.float64).T
    y = np.array(labels, dtype=np.float64)
    order = list(range(len(y)))
    random.Random(0).shuffle(order)
    parts = [order[k::folds] for k in range(folds)]
    alone, both = np.zeros(len(y)), np.zeros(len(y))
    for part in parts:
        test = np.array(part)
        train = np.array(sorted(set(order) - set(part)))
        for cols, out in (([0], alone), ([0, 1], both)):
            Xt = X[train][:, cols]
            mu, sd = Xt.mean(0), Xt.std(0) + 1e-9
            Z = (Xt - mu) / sd
            w, b = np.zeros(len(cols)), 0.0
            for _ in range(2000):
                g = 1 / (1 + np.exp(-(Z @ w + b))) - y[train]
                w -= 0.3 * (Z.T @ g / len(train) + 1e-3 * w)
                b -= 0.3 * g.mean()
            out[test] = ((X[test][:, cols] - mu) / sd) @ w + b
    return auc(list(alone), labels), auc(list(both), labels)


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
    formats = []
    candidates = open_candidates(golds, args.limit)
    for m in bench_models(args.models):
        r = measure(CodingService(model=str(m.path)), golds, args.limit)
        rows.append((m.label, r))
        print(m.label, r, flush=True)
        for f in other_formats(m.path, candidates):
            formats.append((m.label, f))
            print(m.label, f, flush=True)
    n_gold = sum(r["gold"] for r in candidates)
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
        "",
        f"Other ways of asking, on every candidate of the same open questions ({len(candidates)} candidates, "
        f"{n_gold} of them gold): yes / no (log-odds of \"Yes\" after \"Does the patient have <title> now?\") "
        "and likelihood (how much the note's words raise the title's log-probability). CV: 5-fold "
        "cross-validated AUC of a logistic regression on retrieval's log-odds, alone and with the model's score.",
        "",
        "| model | format | AUC model alone | CV AUC retrieval | CV AUC retrieval + model | ms a candidate |",
        "|---|---|---:|---:|---:|---:|",
        *(f"| {m} | {f['format']} | {f['auc']:.3f} | {f['cv_retrieval']:.3f} | {f['cv_both']:.3f} | "
          f"{f['seconds'] * 1000:.0f} |" for m, f in formats),
    ]
    write_section("model_signal", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
