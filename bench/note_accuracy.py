"""Note coding accuracy on ../shared/data/notes/codiesp_dev.jsonl, by mode, in one run.

Modes measured now: retrieval only. (Model adjudication and the naive model baseline join this
table when the model path lands.)

    .venv/bin/python bench/note_accuracy.py [--limit N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA, bench_home, machine, write_section  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    dev = SHARED_DATA / "notes" / "codiesp_dev.jsonl"
    if not dev.is_file():
        print("../shared/data/notes is absent: nothing to measure.")
        return 0
    bench_home()
    from medcoder_desktop.core.service import CodingService

    service = CodingService()
    service.dictionary().engine
    r = service.evaluate(dev, model="none", limit=args.limit)
    lines = [
        "## Note accuracy (`bench/note_accuracy.py`)", "",
        f"Machine: {machine()}. {r.n} notes of {dev.name} (CodiEsp: every mention coded, negated and "
        "historical ones included, 7th characters mostly dropped: expect a low ceiling). Exact codes for "
        "micro scores; category = first 3 characters.",
        "Command: `.venv/bin/python bench/note_accuracy.py`", "",
        "| mode | micro P | micro R | micro F1 | category F1 | top-1 | recall@5 | recall@10 | invalid codes | s / note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r.mode} | {r.micro.precision:.3f} | {r.micro.recall:.3f} | {r.micro.f1:.3f} | "
        f"{r.category_micro.f1:.3f} | {r.top1:.3f} | {r.recall_at_5:.3f} | {r.recall_at_10:.3f} | "
        f"{r.invalid_codes} | {r.seconds_per_item:.3f} |",
    ]
    write_section("note_accuracy", "\n".join(lines))
    print("\n".join(lines[-3:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
