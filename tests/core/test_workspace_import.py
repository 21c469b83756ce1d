"""Workspace imports: folders of notes, CSV and JSONL; bad items are reported and the rest imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcoder_desktop.core.engine.pipeline import MAX_NOTE_CHARS
from medcoder_desktop.core.workspace import Workspace
from medcoder_desktop.errors import InvalidInputError

GOOD = "Chief complaint: cough for 3 days.\nAssessment: acute bronchitis."


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "workspace.sqlite", user="alice")
    yield w
    w.close()


def _errors(result) -> dict[str, str]:
    return {(e.file if e.line is None else f"{e.file}:{e.line}"): e.message for e in result.errors}


def test_folder_import_reports_each_bad_file_and_imports_the_rest(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "b-visit.txt").write_text(GOOD, encoding="utf-8")
    (folder / "a-visit.md").write_text("# Visit\nHypertension, café au lait spots.", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"%PDF-1.4\x00\x01\x02 not text")
    (folder / "latin1.txt").write_bytes("Patient complains of fièvre.\nSecond line".encode("latin-1"))
    (folder / "empty.txt").write_text("  \n\n", encoding="utf-8")
    (folder / "huge.txt").write_text("a" * (MAX_NOTE_CHARS + 1), encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF")
    (folder / ".hidden.txt").write_text(GOOD)
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.txt").write_text(GOOD)

    result = ws.import_folder(folder)

    assert result.imported == ["a-visit", "b-visit"]
    errs = _errors(result)
    assert set(errs) == {"binary.txt", "latin1.txt", "empty.txt", "huge.txt", "scan.pdf"}
    assert "binary" in errs["binary.txt"]
    assert "not UTF-8" in errs["latin1.txt"] and "line 1" in errs["latin1.txt"]
    assert "empty" in errs["empty.txt"]
    assert f"{MAX_NOTE_CHARS:,}" in errs["huge.txt"]
    assert "not a .txt or .md" in errs["scan.pdf"]
    assert all(name in msg for name, msg in errs.items())  # every message names its file
    rec = ws.get_encounter("a-visit")
    assert rec.note == "# Visit\nHypertension, café au lait spots."
    assert (rec.source_file, rec.status, rec.setting) == ("a-visit.md", "new", "outpatient")
    imports = [a for a in ws.audit_entries() if a.action == "encounter.import"]
    assert [a.encounter_id for a in imports] == ["a-visit", "b-visit"]
    assert "bronchitis" not in json.dumps([a.detail for a in imports])

    # Importing again skips (and reports) the ids already present, and changes nothing.
    (folder / "b-visit.txt").write_text("A different note now", encoding="utf-8")
    again = ws.import_folder(folder)
    assert again.imported == []
    assert "already in the workspace" in _errors(again)["b-visit.txt"]
    assert ws.get_encounter("b-visit").note == GOOD
    assert len([a for a in ws.audit_entries() if a.action == "encounter.import"]) == 2


def test_folder_import_of_a_missing_folder_is_an_error(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such folder"):
        ws.import_folder(tmp_path / "missing")


def test_csv_import_with_details_and_bad_rows(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "batch.csv"
    path.write_text(
        "ID,Note,Age,Sex,Payer,Setting,Date_of_Service,extra\n"
        "c1,\"Line one of c1\nline two, with a comma\",64,female,Medicare,Inpatient,03/04/2025,x\n"
        "c2,,50,M,,,,\n"
        ",orphan note without an id,,,,,,\n"
        "c3,Note with a bad age,two hundred,,,,,\n"
        "c4,Short row\n"
        "c1,duplicate of c1,,,,,,\n"
        "\n"
        f"c5,{'b' * (MAX_NOTE_CHARS + 1)},,,,,,\n"
        "c6,Bad date,,,,,2025-13-45,\n",
        encoding="utf-8",
    )
    result = ws.import_csv(path)
    assert result.imported == ["c1", "c4"]
    errs = _errors(result)
    assert set(errs) == {"batch.csv:4", "batch.csv:5", "batch.csv:6", "batch.csv:8", "batch.csv:10", "batch.csv:11"}
    assert "c2 has no note text" in errs["batch.csv:4"]
    assert "no encounter id" in errs["batch.csv:5"]
    assert "age" in errs["batch.csv:6"]
    assert "already in the workspace" in errs["batch.csv:8"]
    assert f"{MAX_NOTE_CHARS:,}" in errs["batch.csv:10"]
    assert "date_of_service" in errs["batch.csv:11"]
    c1 = ws.get_encounter("c1")
    assert c1.note == "Line one of c1\nline two, with a comma"
    assert (c1.age, c1.sex, c1.payer, c1.setting, c1.date_of_service) == (64, "F", "Medicare", "inpatient",
                                                                          "2025-03-04")
    assert c1.to_encounter().date_of_service == "2025-03-04"
    c4 = ws.get_encounter("c4")
    assert (c4.age, c4.sex, c4.setting) == (None, None, "outpatient")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id,text\nx1,caf\xe9\n".encode("latin-1"), "line 2: not UTF-8"),
        (b"id,body\nx1,some text\n", "'text' (or 'note') column"),
        (b"id,text\nx1,some\x00text\n", "binary"),
        (b"", "empty"),
    ],
)
def test_csv_files_that_cannot_be_read_are_reported(ws: Workspace, tmp_path: Path, content: bytes,
                                                    expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = ws.import_csv(path)
    assert result.imported == []
    assert len(result.errors) == 1 and expected in result.errors[0].message
    assert result.errors[0].file == "bad.csv"
    assert ws.list_encounters() == []


def test_jsonl_import_keeps_gold_codes_and_reports_bad_lines(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    lines = [
        json.dumps({"id": "j1", "text": GOOD, "age": 7, "sex": "M", "payer": "Medicaid", "setting": "outpatient",
                    "date_of_service": "2025-01-02"}),
        json.dumps({"id": "g1", "text": "Type 2 diabetes with hyperglycemia.", "codes": ["E11.65"],
                    "procedures": [], "setting": None, "kind": "note", "source": "synthetic"}),
        '{"id": "bad", "text": "unterminated',
        "[1, 2, 3]",
        "",
        json.dumps({"id": "j2"}),
        json.dumps({"id": "j3", "text": "x" * (MAX_NOTE_CHARS + 1)}),
        json.dumps({"id": "j1", "text": "duplicate"}),
        json.dumps({"id": "j4", "text": "ok", "codes": "E11.9"}),
        json.dumps({"id": 42, "text": "numeric id is fine"}),
    ]
    data = ("\n".join(lines) + "\n").encode("utf-8") + '{"id": "l1", "text": "fi\xe8vre"}\n'.encode("latin-1")
    path.write_bytes(data)

    result = ws.import_jsonl(path)

    assert result.imported == ["j1", "g1", "42"]
    errs = _errors(result)
    assert set(errs) == {f"items.jsonl:{n}" for n in (3, 4, 6, 7, 8, 9, 11)}
    assert "not valid JSON" in errs["items.jsonl:3"]
    assert "JSON object" in errs["items.jsonl:4"]
    assert "no note text" in errs["items.jsonl:6"]
    assert f"{MAX_NOTE_CHARS:,}" in errs["items.jsonl:7"]
    assert "already in the workspace" in errs["items.jsonl:8"]
    assert "'codes' must be a list" in errs["items.jsonl:9"]
    assert "not UTF-8" in errs["items.jsonl:11"]
    g1 = ws.get_encounter("g1")
    assert g1.gold_codes == {"codes": ["E11.65"], "procedures": []}
    assert g1.setting == "outpatient"
    j1 = ws.get_encounter("j1")
    assert (j1.age, j1.sex, j1.payer, j1.date_of_service, j1.gold_codes) == (7, "M", "Medicaid", "2025-01-02", None)
    assert ws.get_encounter("j1").note == GOOD


def test_jsonl_import_of_a_missing_file_is_an_error(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        ws.import_jsonl(tmp_path / "missing.jsonl")
    with pytest.raises(InvalidInputError, match="no such file"):
        ws.import_csv(tmp_path / "missing.csv")
