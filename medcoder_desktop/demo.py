"""The terminal demo: what the product does, on a bundled sample note, without a window."""

from __future__ import annotations

import re
import textwrap
import time

from medcoder_desktop.core.progress import Progress
from medcoder_desktop.core.service import SUGGEST_THRESHOLD, CodingService
from medcoder_desktop.paths import resource

SAMPLE = ("samples", "outpatient_followup.txt")
_NUMBERED = re.compile(r"^\s*\d+\.\s*(.+?)(?:\s+-\s+.*)?$")


def assessment_lines(note: str) -> list[str]:
    """The numbered problems of the note's assessment, without their plans."""
    return [m.group(1).strip() for line in note.splitlines() if (m := _NUMBERED.match(line))]


def run_demo(service: CodingService, progress: Progress) -> int:
    note = resource(*SAMPLE).read_text(encoding="utf-8")
    start = time.monotonic()
    info = service.prepare(progress)  # the dictionary and its search index, then the model
    stats = service.stats()
    if info.model is not None:
        mode = (f"model {info.model.name} ({info.model.backend}, loaded in {info.model.load_seconds:.1f} s) choosing "
                "among the dictionary's candidates")
    else:
        mode = "retrieval only: no model found, suggestions come from the dictionary alone"
    print(f"medcoder — demo ({mode})\n")
    print("Code sets: " + ", ".join(f"{k} {v.version} ({v.codes:,} codes)" for k, v in stats.items()))
    print(f"Dictionary: {service.paths.dictionary_db}  (ready in {time.monotonic() - start:.1f} s)\n")
    print("Sample note: resources/" + "/".join(SAMPLE))
    print(textwrap.indent(note.strip(), "  │ "))
    result = service.suggest(note)
    suggestions = result.suggestions
    shown = [x for x in suggestions if x.suggested]
    print(f"\nSuggested codes ({len(shown)}, outpatient; first suggestions in "
          f"{result.timings['first_suggestions_ms']:.0f} ms, final in {result.timings['total_ms']:.0f} ms). "
          "Confidence is calibrated: 0.80 means right about 8 times in 10.")
    for x in shown:
        bill = "" if x.billable else "  [not billable]"
        bar = "█" * round(x.confidence * 10) + "·" * (10 - round(x.confidence * 10))
        print(f"\n  {x.code:<8} {bar} {x.confidence:4.2f}  {x.title}{bill}")
        for e in x.evidence[:3]:
            line = note.count("\n", 0, e.start) + 1
            print(f"           evidence, line {line}: “{e.text}”")
        for line in textwrap.wrap(x.reasoning, 92):
            print(f"           {line}")
    print("\nCodes found for each problem of the assessment (dictionary search):")
    for problem in assessment_lines(note):
        t = time.perf_counter()
        hits = service.search(problem, limit=3, systems={"ICD-10-CM"})
        ms = (time.perf_counter() - t) * 1000
        print(f"\n  “{problem}”  ({ms:.0f} ms)")
        for i, h in enumerate(hits):
            mark = "→" if i == 0 and h.score >= SUGGEST_THRESHOLD else " "
            bill = "" if h.billable else "  [not billable]"
            print(f"   {mark} {h.code:<8} {h.score:4.2f}  {h.title}{bill}")
    print("\nTry your own: .venv/bin/medcoder suggest NOTE.txt   or   "
          ".venv/bin/medcoder codes search \"hypertensive hart disease w CHF\"")
    return 0
