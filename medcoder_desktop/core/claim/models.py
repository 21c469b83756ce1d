"""What the claim hands to the CLI and the window (pydantic models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

POA_VALUES: tuple[str, ...] = ("Y", "N", "U", "W", "1")
Poa = Literal["Y", "N", "U", "W", "1"]
POA_MEANING = {"Y": "present on admission", "N": "not present on admission",
               "U": "documentation insufficient", "W": "clinically undetermined", "1": "exempt from POA reporting"}


class DrgImpact(BaseModel):
    """What one change to the claim would do to its DRG ("adds a CC: DRG 293 → 292, weight 0.57 → 0.85")."""

    action: Literal["add", "remove"]
    code: str
    drg_before: str | None = None
    drg_after: str | None = None
    weight_before: float | None = None
    weight_after: float | None = None
    severity: str | None = None  # the code's own CC/MCC level as a secondary diagnosis
    changes_drg: bool = False
    summary: str = ""


class ClaimCode(BaseModel):
    """One code on the claim, in its place."""

    code: str
    system: str = "ICD-10-CM"
    title: str = ""
    poa: Poa | None = None
    poa_proposed: bool = False  # proposed from the note's words, not set by the coder
    severity: Literal["MCC", "CC", "NONE"] | None = None  # as a secondary diagnosis, per the grouper
    cc_excluded: bool = False  # a CC/MCC the principal diagnosis excludes (it does not count)
    hac: list[str] = Field(default_factory=list)  # hospital-acquired conditions met (POA N or U)
    reason: str = ""  # why it sits where it sits
    removal: DrgImpact | None = None  # what taking it off the claim would change


class Drg(BaseModel):
    code: str
    title: str
    mdc: str | None = None
    mdc_title: str = ""
    type: str = ""  # MED or SURG (Table 5)
    weight: float | None = None
    gmlos: float | None = None
    amlos: float | None = None
    grouper_version: int
    weights_year: int | None = None  # the fiscal year of the Table 5 the weight comes from
    return_code: str = "OK"


class ClaimEdit(BaseModel):
    """One Medicare Code Editor edit, in words a coder acts on."""

    name: str
    message: str
    codes: list[str] = Field(default_factory=list)
    edit_type: str = "PREPAYMENT"
    overridden: str | None = None  # the coder's reason, when overridden (then it no longer blocks)


class ClaimInput(BaseModel):
    """A coder's claim as given to the grouper (``medcoder group``)."""

    principal: str
    principal_poa: Poa | None = None
    secondary: list[tuple[str, Poa | None]] = Field(default_factory=list)
    procedures: list[str] = Field(default_factory=list)
    age: int | None = Field(default=None, ge=0, le=130)
    sex: Literal["F", "M", "U"] | None = None
    discharge_status: int = Field(default=1, ge=1, le=99)
    date: str | None = None  # discharge (inpatient) or service date, ISO


class Claim(BaseModel):
    """The ordered claim of one encounter, grouped."""

    setting: Literal["outpatient", "inpatient"] = "inpatient"
    principal: ClaimCode | None = None
    secondary: list[ClaimCode] = Field(default_factory=list)
    procedures: list[ClaimCode] = Field(default_factory=list)
    drg: Drg | None = None
    edits: list[ClaimEdit] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    age: int | None = None
    sex: Literal["F", "M", "U"] | None = None
    discharge_status: int = 1
    date: str | None = None
    fiscal_year: int | None = None
    proposed: dict[str, str] = Field(default_factory=dict)  # field -> the note's words it was read from
    conversions: dict[str, str] = Field(default_factory=dict)  # invalid code -> the code grouped instead

    def open_edits(self) -> list[ClaimEdit]:
        """Edits that block marking the encounter coded: not overridden."""
        return [e for e in self.edits if e.overridden is None]

    def diagnosis_codes(self) -> list[str]:
        return ([self.principal.code] if self.principal else []) + [c.code for c in self.secondary]
