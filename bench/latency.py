"""Time to suggestions for 1k / 3k / 10k-character notes: retrieval only, and with each real model the
benchmarks have (SmolLM2-135M; Gemma-3-270M when installed: bench/models.py); the model's work a note in
tokens; each model's speed; the enum decoder against llama.cpp's grammar on the same prompts; and a
projection for the product's Llama-3.2-1B.

Notes are cut to length from the bundled sample and the dev notes (when present).

    .venv/bin/python bench/latency.py [--repeat N] [--model-repeat N] [--models smollm2 gemma]
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
from bench.models import LLAMA_1B, bench_models, measure_speed, projection  # noqa: E402

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


def time_notes(service, texts: list[str]):
    """Per note: ms to the first suggestions, ms to all done, and the done event's stats."""
    from medcoder_desktop.core.models import Encounter

    firsts, totals, stats = [], [], []
    for note in texts:
        t = time.perf_counter()
        events = service.suggest_stream(note, Encounter())
        first = next(events)
        firsts.append((time.perf_counter() - t) * 1000)
        last = first
        for last in events:
            pass
        totals.append((time.perf_counter() - t) * 1000)
        stats.append(last.stats)
    return firsts, totals, stats


def enum_against_grammar(service, texts: list[str]) -> tuple[int, int, float, float, float, int, int]:
    """The same batched prompts (the same tokens) answered by the product's enum decoder and by llama.cpp's
    JSON-schema grammar (greedy, same runtime): calls, slots, ms each, share of slots answered alike, answer
    tokens."""
    from medcoder_desktop.core.engine.adjudicate import Adjudicator
    from medcoder_desktop.core.engine.enum_decoding import schema_of
    from medcoder_desktop.core.engine.pipeline import suggest_events
    from medcoder_desktop.core.models import Encounter

    rt, d = service.runtime(), service.dictionary()
    prompts = []
    for note in texts:
        adjudicator = Adjudicator(rt, Encounter(), record=True)
        for _ in suggest_events(d, note, Encounter(), adjudicate=adjudicator, model_sha256=rt.sha256):
            pass
        prompts.extend(adjudicator.stats.prompts)
    enum_ms = grammar_ms = 0.0
    same = slots_n = enum_tokens = grammar_tokens = 0
    for messages, slots in prompts:
        t = time.perf_counter()
        answer = rt.choose_json(messages, slots)
        enum_ms += (time.perf_counter() - t) * 1000
        enum_tokens += answer.answer_tokens
        t = time.perf_counter()
        obj, n_tokens = rt.submit(_grammar_answer, messages, schema_of(slots)).result()
        grammar_ms += (time.perf_counter() - t) * 1000
        grammar_tokens += n_tokens
        slots_n += len(slots)
        same += sum(1 for s in slots if obj and obj.get(s.key) == answer.values[s.key])
    return len(prompts), slots_n, enum_ms, grammar_ms, same / max(1, slots_n), enum_tokens, grammar_tokens


def _grammar_answer(llama, messages, schema) -> tuple[dict | None, int]:
    """The same prompt tokens as the product's, answered under llama.cpp's JSON-schema grammar, greedy."""
    from llama_cpp import LlamaGrammar

    from medcoder_desktop.core.engine.llm_runtime import chat_tokens

    grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    out = llama.create_completion(prompt=chat_tokens(llama, messages), grammar=grammar, temperature=0,
                                  max_tokens=400)
    try:
        obj = json.loads(out["choices"][0]["text"])
    except ValueError:
        obj = None
    return (obj if isinstance(obj, dict) else None), int(out["usage"]["completion_tokens"])


