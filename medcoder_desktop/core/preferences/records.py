"""What organization preferences are made of (pydantic): learned tallies, explicit rules, the stored file.

Learned statistics are kept per *source* (one gold file, one workstation's workspace), never as one
running total: learning the same file again, or importing a pack that carries a source this workstation
already has, replaces that source instead of counting it twice. Ranking adds the sources up.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
RuleKind = Literal["prefer", "never", "pair"]


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


class Rule(BaseModel):
    """An explicit rule an administrator wrote.

    ``never``: ``code`` (a code, or a category such as R69 for every R69.x) is never suggested.
    ``prefer``: ``code`` is suggested in place of ``over`` (a code or category).
    ``pair``: wherever ``code`` (a code or category, e.g. E11) is suggested, ``add`` is suggested too, with
    the same evidence (e.g. ``pair E11 --with Z79.4``).
    Each may be limited to a setting and/or a payer (compared without case).
    """

    model_config = ConfigDict(extra="forbid")

    id: int = Field(default=0, ge=0)
    kind: RuleKind
    code: str = Field(max_length=20)
    over: str | None = Field(default=None, max_length=20)
    add: str | None = Field(default=None, max_length=20)
    system: str = "ICD-10-CM"
    setting: Literal["outpatient", "inpatient"] | None = None
    payer: str | None = Field(default=None, max_length=200)
    origin: str = "local"  # "local", or the organization of the pack it came in
    created: str = ""

    def identity(self) -> tuple:
        """What makes two rules the same rule (ids and origins aside)."""
        payer = self.payer.casefold() if self.payer else None
        return (self.kind, self.code, self.over, self.add, self.setting, payer)

    def codes(self) -> list[str]:
        return [c for c in (self.code, self.over, self.add) if c]

    def describe(self) -> str:
        what = {"never": f"never suggest {self.code}",
                "prefer": f"prefer {self.code} over {self.over}",
                "pair": f"pair {self.code} with {self.add}"}[self.kind]
        scope = [s for s in (self.setting, f"payer {self.payer}" if self.payer else None) if s]
        return what + (f" ({', '.join(scope)})" if scope else "")


class ImportRecord(BaseModel):
    """One pack imported on this workstation."""

    organization: str
    author: str
    created: str
    signer: str
    file: str
    sha256: str
    imported_at: str


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


# -- reports for the CLI and the window -----------------------------------------------------------
class LearnReport(BaseModel):
    source: str
    label: str
    items: int  # notes or encounters learned from
    skipped: int = 0  # phrases, empty notes, encounters without a decision
    codes: int
    wordings: int
    replacements: int
    replaced_previous: bool  # the same source had been learned before: replaced, not added
    seconds: float


class CodePreference(BaseModel):
    """One code the organization codes more (or less) readily than the product alone predicts."""

    code: str
    title: str = ""
    found: int  # notes where the product found it
    coded: int  # of those, notes where the organization coded it
    expected: float  # notes where the product alone expected it coded (sum of confidences)
    shift: float  # the log-odds shift ranking applies


class LearnedReplacement(BaseModel):
    code: str  # coded by the organization ...
    instead_of: str  # ... where the product suggested this one
    notes: int
    suggested: int  # notes where instead_of was suggested


class SourceSummary(BaseModel):
    id: str
    kind: str
    label: str
    origin: str
    learned_at: str
    items: int
    codes: int
    wordings: int


class PreferencesSummary(BaseModel):
    """What ``prefs show`` prints and the window's preferences view shows."""

    path: str
    stored: bool  # a preferences file exists
    workstation: str
    rules: list[Rule] = Field(default_factory=list)
    sources: list[SourceSummary] = Field(default_factory=list)
    raised: list[CodePreference] = Field(default_factory=list)  # coded more readily, strongest first
    lowered: list[CodePreference] = Field(default_factory=list)  # kept rejected / dropped, strongest first
    replacements: list[LearnedReplacement] = Field(default_factory=list)
    imports: list[ImportRecord] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)


class ExportReport(BaseModel):
    path: str
    organization: str
    author: str
    signer: str
    bytes: int
    counts: dict[str, int]


class PackImportReport(BaseModel):
    """What an import did; ``conflicts`` and ``unknown_codes`` need a person's eye."""

    file: str
    organization: str
    author: str
    created: str
    signer: str
    signer_newly_trusted: bool = False
    rules_added: list[str] = Field(default_factory=list)
    rules_already_present: int = 0
    sources_added: list[str] = Field(default_factory=list)
    sources_updated: list[str] = Field(default_factory=list)
    sources_kept: list[str] = Field(default_factory=list)  # this workstation's copy is as new or newer
    unknown_codes: list[str] = Field(default_factory=list)  # skipped: not in this workstation's code sets
    skipped_rules: list[str] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
