"""The Alphabetic Index the dictionary bundles (resources/icd10cm_index.tsv.gz): loaded at build, added to an
older dictionary when it is opened, and followed by lookup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.schema import BUNDLED_INDEX_SOURCE, bundled_index_rows


def count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("select count(*) from index_terms where source = ?", [BUNDLED_INDEX_SOURCE]).fetchone()[0]


def test_every_bundled_path_names_a_code_of_the_active_code_set(built_dictionary: Path) -> None:
    rows = list(bundled_index_rows())
    assert len(rows) > 60_000
    with sqlite3.connect(built_dictionary) as conn:
        codes = {r[0] for r in conn.execute("select code from codes where system = 'ICD-10-CM'")}
    assert all(code in codes for _, code in rows)
    assert count(built_dictionary) == len(rows)


def test_the_neoplasm_table_joins_the_bundled_index() -> None:
    rows = set(bundled_index_rows())
    assert ("Neoplasm, neoplastic, prostate, Malignant Primary", "C61") in rows
    assert ("Neoplasm, neoplastic, prostate, Malignant Secondary", "C79.82") in rows


@pytest.mark.parametrize("phrase, code", [
    ("acid reflux", "K21.9"),  # Reflux, acid: no title says it
    ("coronary artery disease", "I25.10"),  # no more the header I25.1
    ("migraine", "G43.909"),  # the main term's default code
    ("kidney stones", "N20.0"),
])
def test_lookup_follows_the_index(built_dictionary: Path, phrase: str, code: str) -> None:
    d = Dictionary(built_dictionary)
    try:
        assert d.search(phrase, limit=3)[0].code == code
    finally:
        d.close()


def test_an_older_dictionary_gains_the_index_when_opened(dictionary_copy: Path) -> None:
    with sqlite3.connect(dictionary_copy) as conn:  # as a dictionary built before the bundled Index
        conn.execute("delete from index_terms where source = ?", [BUNDLED_INDEX_SOURCE])
        conn.execute("delete from _migrations where name in ('m003_bundled_index', 'm004_pcs_sections')")
        conn.execute("delete from search_index")
    assert count(dictionary_copy) == 0
    d = Dictionary(dictionary_copy)
    try:
        assert count(dictionary_copy) > 60_000
        assert d.search("acid reflux", limit=3)[0].code == "K21.9"
    finally:
        d.close()
