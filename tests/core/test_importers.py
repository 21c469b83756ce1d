"""Importers: HCPCS fixed-width, CPT CSV and the ICD-10-CM Index XML files.

The search-index rebuild takes about 10 s on the full dictionary, so most tests replace it with a
stub (``no_rebuild``); one test runs the real thing end to end and searches afterwards.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.importers import KINDS, common, import_file
from medcoder_desktop.core.dictionary.store import DictionaryStore, connect
from medcoder_desktop.errors import DatabaseLockedError, ImportFileError, InvalidInputError

REF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "reference"
HCPCS_FILE = "HCPC2020_ANWEB_w_disclaimer.txt"
DRUG, EINDEX, NEOPLASM = (f"icd10cm-{k}-April-1-2026-XML.xml" for k in ("drug", "eindex", "neoplasm"))


def ref(name: str) -> Path:
    path = REF / name
    if not path.is_file():
        pytest.skip(f"reference file {path} is not available")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(db_path: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def no_rebuild(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Skip the (slow) search-index rebuild; the list counts the calls."""
    calls: list[int] = []
    monkeypatch.setattr(common, "write_search_index", lambda db: calls.append(1))
    return calls


# --- HCPCS -----------------------------------------------------------------------------------

def test_hcpcs_sample_imports(dictionary_copy: Path, no_rebuild: list[int]) -> None:
    report = import_file(dictionary_copy, "hcpcs", ref(HCPCS_FILE))
    assert (report.kind, report.system, report.version) == ("hcpcs", "HCPCS", "2020")
    assert report.added >= 6000 and report.updated == 0
    assert report.skipped == 369  # the modifiers, kept out of the code list
    assert no_rebuild == [1]
    store = DictionaryStore(dictionary_copy)
    try:
        assert store.show("E0601", "HCPCS").title == "Continuous positive airway pressure (cpap) device"
        # Two records (sequence 00100 and 00200) joined into one description.
        a4253 = store.show("A4253", "HCPCS")
        assert a4253.title == ("Blood glucose test or reagent strips for home blood glucose monitor, "
                               "per 50 strips")
        assert a4253.billable
        # Terminated before 2020: kept for old claims, not billable, with a note.
        a4466 = store.show("A4466", "HCPCS")
        assert not a4466.billable and "Terminated 2016-12-31" in a4466.notes[0]
        assert not store.exists("A1", "HCPCS")  # a modifier
        assert store.stats()["HCPCS"].version == "2020"
        meta = json.loads(store.meta()["import.hcpcs"])
    finally:
        store.close()
    assert meta["sha256"] == digest(ref(HCPCS_FILE)) and meta["encoding"] == "cp1252"
    # A second import replaces the code set instead of adding to it.
    again = import_file(dictionary_copy, "hcpcs", ref(HCPCS_FILE), version="2021")
    assert (again.added, again.updated, again.version) == (0, report.added, "2021")
    assert rows(dictionary_copy, "select count(*) from codes where system = 'HCPCS'") == [(report.added,)]


def test_hcpcs_garbled_record_changes_nothing(dictionary_copy: Path, tmp_path: Path) -> None:
    lines = ref(HCPCS_FILE).read_bytes().split(b"\r\n")
    lines[5000] = b"E06#1001003Continuous positive airway pressure" + lines[5000][47:]
    bad = tmp_path / "HCPC2020_garbled.txt"
    bad.write_bytes(b"\r\n".join(lines))
    before = digest(dictionary_copy)
    with pytest.raises(ImportFileError, match=r"HCPC2020_garbled\.txt \(line 5001\)"):
        import_file(dictionary_copy, "hcpcs", bad)
    assert digest(dictionary_copy) == before


def test_hcpcs_bad_termination_date_and_orphan_continuation(tmp_path: Path, dictionary_copy: Path) -> None:
    lines = ref(HCPCS_FILE).read_bytes().decode("cp1252").split("\r\n")
    record = next(line for line in lines if line.startswith("E0601001003"))
    bad = tmp_path / "HCPC2020.txt"
    bad.write_text("Header\n" + record[:284] + "2019X231" + record[292:] + "\n")
    with pytest.raises(ImportFileError, match=r"line 2\).*termination date"):
        import_file(dictionary_copy, "hcpcs", bad)
    bad.write_text("Header\n" + "A0021002004continued text\n")
    with pytest.raises(ImportFileError, match=r"line 2\).*continuation"):
        import_file(dictionary_copy, "hcpcs", bad)


