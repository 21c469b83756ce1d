"""Shared by the benchmarks: data location, a service on a bench home, and docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DOC = ROOT / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Every figure on this page is written by a script in `bench/`; none is typed by hand. Rerun one
with the command shown in its section. Sections are replaced independently.
"""


def bench_home() -> Path:
    """The benchmarks' own data folder (MEDCODER_HOME if set), so a user's data is never touched."""
    home = Path(os.environ.get("MEDCODER_HOME") or ROOT / "bench" / "out" / "home")
    os.environ["MEDCODER_HOME"] = str(home)
    return home


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith("model name")), cpu)
    except OSError:
        model = cpu
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"commit {rev.stdout.strip() or 'unknown'}")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def write_section(name: str, markdown: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md (or append it)."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.is_file() else HEADER
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")
