"""ICD-10-CM by fiscal year: the bundled tabular list and those imported for other years."""

from __future__ import annotations

import sqlite3

IMPORT_HINT = "medcoder codes import icd10cm-tabular FILE.xml --year {fy}"


def bundled_year(dictionary) -> int | None:
    version = dictionary.code_sets().get("ICD-10-CM", "")
    return int(version) if version.isdigit() else None


def imported_years(dictionary) -> dict[int, str]:
    """Year -> loaded_at of every imported year (none in a dictionary made before years could be imported)."""
    try:
        return {r[0]: r[1] for r in dictionary.db.execute("select year, loaded_at from icd10cm_years order by year")}
    except sqlite3.OperationalError:
        return {}


def loaded_years(dictionary) -> list[int]:
    years = set(imported_years(dictionary))
    if (b := bundled_year(dictionary)) is not None:
        years.add(b)
    return sorted(years)


def year_codes(dictionary, year: int) -> dict[str, str]:
    """Billable codes of an imported year with their titles (cached on the dictionary until it changes)."""
    stamp = imported_years(dictionary).get(year)
    cache = dictionary.__dict__.setdefault("_year_codes", {})
    if cache.get(year, (None,))[0] != stamp:
        rows = dictionary.db.execute(
            "select code, title from icd10cm_year_codes where year = ? and billable = 1", [year]).fetchall()
        cache[year] = (stamp, dict(rows))
    return cache[year][1]


def for_fiscal_year(dictionary, fy: int) -> tuple[str | None, dict[str, str] | None]:
    """(a warning when the year's ICD-10-CM is not loaded, the year's codes when it is an imported year).

    Both None: the bundled code set is the year's (or there is no dictionary)."""
    if dictionary is None:
        return None, None
    bundled = bundled_year(dictionary)
    if fy == bundled:
        return None, None
    if fy in imported_years(dictionary):
        return None, year_codes(dictionary, fy)
    held = ", ".join(f"FY{y}" for y in loaded_years(dictionary)) or "none"
    return (f"The date of service falls in FY{fy}, and FY{fy} ICD-10-CM codes are not loaded (the dictionary "
            f"holds {held}). Codes are checked against FY{bundled}; the code editor flags those FY{fy} no "
            f"longer accepts. Load that year's CMS tabular XML: {IMPORT_HINT.format(fy=fy)}"), None
