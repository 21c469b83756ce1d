"""Regrouping time per coder decision: the claim rebuilt (sequence, POA, MS-DRG grouping, MCE edits, the DRG
impact of every suggestion) after each accept, reject or move, as the window does it.

Notes: the bundled inpatient sample and the first dev notes (../shared/data/notes/codiesp_dev.jsonl, when
present), coded as inpatient stays, retrieval only. For each note the suggestions are made once (not timed);
then every suggested code is rejected and accepted again in turn, and the principal is moved, each decision
followed by a full regroup. "Workspace" times the window's path (decision written, claim rebuilt from the
workspace, claim kept for exports); "grouping alone" one msdrg grouping with its code edits.

    .venv/bin/python bench/regroup.py [--notes N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA, bench_home, machine, percentile, write_section  # noqa: E402


def notes(n: int) -> list[str]:
    from medcoder_desktop.paths import resource

    out = [resource("samples", "inpatient_discharge.txt").read_text(encoding="utf-8")]
    dev = SHARED_DATA / "notes" / "codiesp_dev.jsonl"
    if dev.is_file():
        with dev.open(encoding="utf-8") as fh:
            for line in fh:
                if len(out) > n:
                    break
                text = json.loads(line)["text"].strip()
                if text:
                    out.append(text[:6000])
    return out


def row(name: str, values: list[float]) -> str:
    return (f"| {name} | {len(values)} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} | "
            f"{max(values):.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=20, help="Dev notes besides the sample (default 20).")
    args = ap.parse_args()
    bench_home()
    from medcoder_desktop.core.claim import ClaimChoices, MsdrgEngine, build_claim
    from medcoder_desktop.core.claim.build import request_for
    from medcoder_desktop.core.claim.fiscal import parse_date
    from medcoder_desktop.core.models import Encounter
    from medcoder_desktop.core.service import CodingService

    service = CodingService(model="none")
    d = service.dictionary()
    t = time.perf_counter()
    engine = MsdrgEngine.shared()  # once a process: msdrg loads its CMS tables
    load_ms = (time.perf_counter() - t) * 1000
    enc = Encounter(setting="inpatient", age=70, sex="F", date_of_service="2026-06-15")
    full, grouping, workspace, sizes = [], [], [], []
    texts = notes(args.notes)
    for i, note in enumerate(texts):
        suggestions = service.suggest(note, enc).suggestions
        shown = [s for s in suggestions if s.suggested]
        on = {s.code for s in shown}
        claim, _ = build_claim(suggestions, enc, note, d, ClaimChoices(on_claim=set(on)))
        if claim.principal is None:
            continue
        sizes.append(1 + len(claim.secondary))
        for s in shown:  # reject it, then accept it again: two decisions
            for members in (on - {s.code}, on):
                t = time.perf_counter()
                claim, _ = build_claim(suggestions, enc, note, d, ClaimChoices(on_claim=set(members)))
                full.append((time.perf_counter() - t) * 1000)
        if claim.secondary:  # a move: the first secondary made principal
            order = claim.diagnosis_codes()
            t = time.perf_counter()
            build_claim(suggestions, enc, note, d, ClaimChoices(on_claim=set(on), order=[order[1], order[0]]))
            full.append((time.perf_counter() - t) * 1000)
        req = request_for(claim, parse_date(enc.date_of_service), d)
        for _ in range(20):
            t = time.perf_counter()
            engine.group(req)
            grouping.append((time.perf_counter() - t) * 1000)
        if i == 0:  # the window's path, on the workspace
            ws = service.workspace()
            eid = f"bench-regroup-{time.time_ns()}"  # the bench home's workspace keeps earlier runs
            ws.add_encounter(eid, note, enc)
            ws.save_run(eid, suggestions, mode="retrieval-only")
            service.encounter_claim(eid)
            for s in shown:
                for action in ("reject", "accept"):
                    t = time.perf_counter()
                    ws.record_decision(eid, s.code, s.system, action)
                    service.encounter_claim(eid)
                    workspace.append((time.perf_counter() - t) * 1000)
    service.shutdown()
    md = f"""## Regrouping per decision (`bench/regroup.py`)

What the coder waits for after each accept, reject or move before the claim panel shows the new DRG:
the claim rebuilt in full (sequence, POA, MS-DRG grouping with msdrg, MCE edits, and the DRG impact of
every suggestion, each a grouping of its own). {len(sizes)} inpatient notes (the bundled sample and dev
notes), {sum(sizes) / max(1, len(sizes)):.1f} diagnoses on a claim on average, retrieval only.

| step | decisions | median ms | p95 ms | max ms |
|---|---|---|---|---|
{row("claim rebuilt with every DRG impact", full)}
{row("same, through the workspace (decision saved, claim kept)", workspace)}
{row("one grouping with its MCE edits", grouping)}

Opening msdrg's grouper, code editor and converter (once a process, on the first claim): {load_ms:.0f} ms.

Run on {machine()}. Command: `.venv/bin/python bench/regroup.py --notes {args.notes}`.
"""
    write_section("regroup", md)
    print(md)


if __name__ == "__main__":
    main()
