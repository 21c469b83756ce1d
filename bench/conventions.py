"""The tabular conventions on the dev notes: what a coding auditor would flag among the codes shown.

Runs `suggest` (retrieval only, as the CLI does, shown codes only) on ../shared/data/notes/aci_dev.jsonl
(outpatient) and codiesp_dev.jsonl (case reports) and counts, over the codes shown: non-billable codes, pairs an
Excludes1 note forbids, code + ancestor pairs, unspecified + specific sibling pairs (same category; in brackets
those of the same condition, which one code per condition forbids: not "Vomiting" beside "Nausea"), and evidence
spans that are not a dictionary wording (their words, as a set, are no title, inclusion term or Index path).
Also counts what the rules of core/conventions removed or changed, by rule.

    .venv/bin/python bench/conventions.py [--limit N]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA, bench_home, machine, write_section  # noqa: E402

FILES = (("aci_dev.jsonl", "outpatient"), ("codiesp_dev.jsonl", None))
_UNSPECIFIED = re.compile(r"\bunspecified\b|\bwithout complications\b", re.I)


def is_wording(engine, text: str) -> bool:
    """Whether the words of ``text`` are, as a set, one dictionary wording (title, inclusion term, Index path)."""
    from medcoder_desktop.core.dictionary.search_index import doc_key, unspecified_mask

    slots = engine.read_query(text, strict=True)
    if not slots:
        return False
    best = [max(s.alts, key=s.alts.get) for s in slots]
    # the words as read (a synonym's title wording first) or as written ("ovarian", not "ovary")
    written = [s.written if s.written is not None else b for s, b in zip(slots, best)]
    for reading in (best, written):
        if engine.key_docs.get(doc_key(reading)):
            return True
        mask = unspecified_mask([engine.ix.stems[b] for b in reading])
        if engine.key_docs.get(doc_key([b for b, m in zip(reading, mask) if not m])):
            return True
    return False


def audit(service, path: Path, setting: str | None, limit: int | None) -> dict:
    from medcoder_desktop.core import conventions
    from medcoder_desktop.core.conventions import excludes1
    from medcoder_desktop.core.conventions.one_per_condition import unspecified_beside
    from medcoder_desktop.core.conventions.context import Context
    from medcoder_desktop.core.engine import pipeline
    from medcoder_desktop.core.gold import read_gold
    from medcoder_desktop.core.models import Encounter

    d = service.dictionary()
    tab = conventions.Tabular(d)
    removed: Counter[str] = Counter()
    original = pipeline.apply_conventions

    def recording(dictionary, suggestions, note, encounter, threshold=0.5, ctx=None):
        ctx = Context(note=note, encounter=encounter, tab=tab, threshold=threshold)
        out = original(dictionary, suggestions, note, encounter, threshold, ctx=ctx)
        recording.last = ctx.removed
        return out

    recording.last = []
    pipeline.apply_conventions = recording
    c: Counter[str] = Counter()
    start = time.perf_counter()
    try:
        for item in read_gold(path, limit=limit):
            # as `medcoder eval` codes it: the gold's setting, else a stay the note tells of, else outpatient
            encounter = Encounter(setting=service.setting_of(item.text, item.setting or setting).setting)
            c["inpatient"] += encounter.setting == "inpatient"
            suggestions = service.suggest(item.text, encounter).suggestions
            for _, why in recording.last:
                removed[_rule_of(why)] += 1
            shown = [s for s in suggestions if s.suggested and s.system == "ICD-10-CM"]
            ctx = Context(note=item.text, encounter=encounter, tab=tab)
            c["notes"] += 1
            c["shown"] += len(shown)
            c["non_billable"] += sum(1 for s in shown if not tab.billable(s.code))
            for i, a in enumerate(shown):
                for b in shown[i + 1:]:
                    pa, pb = a.code.replace(".", ""), b.code.replace(".", "")
                    c["excludes1_pairs"] += excludes1.pair_note(ctx, a.code, b.code) is not None
                    c["ancestor_pairs"] += pa != pb and (pa.startswith(pb) or pb.startswith(pa))
                    c["unspecified_sibling_pairs"] += pa[:3] == pb[:3] and (
                        bool(_UNSPECIFIED.search(a.title)) != bool(_UNSPECIFIED.search(b.title)))
                    # of those, an unspecified code beside a specific code of the same condition (the rule's own
                    # test): "Unspecified abdominal pain" beside "Epigastric pain", not "Vomiting" beside "Nausea"
                    c["same_condition_pairs"] += unspecified_beside(ctx, a, b) or unspecified_beside(ctx, b, a)
                for e in a.evidence:
                    c["evidence_spans"] += 1
                    c["not_a_wording"] += not is_wording(d.engine, e.text)
    finally:
        pipeline.apply_conventions = original
    c["seconds"] = round(time.perf_counter() - start)
    return {"counts": c, "removed": removed}


def _rule_of(why: str) -> str:
    for key, name in (("not billable", "billable"), ("Excludes1", "excludes1"), ("outpatient", "section IV"),
                      ("weeks-of-gestation", "one Z3A"), ("does not fit", "age / sex"), ("history:", "history"),
                      ("neoplasm:", "neoplasm site")):
        if key in why:
            return name
    return "one code per condition"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, help="notes per file (default: all)")
    args = ap.parse_args()
    if not (SHARED_DATA / "notes").is_dir():
        print("../shared/data/notes is absent: nothing to count.")
        return 0
    bench_home()
    from medcoder_desktop.core.service import CodingService

    service = CodingService(model="none")
    lines = [
        "## Tabular conventions on the codes shown (`bench/conventions.py`)", "",
        f"Machine: {machine()}. Retrieval only; `suggest` as the CLI runs it, codes shown only. "
        "Command: `.venv/bin/python bench/conventions.py" + (f" --limit {args.limit}`" if args.limit else "`"), "",
        "| notes | setting | codes shown | non-billable | Excludes1 pairs | code + ancestor pairs "
        "| unspecified + specific sibling pairs (of the same condition) | evidence spans | not a dictionary wording |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    removed_rows = []
    for name, setting in FILES:
        path = SHARED_DATA / "notes" / name
        if not path.is_file():
            continue
        r = audit(service, path, setting, args.limit)
        c = r["counts"]
        share = c["not_a_wording"] / c["evidence_spans"] if c["evidence_spans"] else 0.0
        lines.append(f"| {name} ({c['notes']}) | {setting or 'none given: ' + str(c['inpatient']) + ' read as stays, the rest outpatient'} | {c['shown']} | "
                     f"{c['non_billable']} | {c['excludes1_pairs']} | {c['ancestor_pairs']} | "
                     f"{c['unspecified_sibling_pairs']} ({c['same_condition_pairs']}) | {c['evidence_spans']} | {c['not_a_wording']} "
                     f"({share:.0%}) |")
        removed_rows.append(f"| {name} | " + ", ".join(f"{k}: {v}" for k, v in r["removed"].most_common()) + " |")
        print(lines[-1], flush=True)
    lines += ["", "What the rules removed or kept off the screen (all ranked codes, before the display threshold):",
              "", "| notes | by rule |", "|---|---|", *removed_rows]
    write_section("conventions", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
