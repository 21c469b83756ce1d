"""From the final suggestion list to the encounter's claim: sequence, POA, grouping, edits, DRG impact.

``build_claim`` is the one step the suggestion stage calls (service.claim_for); it takes the suggestions as
they will be shown, whatever produced them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from medcoder_desktop.core.claim import demographics
from medcoder_desktop.core.claim.fiscal import fiscal_year, parse_date
from medcoder_desktop.core.claim.grouping import Dx as GDx, GroupRequest, MsdrgEngine
from medcoder_desktop.core.claim.impact import impacts
from medcoder_desktop.core.claim.models import Claim, ClaimCode, ClaimInput, DrgImpact
from medcoder_desktop.core.claim.notes import OrderNotes, order_notes
from medcoder_desktop.core.claim.poa import propose_poa
from medcoder_desktop.core.claim.sequence import Dx, sequence
from medcoder_desktop.core.dictionary import years
from medcoder_desktop.core.engine.text import sections as note_sections
from medcoder_desktop.core.models import Encounter, Suggestion
from medcoder_desktop.errors import CodeNotFoundError

PROCEDURE_SYSTEMS = {"inpatient": ("ICD-10-PCS",), "outpatient": ("CPT", "HCPCS")}


@dataclass
class ClaimChoices:
    """What the coder decided about the claim; everything else is proposed."""

    on_claim: set[str] | None = None  # codes on the claim; None: the suggested ones
    order: list[str] = field(default_factory=list)  # diagnoses in the coder's order, principal first
    poa: dict[str, str] = field(default_factory=dict)
    added: list[Suggestion] = field(default_factory=list)  # codes the coder added that were not suggested
    discharge_status: int | None = None


def _on_claim(s: Suggestion, setting: str, choices: ClaimChoices) -> bool:
    if choices.on_claim is not None:
        return s.code in choices.on_claim
    return s.suggested


def build_claim(suggestions: list[Suggestion], encounter: Encounter, note: str, dictionary,
                choices: ClaimChoices | None = None, *, engine: MsdrgEngine | None = None,
                today: dt.date | None = None) -> tuple[Claim, dict[str, DrgImpact]]:
    """The claim of one encounter and the DRG impact of each suggestion (by code).

    Age, sex and date come from the encounter; when it gives none they are proposed from the note (and
    named in ``claim.proposed``). Inpatient claims are grouped (MS-DRG of the date's fiscal year) and edited
    (MCE); outpatient claims get a first-listed diagnosis and no DRG.
    """
    choices = choices or ClaimChoices()
    setting = encounter.setting
    proposed = demographics.propose(note)
    claim = Claim(setting=setting, discharge_status=choices.discharge_status or encounter_status(encounter))
    claim.age = encounter.age if encounter.age is not None else _take(proposed, "age", claim)
    claim.sex = encounter.sex if encounter.sex is not None else _take(proposed, "sex", claim)
    claim.date = encounter.date_of_service or _take(proposed, "date", claim)
    day = parse_date(claim.date, today)
    if claim.date is None:
        claim.warnings.append(f"No date of service: the code set of today ({day.isoformat()}, FY{fiscal_year(day)}) "
                              "applies" + (" and the claim is grouped as of today." if setting == "inpatient" else "."))
    claim.fiscal_year = fiscal_year(day)
    year_note, year_codes = years.for_fiscal_year(dictionary, claim.fiscal_year)
    if year_note:
        claim.warnings.append(year_note)

    pool = [s for s in suggestions] + [a for a in choices.added if a.code not in {s.code for s in suggestions}]
    members = [s for s in pool if _on_claim(s, setting, choices) or s in choices.added]
    dx_members = [s for s in members if s.system == "ICD-10-CM" and s.billable]
    proc_members = [s for s in members if s.system in PROCEDURE_SYSTEMS[setting]]
    if year_codes is not None:
        gone = [s.code for s in dx_members if s.code not in year_codes]
        if gone:
            claim.warnings.append(f"Not valid in FY{claim.fiscal_year}: {', '.join(gone)}. Choose that year's codes.")

    secs = note_sections(note)

    def section_of(pos: int) -> str:
        name = "body"
        for s in secs:
            if s.start <= pos < s.end:
                name = s.name
        return name

    dxs = [Dx(s.code, _title(s, year_codes), s.confidence, [(e.start, e.end) for e in s.evidence],
              _notes(dictionary, s.code), model_first=s.model_first) for s in dx_members]
    seq = sequence(dxs, note, secs, setting)
    order = _apply_order(seq.order, choices.order)
    codes: list[ClaimCode] = []
    for i, dx in enumerate(order):
        poa, why = choices.poa.get(dx.code), ""
        proposed_poa = False
        if setting == "inpatient" and poa is None:
            poa, why = propose_poa(note, dx.spans, section_of)
            proposed_poa = poa is not None
        reason = seq.principal_reason if i == 0 and not choices.order else seq.reasons.get(dx.code, "")
        if i == 0 and choices.order and choices.order[0] == dx.code:
            reason = "Set as principal by the coder." if setting == "inpatient" else "Set first-listed by the coder."
        if why:
            reason = (reason + " " if reason else "") + f"POA {poa}: {why}."
        codes.append(ClaimCode(code=dx.code, title=dx.title, poa=poa if setting == "inpatient" else None,
                               poa_proposed=proposed_poa, reason=reason))
    claim.principal = codes[0] if codes else None
    claim.secondary = codes[1:]
    claim.procedures = [ClaimCode(code=s.code, system=s.system, title=s.title) for s in proc_members]

    result: dict[str, DrgImpact] = {}
    if setting == "inpatient" and claim.principal is not None:
        engine, req = _group_into(claim, day, dictionary, engine)
        result = impacts(engine, req, claim, [s for s in pool if s.system in ("ICD-10-CM", "ICD-10-PCS")],
                         note, section_of)
    return claim, result


def request_for(claim: Claim, day: dt.date, dictionary=None) -> GroupRequest:
    """The grouper's view of a claim."""
    source = None
    if dictionary is not None:
        version = dictionary.code_sets().get("ICD-10-CM")
        source = int(version) if version and version.isdigit() else None
    return GroupRequest(
        principal=GDx(claim.principal.code, claim.principal.poa),
        secondary=[GDx(c.code, c.poa) for c in claim.secondary],
        procedures=[c.code for c in claim.procedures if c.system == "ICD-10-PCS"],
        age=claim.age, sex=claim.sex, discharge_status=claim.discharge_status, date=day, source_year=source)


def encounter_status(encounter: Encounter) -> int:
    return int(getattr(encounter, "discharge_status", None) or 1)


def _take(proposed: dict, key: str, claim: Claim):
    if key not in proposed:
        return None
    value, words = proposed[key]
    claim.proposed[key] = words
    return value


def _title(s: Suggestion, year_codes: dict[str, str] | None) -> str:
    if year_codes and s.code in year_codes:
        return year_codes[s.code]
    return s.title


def _notes(dictionary, code: str) -> OrderNotes:
    if dictionary is None:
        return OrderNotes()
    return order_notes(dictionary.db, code, dictionary.ancestors("ICD-10-CM", code))


def _apply_order(proposed: list[Dx], wanted: list[str]) -> list[Dx]:
    """The coder's order for the codes they placed; the others keep their proposed place after them."""
    if not wanted:
        return proposed
    by_code = {d.code: d for d in proposed}
    placed = [by_code[c] for c in wanted if c in by_code]
    return placed + [d for d in proposed if d.code not in wanted]


def group_input(inp: ClaimInput, dictionary=None, *, engine: MsdrgEngine | None = None,
                today: dt.date | None = None) -> Claim:
    """Group a coder's final claim as given (``medcoder group``): no sequencing, no proposals."""
    day = parse_date(inp.date, today)
    claim = Claim(setting="inpatient", age=inp.age, sex=inp.sex, discharge_status=inp.discharge_status,
                  date=inp.date, fiscal_year=fiscal_year(day))
    if inp.date is None:
        claim.warnings.append(f"No date given: grouped as of today ({day.isoformat()}).")
    year_note, year_codes = years.for_fiscal_year(dictionary, claim.fiscal_year)
    if year_note:
        claim.warnings.append(year_note)

    def code(c: str, system: str = "ICD-10-CM", poa: str | None = None) -> ClaimCode:
        c = c.strip().upper()
        title = ""
        if dictionary is not None:
            try:
                _, c = dictionary.resolve(c, system)
                title = dictionary.show(c, system).title
            except CodeNotFoundError:
                claim.warnings.append(f"{c} is not in the dictionary's {system} code set.")
        if year_codes is not None and system == "ICD-10-CM":
            title = year_codes.get(c, title)
        return ClaimCode(code=c, system=system, title=title, poa=poa)

    claim.principal = code(inp.principal, poa=inp.principal_poa)
    claim.secondary = [code(c, poa=p) for c, p in inp.secondary]
    claim.procedures = [code(c, "ICD-10-PCS") for c in inp.procedures]
    engine, req = _group_into(claim, day, dictionary, engine)
    impacts(engine, req, claim, [], "", lambda _pos: "body")
    return claim


def _group_into(claim, day, dictionary, engine):
    """Group ``claim`` (which has a principal) and write the DRG, edits and each code's severity into it.

    Returns the engine and the grouping request, for the DRG impacts."""
    engine = engine or MsdrgEngine.shared()
    req = request_for(claim, day, dictionary)
    outcome = engine.group(req)
    claim.drg, claim.edits, claim.conversions = outcome.drg, outcome.edits, outcome.conversions
    claim.warnings.extend(outcome.warnings)
    claim.principal.severity = outcome.principal_severity
    for code, res in zip(claim.secondary, outcome.secondary):
        code.severity, code.cc_excluded, code.hac = res.severity, res.cc_excluded, res.hac
    return engine, req
