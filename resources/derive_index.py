"""Derive resources/icd10cm_index.tsv.gz, the Alphabetic Index the dictionary bundles, from the CMS Index.

Source: ``icd10cm_index_fy2025_flat.tsv`` (the CMS FY2025 ICD-10-CM Alphabetic Index, public domain, flattened to
one row per index path: level, path, nonessential modifiers, code). Every path is checked against the active
ICD-10-CM code set (the April-2026 tabular the product builds from, read through the product's own source reader):
a code printed with "-" or ".-" stands for its category or subcategory (a header: the dictionary resolves it to the
billable code the note supports, or its default); a code that no longer exists goes to its nearest existing
ancestor ("remapped"), or the path is dropped when none exists ("dropped"). The counts are printed and written to
resources/icd10cm_index.README.md. The FY2026 Neoplasm Table XML beside it joins, one path per site and behavior
column, when present.

    .venv/bin/python resources/derive_index.py [PATH_TO_FLAT_TSV]
"""

from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "reference" / "icd10cm_index_fy2025_flat.tsv"
OUT = ROOT / "resources" / "icd10cm_index.tsv.gz"
README = ROOT / "resources" / "icd10cm_index.README.md"
# The Neoplasm Table (FY2026, public domain) beside the flat Index: each site's row and behavior column ("Neoplasm,
# neoplastic, prostate, Malignant Primary" -> C61) becomes a path of its own, so a sited neoplasm is found by site.
NEOPLASM = ROOT.parent / "shared" / "data" / "reference" / "icd10cm-neoplasm-April-1-2026-XML.xml"


# Main terms that, alone, name no condition a note would be coded for: the Index lists them for the coder who
# already knows the encounter's reason ("Examination Z00.00", "Observation Z04.9", "Old (previous) I25.2"), but a
# note says "examination", "old", "stress", "reflex" about anything. Their own line is left out; their subterms
# ("Examination, annual", "Stress, work-related") stay.
from medcoder_desktop.core.dictionary.textnorm import GENERIC_MAIN_TERMS  # noqa: E402


def _generic(path: str, level: str) -> bool:
    """A main term alone, printed with its other forms or not ("Defect, defective"; "Anomaly, anomalous")."""
    parts = [p.strip().lower() for p in path.split(",")]
    head = parts[0]
    variants = all(" " not in p and p[:4] == head[:4] for p in parts[1:])
    return level.strip() == "0" and variants and head in GENERIC_MAIN_TERMS


def active_codes() -> set[str]:
    from medcoder_desktop.core.dictionary.sources import iter_icd10cm

    return {item["code"] for item in iter_icd10cm()}


def resolve(printed: str, codes: set[str]) -> tuple[str | None, bool]:
    """(the existing code a printed Index code stands for, whether it had to be remapped)."""
    code = printed.rstrip("-").rstrip(".")
    if code in codes:
        return code, False
    plain = code.replace(".", "")
    for n in range(len(plain) - 1, 2, -1):
        cut = plain[:3] + ("." + plain[3:n] if n > 3 else "")
        if cut in codes:
            return cut, True
    return None, False


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    if not source.is_file():
        print(f"{source} is absent: nothing to derive.")
        return 1
    codes = active_codes()
    kept = remapped = dropped = generic = 0
    rows: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    with source.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if _generic(r["index_path"], r["level"]):
                generic += 1
                continue
            code, moved = resolve(r["code"].strip(), codes)
            if code is None:
                dropped += 1
                continue
            remapped += moved
            term = r["index_path"].strip()
            if r["nonessential_modifiers"].strip():
                term += " " + r["nonessential_modifiers"].strip()
            if (term, code) in seen:
                continue
            seen.add((term, code))
            rows.append((term, code))
            kept += 1
    n_kept = n_dropped = 0
    if NEOPLASM.is_file():
        from medcoder_desktop.core.dictionary.importers.cm_index import parse
        from medcoder_desktop.core.dictionary.importers.common import read_file

        _, _, table, _ = parse(read_file(NEOPLASM), "icd10cm-neoplasm")
        for term, _column, printed in table:
            code, moved = resolve(printed, codes)
            if code is None:
                n_dropped += 1
                continue
            remapped += moved
            if (term, code) not in seen:
                seen.add((term, code))
                rows.append((term, code))
                n_kept += 1
    text = "# term\tcode\n" + "".join(f"{term}\t{code}\n" for term, code in rows)
    with OUT.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:  # same input, same bytes
        out.write(text.encode("utf-8"))
    README.write_text(
        "# icd10cm_index.tsv.gz\n\n"
        "The ICD-10-CM Alphabetic Index as the dictionary bundles it (loaded into `index_terms` with source\n"
        "`icd10cm-index-bundled` when the dictionary is built, or by the dictionary migration\n"
        "`m002_bundled_index` when an older dictionary is opened). One line per index path: the path as the\n"
        "Index prints it (main term, subterms, nonessential modifiers in parentheses) and its code.\n\n"
        "Provenance: the CMS FY2025 ICD-10-CM Alphabetic Index (public domain), flattened to one row per path\n"
        f"(`{source.name}`), checked against the ICD-10-CM April-2026 code set by `resources/derive_index.py`.\n\n"
        f"- paths read: {kept + dropped} distinct (term, code) pairs\n"
        f"- kept: {kept} (of which {remapped} remapped to their nearest existing ancestor code)\n"
        f"- dropped (no code of the path exists in the active code set): {dropped}\n"
        f"- left out (a generic main term alone, see GENERIC_MAIN_TERMS in the script): {generic}\n"
        + (f"\nThe CMS FY2026 Neoplasm Table (`{NEOPLASM.name}`, public domain) joins it: one path per site and\n"
           "behavior column (\"Neoplasm, neoplastic, prostate, Malignant Primary\"), read by the product's own importer\n"
           f"(core/dictionary/importers/cm_index.py). Kept: {n_kept}; dropped (no code in the active code set): "
           f"{n_dropped}.\n" if NEOPLASM.is_file() else ""),
        encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {kept} paths ({remapped} remapped), {dropped} dropped, "
          f"{generic} generic main terms left out; Neoplasm Table: {n_kept} paths, {n_dropped} dropped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
