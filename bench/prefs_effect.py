"""Organization preferences, measured the way a hospital would use them.

In one fresh data folder (the administrator's): `prefs key create`, `prefs learn` on
../shared/data/notes/codiesp_train.jsonl, `prefs export`. In another fresh data folder (a coder's
workstation): score ../shared/data/notes/codiesp_dev.jsonl (and any held-out gold given with --gold)
retrieval only, then `prefs trust` the administrator's key, `prefs import` the pack, and score the same
notes again. Both runs are shown side by side.

    .venv/bin/python bench/prefs_effect.py [--limit N] [--gold FILE ...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, SHARED_DATA, machine, write_section  # noqa: E402

HEADER = ("| gold | preferences | notes | micro P | micro R | micro F1 | category F1 | top-1 | recall@5 | recall@10 "
          "| s / note |")


def row(gold: Path, label: str, r) -> str:
    return (f"| {gold.name} | {label} | {r.n} | {r.micro.precision:.3f} | {r.micro.recall:.3f} | "
            f"**{r.micro.f1:.3f}** | {r.category_micro.f1:.3f} | {r.top1:.3f} | {r.recall_at_5:.3f} | "
            f"{r.recall_at_10:.3f} | {r.seconds_per_item:.2f} |")


def paths_at(home: Path):
    from medcoder_desktop.paths import AppPaths

    return AppPaths(home / "data", home / "config", home / "cache", home / "logs").ensure()


def progress(stage: str, fraction: float) -> None:
    if int(fraction * 100) % 20 == 0:
        print(f"  [{fraction:4.0%}] {stage}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, help="Score only the first N notes of each gold file.")
    ap.add_argument("--gold", action="append", default=[], help="Further (held-out) gold JSONL files.")
    args = ap.parse_args()
    train = SHARED_DATA / "notes" / "codiesp_train.jsonl"
    golds = [g for g in [SHARED_DATA / "notes" / "codiesp_dev.jsonl", *map(Path, args.gold)] if g.is_file()]
    if not train.is_file() or not golds:
        print("../shared/data/notes is absent: nothing to measure.")
        return 0
    from medcoder_desktop.core.service import CodingService

    base = ROOT / "bench" / "out" / "prefs"
    shutil.rmtree(base, ignore_errors=True)
    admin_paths, coder_paths = paths_at(base / "admin"), paths_at(base / "workstation")
    built = ROOT / "bench" / "out" / "home" / "data" / "dictionary.sqlite"  # the other benchmarks' dictionary
    if built.is_file():
        shutil.copyfile(built, admin_paths.dictionary_db)
    else:
        CodingService(admin_paths, model="none").build_dictionary()
    shutil.copyfile(admin_paths.dictionary_db, coder_paths.dictionary_db)

    admin = CodingService(admin_paths, model="none")
    admin.preferences_manager().keys.create()
    t = time.perf_counter()
    learned = admin.learn_preferences(train, progress=progress)
    learn_s = time.perf_counter() - t
    pack, key = base / "org-preferences.json", base / "admin-key.pem"
    exported = admin.export_preferences(pack, organization="CodiEsp train coders (bench)", author="bench")
    admin.preferences_manager().keys.export_public(key)
    print(f"learned {learned.items} notes in {learn_s:.0f} s; pack {exported.bytes / 1024:.0f} KB", flush=True)
    examples = ", ".join(f"{r.instead_of} → {r.code} ({r.notes} notes)" for r in admin.preferences().replacements[:3])

    coder = CodingService(coder_paths, model="none")
    without = {g: coder.evaluate(g, limit=args.limit) for g in golds}
    coder.preferences_manager().keys.trust_file(key)
    t = time.perf_counter()
    imported = coder.import_preferences(pack)
    import_s = time.perf_counter() - t
    coder = CodingService(coder_paths, model="none")
    rows = []
    for g in golds:
        with_pack = coder.evaluate(g, limit=args.limit)
        rows += [row(g, "none (fresh workstation)", without[g]), row(g, "imported pack", with_pack)]
        print(rows[-2], rows[-1], sep="\n", flush=True)
    c = exported.counts
    cmd = "`.venv/bin/python bench/prefs_effect.py" + (f" --limit {args.limit}" if args.limit else "") + \
          "".join(f" --gold {Path(g).name}" for g in args.gold) + "`"
    lines = [
        "## Organization preferences (`bench/prefs_effect.py`)", "",
        f"Machine: {machine()}. Retrieval only. `prefs learn {train.name}` in one fresh data folder "
        f"({learned.items} notes, {learn_s:.0f} s: {learned.codes} codes, {learned.wordings} wording/code pairs, "
        f"{learned.replacements} replacements), `prefs export` (signed pack of {exported.bytes / 1024:,.0f} KB, "
        f"{c['codes']} codes), then in another fresh data folder `prefs trust` + `prefs import` "
        f"({import_s:.1f} s; {len(imported.unknown_codes)} unknown codes, {len(imported.conflicts)} conflicts) and "
        "`eval` on the same notes before and after. CodiEsp coders code nearly everything mentioned and drop 7th "
        f"characters, so much of what is learned is that house style (most frequent replacements: {examples}).",
        f"Command: {cmd}", "",
        HEADER, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *rows,
    ]
    write_section("prefs_effect", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
