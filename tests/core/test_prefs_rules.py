"""Explicit organization rules (never / prefer / pair, setting and payer limits) on the real dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.models import Encounter
from medcoder_desktop.core.preferences.records import Rule
from medcoder_desktop.core.preferences.rules import conflict
from medcoder_desktop.core.service import CodingService
from medcoder_desktop.errors import CodeNotFoundError, PreferencesError
from tests.helpers import install_dictionary

NOTE = "Assessment:\n1. Type 2 diabetes mellitus.\n2. Hyperlipidemia.\n3. Essential hypertension."


@pytest.fixture
def service(built_dictionary: Path, medcoder_home: Path) -> CodingService:
    install_dictionary(built_dictionary, medcoder_home)
    return CodingService(model="none")


def codes(service: CodingService, encounter: Encounter | None = None) -> dict:
    suggestions = service.suggest(NOTE, encounter or Encounter()).suggestions
    for s in suggestions:
        for e in s.evidence:
            assert NOTE[e.start:e.end] == e.text
    return {s.code: s for s in suggestions}


def test_no_preferences_change_nothing(service: CodingService) -> None:
    before = codes(service)
    assert {"E11.9", "E78.5", "I10"} <= set(before)
    assert not any("Organization preference" in s.reasoning for s in before.values())
    assert service.preferences_manager().ranker() is None


def test_never_drops_a_code_and_a_category(service: CodingService) -> None:
    service.add_rule("never", "I10")
    service.add_rule("never", "E78")  # a category: every E78.x
    got = codes(service)
    assert "I10" not in got and not any(c.startswith("E78") for c in got)
    assert "E11.9" in got


def test_prefer_swaps_with_the_same_evidence(service: CodingService) -> None:
    rule = service.add_rule("prefer", "E78.49", over="E78.5")
    got = codes(service)
    assert "E78.5" not in got
    s = got["E78.49"]
    assert [e.text for e in s.evidence] == ["Hyperlipidemia"]
    assert s.reasoning.startswith("Organization preference: E78.49 is coded in place of E78.5")
    assert f"rule {rule.id}" in s.reasoning and s.title.startswith("Other hyperlipidemia")


def test_pair_adds_the_code_with_the_triggers_evidence(service: CodingService) -> None:
    assert "Z79.4" not in codes(service)
    service.add_rule("pair", "E11", add="Z79.4")  # the category E11 triggers
    got = codes(service)
    z = got["Z79.4"]
    assert [e.text for e in z.evidence] == ["Type 2 diabetes mellitus"]
    assert z.confidence == got["E11.9"].confidence and z.suggested
    assert z.reasoning.startswith("Organization preference: always coded with E11.9")
    assert z.reasoning.count("always coded with") == 1  # one sentence, from the strongest trigger only
    assert "For E11.9 (Type 2 diabetes mellitus without complications): The note says" in z.reasoning


def test_pair_rests_on_the_strongest_of_several_triggers(service: CodingService) -> None:
    note = "Assessment:\n1. Type 2 diabetes mellitus with hyperglycemia.\n2. Diabetic polyneuropathy."
    plain = {s.code: s for s in service.suggest(note, Encounter()).suggestions}
    triggers = sorted((s for s in plain.values() if s.code.startswith("E11")), key=lambda s: -s.confidence)
    assert len(triggers) >= 2
    service.add_rule("pair", "E11", add="Z79.84")
    got = {s.code: s for s in service.suggest(note, Encounter()).suggestions}
    z = got["Z79.84"]
    assert z.reasoning.count("always coded with") == 1
    assert f"always coded with {triggers[0].code} " in z.reasoning
    assert z.confidence == triggers[0].confidence
    assert [e.text for e in z.evidence] == [e.text for e in triggers[0].evidence]


def test_setting_and_payer_limits(service: CodingService) -> None:
    service.add_rule("never", "I10", setting="inpatient")
    service.add_rule("pair", "E11", add="Z79.4", payer="Medicare")
    plain = codes(service, Encounter(setting="outpatient"))
    assert "I10" in plain and "Z79.4" not in plain
    assert "I10" not in codes(service, Encounter(setting="inpatient"))
    assert "Z79.4" in codes(service, Encounter(payer="medicare "))  # compared without case and spaces
    assert "Z79.4" not in codes(service, Encounter(payer="Aetna"))


def test_never_wins_over_prefer_and_pair(service: CodingService) -> None:
    service.add_rule("prefer", "E78.49", over="E78.5")
    service.add_rule("pair", "E11", add="Z79.4")
    service.add_rule("never", "E78.49")
    service.add_rule("never", "Z79")
    got = codes(service)
    assert not {"E78.49", "E78.5", "Z79.4"} & set(got)


def test_rules_are_checked_against_the_dictionary(service: CodingService) -> None:
    with pytest.raises(CodeNotFoundError):
        service.add_rule("never", "Q99.999X")
    with pytest.raises(PreferencesError, match="billable"):
        service.add_rule("pair", "Z79.4", add="E11")  # the added code must be billable
    with pytest.raises(PreferencesError, match="--over"):
        service.add_rule("prefer", "E78.49")
    rule = service.add_rule("never", "e785")  # written as the dictionary writes it
    assert rule.code == "E78.5" and rule.id == 1
    assert service.add_rule("never", "E78.5").id == 1  # the same rule is not added twice
    assert service.remove_rule(1).code == "E78.5"
    assert service.preferences().rules == []
    with pytest.raises(PreferencesError, match="no rule 1"):
        service.remove_rule(1)


def test_conflicts_between_rules() -> None:
    never = Rule(id=1, kind="never", code="E11.65")
    prefer = Rule(id=2, kind="prefer", code="E11.65", over="E11.9")
    assert "never wins" in conflict(never, prefer)
    assert conflict(never, Rule(kind="pair", code="E11", add="E11.65")) is not None
    assert "undo each other" in conflict(prefer, Rule(kind="prefer", code="E11.9", over="E11.65"))
    # different settings never meet
    assert conflict(never.model_copy(update={"setting": "inpatient"}),
                    prefer.model_copy(update={"setting": "outpatient"})) is None
    assert conflict(never, Rule(kind="never", code="I10")) is None


def test_preferences_file_is_owner_only(service: CodingService, medcoder_home: Path) -> None:
    service.add_rule("never", "I10")
    path = medcoder_home / "data" / "preferences.json"
    assert path.stat().st_mode & 0o777 == 0o600
