"""Age, sex and discharge date proposed from the note's own words ("72-year-old woman") when the encounter
gives none; each is shown as proposed, never taken as the coder's."""

from __future__ import annotations

import datetime as dt
import re

_AGE = re.compile(r"\b(\d{1,3})[- ]?(?:year|yr)s?[- ]?old\b|\b(\d{1,3}) ?y/?o\b|\bage[:\s]+(\d{1,3})\b", re.I)
_SEX_AFTER_AGE = re.compile(r"\s*(?:[A-Za-z-]+\s){0,3}?(woman|female|lady|girl|man|male|gentleman|boy|f|m)\b", re.I)
_SEX_FIELD = re.compile(r"\b(?:sex|gender)\s*:\s*(female|male|f|m)\b", re.I)
_DISCHARGE = re.compile(r"\bdischarge(?:d)?(?: date)?\s*:?\s*(\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})", re.I)
_FEMALE = {"woman", "female", "lady", "girl", "f"}


def propose(note: str) -> dict[str, tuple[object, str]]:
    """{"age": (72, "72-year-old"), "sex": ("F", "woman"), "date": ("2026-03-06", "Discharge date: 03/06/2026")}
    for what the note states plainly; absent keys when it does not."""
    out: dict[str, tuple[object, str]] = {}
    m = _AGE.search(note)
    if m:
        age = int(next(g for g in m.groups() if g))
        if age <= 124:
            out["age"] = (age, m.group(0))
        after = _SEX_AFTER_AGE.match(note, m.end())
        if after:
            word = after.group(1).lower()
            out["sex"] = ("F" if word in _FEMALE else "M", after.group(1))
    if "sex" not in out:
        f = _SEX_FIELD.search(note)
        if f:
            out["sex"] = ("F" if f.group(1).lower() in _FEMALE else "M", f.group(0))
    d = _DISCHARGE.search(note)
    if d:
        text = d.group(1)
        try:
            day = (dt.datetime.strptime(text, "%m/%d/%Y") if "/" in text else dt.datetime.strptime(text, "%Y-%m-%d"))
            out["date"] = (day.date().isoformat(), d.group(0))
        except ValueError:
            pass
    return out
