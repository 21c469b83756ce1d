"""CPT from a CSV the user exports from their AMA-licensed data (CPT is never bundled)."""

from __future__ import annotations

import csv
import io
import re

from medcoder_desktop.core.dictionary.importers.common import FileData, fail

SYSTEM = "CPT"
CODE_COLUMNS = ("code", "cpt", "cpt code", "cpt_code", "cptcode", "hcpcs/cpt code")
TITLE_COLUMNS = ("description", "title", "long description", "long_description", "descriptor",
                 "long descriptor", "cpt description")
# Category I: five digits; Category II ends in F, Category III in T, PLA codes in U.
CODE = re.compile(r"^\d{4}[0-9FTU]$")


def _header(names: list[str], wanted: tuple[str, ...]) -> int | None:
    norm = [" ".join(n.strip().lower().split()) for n in names]
    for w in wanted:
        if w in norm:
            return norm.index(w)
    return None


def parse(data: FileData) -> tuple[list[tuple[str, str, int]], int]:
    """(code, description, line) for every row, and the number of exact duplicate rows skipped.

    The first non-blank row must be the header. Any bad row stops the import with its line number.
    """
    file = data.path
    first = next((ln for ln in data.text.splitlines() if ln.strip()), "")
    # Spreadsheet "Text (tab delimited)" exports are accepted too.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(data.text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    out: list[tuple[str, str, int]] = []
    seen: dict[str, tuple[str, int]] = {}
    skipped = 0
    try:
        for row in reader:
            n = reader.line_num  # the line where this row ends (a quoted field may span lines)
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = row
                ci, ti = _header(row, CODE_COLUMNS), _header(row, TITLE_COLUMNS)
                if ci is None or ti is None:
                    raise fail(file, f"line {n}", "the first row must be a header naming the code "
                               "column ('Code' or 'CPT Code') and the description column "
                               "('Description', 'Title', 'Long Description' or 'Descriptor'); "
                               f"found {row!r}.")
                continue
            if len(row) <= max(ci, ti):
                raise fail(file, f"line {n}", f"the row has {len(row)} columns; the header has "
                           f"{len(header)}. Check for a missing comma or an unquoted field.")
            code, title = row[ci].strip().upper(), " ".join(row[ti].split())
            if not CODE.match(code):
                raise fail(file, f"line {n}", f"{row[ci].strip()!r} is not a CPT code (five "
                           "characters: four digits, then a digit, F, T or U).")
            if not title:
                raise fail(file, f"line {n}", f"code {code} has no description.")
            if code in seen:
                if seen[code][0] != title:
                    raise fail(file, f"line {n}", f"code {code} appears again with another "
                               f"description (first on line {seen[code][1]}).")
                skipped += 1
                continue
            seen[code] = (title, n)
            out.append((code, title, n))
    except csv.Error as exc:
        raise fail(file, f"line {reader.line_num}", f"the CSV is malformed ({exc}).") from None
    if header is None:
        raise fail(file, "line 1", "the file has no header row.")
    if not out:
        raise fail(file, "line 2", "the file has a header but no codes.")
    return out, skipped


def rows(parsed: list[tuple[str, str, int]], version: str, file_name: str) -> list[tuple]:
    """Rows for ``codes``: every CPT code is a reportable code (billable 1)."""
    source = f"User-supplied CPT file {file_name}"
    return [(code, title, 1, "code", "", version, source, seq)
            for seq, (code, title, _line) in enumerate(parsed)]
