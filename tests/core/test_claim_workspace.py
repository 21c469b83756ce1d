"""The claim in the workspace: order, principal, POA and overrides audited; edits block "coded"; exports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from medcoder_desktop.core.models import Encounter, Evidence, Suggestion
from medcoder_desktop.core.service import CodingService
from medcoder_desktop.errors import InvalidInputError, WorkspaceError
from tests.helpers import install_dictionary

NOTE = """Discharge summary
History of present illness: 45 year old man with Alzheimer disease, admitted with confusion.
Discharge diagnoses:
1. Dementia in Alzheimer disease
2. Acute kidney injury on admission
3. Single liveborn infant
"""


def _s(code: str, words: str, confidence: float) -> Suggestion:
    start = NOTE.index(words)
    return Suggestion(code=code, system="ICD-10-CM", title=code, confidence=confidence, reasoning="",
                      evidence=[Evidence(start=start, end=start + len(words), text=words)])


@pytest.fixture
def service(built_dictionary: Path, medcoder_home: Path):
    install_dictionary(built_dictionary, medcoder_home)
    svc = CodingService(model="none")
    ws = svc.workspace()
    ws.add_encounter("enc1", NOTE, Encounter(setting="inpatient", age=45, sex="M", date_of_service="2026-06-10"))
    ws.save_run("enc1", [_s("G30.9", "Alzheimer disease", 0.9), _s("F02.80", "Dementia in Alzheimer disease", 0.8),
                         _s("N17.9", "Acute kidney injury", 0.7), _s("Z38.00", "Single liveborn infant", 0.6)],
                mode="retrieval-only")
    yield svc
    svc.shutdown()


def test_moves_principal_and_poa_are_audited_and_regroup(service: CodingService) -> None:
    claim, _ = service.encounter_claim("enc1")
    assert claim.diagnosis_codes()[:2] == ["G30.9", "F02.80"]  # the etiology before its manifestation
    service.move_in_claim("enc1", "N17.9", -1, claim)
    claim, _ = service.encounter_claim("enc1")
    assert claim.diagnosis_codes().index("N17.9") == 1
    service.set_principal("enc1", "N17.9", claim)
    claim, _ = service.encounter_claim("enc1")
    assert claim.principal.code == "N17.9" and claim.principal.reason.startswith("Set as principal")
    service.workspace().set_poa("enc1", "G30.9", "W")
    claim, _ = service.encounter_claim("enc1")
    assert next(c for c in claim.secondary if c.code == "G30.9").poa == "W"
    actions = [e.action for e in service.workspace().audit_entries("enc1")]
    assert actions.count("claim.move") == 1 and "claim.principal" in actions and "claim.poa" in actions
    principal = next(e for e in service.workspace().audit_entries("enc1") if e.action == "claim.principal")
    assert principal.detail["code"] == "N17.9" and principal.detail["to"][0] == "N17.9"
    with pytest.raises(InvalidInputError):
        service.workspace().set_poa("enc1", "G30.9", "X")


def test_edits_block_coded_until_overridden_with_a_reason(service: CodingService) -> None:
    service.set_principal("enc1", "F02.80")
    claim, _ = service.encounter_claim("enc1")
    names = {e.name for e in claim.open_edits()}
    assert {"MANIFESTATION_AS_PDX", "AGE_CONFLICT"} <= names
    with pytest.raises(WorkspaceError, match="resolve or override"):
        service.mark_coded("enc1")
    assert service.workspace().get_encounter("enc1").status != "coded"
    with pytest.raises(InvalidInputError):
        service.workspace().override_edit("enc1", "AGE_CONFLICT", ["Z38.00"], "  ")
    # resolve one (the coder rejects the newborn code), override the other with a reason
    service.workspace().record_decision("enc1", "Z38.00", "ICD-10-CM", "reject", reason="not this patient")
    edit = next(e for e in service.encounter_claim("enc1")[0].edits if e.name == "MANIFESTATION_AS_PDX")
    service.workspace().override_edit("enc1", edit.name, edit.codes, "Physician query pending; billing agreed")
    assert service.mark_coded("enc1").status == "coded"
    override = next(e for e in service.workspace().audit_entries("enc1") if e.action == "claim.override")
    assert override.detail["reason"].startswith("Physician query") and override.detail["codes"] == ["F02.80"]


def test_exports_carry_sequence_poa_and_drg(service: CodingService, tmp_path: Path) -> None:
    service.workspace().record_decision("enc1", "Z38.00", "ICD-10-CM", "reject")
    for code in ("G30.9", "F02.80", "N17.9"):
        service.workspace().record_decision("enc1", code, "ICD-10-CM", "accept")
    service.workspace().set_poa("enc1", "N17.9", "Y")
    service.mark_coded("enc1")
    ws = service.workspace()
    ws.export_json(tmp_path / "out.json")
    doc = json.loads((tmp_path / "out.json").read_text())[0]["claim"]
    assert [d["code"] for d in doc["diagnoses"]] == ["G30.9", "F02.80", "N17.9"]
    assert doc["diagnoses"][2]["poa"] == "Y" and doc["diagnoses"][2]["severity"] == "CC"
    assert doc["drg"]["code"] and doc["drg"]["weight"] > 0
    ws.export_csv(tmp_path / "out.csv")
    with (tmp_path / "out.csv").open(encoding="utf-8") as fh:
        rows = {r["code"]: r for r in csv.DictReader(fh)}
    assert rows["G30.9"]["sequence"] == "1" and rows["N17.9"]["poa"] == "Y"
    assert rows["N17.9"]["drg"] == doc["drg"]["code"] and float(rows["N17.9"]["drg_weight"]) > 0
