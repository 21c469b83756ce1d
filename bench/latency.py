"""Time to suggestions for 1k / 3k / 10k-character notes, retrieval only; peak memory.

Notes are built from the bundled sample and the dev notes (when present), cut to length.

    .venv/bin/python bench/latency.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import resource as rlimit
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA, bench_home, machine, percentile, write_section  # noqa: E402


def corpus() -> str:
    from medcoder_desktop.paths import resource

    text = resource("samples", "outpatient_followup.txt").read_text(encoding="utf-8")
    dev = SHARED_DATA / "notes" / "codiesp_dev.jsonl"
    if dev.is_file():
        text += "\n" + "\n".join(json.loads(line)["text"] for line in dev.open(encoding="utf-8"))
    while len(text) < 60_000:
        text += "\n" + text
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    bench_home()
    from medcoder_desktop.core.models import Encounter
    from medcoder_desktop.core.service import CodingService

    service = CodingService()
    t = time.perf_counter()
    service.dictionary().engine
    load_s = time.perf_counter() - t
    text = corpus()
    rows = []
    for size in (1_000, 3_000, 10_000):
        firsts, totals = [], []
        for i in range(args.repeat):
            start = (i * 7919) % (len(text) - size)
            note = text[start:start + size]
            t = time.perf_counter()
            events = service.suggest_stream(note, Encounter())
            next(events)
            firsts.append((time.perf_counter() - t) * 1000)
            for _ in events:
                pass
            totals.append((time.perf_counter() - t) * 1000)
        rows.append((size, percentile(firsts, 50), percentile(firsts, 95), percentile(totals, 50), percentile(totals, 95)))
        print(rows[-1], flush=True)
    peak_mb = rlimit.getrusage(rlimit.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        "## Latency (`bench/latency.py`)", "",
        f"Machine: {machine()}. Retrieval only, {args.repeat} notes a size cut from the sample and dev notes. "
        f"Dictionary and search index load: {load_s:.2f} s (once a session). Peak RSS: {peak_mb:.0f} MB.",
        "Command: `.venv/bin/python bench/latency.py`", "",
        "| note size (chars) | first suggestions p50 ms | p95 ms | all done p50 ms | p95 ms |",
        "|---:|---:|---:|---:|---:|",
    ] + [f"| {s:,} | {a:.0f} | {b:.0f} | {c:.0f} | {d:.0f} |" for s, a, b, c, d in rows]
    write_section("latency", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
