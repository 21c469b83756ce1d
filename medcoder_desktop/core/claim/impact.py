"""DRG impact: what accepting a suggestion, or taking a code off the claim, would change."""

from __future__ import annotations

import copy

from medcoder_desktop.core.claim.grouping import Dx, GroupRequest, MsdrgEngine
from medcoder_desktop.core.claim.models import Claim, Drg, DrgImpact
from medcoder_desktop.core.claim.poa import propose_poa
from medcoder_desktop.core.models import Suggestion


def _weight(d: Drg | None) -> float | None:
    return d.weight if d else None


def describe(action: str, severity: str | None, before: Drg | None, after: Drg | None, *,
             excluded: bool = False, hac: bool = False) -> str:
    """"adds a CC: DRG 293 → 292, weight 0.566 → 0.849" / "removes an MCC: ..." / "no DRG change"."""
    verb = "adds" if action == "add" else "removes"
    what = {"MCC": "an MCC", "CC": "a CC"}.get(severity or "", "")
    head = f"{verb} {what}" if what and not excluded else ""
    if (excluded or hac) and what:
        level = what.split(" ", 1)[1]
        head = f"{level} not counted ({'hospital-acquired, POA N/U' if hac else 'excluded by the principal'})"
    if before is None or after is None or before.code == after.code:
        tail = "no DRG change"
        if before is not None:
            tail += f" (DRG {before.code})"
        return f"{head}: {tail}" if head else tail
    w = ""
    if before.weight is not None and after.weight is not None:
        w = f", weight {before.weight:.4f} → {after.weight:.4f}"
    change = f"DRG {before.code} → {after.code}{w}"
    return f"{head}: {change}" if head else change


def impacts(engine: MsdrgEngine, req: GroupRequest, claim: Claim, pool: list[Suggestion], note: str,
            section_of) -> dict[str, DrgImpact]:
    """For each code on the claim, what removing it would do (also stored on the claim's code); for each
    suggestion not on it, what adding it would do (as a secondary diagnosis or a procedure)."""
    base = claim.drg
    out: dict[str, DrgImpact] = {}
    on = {c.code for c in claim.secondary} | {c.code for c in claim.procedures}
    # removals
    for i, code in enumerate(claim.secondary):
        r = copy.copy(req)
        r.secondary = [d for j, d in enumerate(req.secondary) if j != i]
        after = engine.quick_drg(r)
        imp = DrgImpact(action="remove", code=code.code, drg_before=_code(base), drg_after=_code(after),
                        weight_before=_weight(base), weight_after=_weight(after), severity=code.severity,
                        changes_drg=_code(base) != _code(after),
                        summary=describe("remove", code.severity, base, after, excluded=code.cc_excluded,
                                         hac=bool(code.hac)))
        code.removal = out[code.code] = imp
    for i, proc in enumerate(claim.procedures):
        if proc.system != "ICD-10-PCS":
            continue
        r = copy.copy(req)
        r.procedures = [p for j, p in enumerate(req.procedures) if j != i]
        after = engine.quick_drg(r)
        proc.removal = out[proc.code] = DrgImpact(
            action="remove", code=proc.code, drg_before=_code(base), drg_after=_code(after),
            weight_before=_weight(base), weight_after=_weight(after), changes_drg=_code(base) != _code(after),
            summary=describe("remove", None, base, after))
    if claim.principal is not None and claim.secondary:
        r = copy.copy(req)
        r.principal, r.secondary = req.secondary[0], req.secondary[1:]
        after = engine.quick_drg(r)
        p = claim.principal
        p.removal = out[p.code] = DrgImpact(
            action="remove", code=p.code, drg_before=_code(base), drg_after=_code(after),
            weight_before=_weight(base), weight_after=_weight(after), changes_drg=_code(base) != _code(after),
            summary=describe("remove", None, base, after) + f" ({claim.secondary[0].code} would be principal)")
    # additions
    principal = claim.principal.code if claim.principal else None
    for s in pool:
        if s.code in on or s.code == principal or s.code in out:
            continue
        if s.system == "ICD-10-CM" and not s.billable:
            continue
        r = copy.copy(req)
        severity = None
        if s.system == "ICD-10-CM":
            poa, _ = propose_poa(note, [(e.start, e.end) for e in s.evidence], section_of)
            r.secondary = [*req.secondary, Dx(s.code, poa or "Y")]
            outcome = engine.group(r, with_edits=False)
            after, severity = outcome.drg, outcome.secondary[-1].severity
            excluded = outcome.secondary[-1].cc_excluded
        else:
            r.procedures = [*req.procedures, s.code]
            after, excluded = engine.quick_drg(r), False
        out[s.code] = DrgImpact(
            action="add", code=s.code, drg_before=_code(base), drg_after=_code(after),
            weight_before=_weight(base), weight_after=_weight(after), severity=severity,
            changes_drg=_code(base) != _code(after),
            summary=describe("add", severity, base, after, excluded=excluded))
    return out


def _code(d: Drg | None) -> str | None:
    return d.code if d else None
