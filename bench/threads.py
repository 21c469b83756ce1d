"""Sharing the machine: one model user alone, two at once, and the window's own work beside a model.

Each scenario starts fresh processes that code the same 3,000-character notes (after one untimed note)
and report their time a note; scenarios that run two processes start them together. What varies: the
number of processes, the model's CPU threads (the product's default, or 1) and OpenMP's wait policy
(the product sets PASSIVE unless IT set another; ACTIVE is llama.cpp's own default, spinning threads).
The last two rows time retrieval only (what the window does for a note without a model) alone and
beside a model process.

    .venv/bin/python bench/threads.py [--notes N] [--models gemma|smollm2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, bench_home, machine, percentile, write_section  # noqa: E402
from bench.models import bench_models  # noqa: E402


def child(model: str, threads: int | None, n: int) -> None:
    from bench.latency import corpus, notes
    from medcoder_desktop.core.models import Encounter
    from medcoder_desktop.core.service import CodingService

    service = CodingService(model=model)
    if threads:
        service.settings.threads = threads
    service.dictionary().engine
    if model != "none":
        service.runtime()
    texts = notes(corpus(), 3_000, n + 1)
    service.suggest(texts[0], Encounter())  # untimed: caches warm
    times = []
    for note in texts[1:]:
        t = time.perf_counter()
        service.suggest(note, Encounter())
        times.append((time.perf_counter() - t) * 1000)
    print(json.dumps(times))


def run(procs: list[tuple[str, int | None]], n: int, wait_policy: str | None) -> list[list[float]]:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
    started = [subprocess.Popen([sys.executable, __file__, "--child", model, str(threads or 0), str(n)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
               for model, threads in procs]
    out = []
    for p in started:
        stdout, _ = p.communicate()
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]) or None, int(sys.argv[4]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--notes", type=int, default=4, help="Timed notes a process.")
    ap.add_argument("--models", nargs="*", choices=["smollm2", "gemma"], default=["gemma"])
    args = ap.parse_args()
    bench_home()
    from medcoder_desktop.core.engine.llm_runtime import default_threads

    models = bench_models(args.models) or bench_models(["smollm2"])
    if not models:
        print("no model to measure")
        return 0
    m = models[0]
    path, n, cores = str(m.path), args.notes, default_threads()
    scenarios = [
        (f"1 model process, {cores} threads (default), PASSIVE", [(path, None)], "PASSIVE"),
        (f"2 model processes, {cores} threads each (default), PASSIVE", [(path, None)] * 2, "PASSIVE"),
        (f"2 model processes, {cores} threads each, ACTIVE (spinning)", [(path, None)] * 2, "ACTIVE"),
        ("2 model processes, 1 thread each, PASSIVE", [(path, 1)] * 2, "PASSIVE"),
        ("retrieval only (the window's work), alone", [("none", None)], "PASSIVE"),
        ("retrieval only, beside 1 model process (default threads, PASSIVE)", [("none", None), (path, None)],
         "PASSIVE"),
    ]
    rows = []
    alone: dict[str, float] = {}
    for label, procs, policy in scenarios:
        results = run(procs, n, policy)
        first = results[0]
        p50 = percentile(first, 50)
        kind = procs[0][0]
        alone.setdefault(kind, p50)
        worst = max(percentile(r, 50) for r in results) if kind != "none" else p50
        rows.append((label, p50, worst, worst / alone[kind]))
        print(rows[-1], flush=True)
    lines = [
        "## Sharing the machine (`bench/threads.py`)", "",
        f"Machine: {machine()}. Model: {m.label}. Each process codes {n} notes of 3,000 characters after one "
        "untimed note; two processes start together. Slowdown: the slower process's median against the "
        "same work alone.",
        f"Command: `.venv/bin/python bench/threads.py --notes {n} --models {args.models[0]}`", "",
        "| scenario | first process p50 ms a note | slower process p50 ms | slowdown |", "|---|---:|---:|---:|",
        *(f"| {label} | {a:.0f} | {b:.0f} | {r:.2f}x |" for label, a, b, r in rows),
    ]
    write_section("threads", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
