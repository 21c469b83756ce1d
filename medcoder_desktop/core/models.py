"""Data the core hands to the CLI and the window (pydantic models)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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



class LoadedModel(BaseModel):
    """The language model suggestions come from: file, hash, backend, where it was chosen, and the runtime's
    own description (llama-cpp-python version, CPU features ...: kept as extra fields)."""

    model_config = ConfigDict(extra="allow")

    name: str
    sha256: str
    backend: str = ""
    source: str = ""
    load_seconds: float = 0.0


class EngineInfo(BaseModel):
    """What produces the suggestions: the mode, the model (None: retrieval only) and the code-set versions."""

    mode: Literal["llm", "retrieval-only"]
    model: LoadedModel | None = None
    code_sets: dict[str, str] = Field(default_factory=dict)
    model_error: str | None = None  # why the chosen model is not used, when it is not


class SuggestResult(BaseModel):
    """The whole answer for one note: the ranked suggestions (``suggested`` marks those shown), what made them,
    warnings for the coder, and timings in milliseconds (first suggestions, retrieval, total ...)."""

    suggestions: list[Suggestion] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    mode: Literal["llm", "retrieval-only"] = "retrieval-only"
    model: LoadedModel | None = None
    model_error: str | None = None
    code_sets: dict[str, str] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    cancelled: bool = False
    run_id: int | None = None  # the workspace run that keeps it, when the note is a workspace encounter's
    reused: bool = False  # the encounter's saved run, still valid, shown again instead of suggesting anew
    # The model calls' own record (calls, tokens, prompts when asked for): for benchmarks and tests, never output.
    adjudication: Any = Field(default=None, exclude=True, repr=False)

    def shown(self) -> list[Suggestion]:
        """The suggestions shown as suggested."""
        return [s for s in self.suggestions if s.suggested]


class SuggestEvent(BaseModel):
    """One step of suggesting a note: ``candidates`` (retrieval, at once), ``refined`` (after a model answer),
    then ``done``, which carries the whole ``SuggestResult`` when it comes from the service."""

    kind: Literal["candidates", "refined", "done"]
    suggestions: list[Suggestion] = Field(default_factory=list)
    stats: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    result: SuggestResult | None = None


class Changes(BaseModel):
    """What an operation changed, so that the window refreshes exactly that (anki's OpChanges)."""

    encounter: str | None = None  # the encounter whose record, codes or claim changed
    record: bool = False  # its details (age, sex, setting, status ...)
    codes: bool = False  # its decisions (the code states)
    claim: bool = False  # its claim (order, POA, discharge status, overrides)
    worklist: bool = False  # the list of encounters (added, status)
    preferences: bool = False
    settings: bool = False
    model: bool = False  # the model must be loaded again
    undone: "Decision | None" = None  # the decision an undo took back

# -- organization preferences: explicit rules, and what the window and the CLI show of them ------------------
RuleKind = Literal["prefer", "never", "pair"]


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

# -- the workspace: encounters, runs, decisions, audit (stored by core/workspace) ---------------------------
EncounterStatus = Literal["new", "in_progress", "coded", "skipped"]
DecisionAction = Literal["accept", "reject", "edit", "add"]
RunMode = Literal["llm", "retrieval-only"]

STATUSES: tuple[str, ...] = ("new", "in_progress", "coded", "skipped")
ACTIONS: tuple[str, ...] = ("accept", "reject", "edit", "add")
# Actions that put a code on the claim; a reject (or an edit's replaced code) takes it off.
IN_EFFECT: frozenset[str] = frozenset({"accept", "edit", "add"})
MAX_ID_CHARS = 200


def parse_date_of_service(value: Any) -> str | None:
    """An ISO date (YYYY-MM-DD) from ISO or US (MM/DD/YYYY) input; None for blank."""
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    text = str(value).strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError("expected a date as YYYY-MM-DD or MM/DD/YYYY")


def parse_sex(value: Any) -> str | None:
    """F, M or U from the usual spellings (female, Male, u ...); None for blank."""
    if value is None:
        return None
    text = str(value).strip().upper()
    if not text:
        return None
    aliases = {"F": "F", "FEMALE": "F", "M": "M", "MALE": "M", "U": "U", "UNKNOWN": "U"}
    if text not in aliases:
        raise ValueError("expected F, M or U")
    return aliases[text]


class EncounterDetails(BaseModel):
    """The editable facts of an encounter besides its note (validated on input)."""

    model_config = ConfigDict(extra="forbid")

    age: int | None = Field(default=None, ge=0, le=130)
    sex: Literal["F", "M", "U"] | None = None
    payer: str | None = Field(default=None, max_length=200)
    setting: Setting = "outpatient"
    date_of_service: str | None = None

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, v: Any) -> str | None:
        return parse_sex(v)

    @field_validator("date_of_service", mode="before")
    @classmethod
    def _dos(cls, v: Any) -> str | None:
        return parse_date_of_service(v)

    @field_validator("payer", mode="before")
    @classmethod
    def _payer(cls, v: Any) -> str | None:
        if v is None:
            return None
        text = str(v).strip()
        return text or None

    @field_validator("setting", mode="before")
    @classmethod
    def _setting(cls, v: Any) -> str:
        if v is None or (isinstance(v, str) and not v.strip()):
            return "outpatient"
        return str(v).strip().lower()

    @field_validator("age", mode="before")
    @classmethod
    def _age(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            return None
        return v


class EncounterRecord(BaseModel):
    """One encounter as stored: the note, its details, where it came from, and its status."""

    id: str
    note: str
    age: int | None = None
    sex: Literal["F", "M", "U"] | None = None
    payer: str | None = None
    setting: Setting = "outpatient"
    date_of_service: str | None = None
    status: EncounterStatus = "new"
    source_file: str | None = None
    gold_codes: dict[str, list[str]] | None = None  # {"codes": [...], "procedures": [...]} from gold JSONL
    created_at: str
    updated_at: str

    def to_encounter(self) -> Encounter:
        """The core ``Encounter`` the engine uses (setting, age, sex, payer, date of service)."""
        return Encounter(setting=self.setting, age=self.age, sex=self.sex, payer=self.payer,
                         date_of_service=self.date_of_service)


class EncounterSummary(BaseModel):
    """One row of the encounter list."""

    id: str
    status: EncounterStatus
    setting: Setting
    preview: str  # the note's first non-blank line, shortened
    accepted_codes: int  # codes in effect (accepted, edited or added, not undone)


class SuggestionRun(BaseModel):
    """One run of the engine on an encounter's note, kept as it was shown."""

    id: int
    encounter_id: str
    started_at: str
    finished_at: str | None = None
    mode: RunMode
    model_name: str | None = None
    model_sha256: str | None = None
    code_sets: dict[str, str] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    suggestions: list[Suggestion] = Field(default_factory=list)


class Decision(BaseModel):
    """One coder decision on one code. Never deleted; an undo marks it ``undone``."""

    id: int
    encounter_id: str
    run_id: int | None = None
    code: str
    system: System
    action: DecisionAction
    reason: str | None = None
    replaced_code: str | None = None  # edit: the suggested code this one replaced
    user: str
    at: str
    undone: bool = False
    undone_at: str | None = None
    undone_by: str | None = None


class CodeState(BaseModel):
    """Where one code of an encounter stands now: the latest decision about it that is not undone."""

    code: str
    system: System
    action: Literal["accept", "reject", "edit", "add", "replaced"]
    in_effect: bool  # on the claim: accepted, edited (the new code) or added
    decision_id: int
    user: str
    at: str
    reason: str | None = None
    replaced_code: str | None = None
    replaced_by: str | None = None  # action "replaced": the code an edit put in its place


class AuditEntry(BaseModel):
    id: int
    at: str
    user: str
    action: str
    encounter_id: str | None = None
    run_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class ImportIssue(BaseModel):
    """One file, line or row that was not imported, and why (the message names file and line)."""

    file: str
    line: int | None = None
    message: str


class ImportResult(BaseModel):
    imported: list[str] = Field(default_factory=list)
    errors: list[ImportIssue] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ExportResult(BaseModel):
    path: str
    format: Literal["csv", "json"]
    encounters: int
    rows: int


Changes.model_rebuild()  # its ``undone`` names Decision, defined above it in reading order only
