"""ICD-10-CM of several fiscal years in one dictionary, including one made before years could be imported."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

from medcoder_desktop.core.dictionary import Dictionary, years
from medcoder_desktop.core.dictionary.importers import import_file
from medcoder_desktop.core.dictionary.importers.cm_tabular import parse
from medcoder_desktop.core.dictionary.importers.common import read_file


def _xml() -> Path:
    return next(Path(str(p)) for p in resources.files("simple_icd_10_cm.data").iterdir() if p.name.endswith(".xml"))


def test_tabular_parse_expands_seventh_characters_like_the_cms_code_list() -> None:
    version, rows = parse(read_file(_xml()))
    billable = {c.replace(".", "") for c, _, b in rows if b}
    listed = {line.strip() for line in (_xml().parent / "code-list-April-2026.txt").read_text().splitlines()}
    listed_codes = {c for c in listed if "-" not in c}
    assert version == "2026"
    assert "S72001A" in billable and "T07XXXA" in billable and "E1165" in billable
    assert "E11" not in billable and "S72001" not in billable  # headers, and codes that need a 7th character
    # every billable code of the CMS list is there; the few extras are S06 death codes a prose note rules out
    import simple_icd_10_cm as cm

    leaves = {c for c in listed_codes if cm.is_leaf(c)}
    assert leaves <= billable
    assert all(c.startswith("S06") for c in billable - leaves)


def test_an_older_dictionary_is_migrated_by_the_import(dictionary_copy: Path) -> None:
    con = sqlite3.connect(dictionary_copy)
    con.execute("drop table icd10cm_years")
    con.execute("drop table icd10cm_year_codes")
    # As a dictionary of an older version: neither the years tables nor the later migrations.
    con.execute("delete from _migrations where name in ('m002_icd10cm_years', 'm003_bundled_index', "
                "'m004_pcs_sections')")
    con.commit()
    con.close()
    d = Dictionary(dictionary_copy)
    warning, codes = years.for_fiscal_year(d, 2027)
    assert "FY2027 ICD-10-CM codes are not loaded" in warning and codes is None
    assert years.loaded_years(d) == [2026]
    d.close()
    report = import_file(dictionary_copy, "icd10cm-tabular", _xml(), version="2027")
    assert report.version == "2027"
    d = Dictionary(dictionary_copy)
    warning, codes = years.for_fiscal_year(d, 2027)
    assert warning is None and codes["I50.23"].startswith("Acute on chronic systolic")
    assert years.loaded_years(d) == [2026, 2027]
    assert years.for_fiscal_year(d, 2026) == (None, None)  # the bundled year: the main tables
    d.close()