def test_hcpcs_year_from_header_or_option(dictionary_copy: Path, tmp_path: Path,
                                          no_rebuild: list[int]) -> None:
    lines = ref(HCPCS_FILE).read_bytes().decode("cp1252").split("\r\n")
    e0601 = next(line for line in lines if line.startswith("E0601001003"))
    bare = tmp_path / "alpha.txt"
    bare.write_text(e0601 + "\n")
    with pytest.raises(ImportFileError, match=r"alpha\.txt \(line 1\).*--version"):
        import_file(dictionary_copy, "hcpcs", bare)
    assert import_file(dictionary_copy, "hcpcs", bare, version="2020").added == 1
    bare.write_text("CMS 2019 HCPCS file, disclaimer\n\n" + e0601 + "\n")
    assert import_file(dictionary_copy, "hcpcs", bare).version == "2019"


# --- CPT -------------------------------------------------------------------------------------

CPT_CSV = (
    '\ufeffCPT Code,Long Description,Status\n'
    '99213,"Office or other outpatient visit, established patient, low complexity",active\n'
    '0001F,Heart failure assessed,active\n'
    '0042T,Cerebral perfusion analysis using computed tomography,active\n'
    '0001U,"Red blood cell antigen typing, DNA, 35 antigens",active\n'
    '99213,"Office or other outpatient visit, established patient, low complexity",active\n'
)


def test_cpt_csv_imports(dictionary_copy: Path, tmp_path: Path, no_rebuild: list[int]) -> None:
    csv_file = tmp_path / "cpt2025.csv"
    csv_file.write_text(CPT_CSV, encoding="utf-8")
    report = import_file(dictionary_copy, "cpt", csv_file)
    assert (report.system, report.added, report.skipped, report.version) == ("CPT", 4, 1, "2025")
    store = DictionaryStore(dictionary_copy)
    try:
        assert store.show("99213", "CPT").title == (
            "Office or other outpatient visit, established patient, low complexity")
        assert store.exists("0001F", "CPT") and store.exists("0042T") and store.exists("0001U", "CPT")
    finally:
        store.close()
    # Tab-delimited export, other column names: replaces the previous CPT rows.
    tsv = tmp_path / "cpt.txt"
    tsv.write_text("code\tdescriptor\n99214\tOffice visit, moderate\n")
    again = import_file(dictionary_copy, "cpt", tsv, version="2026")
    assert (again.added, again.updated, again.version) == (1, 0, "2026")
    assert rows(dictionary_copy, "select code from codes where system = 'CPT'") == [("99214",)]


