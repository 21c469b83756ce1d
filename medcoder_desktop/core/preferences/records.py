"""What organization preferences are made of (pydantic): learned tallies, explicit rules, the stored file.

Learned statistics are kept per *source* (one gold file, one workstation's workspace), never as one
running total: learning the same file again, or importing a pack that carries a source this workstation
already has, replaces that source instead of counting it twice. Ranking adds the sources up.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Rules and the views of preferences are handed to the window and the CLI: they live with the core's data.
from medcoder_desktop.core.models import ImportRecord, Rule

SCHEMA_VERSION = 1


class Tally(BaseModel):
    """How one code (or one wording's code) fared where the product found it."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(default=0, ge=0)  # notes where it was a candidate, shown or not
    kept: int = Field(default=0, ge=0)  # of those, notes where the organization coded it
    expected: float = Field(default=0.0, ge=0.0)  # sum of the product's confidences: what it alone predicted
    shown: int = Field(default=0, ge=0)  # notes where it was suggested (at or above the threshold)
    shown_kept: int = Field(default=0, ge=0)  # of those, notes where it was coded

    def add(self, other: "Tally") -> None:
        self.n += other.n
        self.kept += other.kept
        self.expected += other.expected
        self.shown += other.shown
        self.shown_kept += other.shown_kept


class LearnedSource(BaseModel):
    """Everything learned from one source of coding decisions."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(max_length=200)  # "gold:<sha256 of the file, 16 hex>" or "workspace:<workstation id>"
    kind: Literal["gold", "workspace"]
    label: str = Field(default="", max_length=300)  # the gold file's name, or the workstation
    learned_at: str
    items: int = Field(default=0, ge=0)  # notes or encounters learned from
    code_sets: dict[str, str] = Field(default_factory=dict)
    origin: str = "local"  # "local", or the organization of the pack it came in
    codes: dict[str, Tally] = Field(default_factory=dict)
    # normalized evidence wording -> code -> tally
    wordings: dict[str, dict[str, Tally]] = Field(default_factory=dict)
    # code suggested -> code the organization coded in its place -> notes
    replacements: dict[str, dict[str, int]] = Field(default_factory=dict)

    def all_codes(self) -> set[str]:
        out = set(self.codes)
        for by_code in self.wordings.values():
            out.update(by_code)
        for y, xs in self.replacements.items():
            out.add(y)
            out.update(xs)
        return out


class SignerMark(BaseModel):
    """The newest pack imported from one signer: an older one (a replay) is refused."""

    sequence: int = Field(ge=1)
    issued_at: str
    organization: str = ""
    sha256: str = ""


class PreferencesData(BaseModel):
    """The stored preferences of one workstation (``data/preferences.json``)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    workstation: str  # a random id: names this workstation's workspace source in packs
    organization: str = ""  # the name the last export used
    next_rule_id: int = 1
    rules: list[Rule] = Field(default_factory=list)
    sources: dict[str, LearnedSource] = Field(default_factory=dict)
    imports: list[ImportRecord] = Field(default_factory=list)
    # Packs this workstation signed: signer fingerprint -> the last sequence number it issued.
    issued: dict[str, int] = Field(default_factory=dict)
    # Packs imported here: signer fingerprint -> the newest one (see pack.py, "replays").
    signers: dict[str, SignerMark] = Field(default_factory=dict)
