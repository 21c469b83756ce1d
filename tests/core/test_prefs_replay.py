"""Packs cannot be replayed: issue numbers per signer; rules that contradict themselves are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcoder_desktop.core.preferences.records import Rule
from medcoder_desktop.core.preferences.pack import PackMetadata, PackPayload, build_pack, layout
from medcoder_desktop.core.service import CodingService
from medcoder_desktop.errors import PreferencesError
from tests.core.test_prefs_pack import admin, other, store_bytes  # noqa: F401 - fixtures

__all__ = ["admin", "other"]


def test_an_older_pack_from_the_same_signer_is_refused(admin: CodingService, other: CodingService,
                                                       tmp_path: Path) -> None:
    v1, v2 = tmp_path / "v1.json", tmp_path / "v2.json"
    admin.export_preferences(v1, organization="General Hospital")
    removed = next(r for r in admin.preferences().rules if r.kind == "never")
    admin.remove_rule(removed.id)  # the administrator withdraws a rule, and sends a new pack
    admin.export_preferences(v2, organization="General Hospital")
    other.import_preferences(v2, trust_signer=True)
    before = store_bytes(other)
    with pytest.raises(PreferencesError, match=r"number 1, issued .*number 2, issued .*which is newer"):
        other.import_preferences(v1)
    assert store_bytes(other) == before  # nothing changed: the withdrawn rule stays withdrawn
    assert not any(r.kind == "never" for r in other.preferences().rules)
    other.import_preferences(v2)  # the same pack again is harmless


def test_packs_carry_issue_time_and_sequence(admin: CodingService, tmp_path: Path) -> None:
    seqs = []
    for i in range(3):
        path = tmp_path / f"p{i}.json"
        admin.export_preferences(path, organization="General Hospital")
        meta = json.loads(path.read_text(encoding="ascii"))["payload"]["metadata"]
        assert meta["issued_at"].endswith("+00:00")
        seqs.append(meta["sequence"])
    assert seqs == [1, 2, 3]


def test_a_rule_that_contradicts_itself_is_refused_everywhere(admin: CodingService, other: CodingService,
                                                              tmp_path: Path) -> None:
    with pytest.raises(PreferencesError, match="replaces a code with itself"):
        admin.add_rule("prefer", "E11.65", over="E1165")
    with pytest.raises(PreferencesError, match="triggered by"):
        admin.add_rule("pair", "E11", add="E11.9")
    # A rule written into the file by hand (or by an older version) stops the export.
    with admin.preferences_manager().store.transaction() as data:
        data.rules.append(Rule(id=99, kind="prefer", code="E11.65", over="E11.65"))
    with pytest.raises(PreferencesError, match="pack was not written.*replaces a code with itself"):
        admin.export_preferences(tmp_path / "x.json", organization="General Hospital")
    assert not (tmp_path / "x.json").exists()
    # A signed pack that carries one (made by other software with the key) is refused at import.
    payload = PackPayload(metadata=PackMetadata(organization="General Hospital", created="2026-01-01",
                                                issued_at="2026-01-01T00:00:00.000000+00:00", sequence=7),
                          rules=[Rule(kind="prefer", code="E11.65", over="E11.65")])
    blob, _ = build_pack(payload, admin.preferences_manager().keys)
    forged = tmp_path / "self.json"
    forged.write_bytes(blob)
    assert layout(json.loads(blob)) == blob
    before = store_bytes(other)
    with pytest.raises(PreferencesError, match="replaces a code with itself"):
        other.import_preferences(forged, trust_signer=True)
    assert store_bytes(other) == before
