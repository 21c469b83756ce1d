"""The dictionary built from the real package data: counts, codes, notes, atomic builds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary import build as build_module
from medcoder_desktop.core.dictionary.build import build_dictionary
from medcoder_desktop.errors import CodeNotFoundError, DictionaryBuildError, DictionaryMissingError


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


def test_stats_report_fy2026_icd10cm_and_pcs(dictionary: Dictionary) -> None:
    stats = dictionary.stats()
    cm = stats["ICD-10-CM"]
    assert cm.version == "2026"
    assert cm.billable >= 74_000
    assert cm.codes > cm.billable  # headers are kept too
    assert stats["ICD-10-PCS"].codes > 60_000
    assert stats["ICD-10-PCS"].version == "2025"


def test_fracture_code_with_seventh_character_is_billable(dictionary: Dictionary) -> None:
    code = dictionary.show("S72.001A")
    assert code.billable
    assert "initial encounter for closed fracture" in code.title
    assert code.parent == "S72.001"
    assert "S72" in code.ancestors


def test_category_is_a_header_with_its_excludes1(dictionary: Dictionary) -> None:
    e11 = dictionary.show("E11")
    assert not e11.billable
    assert any("diabetes mellitus due to underlying condition" in x for x in e11.excludes1)
    assert "E11.65" in [c for c in dictionary.show("E11.6").children]


def test_titles_and_lookup_without_dot(dictionary: Dictionary) -> None:
    assert "hyperglycemia" in dictionary.show("E11.65").title.lower()
    assert dictionary.show("e1165").code == "E11.65"
    with pytest.raises(CodeNotFoundError):
        dictionary.show("E11.99999")


def test_notes_of_every_kind_are_loaded(dictionary: Dictionary) -> None:
    kinds = {r[0] for r in dictionary.db.execute("select distinct kind from notes")}
    assert {"inclusion_term", "excludes1", "excludes2", "code_first", "use_additional", "code_also"} <= kinds
    assert dictionary.show("E11").use_additional  # e.g. long term use of insulin
    assert dictionary.show("S72").seventh_characters["A"].startswith("initial encounter")


def test_one_category_blocks_keep_the_category(dictionary: Dictionary) -> None:
    b20 = dictionary.show("B20")
    assert b20.billable and b20.level == "category"
    assert dictionary.show(b20.parent).level == "chapter"


def test_pcs_codes_are_present(dictionary: Dictionary) -> None:
    code = dictionary.show("0DTJ4ZZ")
    assert code.system == "ICD-10-PCS"
    assert "Appendix" in code.title


def test_metadata_and_migrations_recorded(dictionary: Dictionary) -> None:
    meta = dictionary.meta()
    assert meta["source.simple-icd-10-cm"] == "1.5.0"
    assert meta["built_at"]
    names = [r[0] for r in dictionary.db.execute("select name from _migrations")]
    assert names == ["m001_initial", "m002_icd10cm_years", "m003_bundled_index", "m004_pcs_sections"]


def test_missing_dictionary_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(DictionaryMissingError, match="medcoder codes build"):
        Dictionary(tmp_path / "nope.sqlite")


def test_failed_build_leaves_previous_file_untouched(
    dictionary_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = dictionary_copy.read_bytes()

    def broken(db, progress):  # the PCS source fails halfway through the build
        raise RuntimeError("source unreadable")

    monkeypatch.setattr(build_module, "_load_icd10pcs", broken)
    with pytest.raises(DictionaryBuildError, match="source unreadable"):
        build_dictionary(dictionary_copy)
    assert dictionary_copy.read_bytes() == before
    assert [p.name for p in dictionary_copy.parent.iterdir() if "building" in p.name] == []


def test_file_is_owner_only(built_dictionary: Path) -> None:
    assert built_dictionary.stat().st_mode & 0o077 == 0


def test_reader_waits_for_a_writer_then_reports_locked(dictionary_copy: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from medcoder_desktop.core.dictionary.importers import import_file

    monkeypatch.setenv("MEDCODER_BUSY_WAIT", "1")  # the wait is what is tested, not its default length
    from medcoder_desktop.errors import DatabaseLockedError

    blocker = sqlite3.connect(dictionary_copy)
    blocker.execute("begin exclusive")
    csv = dictionary_copy.parent / "cpt.csv"
    csv.write_text("code,description\n99213,Office visit\n", encoding="utf-8")
    try:
        with pytest.raises(DatabaseLockedError, match="in use"):
            import_file(dictionary_copy, "cpt", csv)
    finally:
        blocker.rollback()
        blocker.close()
