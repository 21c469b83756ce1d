"""Time to suggestions for 1k / 3k / 10k-character notes, retrieval only and with the tiny model;
model load time; peak memory; and the pipeline's overhead over bare llama.cpp calls.

Notes are cut to length from the bundled sample and the dev notes (when present). The overhead
figure replays the exact prompts the pipeline sent, through a bare ``llama_cpp.Llama`` with the same
settings, and compares the time the pipeline spent from retrieval to the end with the bare calls.

    .venv/bin/python bench/latency.py [--repeat N] [--model-repeat N]
    .venv/bin/python bench/latency.py --long [--long-repeat N]    # only: time per note, 10k to 200k characters
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

SIZES = (1_000, 3_000, 10_000)
LONG_SIZES = (10_000, 25_000, 50_000, 100_000, 200_000)  # up to the note size limit (MAX_NOTE_CHARS)


def corpus() -> str:
    from medcoder_desktop.paths import resource

    text = resource("samples", "outpatient_followup.txt").read_text(encoding="utf-8")
    dev = SHARED_DATA / "notes" / "codiesp_dev.jsonl"
    if dev.is_file():
        text += "\n" + "\n".join(json.loads(line)["text"] for line in dev.open(encoding="utf-8"))
    while len(text) < 60_000:
        text += "\n" + text
    return text


def notes(text: str, size: int, n: int) -> list[str]:
    return [text[(i * 7919) % (len(text) - size):][:size] for i in range(n)]


def time_notes(service, texts: list[str], record: bool = False):
    from medcoder_desktop.core.models import Encounter

    firsts, totals, model_ms, prompts = [], [], [], []
    for note in texts:
        t = time.perf_counter()
        events = service.suggest_stream(note, Encounter(), record=record)
        first = next(events)
        firsts.append((time.perf_counter() - t) * 1000)
        last = first
        for last in events:
            pass
        totals.append((time.perf_counter() - t) * 1000)
        model_ms.append(last.stats["total_ms"] - last.stats["retrieval_ms"])
        if record and last.result is not None and last.result.adjudication is not None:
            prompts.extend(last.result.adjudication.prompts)
    return firsts, totals, model_ms, prompts


def bare_replay(model_path: str, prompts: list, threads: int | None) -> float:
    """Milliseconds for the same prompts through a bare llama_cpp.Llama (same context, threads, seed)."""
    import llama_cpp

    from medcoder_desktop.core.engine.adjudicate import MAX_TOKENS, schema_for
    from medcoder_desktop.core.engine.llm_runtime import default_threads

    n = threads or default_threads()
    llama = llama_cpp.Llama(model_path=model_path, n_ctx=4096, n_threads=n, n_threads_batch=n, n_gpu_layers=0,
                            seed=0, verbose=False)
    total = 0.0
    for messages in prompts:
        codes = [line[2:].split(":", 1)[0] for line in messages[1]["content"].splitlines() if line.startswith("- ")]
        t = time.perf_counter()
        llama.create_chat_completion(messages=messages, temperature=0, max_tokens=MAX_TOKENS, seed=0,
                                     response_format={"type": "json_object", "schema": schema_for(codes)})
        total += time.perf_counter() - t
    llama.close()
    return total * 1000


def table(rows) -> list[str]:
    return ["| mode | note size (chars) | first suggestions p50 ms | p95 ms | all done p50 ms | p95 ms |",
            "|---|---:|---:|---:|---:|---:|"] + [
        f"| {m} | {s:,} | {a:.0f} | {b:.0f} | {c:.0f} | {d:.0f} |" for m, s, a, b, c, d in rows]


def long_notes(service, text: str, repeat: int) -> None:
    """Time per note from 10k characters to the size limit, retrieval only: it must grow linearly. Measured
    on the dev notes as written, and on the same text without sentence ends or commas (one endless
    sentence: the shape that made the old text pass quadratic)."""
    import re

    from medcoder_desktop.core.engine.pipeline import MAX_NOTE_CHARS

    shapes = {"dev notes": text, "no full stops or commas": re.sub(r"[.!?;,:\n]+", " ", text)}
    rows = []
    for shape, body in shapes.items():
        base = None
        for size in LONG_SIZES:
            size = min(size, MAX_NOTE_CHARS, len(body) - 1)
            _, totals, _, _ = time_notes(service, notes(body, size, repeat))
            p50 = percentile(totals, 50)
            base = base or p50 / size
            rows.append((shape, size, p50, max(totals), p50 / size / base))
            print(rows[-1], flush=True)
    lines = [
        "## Long notes, retrieval only (`bench/latency.py --long`)", "",
        f"Machine: {machine()}. {repeat} notes a size, cut from the sample and dev notes (distinct text, no "
        "repetition), as written and with every sentence end and comma removed. Linear growth keeps ms per "
        "1,000 characters flat; the last column compares it with the 10k note of the same shape. Notes over "
        f"{MAX_NOTE_CHARS:,} characters are refused with a message (split the note).",
        f"Command: `.venv/bin/python bench/latency.py --long --long-repeat {repeat}`", "",
        "| text | note size (chars) | all done p50 ms | max ms | ms per 1,000 chars | relative to 10k |",
        "|---|---:|---:|---:|---:|---:|",
    ] + [f"| {t} | {s:,} | {p:.0f} | {m:.0f} | {p / s * 1000:.1f} | {r:.2f}x |" for t, s, p, m, r in rows]
    write_section("latency_long", "\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=15, help="Notes a size, retrieval only.")
    ap.add_argument("--model-repeat", type=int, default=5, help="Notes a size with the model.")
    ap.add_argument("--long", action="store_true", help="Only the long-note measure (10k to 200k characters).")
    ap.add_argument("--long-repeat", type=int, default=3, help="Notes a size in the long-note measure.")
    args = ap.parse_args()
    bench_home()
    from medcoder_desktop.core.engine.model_manager import packaged_model
    from medcoder_desktop.core.service import CodingService

    service = CodingService(model="none")
    t = time.perf_counter()
    service.dictionary().engine
    load_s = time.perf_counter() - t
    text = corpus()
    if args.long:
        long_notes(service, text, args.long_repeat)
        return 0
    rows = []
    for size in SIZES:
        firsts, totals, _, _ = time_notes(service, notes(text, size, args.repeat))
        rows.append(("retrieval-only", size, percentile(firsts, 50), percentile(firsts, 95),
                     percentile(totals, 50), percentile(totals, 95)))
        print(rows[-1], flush=True)
    rss_retrieval = rlimit.getrusage(rlimit.RUSAGE_SELF).ru_maxrss / 1024
    lines_model: list[str] = []
    tiny = packaged_model()
    if tiny is not None:
        service.use_model(str(tiny))
        rt = service.runtime()
        overhead_rows = []
        for size in SIZES:
            firsts, totals, model_ms, prompts = time_notes(service, notes(text, size, args.model_repeat), record=True)
            rows.append((f"llm: {rt.name}", size, percentile(firsts, 50), percentile(firsts, 95),
                         percentile(totals, 50), percentile(totals, 95)))
            print(rows[-1], flush=True)
            bare = bare_replay(str(tiny), prompts, service.settings.threads)
            overhead_rows.append((size, len(prompts), sum(model_ms), bare))
            print(overhead_rows[-1], flush=True)
        rss_model = rlimit.getrusage(rlimit.RUSAGE_SELF).ru_maxrss / 1024
        lines_model = [
            "",
            f"Model {rt.name} ({rt.backend}): load {rt.load_seconds * 1000:.0f} ms. Peak RSS with the model: "
            f"{rss_model:.0f} MB.", "",
            "Pipeline overhead over bare llama.cpp: the same prompts replayed through a bare `llama_cpp.Llama` "
            "(same context, threads, seed, schema). Pipeline time = all done minus retrieval.", "",
            "| note size (chars) | model calls | pipeline ms | bare llama.cpp ms | overhead |",
            "|---:|---:|---:|---:|---:|",
        ] + [f"| {s:,} | {n} | {p:.0f} | {b:.0f} | {(p / b - 1) * 100:+.1f}% |" for s, n, p, b in overhead_rows]
    lines = [
        "## Latency (`bench/latency.py`)", "",
        f"Machine: {machine()}. {args.repeat} notes a size retrieval only, {args.model_repeat} with the model, cut "
        f"from the sample and dev notes. Dictionary and search index load: {load_s:.2f} s (once a session). "
        f"Peak RSS, retrieval only: {rss_retrieval:.0f} MB.",
        f"Command: `.venv/bin/python bench/latency.py --repeat {args.repeat} --model-repeat {args.model_repeat}`",
        "", *table(rows), *lines_model,
    ]
    write_section("latency", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
