"""`medcoder prefs ...`: learn, show, export and import organization preferences; rules; signing keys.

Wired into the main parser by ``cli.build_parser`` with ``add_prefs_commands(sub)``. Human text or one
JSON document goes to stdout; progress and import warnings go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from medcoder_desktop.cli_output import ProgressPrinter, emit, open_service, say
from medcoder_desktop.errors import PreferencesError


def cmd_learn(args: argparse.Namespace) -> int:
    service = open_service("none")
    reports = []
    if args.gold:
        reports.append(service.learn_preferences(Path(args.gold), progress=ProgressPrinter()))
    if args.workspace:
        reports.append(service.learn_from_workspace())
    if not reports:
        raise PreferencesError("Give a gold JSONL file to learn from, or --workspace to learn from the decisions.")
    if args.json:
        emit(reports[0] if len(reports) == 1 else reports)
        return 0
    for r in reports:
        again = " (replacing what was learned from it before)" if r.replaced_previous else ""
        print(f"Learned from {r.label}: {r.items} items{again}, {r.skipped} skipped; {r.codes} codes, "
              f"{r.wordings} wording/code pairs, {r.replacements} replacements ({r.seconds:.0f} s).")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    summary = open_service("none").preferences()
    if args.json:
        emit(summary)
        return 0
    if not summary.stored:
        print(f"No organization preferences yet ({summary.path}). Learn some with `medcoder prefs learn GOLD.jsonl`, "
              "write rules with `medcoder prefs rule add`, or import a pack.")
        return 0
    c = summary.counts
    print(f"Organization preferences ({summary.path}): {c.get('rules', 0)} rules; learned from "
          f"{c.get('notes', 0)} notes or encounters in {c.get('sources', 0)} sources, {c.get('codes', 0)} codes.")
    for s in summary.sources:
        origin = "" if s.origin == "local" else f", from {s.origin}"
        print(f"  {s.kind:<9} {s.label}: {s.items} items, {s.codes} codes, learned {s.learned_at}{origin}")
    _print_rules(summary.rules)
    for title, prefs in (("Coded more readily than the dictionary alone predicts", summary.raised),
                         ("Coded less often (kept rejected or dropped)", summary.lowered)):
        if prefs:
            print(f"{title}:")
            for p in prefs[:10]:
                print(f"  {p.code:<9} coded {p.coded:>4} of {p.found:<4} (expected {p.expected:>5.1f})  {p.title}")
    if summary.replacements:
        print("Coded in place of a suggested code:")
        for r in summary.replacements[:10]:
            print(f"  {r.code:<9} instead of {r.instead_of:<9} {r.notes} times")
    for i in summary.imports:
        print(f"Imported: {i.organization}'s pack by {i.author} ({i.created}), signer {i.signer[:23]}…, "
              f"on {i.imported_at}")
    return 0


def _print_rules(rules) -> None:
    if not rules:
        print("No rules.")
        return
    print("Rules:")
    for r in rules:
        origin = "" if r.origin == "local" else f"   [from {r.origin}]"
        print(f"  {r.id:>3}  {r.describe()}{origin}")


def cmd_export(args: argparse.Namespace) -> int:
    report = open_service("none").export_preferences(Path(args.file), organization=args.organization, author=args.author)
    if args.json:
        emit(report)
    else:
        c = report.counts
        print(f"Wrote {report.path} ({report.bytes / 1024:,.0f} KB) for {report.organization}: {c['rules']} rules, "
              f"{c['sources']} learned sources ({c['notes']} notes or encounters, {c['codes']} codes).\n"
              f"  signed by {report.signer}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    report = open_service("none").import_preferences(Path(args.file), trust_signer=args.trust_signer)
    if report.signer_newly_trusted:
        say(f"Now trusting the pack's signer, fingerprint {report.signer}: compare it with the administrator's "
             "(`medcoder prefs key list` on their workstation).")
    for line in report.conflicts:
        say(f"conflict: {line}")
    if report.unknown_codes:
        say(f"skipped {len(report.unknown_codes)} codes this workstation's code sets lack: "
             + ", ".join(report.unknown_codes[:50]) + (" ..." if len(report.unknown_codes) > 50 else ""))
    for line in report.warnings:
        say(f"warning: {line}")
    if args.json:
        emit(report)
        return 0
    print(f"Imported {report.organization}'s preferences ({report.created}, by {report.author}): "
          f"{len(report.rules_added)} rules added, {report.rules_already_present} already present, "
          f"{len(report.skipped_rules)} skipped; learned sources: {len(report.sources_added)} added, "
          f"{len(report.sources_updated)} updated, {len(report.sources_kept)} kept as they were.")
    return 0


def cmd_rule_add(args: argparse.Namespace) -> int:
    rule = open_service("none").add_rule(args.kind, args.code, over=args.over, add=args.with_code,
                               setting=args.setting, payer=args.payer)
    if args.json:
        emit(rule)
    else:
        print(f"Rule {rule.id}: {rule.describe()}")
    return 0


def cmd_rule_list(args: argparse.Namespace) -> int:
    rules = open_service("none").preferences().rules
    if args.json:
        emit(rules)
    else:
        _print_rules(rules)
    return 0


def cmd_rule_remove(args: argparse.Namespace) -> int:
    rule = open_service("none").remove_rule(args.id)
    print(f"Removed rule {rule.id}: {rule.describe()}")
    return 0


def cmd_key_create(args: argparse.Namespace) -> int:
    key = open_service("none").create_signing_key(force=args.force)
    print(f"Created this workstation's signing key.\n  fingerprint {key.fingerprint}\n"
          "Give the other workstations its public key: `medcoder prefs key export FILE`, then `medcoder prefs "
          "trust FILE` there.")
    return 0


def cmd_key_export(args: argparse.Namespace) -> int:
    key = open_service("none").export_public_key(Path(args.file))
    print(f"Wrote the public key to {args.file}\n  fingerprint {key.fingerprint}")
    return 0


def cmd_key_list(args: argparse.Namespace) -> int:
    service = open_service("none")
    own = service.signing_key()
    trusted = service.trusted_keys()
    if args.json:
        emit({"signing_key": own.fingerprint if own else None, "trusted": [k.model_dump() for k in trusted]})
        return 0
    print(f"Signing key: {own.fingerprint if own else 'none (this workstation cannot export packs)'}")
    print("Trusted keys:" if trusted else "Trusted keys: none")
    for k in trusted:
        print(f"  {k.fingerprint}  {k.label}  (since {k.added})")
    return 0


def cmd_trust(args: argparse.Namespace) -> int:
    key = open_service("none").trust_key(Path(args.file), label=args.label or "")
    print(f"Trusting packs signed by {key.fingerprint} ({key.label}).")
    return 0


def cmd_untrust(args: argparse.Namespace) -> int:
    key = open_service("none").untrust_key(args.fingerprint)
    print(f"No longer trusting {key.fingerprint} ({key.label}).")
    return 0


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="Print one JSON document.")


def add_prefs_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``prefs learn|show|export|import|rule|key|trust|untrust`` to the CLI; returns the ``prefs`` parser."""
    prefs = subparsers.add_parser("prefs", help="Organization coding preferences: learn, rules, signed packs.")
    psub = prefs.add_subparsers(dest="prefs_command", metavar="ACTION", required=True)

    le = psub.add_parser("learn", help="Learn from historically coded notes (gold JSONL; retrieval only) and/or "
                                       "from the coders' decisions in the workspace.")
    le.add_argument("gold", nargs="?", help="Gold JSONL: one {id, text, codes, ...} a line.")
    le.add_argument("--workspace", action="store_true", help="Also learn from the workspace's decisions.")
    _json(le)
    le.set_defaults(func=cmd_learn)

    sh = psub.add_parser("show", help="Rules, learned sources, the strongest learned preferences, imports.")
    _json(sh)
    sh.set_defaults(func=cmd_show)

    ex = psub.add_parser("export", help="Write a signed pack of this workstation's preferences.")
    ex.add_argument("file", help="The pack to write (e.g. org-prefs.json).")
    ex.add_argument("--organization", help="The organization's name (remembered for the next export).")
    ex.add_argument("--author", help="Who made the pack (default: the user).")
    _json(ex)
    ex.set_defaults(func=cmd_export)

    im = psub.add_parser("import", help="Verify a signed pack and merge it (all or nothing).")
    im.add_argument("file", help="The pack.")
    im.add_argument("--trust-signer", action="store_true",
                    help="Trust the pack's signing key if it is not trusted yet (first use); its fingerprint is "
                         "printed: check it with the administrator.")
    _json(im)
    im.set_defaults(func=cmd_import)

    rule = psub.add_parser("rule", help="Explicit rules: prefer X over Y, never Z, pair V with W.")
    rsub = rule.add_subparsers(dest="rule_command", metavar="ACTION", required=True)
    ra = rsub.add_parser("add", help="Add a rule: `prefer X --over Y`, `never Z`, `pair V --with W` (whenever a code "
                                     "under V is suggested, W is suggested too, e.g. pair E11 --with Z79.4).")
    ra.add_argument("kind", choices=("prefer", "never", "pair"), help="The kind of rule.")
    ra.add_argument("code", help="prefer: the code to use; never: the code or category never suggested; "
                                 "pair: the code or category that brings the other one.")
    ra.add_argument("--over", help="prefer: the code or category replaced.")
    ra.add_argument("--with", dest="with_code", help="pair: the code added.")
    ra.add_argument("--setting", choices=("outpatient", "inpatient"), help="Only in this setting.")
    ra.add_argument("--payer", help="Only for this payer (compared without case).")
    _json(ra)
    ra.set_defaults(func=cmd_rule_add)
    rl = rsub.add_parser("list", help="The rules, with their ids.")
    _json(rl)
    rl.set_defaults(func=cmd_rule_list)
    rr = rsub.add_parser("remove", help="Remove a rule by its id (see `prefs rule list`).")
    rr.add_argument("id", type=int, help="The rule's id.")
    rr.set_defaults(func=cmd_rule_remove)

    key = psub.add_parser("key", help="This workstation's signing key (the administrator's) and trusted keys.")
    ksub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    kc = ksub.add_parser("create", help="Create the signing key that exports packs (administrator's workstation).")
    kc.add_argument("--force", action="store_true", help="Replace an existing key (packs it signed stay valid "
                                                         "only where its public key stays trusted).")
    kc.set_defaults(func=cmd_key_create)
    ke = ksub.add_parser("export", help="Write the signing key's public key (PEM) for other workstations to trust.")
    ke.add_argument("file", help="The public key file to write.")
    ke.set_defaults(func=cmd_key_export)
    kl = ksub.add_parser("list", help="The signing key's fingerprint and the trusted keys.")
    _json(kl)
    kl.set_defaults(func=cmd_key_list)

    tr = psub.add_parser("trust", help="Trust packs signed by the public key in FILE (from `prefs key export`).")
    tr.add_argument("file", help="The public key file (PEM).")
    tr.add_argument("--label", help="A name for the key (default: the file's name).")
    tr.set_defaults(func=cmd_trust)
    ut = psub.add_parser("untrust", help="Stop trusting a key (by fingerprint, or its first 8+ characters).")
    ut.add_argument("fingerprint", help="sha256:... as `prefs key list` shows it.")
    ut.set_defaults(func=cmd_untrust)
    return prefs
