"""A proposed order of the diagnoses: principal (inpatient, Official Guidelines Section II) or first-listed
(outpatient, Section IV), then the others with "code first" / etiology–manifestation order kept."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medcoder_desktop.core.claim.notes import OrderNotes, matches

# Words of the note that name the reason for the stay or the visit.
_ADMITTED = re.compile(r"\b(?:admitted|admission|presents?|presented|presenting|hospitalized|transferred)"
                       r"\s+(?:for|with|due to|because of)\b|\breason for (?:admission|visit)\b|"
                       r"\bprincipal diagnosis\b|\bchief complaint\b", re.I)
_SEPSIS = re.compile(r"^(A40|A41|A02\.1|A22\.7|A26\.7|A32\.7|A42\.7|A54\.86|B37\.7|A01\.0[0-9]?|A39\.[1-4])")
_STATUS_Z = re.compile(r"^Z(?:7[89]|8[0-9]|9[0-9]|68|67|66|3[0-9]\.|0[0-9])")  # history, status, long-term use


@dataclass
class Dx:
    code: str
    title: str
    confidence: float
    spans: list[tuple[int, int]] = field(default_factory=list)
    notes: OrderNotes = field(default_factory=OrderNotes)
    model_first: bool = False  # the model read it as the main reason for the encounter


@dataclass
class Sequenced:
    order: list[Dx]
    principal_reason: str
    reasons: dict[str, str]


def _section_at(sections, pos: int) -> str:
    name = "body"
    for s in sections:
        if s.start <= pos < s.end:
            name = s.name
    return name


def _heading_at(sections, pos: int) -> str:
    for s in sections:
        if s.start <= pos < s.end:
            return s.heading.lower()
    return ""


def _not_principal(dx: Dx) -> str | None:
    """Why a code cannot be principal / first-listed, or None."""
    c = dx.code
    if c[:1] in "VWXY":
        return "an external cause code is never listed first"
    if dx.notes.manifestation:
        return "a manifestation code follows its underlying condition"
    if c.startswith("R65.1") or c.startswith("R65.2"):
        return "SIRS / severe sepsis follows the underlying infection or injury"
    if _STATUS_Z.match(c):
        return "a history or status code is not a reason for the encounter"
    return None


def _score(dx: Dx, note: str, sections, setting: str, others: list[Dx]) -> tuple[float, str]:
    score, why = dx.confidence, "the best-supported condition of the note"
    starts = sorted(s for s, _ in dx.spans) or [len(note)]
    headings = {_heading_at(sections, s) for s in starts}
    if any("principal" in h or "admission diagnos" in h or "reason for" in h for h in headings):
        head = next(h for h in headings if "principal" in h or "admission diagnos" in h or "reason for" in h)
        return score + 4.0, f"the note names it under “{head.strip().title()}”"
    if any(_ADMITTED.search(re.split(r"[.;\n]", note[max(0, s - 80):s])[-1]) for s in starts):
        score, why = score + 1.0, "the note says the patient was admitted or seen for it"
    listed = [s for s in starts if _section_at(sections, s) == "assessment"]
    if listed:
        mine = listed[0]
        others_first = [s for d in others if d is not dx for s, _ in d.spans if _section_at(sections, s) == "assessment"]
        heading = _heading_at(sections, mine)
        if not others_first or mine <= min(others_first):
            score += 1.5
            why = f"listed first under “{heading.strip().title()}”" if heading else "first in the assessment"
        else:
            score += 0.3
    elif any(_section_at(sections, s) == "chief_complaint" for s in starts):
        score += 0.4
    if dx.model_first:  # weighs less than the note's own words: a heading or "admitted for" still wins
        score += 0.8
        if why == "the best-supported condition of the note":
            why = "the model read it as the main reason for the encounter"
    if setting == "inpatient" and _SEPSIS.match(dx.code):
        score += 2.0
        why = "sepsis present on admission is sequenced first (Guidelines I.C.1.d.4)"
    if dx.code[:1] == "R" and any(o.code[:1] not in "RZVWXY" for o in others if o is not dx):
        score -= 5.0  # a sign or symptom is not principal when a diagnosis is established (Section II.A)
    return score, why


def sequence(dxs: list[Dx], note: str, sections, setting: str) -> Sequenced:
    """Principal first, then the others by support; a code whose note says "code first" X follows X."""
    if not dxs:
        return Sequenced([], "", {})
    raw = {id(dx): _score(dx, note, sections, setting, dxs) for dx in dxs}
    scored = []
    reasons: dict[str, str] = {}
    for dx in dxs:
        blocked = _not_principal(dx)
        s, why = raw[id(dx)]
        if blocked:
            s -= 10.0
            reasons[dx.code] = blocked
        else:
            # the underlying condition of a manifestation (or of severe sepsis) takes the rank the note gives it
            for m in dxs:
                if m is not dx and _follows(m, dx) and raw[id(m)][0] > s:
                    s, why = raw[id(m)][0], f"the underlying condition of {m.code} ({raw[id(m)][1]})"
        scored.append((s, why, dx))
    scored.sort(key=lambda t: -t[0])
    principal_reason = scored[0][1]
    order = [t[2] for t in scored]
    order, moved = _code_first(order)
    reasons.update(moved)
    if order[0] is not scored[0][2]:
        principal_reason = f"the tabular note of {scored[0][2].code} says to code it first"
    kind = "Principal" if setting == "inpatient" else "First-listed"
    return Sequenced(order, f"{kind}: {principal_reason}.", reasons)


def _follows(dx: Dx, other: Dx) -> bool:
    """Whether ``dx`` is sequenced after ``other``: its "code first" note names it, the other's "use additional
    code" note names ``dx``, or ``dx`` is SIRS / severe sepsis and the other the underlying infection (its note
    says "code first underlying infection" and lists only examples)."""
    if any(matches(other.code, r) for r in dx.notes.code_first):
        return True
    if any(matches(dx.code, r) for r in other.notes.use_additional):
        return True
    return dx.code.startswith(("R65.1", "R65.2")) and other.code[:1] in "AB"


def _code_first(order: list[Dx]) -> tuple[list[Dx], dict[str, str]]:
    """Put the codes a "code first" note names (or whose "use additional code" note names this one) right
    before the code, in its place: the pair takes the rank of its better-supported member. A few passes
    settle chains (infection → R65.20 → organ failure)."""
    reasons: dict[str, str] = {}
    for _ in range(4):
        changed = False
        for dx in list(order):
            firsts = [o for o in order if o is not dx and _follows(dx, o)]
            late = [o for o in firsts if order.index(o) > order.index(dx)]
            if not late:
                continue
            for o in late:
                order.remove(o)
            i = order.index(dx)
            order[i:i] = late
            names = ", ".join(o.code for o in firsts)
            reasons[dx.code] = f"after {names}: the tabular notes sequence {names} first"
            changed = True
        if not changed:
            break
    for dx in list(order[1:]):  # and the code follows them at once, as the notes pair them
        firsts = [o for o in order if o is not dx and _follows(dx, o)]
        if firsts:
            anchor = max(firsts, key=order.index)
            if order.index(dx) > order.index(anchor) + 1:
                order.remove(dx)
                order.insert(order.index(anchor) + 1, dx)
    return order, reasons
