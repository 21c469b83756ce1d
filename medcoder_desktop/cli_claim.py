"""`medcoder group` and the claim options of `medcoder suggest`: parse, call the service, print."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from medcoder_desktop.cli_output import emit, open_service
from medcoder_desktop.errors import InvalidInputError

POA_CHOICES = ("Y", "N", "U", "W", "1")


def _code_poa(text: str) -> tuple[str, str | None]:
    code, _, poa = text.partition(":")
    poa = poa.strip().upper() or None
    if poa is not None and poa not in POA_CHOICES:
        raise InvalidInputError(f"{text!r}: the POA indicator after the colon must be one of {', '.join(POA_CHOICES)}.")
    if not code.strip():
        raise InvalidInputError(f"{text!r}: a code is missing before the colon.")
    return code.strip().upper(), poa


def iso_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def add_encounter_options(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    """Age, sex, discharge status and date: the encounter fields the claim is grouped with."""
    p.add_argument("--age", type=int, required=required, help="The patient's age in years "
                   "(default for suggest: read from the note, e.g. '72-year-old').")
    p.add_argument("--sex", choices=("F", "M", "U"), type=str.upper, required=required,
                   help="The patient's sex (default for suggest: read from the note).")
    p.add_argument("--discharge-status", type=int, default=None, metavar="NN",
                   help="CMS patient discharge status code (default 01, home or self care).")
    p.add_argument("--date", type=iso_date, help="Date of discharge (inpatient) or service, YYYY-MM-DD: it picks "
                   "the fiscal year's code set and grouper (default: read from the note, else today).")


def cmd_group(args: argparse.Namespace) -> int:
    pdx, pdx_poa = _code_poa(args.pdx)
    inp = dict(principal=pdx, principal_poa=pdx_poa, secondary=[_code_poa(s) for s in args.sdx or []],
               procedures=[p.strip().upper() for p in args.pcs or []], age=args.age, sex=args.sex,
               discharge_status=args.discharge_status or 1, date=args.date)
    claim = open_service("none").group(inp)
    if args.json:
        emit(group_json(claim))
        return 0
    print_claim(claim)
    for w in claim.warnings:
        print(f"  note: {w}", file=sys.stderr)
    return 0


def group_json(claim) -> dict:
    """The CLI contract's {"drg", "principal", "secondary", "procedures", "edits", "warnings"}."""
    data = claim.model_dump(mode="json")
    return {"drg": data["drg"], "principal": data["principal"], "secondary": data["secondary"],
            "procedures": data["procedures"], "edits": data["edits"], "warnings": data["warnings"],
            "fiscal_year": data["fiscal_year"], "conversions": data["conversions"]}


def print_claim(claim) -> None:
    d = claim.drg
    if d is not None:
        weight = f"weight {d.weight:.4f}, GMLOS {d.gmlos}, AMLOS {d.amlos}" if d.weight is not None else "no weight"
        print(f"MS-DRG {d.code} {d.title} (MDC {d.mdc or '-'}; {weight}; grouper v{d.grouper_version})")
    label = "Principal" if claim.setting == "inpatient" else "First-listed"
    rows = ([(label, claim.principal)] if claim.principal else []) + [("", c) for c in claim.secondary]
    for role, c in rows:
        marks = " ".join(x for x in (c.severity if c.severity in ("CC", "MCC") else "",
                                     "(excluded)" if c.cc_excluded else "", "HAC" if c.hac else "") if x)
        print(f"  {role:<12} {c.code:<9} POA {(c.poa or '-') + ('?' if c.poa_proposed else ' ')} {marks:<14} {c.title[:70]}")
    for c in claim.procedures:
        print(f"  {'Procedure':<12} {c.code:<9} {c.title[:80]}")
    for e in claim.edits:
        print(f"  edit: {e.message}")


def add_group_command(sub) -> None:
    g = sub.add_parser("group", help="Group a coder's final inpatient claim: MS-DRG, CC/MCC, HAC, MCE edits.")
    g.add_argument("--pdx", required=True, metavar="CODE[:POA]", help="The principal diagnosis, e.g. I50.23 or I5023:Y.")
    g.add_argument("--sdx", action="append", metavar="CODE[:POA]",
                   help="A secondary diagnosis with its POA indicator (Y, N, U, W, 1), e.g. E11.22:Y (repeatable).")
    g.add_argument("--pcs", action="append", metavar="CODE", help="An ICD-10-PCS procedure (repeatable).")
    add_encounter_options(g, required=False)
    g.add_argument("--json", action="store_true", help="Print one JSON document.")
    g.set_defaults(func=cmd_group)
