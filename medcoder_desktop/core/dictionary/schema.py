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


MIGRATIONS = [m001_initial, m002_icd10cm_years]
