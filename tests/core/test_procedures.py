"""Procedures a stay's note names, read through the procedure index as ICD-10-PCS codes (core/engine/procedures.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.engine.procedures import _terms, procedure_candidates
from medcoder_desktop.core.models import Encounter
from medcoder_desktop.paths import resource

PCS = {"ICD-10-PCS"}


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


def found(dictionary: Dictionary, note: str) -> dict[str, str]:
    """code -> the note's words that support it."""
    return {c.code: c.evidence.text for cands in procedure_candidates(dictionary, note, PCS) for c in cands}


@pytest.mark.parametrize("note, code, words", [
    ("A chest X-ray showed bilateral infiltrates.", "BW03ZZZ", "chest X-ray"),
    ("Abdominal ultrasound was normal.", "BW40ZZZ", "Abdominal ultrasound"),
    ("Ultrasound of the abdomen and pelvis showed free fluid.", "BW41ZZZ", "Ultrasound of the abdomen and pelvis"),
    ("Renal ultrasound showed hydronephrosis.", "BT43ZZZ", "Renal ultrasound"),  # no side said: both kidneys
    ("Left renal ultrasound showed a cyst.", "BT42ZZZ", "renal ultrasound"),
    ("Testicular ultrasound showed a solid mass.", "BV44ZZZ", "Testicular ultrasound"),
    ("Cranial CT was normal.", "BN20ZZZ", "Cranial CT"),  # the cranium: CT of the skull (BN2)
    ("Head CT was normal.", "BW28ZZZ", "Head CT"),
    ("Abdominal-pelvic CT showed a renal mass.", "BW21ZZZ", "Abdominal-pelvic CT"),  # one compound word, two sites
    ("A thoracoabdominal CT was normal.", "BW24ZZZ", "thoracoabdominal CT"),
    ("Colonoscopy showed a sigmoid mass.", "0DJD8ZZ", "Colonoscopy"),
    ("ECG: sinus rhythm at 80 bpm.", "4A02X4Z", "ECG"),
    ("Fundoscopy of the right eye showed papilledema.", "08J0XZZ", "Fundoscopy"),
    ("A left nephrectomy was performed.", "0TT10ZZ", "nephrectomy"),
    ("A laparoscopic right nephrectomy was performed.", "0TT04ZZ", "nephrectomy"),  # approach 4, not open
    # the side is read beside the procedure's words, not anywhere in the sentence
    ("A left nephrectomy was performed and the right kidney was normal at follow-up.", "0TT10ZZ", "nephrectomy"),
])
def test_a_procedure_is_read_with_its_site_side_and_approach(dictionary: Dictionary, note: str, code: str,
                                                            words: str) -> None:
    assert found(dictionary, note) == {code: words}


def test_each_site_gets_its_row(dictionary: Dictionary) -> None:
    assert set(found(dictionary, "Chest and abdomen x-ray were unremarkable.")) == {"BW03ZZZ", "BW00ZZZ"}


@pytest.mark.parametrize("note", [
    "An ultrasound was normal.",  # no site: no row of the imaging table
    "Optical coherence tomography of the macula was normal.",  # not a CT
    "A colonoscopy was not performed.",
    "He had a previous colonoscopy.",
    "Colonoscopy two years ago was normal.",
    "A nephrectomy is planned.",
    "After the nephrectomy the creatinine rose.",  # a paired organ without a side: no code
    "Chest pain and abdominal tenderness.",  # sites without a procedure
])
def test_no_code_without_a_procedure_done_at_a_known_site(dictionary: Dictionary, note: str) -> None:
    assert found(dictionary, note) == {}


def test_procedures_are_proposed_for_a_stay_only(dictionary: Dictionary) -> None:
    note = "The patient was admitted with abdominal pain.\nAbdominal ultrasound showed gallstones."
    inpatient = list(suggest_events(dictionary, note, Encounter(setting="inpatient")))[-1].suggestions
    outpatient = list(suggest_events(dictionary, note, Encounter(setting="outpatient")))[-1].suggestions
    us = next(s for s in inpatient if s.code == "BW40ZZZ")
    assert us.system == "ICD-10-PCS" and [e.text for e in us.evidence] == ["Abdominal ultrasound"]
    assert "Procedure index" in us.reasoning and "Abdomen" in us.reasoning
    assert all(s.system != "ICD-10-PCS" for s in outpatient)  # an office visit's procedures are CPT/HCPCS


