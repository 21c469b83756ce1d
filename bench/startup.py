"""Cold start of the review window: from process start to the main window's first paint, worklist filled.

Each run is a fresh process (``medcoder gui --startup-probe --model none``): the interpreter starts, imports
the product and Qt, opens the workspace, builds the window, lists the encounters and shows the window; the
probe reports the time of its first paint and exits. The model is left out (``--model none``); the
dictionary's loading starts in the background right after the window is shown, as in real use. The
offscreen Qt platform is used where there is no display.

    .venv/bin/python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, bench_home, machine, write_section  # noqa: E402

GOAL_S = 1.5


def one_run(env: dict[str, str]) -> dict[str, float]:
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "medcoder_desktop", "gui", "--startup-probe", "--model", "none"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    if proc.returncode != 0:
        raise SystemExit(f"the window did not start:\n{proc.stderr}")
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"total": probe["painted_at"] - t0, "start": probe["run_at"] - t0,
            "imports": probe["imported_at"] - probe["run_at"], "window": probe["window_at"] - probe["imported_at"],
            "paint": probe["painted_at"] - probe["window_at"],
            "encounters": probe["encounters"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=11, help="Fresh processes to time (default 11).")
    args = ap.parse_args()
    home = bench_home()
    from medcoder_desktop.core.service import CodingService

    service = CodingService(model="none")
    service.dictionary()  # built once beforehand: a first start's dictionary build is not window start-up
    service.seed_samples()  # the worklist the window lists
    service.shutdown()
    env = {**os.environ, "MEDCODER_HOME": str(home)}
    platform = "the desktop"
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        env["QT_QPA_PLATFORM"] = "offscreen"
        platform = "Qt's offscreen platform (no display on this machine)"
    one_run(env)  # warm the file cache: the runs time a fresh process, not a cold disk
    runs = []
    for i in range(args.runs):
        runs.append(one_run(env))
        print(f"run {i + 1}: {runs[-1]['total']:.3f} s", flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in ("total", "start", "imports", "window", "paint")}
    totals = sorted(r["total"] for r in runs)
    lines = [
        "## Window start-up (`bench/startup.py`)", "",
        f"Machine: {machine()}. Qt platform: {platform}.",
        f"Command: `.venv/bin/python bench/startup.py --runs {args.runs}`", "",
        f"From process start to the main window's first paint, worklist filled ({runs[0]['encounters']} "
        "encounters), model left out (`--model none`); each run a fresh process, after one untimed run that "
        "warms the file cache.", "",
        "| | median s | min s | max s |", "|---|---:|---:|---:|",
        f"| process start to first paint | {med['total']:.3f} | {totals[0]:.3f} | {totals[-1]:.3f} |",
        f"| of which: interpreter, command line, Qt application | {med['start']:.3f} | | |",
        f"| of which: importing the core and the window's modules | {med['imports']:.3f} | | |",
        f"| of which: workspace opened, window built, worklist filled | {med['window']:.3f} | | |",
        f"| of which: show to first paint | {med['paint']:.3f} | | |", "",
        f"Goal: under {GOAL_S} s — {'met' if med['total'] < GOAL_S else 'NOT met'}.",
    ]
    write_section("startup", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
