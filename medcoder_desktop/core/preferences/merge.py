"""Merging a verified pack into this workstation's preferences, with a report.

- Codes this workstation's code sets lack are skipped, each named in the report: a rule that names one
  is left out; learned tallies about one are left out.
- Rules: one already present (same kind, codes, setting and payer) is not added twice; a new one gets
  a local id; conflicts with the rules present (or with the pack's other rules) are reported, both
  rules are kept and the precedence of ``rules.py`` settles them (never wins).
- Learned sources are keyed by id (a gold file's digest, a workstation): a source the workstation has
  is replaced when the pack's copy is newer and kept otherwise, so importing the same learning twice,
  or a pack that carries this workstation's own learning back, never counts it twice. Others are
  added, and ranking adds the counts of all sources up.
"""

from __future__ import annotations

from collections.abc import Callable

from medcoder_desktop.core.models import ImportRecord, PackImportReport
from medcoder_desktop.core.preferences.records import LearnedSource, PreferencesData
from medcoder_desktop.core.preferences.pack import PackPayload
from medcoder_desktop.core.preferences.rules import check_rule_count, conflict, unknown_codes

MAX_LISTED = 50


def merge_pack(data: PreferencesData, payload: PackPayload, exists: Callable[[str], bool],
               local_code_sets: dict[str, str], report: PackImportReport, record: ImportRecord) -> None:
    """Merge ``payload`` into ``data`` (in place) and fill ``report``."""
    org = payload.metadata.organization
    unknown: set[str] = set()
    present = {r.identity(): r for r in data.rules}
    for rule in payload.rules:
        missing = unknown_codes(rule, exists)
        if missing:
            unknown.update(missing)
            report.skipped_rules.append(f"{rule.describe()} (unknown: {', '.join(missing)})")
            continue
        if rule.identity() in present:
            report.rules_already_present += 1
            continue
        for other in data.rules:
            why = conflict(other, rule)
            if why:
                who = f"local rule {other.id}" if other.origin == "local" else f"rule {other.id} (from {other.origin})"
                report.conflicts.append(f"pack rule “{rule.describe()}” vs {who} “{other.describe()}”: {why}")
        new = rule.model_copy(update={"id": data.next_rule_id, "origin": org,
                                      "created": rule.created or payload.metadata.created})
        data.next_rule_id += 1
        data.rules.append(new)
        present[new.identity()] = new
        report.rules_added.append(new.describe())
    check_rule_count(data.rules)
    for src in payload.sources:
        src = _known_only(src, exists, unknown)
        if src.origin == "local":
            src = src.model_copy(update={"origin": org})
        have = data.sources.get(src.id)
        if have is None:
            data.sources[src.id] = src
            report.sources_added.append(f"{src.label or src.id} ({src.items} {_items(src)})")
        elif src.learned_at > have.learned_at:
            data.sources[src.id] = src
            report.sources_updated.append(f"{src.label or src.id} ({src.items} {_items(src)})")
        else:
            report.sources_kept.append(f"{have.label or have.id}: this workstation's copy is as new or newer")
    report.unknown_codes = sorted(unknown)
    if len(unknown) > MAX_LISTED:
        report.warnings.append(f"{len(unknown)} codes of the pack are not in this workstation's code sets; "
                               "all are listed under unknown_codes.")
    for system, version in sorted(payload.metadata.code_sets.items()):
        mine = local_code_sets.get(system)
        if mine != version:
            report.warnings.append(f"The pack was made with {system} {version}; this workstation has "
                                   f"{mine or 'no ' + system}.")
    data.imports.append(record)


def _items(src: LearnedSource) -> str:
    return "notes" if src.kind == "gold" else "encounters"


def _known_only(src: LearnedSource, exists: Callable[[str], bool], unknown: set[str]) -> LearnedSource:
    """The source without the tallies of codes ``exists`` does not know (added to ``unknown``)."""
    bad = {c for c in src.all_codes() if not exists(c)}
    if not bad:
        return src
    unknown.update(bad)
    wordings = {w: {c: t for c, t in by_code.items() if c not in bad} for w, by_code in src.wordings.items()}
    replacements = {y: {x: n for x, n in xs.items() if x not in bad} for y, xs in src.replacements.items()
                    if y not in bad}
    return src.model_copy(update={
        "codes": {c: t for c, t in src.codes.items() if c not in bad},
        "wordings": {w: v for w, v in wordings.items() if v},
        "replacements": {y: xs for y, xs in replacements.items() if xs},
    })