def test_every_code_of_the_procedure_index_is_in_the_dictionary(dictionary: Dictionary) -> None:
    terms, sites = _terms()
    codes = {c for t in terms if t.kind == "procedure" for c in (t.target, t.right, t.left, t.both) if c}
    assert len(codes) > 30 and sites
    for code in codes:
        assert dictionary.db.execute("select 1 from codes where system = 'ICD-10-PCS' and code = ?",
                                     [code]).fetchone(), code


def test_the_bundled_pcs_sections_are_in_the_dictionary(dictionary: Dictionary) -> None:
    with gzip.open(resource("icd10pcs_sections.tsv.gz"), "rt", encoding="utf-8") as fh:
        bundled = [line.split("\t")[0] for line in fh if not line.startswith("#")]
    assert len(bundled) > 10_000 and not any(c[0] in "0X" for c in bundled)
    n = dictionary.db.execute("select count(*) from codes where system = 'ICD-10-PCS' and code not like '0%'"
                              ).fetchone()[0]
    assert n == len(bundled)
    assert dictionary.show("BW03ZZZ").title == "Plain Radiography of Chest"
    source = dictionary.db.execute("select source from code_sets where system = 'ICD-10-PCS'").fetchone()[0]
    assert "Medical and Surgical" in source and "HCUP CCS" in source


def test_an_older_dictionary_gains_the_pcs_sections_when_opened(dictionary_copy: Path) -> None:
    import sqlite3

    with sqlite3.connect(dictionary_copy) as conn:  # as a dictionary built before the bundled sections
        conn.execute("delete from codes where system = 'ICD-10-PCS' and code not like '0%'")
        conn.execute("update code_sets set source = 'CMS ICD-10-PCS FY2025, Medical and Surgical section' "
                     "where system = 'ICD-10-PCS'")
        conn.execute("delete from _migrations where name = 'm004_pcs_sections'")
    d = Dictionary(dictionary_copy)
    try:
        assert d.show("BW40ZZZ").title == "Ultrasonography of Abdomen"
        assert found(d, "Abdominal ultrasound was normal.") == {"BW40ZZZ": "Abdominal ultrasound"}
        assert "HCUP CCS" in d.db.execute("select source from code_sets where system = 'ICD-10-PCS'").fetchone()[0]
    finally:
        d.close()


@pytest.mark.parametrize("note", [
    "A right ureteral stent was placed by cystoscopy.",
    "Biopsies were taken during colonoscopy.",
    "Colonoscopy with biopsy of a sigmoid polyp.",
])
def test_an_inspection_that_is_the_way_to_another_procedure_is_not_coded_apart(dictionary: Dictionary,
                                                                              note: str) -> None:
    assert found(dictionary, note) == {}  # PCS guideline B3.11a
    assert found(dictionary, "Cystoscopy was normal.") == {"0TJB8ZZ": "Cystoscopy"}


def test_a_dictionary_reloads_the_pcs_sections_the_product_ships(dictionary_copy: Path) -> None:
    import sqlite3

    with sqlite3.connect(dictionary_copy) as conn:  # as a dictionary that holds an older file's titles
        conn.execute("update codes set title = 'old title' where system = 'ICD-10-PCS' and code = 'BW40ZZZ'")
        conn.execute("update meta set value = 'older' where key = 'pcs_sections.sha256'")
    d = Dictionary(dictionary_copy)
    try:
        assert d.show("BW40ZZZ").title == "Ultrasonography of Abdomen"
        assert d.show("0DTJ4ZZ").system == "ICD-10-PCS"  # the Medical and Surgical section is untouched
    finally:
        d.close()