def test_cpt_bad_code_on_line_4_changes_nothing(dictionary_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cpt.csv"
    bad.write_text('Code,Description\n99213,"Office visit, low"\n99214,Office visit\n9921,Too short\n')
    before = digest(dictionary_copy)
    with pytest.raises(ImportFileError, match=r"cpt\.csv \(line 4\): '9921' is not a CPT code"):
        import_file(dictionary_copy, "cpt", bad)
    assert digest(dictionary_copy) == before


@pytest.mark.parametrize("content, pattern", [
    ("Procedure,Text\n99213,Visit\n", r"line 1\).*header"),
    ("Code,Description\n99213\n", r"line 2\).*columns"),
    ("Code,Description\n99213,Visit\n99213,Other visit\n", r"line 3\).*appears again.*line 2"),
    ("Code,Description\n", r"no codes"),
])
def test_cpt_malformed(content: str, pattern: str, dictionary_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cpt.csv"
    bad.write_text(content)
    with pytest.raises(ImportFileError, match=pattern):
        import_file(dictionary_copy, "cpt", bad)


def test_cpt_not_utf8_names_the_line(dictionary_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cpt.csv"
    bad.write_bytes(b"Code,Description\n99213,Visit\n99214,Caf\xe9 visit\n")
    with pytest.raises(ImportFileError, match=r"line 3\).*not UTF-8"):
        import_file(dictionary_copy, "cpt", bad)


# --- ICD-10-CM Index XML -----------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, at_least, term, column, code", [
    (DRUG, "icd10cm-drug", 40000, "Aspirin, Poisoning Accidental (unintentional)",
     "Poisoning Accidental (unintentional)", "T39.011"),
    (EINDEX, "icd10cm-eindex", 6500, "Abandonment NEC", "", "X58"),  # nemod text dropped
    (NEOPLASM, "icd10cm-neoplasm", 9000, "Neoplasm, neoplastic, lung, Malignant Primary",
     "Malignant Primary", "C34.9-"),
], ids=["drug", "eindex", "neoplasm"])
def test_index_file_imports(name, kind, at_least, term, column, code, dictionary_copy: Path,
                            no_rebuild: list[int]) -> None:
    report = import_file(dictionary_copy, "icd10cm-index", ref(name))  # kind detected from content
    assert (report.kind, report.system, report.version) == (kind, "ICD-10-CM", "2026")
    assert report.added >= at_least and report.skipped == 0
    found = rows(dictionary_copy, 'select "column", code from index_terms where source = ? and term = ?',
                 (kind, term))
    assert (column, code) in found
    imported = "select count(*) from index_terms where source = ?"  # beside the bundled Index (issue 11)
    assert rows(dictionary_copy, imported, (kind,)) == [(report.added,)]
    # The specific kind forces the same result; a re-import replaces rather than duplicates.
    again = import_file(dictionary_copy, kind, ref(name))
    assert again.added == report.added
    assert rows(dictionary_copy, imported, (kind,)) == [(report.added,)]
    assert rows(dictionary_copy, "select key from meta where key = ?", (f"import.{kind}",))


def test_drug_table_import_reaches_search(dictionary_copy: Path) -> None:
    query = "acetylsalicylic acid poisoning accidental"  # the drug table's synonym for aspirin
    before = Dictionary(dictionary_copy)
    assert "T39.011" not in [h.code for h in before.search(query, limit=10)]
    before.close()
    report = import_file(dictionary_copy, "icd10cm-drug", ref(DRUG))
    assert report.added >= 40000
    after = Dictionary(dictionary_copy)
    try:
        assert "T39.011" in [h.code for h in after.search(query, limit=10)]
    finally:
        after.close()


def test_unknown_codes_are_counted_not_fatal(dictionary_copy: Path, tmp_path: Path,
                                             no_rebuild: list[int]) -> None:
    xml = tmp_path / "eindex.xml"
    xml.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<ICD10CM.index><version>2030</version>'
        "<title>ICD-10-CM EXTERNAL CAUSE of INJURIES INDEX</title><letter><title>A</title>"
        "<mainTerm><title>Abuse<nemod>(adult)</nemod></title><code>X58</code>"
        "<term level=\"1\"><title>by robot</title><code>U99.9-</code></term></mainTerm>"
        "</letter></ICD10CM.index>\n")
    report = import_file(dictionary_copy, "icd10cm-index", xml)
    assert (report.kind, report.added, report.skipped, report.version) == ("icd10cm-eindex", 2, 1, "2030")
    assert rows(dictionary_copy, "select term, code from index_terms where source != 'icd10cm-index-bundled' "
                                 "order by id") == [
        ("Abuse", "X58"), ("Abuse, by robot", "U99.9-")]


