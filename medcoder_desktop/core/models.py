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
