"""`suggest --json` with its claim, and the code set of the date of service (`codes import icd10cm-tabular`)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.paths import resource
from tests.helpers import install_dictionary

INPATIENT = resource("samples", "inpatient_discharge.txt")


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


def _tabular_xml() -> Path:
    return next(Path(str(p)) for p in resources.files("simple_icd_10_cm.data").iterdir() if p.name.endswith(".xml"))


def test_inpatient_suggest_returns_a_grouped_claim_with_impacts(home: Path, capsys) -> None:
    assert main(["suggest", str(INPATIENT), "--setting", "inpatient", "--model", "none", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    claim = doc["claim"]
    assert claim["principal"]["code"] and claim["principal"]["reason"].startswith("Principal")
    assert claim["age"] == 72 and claim["sex"] == "F" and claim["proposed"]["age"] == "72-year-old"
    assert claim["date"] == "2026-03-06"  # the discharge date the note gives: FY2026, grouper v430
    assert claim["drg"]["code"] and claim["drg"]["weight"] > 0 and claim["drg"]["grouper_version"] == 430
    assert {s["severity"] for s in claim["secondary"]} & {"CC", "MCC"}
    assert all(s["poa"] in (None, "Y", "N", "U", "W", "1") for s in claim["secondary"])
    on_claim = {claim["principal"]["code"], *(s["code"] for s in claim["secondary"])}
    for s in doc["suggestions"]:
        if s["system"] == "ICD-10-CM" and s["billable"]:
            impact = s["drg_impact"]
            assert impact["action"] == ("remove" if s["code"] in on_claim else "add")
            assert impact["drg_before"] == claim["drg"]["code"] and impact["summary"]


def test_date_picks_the_code_set_year_and_an_import_loads_it(home: Path, capsys) -> None:
    args = ["group", "--pdx", "I50.23", "--sdx", "N17.9:Y", "--age", "70", "--sex", "F", "--date", "2026-12-01",
            "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["fiscal_year"] == 2027 and doc["drg"]["grouper_version"] == 440
    assert any("FY2027 ICD-10-CM codes are not loaded" in w and "icd10cm-tabular" in w for w in doc["warnings"])

    assert main(["codes", "import", "icd10cm-tabular", str(_tabular_xml()), "--year", "2027", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == "2027" and report["added"] > 70_000
    assert main(["codes", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["icd10cm_years"] == [2026, 2027]

    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert not any("not loaded" in w for w in doc["warnings"])
    assert doc["principal"]["title"] == "Acute on chronic systolic (congestive) heart failure"
    # a date of the bundled year still uses the bundled code set, without a warning
    assert main([*args[:-3], "--date", "2026-06-01", "--json"]) == 0
    assert not any("not loaded" in w for w in json.loads(capsys.readouterr().out)["warnings"])


def test_a_tabular_import_that_is_not_one_changes_nothing(home: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "tabular.xml"
    bad.write_text("<?xml version='1.0'?><ICD10CM.index><version>2027</version></ICD10CM.index>", encoding="utf-8")
    assert main(["codes", "import", "icd10cm-tabular", str(bad), "--year", "2027"]) == 2
    assert "not an ICD-10-CM tabular file" in capsys.readouterr().err
    assert main(["group", "--pdx", "I50.23", "--age", "70", "--date", "2026-12-01", "--json"]) == 0
    assert any("not loaded" in w for w in json.loads(capsys.readouterr().out)["warnings"])
