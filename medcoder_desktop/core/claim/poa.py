"""Present-on-admission indicators proposed from what the note says (inpatient claims).

Only where the note says so: "on admission", "admitted with", a past-history section → Y; "developed on
hospital day 3", "hospital-acquired", "postoperative" → N. Anything else is left for the coder.
"""

from __future__ import annotations

import re

_YES = re.compile(r"\b(?:on|at|upon) (?:admission|arrival|presentation)\b|\badmitted (?:with|for)\b|"
                  r"\bpresent(?:ed|s|ing)? (?:with|on admission)\b|\bpresent on admission\b|\bchronic\b|"
                  r"\bhistory of\b|\blong[- ]standing\b|\bknown\b|\bhome medications?\b", re.I)
_NO = re.compile(r"\bdeveloped\b|\bhospital[- ]acquired\b|\bnosocomial\b|\bduring (?:the|this|her|his) "
                 r"(?:admission|hospitalization|stay)\b|\bon hospital day\b|\bhospital day \d|\bpost-?op(?:erative)?\b|"
                 r"\bpost-?procedur\w*\b|\bnew(?:ly)? (?:onset|developed)\b.{0,40}\bday \d|\bafter admission\b|"
                 r"\bfell in (?:the|her|his) (?:room|hospital)\b|\bcatheter-associated\b", re.I)
_CHRONIC_SECTIONS = {"pmh", "medications", "social_history"}


def _sentence(note: str, start: int, end: int) -> str:
    left = max(note.rfind(".", 0, start), note.rfind("\n", 0, start)) + 1
    right_candidates = [i for i in (note.find(".", end), note.find("\n", end)) if i >= 0]
    right = min(right_candidates) if right_candidates else len(note)
    return note[left:right]


def propose_poa(note: str, spans: list[tuple[int, int]], section_of) -> tuple[str | None, str]:
    """(indicator or None, the reason) for one diagnosis from the sentences that document it."""
    for start, end in spans:
        words = _sentence(note, start, end)
        if _NO.search(words):
            return "N", f"the note says “{_NO.search(words).group(0)}”"
    for start, end in spans:
        words = _sentence(note, start, end)
        if _YES.search(words):
            return "Y", f"the note says “{_YES.search(words).group(0)}”"
        if section_of(start) in _CHRONIC_SECTIONS:
            return "Y", "documented in the past history: present before the admission"
    return None, ""
