"""The claim: grouping agrees with msdrg's own grouper, MCE edits, sequencing, POA, DRG impact, code-set year."""

from __future__ import annotations

import json
from pathlib import Path

import msdrg
import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.core.claim import ClaimChoices, build_claim
from medcoder_desktop.core.claim.fiscal import fiscal_year, grouper_version
from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.models import Encounter, Evidence, Suggestion
from tests.helpers import install_dictionary

# (pdx, [(sdx, poa)], [pcs]) - what each claim shows
CLAIMS = {
    "principal alone": ("I50.23", [], []),
    "with a CC": ("I50.23", [("N17.9", "Y")], []),
    "with an MCC": ("I50.23", [("J96.01", "Y"), ("E11.22", "Y")], []),
    "CC exclusion": ("A41.9", [("R65.20", "Y"), ("N17.9", "Y")], []),
    "HAC with POA N": ("J18.9", [("L89.153", "N")], []),
    "surgical DRG from a PCS code": ("M16.11", [], ["0SRB0J9"]),
}


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


def _reference(pdx: str, sdx: list[tuple[str, str]], pcs: list[str]) -> dict:
    plain = lambda c: c.replace(".", "")  # noqa: E731
    with msdrg.MsdrgGrouper() as g:
        return g.group(msdrg.create_claim(version=431, age=70, sex=1, discharge_status=1, pdx=plain(pdx),
                                          sdx=[(plain(c), p) for c, p in sdx], procedures=pcs))


@pytest.mark.parametrize("name", list(CLAIMS))
def test_group_agrees_with_msdrg(home: Path, capsys, name: str) -> None:
    pdx, sdx, pcs = CLAIMS[name]
    args = ["group", "--pdx", pdx, "--age", "70", "--sex", "F", "--discharge-status", "1", "--date", "2026-06-15",
            "--json"]
    for code, poa in sdx:
        args += ["--sdx", f"{code}:{poa}"]
    for code in pcs:
        args += ["--pcs", code]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    ref = _reference(pdx, sdx, pcs)
    assert doc["drg"]["code"] == f"{ref['final_drg']:03d}"
    assert doc["drg"]["grouper_version"] == 431
    assert doc["drg"]["title"] == ref["final_drg_description"]
    assert [s["severity"] for s in doc["secondary"]] == [o["severity"] for o in ref["sdx_output"]]
    assert doc["drg"]["weight"] > 0 and doc["drg"]["gmlos"] > 0 and doc["drg"]["amlos"] > 0
    if name == "CC exclusion":
        assert doc["secondary"][0]["cc_excluded"] and not doc["secondary"][1]["cc_excluded"]
    if name == "HAC with POA N":
        assert doc["secondary"][0]["hac"] and ref["initial_drg"] != ref["final_drg"]
    if name == "surgical DRG from a PCS code":
        assert doc["drg"]["type"] == "SURG"


def test_adult_with_newborn_code_and_manifestation_principal_gets_both_edits(home: Path, capsys) -> None:
    assert main(["group", "--pdx", "F02.80", "--sdx", "Z38.00:Y", "--age", "45", "--sex", "M",
                 "--date", "2026-06-15", "--json"]) == 0
    edits = {e["name"]: e for e in json.loads(capsys.readouterr().out)["edits"]}
    assert edits["AGE_CONFLICT"]["codes"] == ["Z38.00"] and "age (45)" in edits["AGE_CONFLICT"]["message"]
    assert edits["MANIFESTATION_AS_PDX"]["codes"] == ["F02.80"]
    assert "underlying condition first" in edits["MANIFESTATION_AS_PDX"]["message"]


