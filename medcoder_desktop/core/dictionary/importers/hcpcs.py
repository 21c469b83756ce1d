"""HCPCS Level II from the CMS alpha-numeric fixed-width file (HCPC20xx_ANWEB*.txt).

Record layout (1-based columns, as in the CMS 2020 file; first records are 320 characters long,
continuation records 91): 1-5 code (modifiers right-aligned), 6-10 sequence number, 11 record id
(3 procedure, 4 procedure continuation, 7 modifier, 8 modifier continuation), 12-91 long
description (80 characters a record, continued over records 4/8), 92-119 short description,
269-276 date added, 277-284 action effective date, 285-292 termination date, 293 action code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from medcoder_desktop.core.dictionary.importers.common import FileData, fail

SYSTEM = "HCPCS"
# CMS ships these files in Windows-1252 (the sample's disclaimer has a curly apostrophe, 0x92).
ENCODINGS = ("utf-8", "cp1252", "latin-1")
RECORD = re.compile(r"^(?P<code>[ A-Z0-9]{5})(?P<seq>\d{5})(?P<rid>[3478])")
CODE = re.compile(r"^[A-Z]\d{4}$")
MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
WIDTH = 320
CONTINUATION_WIDTH = 91
ACTION_COLUMN = 293  # the last column every first record fills (action code)


@dataclass
class HcpcsFile:
    """What the file holds: procedure codes (modifiers are only counted)."""

    codes: list[dict] = field(default_factory=list)
    modifiers: int = 0
    terminated: int = 0
    header: str = ""  # the disclaimer before the records (it names the year)


def _date(file: Path, n: int, line: str, start: int, what: str) -> dt.date | None:
    value = line[start - 1:start + 7]
    if not value.strip():
        return None
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise fail(file, f"line {n}", f"the {what} {value!r} (columns {start}-{start + 7}) is not a date "
                   "(YYYYMMDD). The record is garbled.") from None


def parse(data: FileData, version: str) -> HcpcsFile:
    """Read every record; a garbled record anywhere stops the import with its line number.

    Codes terminated before 1 January of ``version`` (when it is a year, else today) are kept,
    with billable 0 and a note, so old claims can still be looked up.
    """
    file = data.path
    cutoff = dt.date(int(version), 1, 1) if version.isdigit() and len(version) == 4 else dt.date.today()
    out = HcpcsFile()
    current: dict | None = None  # the code whose description the next continuation extends
    started = False
    # Split on "\n" only, as editors number lines (splitlines would also break at NEL, form feed...).
    lines = data.text.split("\n")
    _check_not_cut(file, lines)
    for n, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        if not started:  # a free-text disclaimer precedes the records
            if not RECORD.match(line):
                out.header += line + "\n"
                continue
            started = True
        if not line.strip():
            continue
        m = RECORD.match(line)
        if not m or len(line) > WIDTH:
            raise fail(file, f"line {n}", "this is not an HCPCS record (expected a 5-character code, "
                       "a 5-digit sequence number and a record id 3, 4, 7 or 8, at most 320 "
                       "characters). The record is garbled or the file is not the CMS "
                       "alpha-numeric HCPCS file.")
        line = line.ljust(WIDTH)  # editors may strip trailing blanks
        code, seq, rid = m["code"].strip(), int(m["seq"]), m["rid"]
        desc = line[11:91].strip()
        if rid in "48":
            if current is None or current["code"] != code or seq <= current["last_seq"]:
                raise fail(file, f"line {n}", f"continuation record for {code!r} does not follow "
                           "a record of the same code with a lower sequence number.")
            current["parts"].append(desc)
            current["last_seq"] = seq
            continue
        if rid == "7":
            _check_complete(file, n, line)
            if not MODIFIER.match(code):
                raise fail(file, f"line {n}", f"{code!r} is not an HCPCS modifier (two characters).")
            out.modifiers += 1
            current = {"code": code, "parts": [], "last_seq": seq}  # modifiers are not stored
            continue
        _check_complete(file, n, line)
        if not CODE.match(code):
            raise fail(file, f"line {n}", f"{code!r} is not an HCPCS Level II code (a letter and "
                       "four digits).")
        if not desc:
            raise fail(file, f"line {n}", f"code {code} has no long description.")
        _date(file, n, line, 269, "date added")
        term = _date(file, n, line, 285, "termination date")
        current = {"code": code, "parts": [desc], "last_seq": seq, "line": n, "terminated": term,
                   "billable": 0 if term and term < cutoff else 1}
        out.codes.append(current)
    if not out.codes:
        raise fail(file, "line 1", "no HCPCS records were found. Choose the CMS alpha-numeric HCPCS "
                   "file (HCPC<year>_..._ANWEB....txt) from the CMS download.")
    seen: dict[str, int] = {}
    for c in out.codes:
        if c["code"] in seen:
            raise fail(file, f"line {c['line']}", f"code {c['code']} appears again (first on line "
                       f"{seen[c['code']]}).")
        seen[c["code"]] = c["line"]
        out.terminated += 1 - c["billable"]
    return out


def _check_complete(file: Path, n: int, line: str) -> None:
    """A first record (3 or 7) fills every column up to its action code: one that stops before is cut short
    (a download or copy that ended mid-record), and storing it would keep a title cut mid-word."""
    if len(line.rstrip()) < ACTION_COLUMN:
        raise fail(file, f"line {n}", f"the record is cut short: it ends at column {len(line.rstrip())}, before "
                   f"the action code in column {ACTION_COLUMN}. Is the file complete? Download it again.")


def _check_not_cut(file: Path, lines: list[str]) -> None:
    """A file whose last record has no line end and is shorter than a record ends mid-record."""
    last = lines[-1].rstrip("\r") if lines else ""
    if not last.strip() or not any(RECORD.match(line) for line in lines[-3:-1]):
        return
    m = RECORD.match(last)
    width = CONTINUATION_WIDTH if m and m["rid"] in "48" else WIDTH
    if len(last) < width:
        raise fail(file, f"line {len(lines)}", f"the file ends in the middle of a record (the last line has "
                   f"{len(last)} of its {width} characters and no line end): it is cut short. Download it again.")


def rows(parsed: HcpcsFile, version: str, file: Path) -> tuple[list[tuple], list[tuple]]:
    """Rows for ``codes`` and ``notes`` (a note for each terminated code)."""
    source = f"CMS HCPCS Level II alpha-numeric file {file.name}"
    codes, notes = [], []
    for seq, c in enumerate(parsed.codes):
        title = " ".join(" ".join(c["parts"]).split())
        codes.append((c["code"], title, c["billable"], "code", "", version, source, seq))
        if c["terminated"]:
            when = c["terminated"].isoformat()
            text = f"Terminated {when}" if not c["billable"] else f"Valid until {when}"
            notes.append((c["code"], "notes", 0, f"{text} (CMS HCPCS {version} file)."))
    return codes, notes
