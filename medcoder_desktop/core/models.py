"""Data the core hands to the CLI and the window (pydantic models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

System = Literal["ICD-10-CM", "ICD-10-PCS", "HCPCS", "CPT"]


class CodeSetStats(BaseModel):
    version: str
    codes: int
    billable: int
    source: str = ""
    loaded_at: str = ""
    index_terms: int = 0


class CodeDetail(BaseModel):
    """One code with its tabular notes, as ``medcoder codes show`` prints it."""

    code: str
    system: str
    title: str
    billable: bool
    version: str
    parent: str | None
    level: str = "code"
    inclusion_terms: list[str] = Field(default_factory=list)
    excludes1: list[str] = Field(default_factory=list)
    excludes2: list[str] = Field(default_factory=list)
    code_first: list[str] = Field(default_factory=list)
    use_additional: list[str] = Field(default_factory=list)
    code_also: list[str] = Field(default_factory=list)
    includes: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    seven_chr_note: str | None = None
    seventh_characters: dict[str, str] = Field(default_factory=dict)
    children: list[str] = Field(default_factory=list)
    ancestors: list[str] = Field(default_factory=list)


class SearchHit(BaseModel):
    """One ranked dictionary match for free text."""

    code: str
    system: str
    title: str
    billable: bool
    score: float
    matched: str = ""  # the dictionary wording that matched (title, inclusion or index term)


class GoldItem(BaseModel):
    """One line of a gold JSONL file (DESIGN.md)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    text: str
    codes: list[str] = Field(default_factory=list)
    procedures: list[str] = Field(default_factory=list)
    setting: Literal["outpatient", "inpatient"] | None = None
    kind: Literal["note", "phrase"] = "note"
    source: str = ""


class BuildReport(BaseModel):
    path: str
    systems: dict[str, CodeSetStats]
    seconds: float


class ImportReport(BaseModel):
    kind: str
    file: str
    system: str
    added: int
    updated: int = 0
    skipped: int = 0
    version: str = ""
    seconds: float = 0.0


# -- notes and suggestions -------------------------------------------------------------------------
Setting = Literal["outpatient", "inpatient"]


class Encounter(BaseModel):
    """What the coder knows of the visit besides the note; it changes what is right."""

    setting: Setting = "outpatient"
    age: int | None = Field(default=None, ge=0, le=130)
    sex: Literal["F", "M", "U"] | None = None
    payer: str | None = None
    date_of_service: str | None = None  # ISO date (YYYY-MM-DD)
    discharge_status: int | None = Field(default=None, ge=1, le=99)  # CMS patient discharge status (01 home)


class Section(BaseModel):
    name: str  # canonical: chief_complaint, hpi, pmh, family_history, assessment, plan, ...
    heading: str  # as written
    start: int
    end: int


class Mention(BaseModel):
    """A stretch of the note that may name a condition or procedure, with its context."""

    text: str
    start: int
    end: int
    section: str = ""
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False

    @property
    def context(self) -> list[str]:
        return [k for k in ("negated", "uncertain", "historical", "family", "hypothetical") if getattr(self, k)]


class Evidence(BaseModel):
    start: int
    end: int
    text: str


class Suggestion(BaseModel):
    code: str
    system: str
    title: str
    confidence: float = Field(ge=0.0, le=1.0)
    reasoning: str
    evidence: list[Evidence] = Field(default_factory=list)
    billable: bool = True
    source: Literal["retrieval", "llm"] = "retrieval"
    context: list[str] = Field(default_factory=list)
    suggested: bool = True  # at or above the display threshold
    held_back: str | None = None  # the rule that keeps it off the screen whatever the threshold (core/conventions)
    model_first: bool = False  # the model read it as the main reason for the encounter (weighed in core/claim)
