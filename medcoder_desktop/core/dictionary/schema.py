"""Schema of the code dictionary, as ordered migrations."""

from __future__ import annotations

import sqlite_utils


def m001_initial(db: sqlite_utils.Database) -> None:
    db["codes"].create(
        {
            "system": str,  # ICD-10-CM, ICD-10-PCS, HCPCS, CPT
            "code": str,  # dotted for ICD-10-CM (E11.65), as published for the others
            "title": str,
            "billable": int,
            "level": str,  # chapter, block, category, subcategory, code, extension
            "parent": str,
            "version": str,
            "source": str,
            "seq": int,  # order in the tabular list
        },
        pk=("system", "code"),
    )
    db["codes"].create_index(["parent"])
    db["notes"].create(
        {"system": str, "code": str, "kind": str, "seq": int, "text": str},
        pk=("system", "code", "kind", "seq"),
    )
    db["seventh_characters"].create(
        {"system": str, "code": str, "character": str, "meaning": str},
        pk=("system", "code", "character"),
    )
    db["index_terms"].create(
        {
            "id": int,
            "system": str,
            "source": str,  # icd10cm-index, icd10cm-drug, icd10cm-neoplasm, icd10cm-eindex
            "term": str,  # the full index path: "Diabetes, type 2, with hyperglycemia"
            "column": str,  # table column for Drug/Neoplasm tables, else ""
            "code": str,  # as printed in the index (may end with "-": incomplete)
        },
        pk="id",
    )
    db["index_terms"].create_index(["code"])
    db["code_sets"].create(
        {"system": str, "version": str, "source": str, "loaded_at": str, "codes": int},
        pk="system",
    )
    db["meta"].create({"key": str, "value": str}, pk="key")


def m002_icd10cm_years(db: sqlite_utils.Database) -> None:
    # ICD-10-CM of other fiscal years (``codes import icd10cm-tabular --year``): the code list of each, so that
    # an encounter is checked against the code set of its date. The bundled year stays in ``codes``.
    db["icd10cm_years"].create(
        {"year": int, "version": str, "source": str, "loaded_at": str, "codes": int}, pk="year")
    db["icd10cm_year_codes"].create(
        {"year": int, "code": str, "title": str, "billable": int}, pk=("year", "code"))



BUNDLED_INDEX_SOURCE = "icd10cm-index-bundled"


def _bundled_pairs(name: str):
    """The two columns of each line of a bundled resources/*.tsv.gz file (lines starting with # are comments)."""
    import gzip

    from medcoder_desktop.paths import resource

    path = resource(name)
    if not path.is_file():
        return
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or "\t" not in line:
                continue
            first, second = line.rstrip("\n").split("\t", 1)
            yield first, second


def _bundled_digest(name: str) -> str:
    """SHA-256 of a bundled resources file ("" when absent): a dictionary that loaded another one reloads it."""
    import hashlib

    from medcoder_desktop.paths import resource

    path = resource(name)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def bundled_index_rows():
    """(term, code) of the Alphabetic Index the product bundles (resources/icd10cm_index.tsv.gz; see its README)."""
    return _bundled_pairs("icd10cm_index.tsv.gz")


def bundled_index_digest() -> str:
    return _bundled_digest("icd10cm_index.tsv.gz")


def load_bundled_index(db: sqlite_utils.Database) -> None:
    """(Re)load the bundled Alphabetic Index into ``index_terms`` and record which file it was."""
    db.execute("delete from index_terms where source = ?", [BUNDLED_INDEX_SOURCE])
    db.conn.executemany(
        'insert into index_terms (system, source, term, "column", code) values (?, ?, ?, ?, ?)',
        (("ICD-10-CM", BUNDLED_INDEX_SOURCE, term, "", code) for term, code in bundled_index_rows()))
    db.execute("insert or replace into meta (key, value) values ('bundled_index.sha256', ?)",
               [bundled_index_digest()])


def m003_bundled_index(db: sqlite_utils.Database) -> None:
    """The bundled Alphabetic Index, so that lookup follows the Index without an import."""
    load_bundled_index(db)


PCS_SECTIONS_SOURCE = "CMS ICD-10-PCS FY2019 via HCUP CCS (resources/icd10pcs_sections.tsv.gz)"
PCS_SECTIONS_NOTE = "; the other sections (imaging, measurement, obstetrics ...) FY2019, via HCUP CCS"


def pcs_section_rows():
    """(code, title) of the ICD-10-PCS codes outside the Medical and Surgical section that the product bundles
    (resources/icd10pcs_sections.tsv.gz; see its README)."""
    return _bundled_pairs("icd10pcs_sections.tsv.gz")


def pcs_sections_digest() -> str:
    return _bundled_digest("icd10pcs_sections.tsv.gz")


def load_pcs_sections(db: sqlite_utils.Database) -> None:
    """(Re)load the bundled ICD-10-PCS sections into ``codes`` and record which file they came from."""
    db.execute("delete from codes where system = 'ICD-10-PCS' and source = ?", [PCS_SECTIONS_SOURCE])
    db.conn.executemany(
        "insert or ignore into codes (system, code, title, billable, level, parent, version, source, seq) "
        "values ('ICD-10-PCS', ?, ?, 1, 'code', '', '2019', ?, ?)",
        ((code, title, PCS_SECTIONS_SOURCE, 1_000_000 + i) for i, (code, title) in enumerate(pcs_section_rows())))
    n = db.execute("select count(*) from codes where system = 'ICD-10-PCS'").fetchone()[0]
    db.execute("update code_sets set codes = ?, source = source || ? where system = 'ICD-10-PCS' "
               "and source not like '%HCUP CCS%'", [n, PCS_SECTIONS_NOTE])
    db.execute("update code_sets set codes = ? where system = 'ICD-10-PCS'", [n])
    db.execute("insert or replace into meta (key, value) values ('pcs_sections.sha256', ?)", [pcs_sections_digest()])


def m004_pcs_sections(db: sqlite_utils.Database) -> None:
    """ICD-10-PCS beyond the Medical and Surgical section: the imaging, measurement, obstetric ... codes that a
    stay's procedures most often are."""
    load_pcs_sections(db)


MIGRATIONS = [m001_initial, m002_icd10cm_years, m003_bundled_index, m004_pcs_sections]
