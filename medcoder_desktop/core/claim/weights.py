"""MS-DRG relative weights and mean lengths of stay (CMS Table 5, bundled in resources/drg/)."""

from __future__ import annotations

import functools
import re

from medcoder_desktop.paths import resource

FILE = re.compile(r"weights_fy(\d{4})\.tsv$")


@functools.cache
def tables() -> dict[int, dict[str, dict[str, str]]]:
    """Fiscal year -> DRG (3 digits) -> {mdc, type, weight, gmlos, amlos} (strings, "" when CMS gives none)."""
    out: dict[int, dict[str, dict[str, str]]] = {}
    for path in sorted(resource("drg").glob("weights_fy*.tsv")):
        m = FILE.search(path.name)
        if not m:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        names = lines[0].split("\t")
        out[int(m.group(1))] = {row[0]: dict(zip(names, row)) for row in (ln.split("\t") for ln in lines[1:] if ln)}
    return out


def lookup(drg: str, fiscal_year: int) -> tuple[int | None, dict[str, str] | None]:
    """The Table 5 row of a DRG: that year's, else the nearest earlier year's (the year is returned with it)."""
    years = sorted((y for y in tables() if y <= fiscal_year), reverse=True) or sorted(tables())
    for year in years:
        row = tables()[year].get(drg)
        if row is not None:
            return year, row
    return None, None


def number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
