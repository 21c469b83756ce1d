"""Importers never store a truncated record: a file cut mid-record, a record cut short or a quote left
open is an error that names the line, and nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary.importers import import_file
from medcoder_desktop.errors import ImportFileError
from tests.badinput.conftest import digest
from tests.helpers import SHARED_DATA

HCPCS = SHARED_DATA / "reference" / "HCPC2020_ANWEB_w_disclaimer.txt"


@pytest.mark.skipif(not HCPCS.is_file(), reason="the CMS HCPCS sample is in ../shared/data only")
@pytest.mark.parametrize("cut", [0.5, 0.73])
def test_half_of_the_cms_hcpcs_file_is_refused(cut: float, dictionary_copy: Path, tmp_path: Path) -> None:
    raw = HCPCS.read_bytes()
    half = tmp_path / "HCPC2020_ANWEB_half.txt"
    half.write_bytes(raw[: int(len(raw) * cut)])
    before = digest(dictionary_copy)
    with pytest.raises(ImportFileError, match=r"\(line \d+\): the file ends in the middle of a record"):
        import_file(dictionary_copy, "hcpcs", half)
    assert digest(dictionary_copy) == before


@pytest.mark.skipif(not HCPCS.is_file(), reason="the CMS HCPCS sample is in ../shared/data only")
def test_a_record_cut_short_inside_the_file_is_refused(dictionary_copy: Path, tmp_path: Path) -> None:
    lines = HCPCS.read_bytes().split(b"\r\n")
    n = next(i for i, ln in enumerate(lines) if ln[10:11] == b"3" and i > 400)
    lines[n] = lines[n][:150]  # the title survives, the record's dates and action code do not
    cut = tmp_path / "HCPC2020_cut.txt"
    cut.write_bytes(b"\r\n".join(lines))
    before = digest(dictionary_copy)
    with pytest.raises(ImportFileError, match=rf"\(line {n + 1}\): the record is cut short"):
        import_file(dictionary_copy, "hcpcs", cut)
    assert digest(dictionary_copy) == before


def test_a_workspace_csv_with_a_quote_left_open_imports_nothing(medcoder_home: Path, tmp_path: Path) -> None:
    from medcoder_desktop.core.workspace import Workspace

    csv = tmp_path / "notes.csv"
    csv.write_text('id,text\nn1,"Fever."\nn2,"Cough and\nn3,"Asthma."\n', encoding="utf-8")
    with Workspace(medcoder_home / "data" / "workspace.sqlite") as ws:
        result = ws.import_csv(csv)
        assert result.imported == [] and ws.list_encounters() == []
    assert len(result.errors) == 1
    assert "line 3" in result.errors[0].message and "Nothing was imported" in result.errors[0].message


def test_a_cpt_csv_with_a_quote_left_open_is_refused(dictionary_copy: Path, tmp_path: Path) -> None:
    csv = tmp_path / "cpt.csv"
    csv.write_text('code,description\n99213,Office visit\n99214,"Office visit, moderate\n', encoding="utf-8")
    before = digest(dictionary_copy)
    with pytest.raises(ImportFileError, match=r"line 3.*malformed"):
        import_file(dictionary_copy, "cpt", csv)
    assert digest(dictionary_copy) == before