def mean(stats: list[dict], key: str) -> float:
    return sum(s.get(key, 0) for s in stats) / max(1, len(stats))


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
            _, totals, _ = time_notes(service, notes(body, size, repeat))
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
    ap.add_argument("--models", nargs="*", choices=["smollm2", "gemma"], help="Models to measure (default: both).")
    args = ap.parse_args()
    bench_home()
    from medcoder_desktop.core.engine.llm_runtime import default_threads
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
        firsts, totals, _ = time_notes(service, notes(text, size, args.repeat))
        rows.append(("retrieval-only", size, percentile(firsts, 50), percentile(firsts, 95),
                     percentile(totals, 50), percentile(totals, 95)))
        print(rows[-1], flush=True)
    rss_retrieval = rlimit.getrusage(rlimit.RUSAGE_SELF).ru_maxrss / 1024
    token_rows, speed_rows, grammar_rows, projections = [], [], [], []
    for m in bench_models(args.models):
        service.use_model(str(m.path))
        rt = service.runtime()
        speed = measure_speed(m.path, service.settings.threads)
        speed_rows.append((m.label, rt.load_seconds * 1000, speed, rlimit.getrusage(rlimit.RUSAGE_SELF).ru_maxrss / 1024))
        for size in SIZES:
            firsts, totals, stats = time_notes(service, notes(text, size, args.model_repeat))
            rows.append((f"{m.label} + dictionary", size, percentile(firsts, 50), percentile(firsts, 95),
                         percentile(totals, 50), percentile(totals, 95)))
            token_rows.append((m.label, size, *(mean(stats, k) for k in (
                "model_calls", "questions", "prompt_tokens", "prompt_evaluated", "generated_tokens", "model_steps",
                "model_ms"))))
            prompt_s, steps_s, model_s = projection(speed, mean(stats, "prompt_evaluated"), mean(stats, "model_steps"))
            projections.append((m.label, size, mean(stats, "prompt_evaluated"), mean(stats, "model_steps"),
                                prompt_s, steps_s, percentile(totals, 50) / 1000 - mean(stats, "model_ms") / 1000,
                                model_s))
            print(rows[-1], token_rows[-1], flush=True)
        grammar_rows.append((m.label, *enum_against_grammar(service, notes(text, 3_000, args.model_repeat))))
        print(grammar_rows[-1], flush=True)
    lines = [
        "## Latency (`bench/latency.py`)", "",
        f"Machine: {machine()}. {args.repeat} notes a size retrieval only, {args.model_repeat} with each model, "
        f"cut from the sample and dev notes. Dictionary and search index load: {load_s:.2f} s (once a session). "
        f"Peak RSS, retrieval only: {rss_retrieval:.0f} MB. Threads: the product's default "
        f"({service.settings.threads or default_threads()} here).",
        f"Command: `.venv/bin/python bench/latency.py --repeat {args.repeat} --model-repeat {args.model_repeat}`",
        "", *table(rows),
    ]
    if token_rows:
        lines += [
            "", "Model work a note (means): calls, open questions put to the model, prompt tokens (and those "
            "decoded, the rest served from the KV cache), answer tokens and the model steps among them (the "
            "places where the model chose; the schema fixes the rest, decoded in batches).", "",
            "| model | note size (chars) | calls | questions | prompt tokens | decoded | answer tokens | model steps "
            "| model ms |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *(f"| {m} | {s:,} | {c:.1f} | {q:.1f} | {p:.0f} | {e:.0f} | {g:.0f} | {st:.1f} | {ms:.0f} |"
              for m, s, c, q, p, e, g, st, ms in token_rows),
            "", "Speed on this machine (the product's runtime settings): prompt tokens per second decoded in "
            "batches of 64, and one model step (a token decoded, its logits read).", "",
            "| model | parameters | file MB | load ms | prompt tok/s | ms a step | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *(f"| {m} | {sp.params / 1e6:.0f} M | {sp.file_bytes / 1e6:.0f} | {ld:.0f} | {sp.prompt_tps:.0f} | "
              f"{sp.step_ms:.1f} | {rss:.0f} |" for m, ld, sp, rss in speed_rows),
            "", "The answer decoded by the product (enum decoding: a model step only where the options part) "
            "and by llama.cpp's JSON-schema grammar (a sampled token for every character run), same prompts "
            f"(the {args.model_repeat} notes of 3,000 characters), same runtime:", "",
            "| model | calls | answer items | enum decoding ms | grammar ms | items answered alike | answer tokens "
            "(enum / grammar) |", "|---|---:|---:|---:|---:|---:|---:|",
            *(f"| {m} | {c} | {n} | {e:.0f} | {g:.0f} | {a:.1%} | {et} / {gt} |"
              for m, c, n, e, g, a, et, gt in grammar_rows),
            "", f"Projected for {LLAMA_1B['name']} (the product's model, not fetchable here) from each measured "
            "model's tokens a note and its speed on this machine: prompt time scaled by parameters (prompt "
            "decoding is compute-bound; embeddings are tied in all three), step time by the file's bytes (a step "
            "reads every weight once). Rest = retrieval, conventions and the claim, measured.", "",
            "| measured model | note size (chars) | decoded prompt tokens | model steps | 1B prompt s | 1B steps s "
            "| rest s | 1B all done s |", "|---|---:|---:|---:|---:|---:|---:|---:|",
            *(f"| {m} | {s:,} | {e:.0f} | {st:.1f} | {ps:.1f} | {ss:.1f} | {rest:.1f} | {ps + ss + rest:.1f} |"
              for m, s, e, st, ps, ss, rest, _ in projections),
        ]
    write_section("latency", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
