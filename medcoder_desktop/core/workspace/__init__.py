"""The coder's workspace: encounters, suggestion runs, decisions and an append-only audit log (SQLite)."""

from medcoder_desktop.core.models import (
    AuditEntry,
    CodeState,
    Decision,
    EncounterDetails,
    EncounterRecord,
    EncounterSummary,
    ExportResult,
    ImportIssue,
    ImportResult,
    SuggestionRun,
)
from medcoder_desktop.core.workspace.store import Workspace

__all__ = [
    "AuditEntry",
    "CodeState",
    "Decision",
    "EncounterDetails",
    "EncounterRecord",
    "EncounterSummary",
    "ExportResult",
    "ImportIssue",
    "ImportResult",
    "SuggestionRun",
    "Workspace",
]
