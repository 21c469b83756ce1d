"""Organization coding preferences: learned from decisions and historical coding, explicit rules, applied
in ranking, and carried between workstations as signed packs.

Modules: ``records`` (what the stored file holds; rules and the views the window shows are in core/models.py),
``learning`` (tallies from gold notes and workspace decisions), ``rules`` (explicit rules: checks, matching,
conflicts), ``ranking`` (how they change suggestions),
``signing`` (Ed25519 keys), ``pack`` (the signed file), ``merge`` (import), ``store`` (the JSON file),
``manager`` (what the service calls).
"""

from medcoder_desktop.core.models import ExportReport, LearnReport, PackImportReport, PreferencesSummary, Rule
from medcoder_desktop.core.preferences.manager import PreferencesManager
from medcoder_desktop.core.preferences.ranking import PreferenceRanker
from medcoder_desktop.core.preferences.signing import KeyRing, TrustedKey

__all__ = [
    "ExportReport",
    "KeyRing",
    "LearnReport",
    "PackImportReport",
    "PreferenceRanker",
    "PreferencesManager",
    "PreferencesSummary",
    "Rule",
    "TrustedKey",
]