def test_group_refuses_a_bad_poa(home: Path, capsys) -> None:
    assert main(["group", "--pdx", "I50.23", "--sdx", "N17.9:Q", "--age", "70", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "POA" in captured.err


def test_fiscal_year_and_grouper_follow_the_date() -> None:
    import datetime as dt

    assert fiscal_year(dt.date(2026, 9, 30)) == 2026 and fiscal_year(dt.date(2026, 10, 1)) == 2027
    assert grouper_version(dt.date(2026, 3, 31))[0] == 430
    assert grouper_version(dt.date(2026, 4, 1))[0] == 431
    assert grouper_version(dt.date(2026, 12, 1))[0] == 440


def _s(code: str, note: str, words: str, confidence: float = 0.9, system: str = "ICD-10-CM") -> Suggestion:
    start = note.index(words)
    return Suggestion(code=code, system=system, title=code, confidence=confidence, reasoning="",
                      evidence=[Evidence(start=start, end=start + len(words), text=words)])


SEPSIS_NOTE = """Discharge summary
History of present illness: 68 year old man with hypertension and chronic kidney disease stage 3a, admitted with
fever and hypotension. Blood cultures grew E. coli. He developed a stage 3 pressure ulcer of the sacrum on hospital day 4.
Discharge diagnoses:
1. Hypertensive chronic kidney disease, CKD stage 3a
2. Severe sepsis
3. Sepsis due to E. coli
"""


def test_sequencing_puts_the_infection_first_and_proposes_poa(built_dictionary: Path) -> None:
    d = Dictionary(built_dictionary)
    sugg = [_s("I12.9", SEPSIS_NOTE, "Hypertensive chronic kidney disease", 0.95),
            _s("N18.31", SEPSIS_NOTE, "CKD stage 3a", 0.9),
            _s("R65.20", SEPSIS_NOTE, "Severe sepsis", 0.9),
            _s("A41.51", SEPSIS_NOTE, "Sepsis due to E. coli", 0.7),
            _s("L89.153", SEPSIS_NOTE, "stage 3 pressure ulcer of the sacrum", 0.8)]
    claim, impacts = build_claim(sugg, Encounter(setting="inpatient"), SEPSIS_NOTE, d)
    order = claim.diagnosis_codes()
    assert order[0] == "A41.51", claim.principal.reason
    assert order.index("R65.20") == 1  # code first: the infection before R65.2x
    assert "sepsis" in claim.principal.reason.lower()
    poa = {c.code: c.poa for c in claim.secondary}
    assert poa["L89.153"] == "N" and poa["N18.31"] == "Y"
    assert claim.age == 68 and claim.sex == "M" and set(claim.proposed) >= {"age", "sex"}
    assert claim.drg is not None and claim.drg.weight
    ulcer = next(c for c in claim.secondary if c.code == "L89.153")
    assert ulcer.hac and ulcer.removal is not None
    assert set(impacts) >= {"I12.9", "N18.31", "R65.20", "L89.153", "A41.51"}
    d.close()


def test_drg_impact_of_a_suggestion_not_on_the_claim(built_dictionary: Path) -> None:
    note = "Admitted for acute on chronic systolic heart failure. Acute kidney injury on admission."
    d = Dictionary(built_dictionary)
    hf = _s("I50.23", note, "acute on chronic systolic heart failure", 0.95)
    aki = _s("N17.9", note, "Acute kidney injury", 0.3)
    aki.suggested = False
    claim, impacts = build_claim([hf, aki], Encounter(setting="inpatient", age=70, sex="F",
                                                      date_of_service="2026-06-01"), note, d)
    assert claim.principal.code == "I50.23" and claim.secondary == []
    imp = impacts["N17.9"]
    assert imp.action == "add" and imp.severity == "CC"
    assert (imp.drg_before, imp.drg_after) == ("293", "292")
    assert imp.weight_after > imp.weight_before
    assert imp.summary.startswith("adds a CC: DRG 293 → 292")
    # the coder accepts it: the claim regroups, and removing it is now the impact shown
    claim2, impacts2 = build_claim([hf, aki], Encounter(setting="inpatient", age=70, sex="F",
                                                        date_of_service="2026-06-01"), note, d,
                                   ClaimChoices(on_claim={"I50.23", "N17.9"}))
    assert claim2.drg.code == "292" and impacts2["N17.9"].action == "remove"
    d.close()


def test_coder_order_and_poa_win(built_dictionary: Path) -> None:
    d = Dictionary(built_dictionary)
    claim, _ = build_claim([_s("I12.9", SEPSIS_NOTE, "Hypertensive chronic kidney disease", 0.95),
                            _s("A41.51", SEPSIS_NOTE, "Sepsis due to E. coli", 0.7)],
                           Encounter(setting="inpatient", age=68, sex="M", date_of_service="2026-06-01"),
                           SEPSIS_NOTE, d, ClaimChoices(order=["I12.9", "A41.51"], poa={"A41.51": "W"}))
    assert claim.diagnosis_codes() == ["I12.9", "A41.51"]
    assert claim.principal.reason.startswith("Set as principal by the coder")
    assert claim.secondary[0].poa == "W" and not claim.secondary[0].poa_proposed
    d.close()


def test_outpatient_claim_has_a_first_listed_diagnosis_and_no_drg(built_dictionary: Path) -> None:
    d = Dictionary(built_dictionary)
    note = ("Chief complaint: cough for five days.\nHistory: hypertension, on lisinopril.\n"
            "Assessment: acute bronchitis. Hypertension, controlled.\n")
    claim, impacts = build_claim([_s("I10", note, "Hypertension", 0.95), _s("J20.9", note, "acute bronchitis", 0.8)],
                                 Encounter(setting="outpatient", date_of_service="2026-06-01"), note, d)
    assert claim.principal.code == "J20.9" and claim.principal.reason.startswith("First-listed")
    assert claim.drg is None and impacts == {} and claim.principal.poa is None
    d.close()


def test_only_codes_the_editor_calls_invalid_are_converted() -> None:
    import datetime as dt

    from medcoder_desktop.core.claim.grouping import Dx, GroupRequest, MsdrgEngine

    # B88.0 was split in FY2026 (B88.01 ...); I10 is still valid, though msdrg's table maps it to I16.0
    req = GroupRequest(principal=Dx("B88.0"), secondary=[Dx("I10", "Y")], age=60, sex="F",
                       date=dt.date(2026, 6, 1), source_year=2025)
    outcome = MsdrgEngine.shared().group(req)
    invalid = next(e for e in outcome.edits if e.name == "INVALID_CODE")
    assert invalid.codes == ["B88.0"] and "B88.01" in invalid.message
    assert outcome.conversions == {"B88.0": "B88.01"}
    assert outcome.drg is not None and outcome.drg.code != "999"  # grouped with the converted code
