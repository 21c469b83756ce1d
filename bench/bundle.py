"""The desktop bundle as a workstation gets it: size on disk and packed, frozen start-up to the window's
first paint, and the first suggestions of the frozen command-line program on a fresh data folder.

Builds dist/medcoder/ first unless --no-build. Every run is a fresh process with a fresh MEDCODER_HOME
(so the first start copies the bundled dictionary, as on a new workstation), a PATH without the project's
.venv, and no network where ``unshare -n`` works.

    .venv/bin/python bench/bundle.py [--runs N] [--no-build]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine, write_section  # noqa: E402

BUNDLE = ROOT / "dist" / "medcoder"
SAMPLE = ROOT / "resources" / "samples" / "outpatient_followup.txt"


def size_on_disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def packed_size(path: Path) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        archive = shutil.make_archive(str(Path(tmp) / "medcoder"), "gztar", root_dir=path.parent, base_dir=path.name)
        return Path(archive).stat().st_size, time.perf_counter() - t


def prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def run(program: str, args: list[str], home: Path, **extra: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "MEDCODER_HOME": str(home / "medcoder"),
           "LANG": "C.UTF-8", **extra}
    t = time.time()
    done = subprocess.run([*prefix(), str(BUNDLE / program), *args], env=env, cwd=home, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{program} {' '.join(args)} failed:\n{done.stderr}")
    return done, t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5, help="Fresh processes per measure (default 5).")
    ap.add_argument("--no-build", action="store_true", help="Measure dist/medcoder as it is.")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run([sys.executable, str(ROOT / "packaging" / "build_bundle.py")], check=True, cwd=ROOT)
    disk = size_on_disk(BUNDLE)
    packed, pack_s = packed_size(BUNDLE)
    paint, first_cli, first_cli_wall, fresh_stats = [], [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            done, t0 = run("medcoder", ["codes", "stats", "--json"], home)  # first start: the dictionary is copied
            fresh_stats.append(time.time() - t0)
            done, t0 = run("medcoder-gui", ["--startup-probe", "--model", "none"], home, QT_QPA_PLATFORM="offscreen")
            probe = json.loads(done.stdout.strip().splitlines()[-1])
            paint.append(probe["painted_at"] - t0)
            done, t0 = run("medcoder", ["suggest", str(SAMPLE), "--model", "none", "--json"], home)
            first_cli_wall.append(time.time() - t0)
            first_cli.append(json.loads(done.stdout)["timings_ms"]["first_suggestions_ms"])
    med = statistics.median
    lines = [
        "## Desktop bundle (`bench/bundle.py`)", "",
        f"Machine: {machine()}. Bundle: PyInstaller one folder, `dist/medcoder/` (no model inside).",
        f"Command: `.venv/bin/python bench/bundle.py --runs {args.runs}`", "",
        "| measure | value |", "|---|---:|",
        f"| size on disk | {disk / 1e6:,.0f} MB |",
        f"| packed (tar.gz) | {packed / 1e6:,.0f} MB |",
        f"| first start on a new data folder: `medcoder codes stats` (bundled dictionary copied) median | "
        f"{med(fresh_stats):.2f} s |",
        f"| frozen window: process start to first paint (offscreen), median of {args.runs} | {med(paint):.2f} s |",
        f"| frozen `medcoder suggest` (sample note, retrieval only): first suggestions, median | "
        f"{med(first_cli):.0f} ms |",
        f"| frozen `medcoder suggest`: whole process, median | {med(first_cli_wall):.2f} s |", "",
        f"Each run in a fresh temporary MEDCODER_HOME, no .venv on PATH{', no network (unshare -n)' if prefix() else ''}.",
    ]
    write_section("bundle", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