def test_truncated_xml_changes_nothing(dictionary_copy: Path, tmp_path: Path) -> None:
    data = ref(EINDEX).read_bytes()
    bad = tmp_path / "eindex-cut.xml"
    bad.write_bytes(data[: len(data) // 2])
    before = digest(dictionary_copy)
    with pytest.raises(ImportFileError, match=r"eindex-cut\.xml \(line \d+, column \d+\).*cut short"):
        import_file(dictionary_copy, "icd10cm-index", bad)
    assert digest(dictionary_copy) == before


@pytest.mark.parametrize("body, pattern", [
    ('<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<ICD10CM.index/>', r"line 2\).*DTD"),
    ("<other/>", r"root element is <other>"),
    ("<ICD10CM.index><letter><mainTerm><title>Abuse</title>\n<code>X5B.Q!</code></mainTerm>"
     "</letter></ICD10CM.index>",
     r"line 3, element ICD10CM\.index/letter\[1\]/mainTerm\[1\]/code\[1\]\).*'X5B\.Q!'"),
    ("<ICD10CM.index><letter><mainTerm>\n<code>X58</code></mainTerm></letter></ICD10CM.index>",
     r"line 2, element ICD10CM\.index/letter\[1\]/mainTerm\[1\]\).*no title"),
    ('<ICD10CM.index><indexHeading><head col="1">Substance</head><head col="2">Poisoning</head>'
     '</indexHeading><letter><mainTerm><title>Aspirin</title>\n<cell col="9">T39.011</cell>'
     "</mainTerm></letter></ICD10CM.index>", r"line 3, element .*/cell\[1\]\).*column '9'"),
])
def test_malformed_xml(body: str, pattern: str, dictionary_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "index.xml"
    bad.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + body)
    with pytest.raises(ImportFileError, match=pattern):
        import_file(dictionary_copy, "icd10cm-index", bad)


def test_forced_kind_must_fit_the_file(dictionary_copy: Path) -> None:
    with pytest.raises(ImportFileError, match="looks like the icd10cm-eindex file"):
        import_file(dictionary_copy, "icd10cm-drug", ref(EINDEX))


# --- Checks every kind shares ------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("content, pattern", [
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", r"line 1\).*binary file"),
    (b"", r"line 1\).*empty"),
    (b"  \r\n\n", r"line 1\).*empty"),
])
def test_binary_and_empty_files(kind: str, content: bytes, pattern: str, dictionary_copy: Path,
                                tmp_path: Path) -> None:
    bad = tmp_path / "upload.dat"
    bad.write_bytes(content)
    before = digest(dictionary_copy)
    with pytest.raises(ImportFileError, match=r"upload\.dat \(" + pattern):
        import_file(dictionary_copy, kind, bad)
    assert digest(dictionary_copy) == before


def test_missing_directory_oversize_and_unknown_kind(dictionary_copy: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        import_file(dictionary_copy, "cpt", tmp_path / "nope.csv")
    with pytest.raises(ImportFileError, match="is a folder, not a code-set file"):
        import_file(dictionary_copy, "cpt", tmp_path)
    big = tmp_path / "big.csv"
    big.write_text("Code,Description\n" + "99213,Visit\n" * 100)
    monkeypatch.setattr(common, "MAX_BYTES", 1000)
    with pytest.raises(ImportFileError, match=r"big\.csv: it is .* MB; the limit"):
        import_file(dictionary_copy, "cpt", big)
    with pytest.raises(InvalidInputError, match="Unknown import kind"):
        import_file(dictionary_copy, "icd9", big)


def test_failure_while_writing_rolls_everything_back(dictionary_copy: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(db):
        assert db.execute("select count(*) from codes where system = 'HCPCS'").fetchone()[0] > 6000
        raise RuntimeError("disk full")

    monkeypatch.setattr(common, "write_search_index", broken)
    before = digest(dictionary_copy)
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(dictionary_copy, "hcpcs", ref(HCPCS_FILE))
    assert digest(dictionary_copy) == before


def test_locked_dictionary(dictionary_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def impatient(path):
        db = connect(path)
        db.conn.execute("pragma busy_timeout = 50")
        return db

    monkeypatch.setattr(common, "connect", impatient)
    csv_file = tmp_path / "cpt.csv"
    csv_file.write_text("Code,Description\n99213,Visit\n")
    before = digest(dictionary_copy)
    holder = sqlite3.connect(dictionary_copy)
    holder.execute("begin exclusive")
    try:
        with pytest.raises(DatabaseLockedError, match="in use by another program"):
            import_file(dictionary_copy, "cpt", csv_file)
    finally:
        holder.rollback()
        holder.close()
    assert digest(dictionary_copy) == before


def test_progress_is_reported(dictionary_copy: Path, tmp_path: Path, no_rebuild: list[int]) -> None:
    seen: list[tuple[str, float]] = []
    csv_file = tmp_path / "cpt.csv"
    csv_file.write_text("Code,Description\n99213,Visit\n")
    import_file(dictionary_copy, "cpt", csv_file, progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert any(re.search("search index", s) for s, _ in seen)
