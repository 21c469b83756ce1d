"""Signed preference packs: export, import into a fresh data folder, and every way a pack is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcoder_desktop.core.models import Encounter
from medcoder_desktop.core.preferences import pack as pack_module
from medcoder_desktop.core.preferences.records import LearnedSource, Rule, Tally
from medcoder_desktop.core.preferences.pack import PackMetadata, PackPayload, build_pack
from medcoder_desktop.core.service import CodingService
from medcoder_desktop.errors import PreferencesError
from medcoder_desktop.paths import AppPaths
from tests.helpers import install_dictionary

NOTE = "Assessment:\n1. Type 2 diabetes mellitus.\n2. Hyperlipidemia.\n3. Fever and cough."


def service_at(home: Path, built: Path) -> CodingService:
    install_dictionary(built, home)
    return CodingService(AppPaths(home / "data", home / "config", home / "cache", home / "logs"), model="none")


@pytest.fixture
def admin(built_dictionary: Path, medcoder_home: Path, tmp_path: Path) -> CodingService:
    """The administrator's workstation: a signing key, rules and learning from a small gold file."""
    s = service_at(medcoder_home, built_dictionary)
    s.preferences_manager().keys.create()
    s.add_rule("pair", "E11", add="Z79.4")
    s.add_rule("never", "I10", payer="Medicare")
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps({"id": f"n{i}", "text": "Assessment: fever and cough.",
                                          "codes": ["R50.9"]}) for i in range(5)) + "\n", encoding="utf-8")
    s.learn_preferences(gold)
    return s


@pytest.fixture
def other(built_dictionary: Path, tmp_path: Path) -> CodingService:
    """Another workstation, with a data folder of its own."""
    return service_at(tmp_path / "other-home", built_dictionary)


@pytest.fixture
def pack(admin: CodingService, tmp_path: Path) -> Path:
    path = tmp_path / "org.medprefs.json"
    report = admin.export_preferences(path, organization="General Hospital", author="admin")
    assert report.counts["rules"] == 2 and report.counts["sources"] == 1 and report.bytes == path.stat().st_size
    return path


def store_bytes(s: CodingService) -> bytes | None:
    p = s.preferences_manager().store.path
    return p.read_bytes() if p.is_file() else None


def suggestions(s: CodingService) -> list[tuple]:
    got = s.suggest(NOTE, Encounter()).suggestions
    return [(x.code, x.confidence, x.reasoning, x.suggested) for x in got]


def test_export_import_round_trip(admin: CodingService, other: CodingService, pack: Path) -> None:
    assert pack.stat().st_mode & 0o777 == 0o600
    before = suggestions(other)
    report = other.import_preferences(pack, trust_signer=True)
    assert report.organization == "General Hospital" and report.author == "admin" and report.signer_newly_trusted
    assert len(report.rules_added) == 2 and len(report.sources_added) == 1
    assert not report.conflicts and not report.unknown_codes
    assert suggestions(other) == suggestions(admin) != before
    assert any("Organization preference" in r for _, _, r, _ in suggestions(other))
    mine, theirs = admin.preferences(), other.preferences()
    assert [r.describe() for r in theirs.rules] == [r.describe() for r in mine.rules]
    assert {r.origin for r in theirs.rules} == {"General Hospital"}
    assert [(s.id, s.items, s.codes) for s in theirs.sources] == [(s.id, s.items, s.codes) for s in mine.sources]
    assert theirs.imports[0].organization == "General Hospital"
    # the signer is trusted from now on; importing again adds nothing and counts nothing twice
    again = other.import_preferences(pack)
    assert not again.signer_newly_trusted and again.rules_already_present == 2 and len(again.sources_kept) == 1
    assert other.preferences().counts == theirs.counts


@pytest.mark.parametrize("where", ["value", "label", "signature", "indent", "key", "organization", "last"])
def test_a_pack_with_one_changed_byte_is_refused(other: CodingService, pack: Path, where: str) -> None:
    other.add_rule("never", "E78.5")  # the workstation has preferences of its own
    before, trusted = store_bytes(other), other.preferences_manager().keys.trusted()
    data = bytearray(pack.read_bytes())
    text = data.decode("ascii")
    at = {"value": text.index('"kept": 5') + 8, "label": text.index("gold.jsonl"),
          "signature": text.index('"value": "') + 12, "indent": text.index('\n "payload"') + 1,
          "key": text.index('"organization"') + 3, "organization": text.index("General Hospital"),
          "last": len(data) - 1}[where]
    data[at] = ord("4") if data[at] != ord("4") else ord("6")
    if where in ("indent", "last"):  # still valid JSON: a space more, a newline less
        data[at] = ord("\t") if where == "indent" else ord(" ")
    pack.write_bytes(bytes(data))
    with pytest.raises(PreferencesError, match="was refused") as exc:
        other.import_preferences(pack, trust_signer=True)
    assert "Nothing was changed" in str(exc.value)
    assert store_bytes(other) == before
    assert other.preferences_manager().keys.trusted() == trusted


def test_an_untrusted_signer_is_refused(admin: CodingService, other: CodingService, pack: Path,
                                        tmp_path: Path) -> None:
    with pytest.raises(PreferencesError, match="does not trust") as exc:
        other.import_preferences(pack)
    assert admin.preferences_manager().keys.own().fingerprint in str(exc.value)
    assert store_bytes(other) is None
    # trusting the administrator's key file does not make a pack signed by a third key acceptable
    key_file = tmp_path / "admin.pem"
    admin.preferences_manager().keys.export_public(key_file)
    other.preferences_manager().keys.trust_file(key_file)
    stranger = service_at(tmp_path / "stranger", admin.paths.dictionary_db)
    stranger.preferences_manager().keys.create()
    stranger.add_rule("never", "R50.9")
    forged = tmp_path / "forged.json"
    stranger.export_preferences(forged, organization="General Hospital")
    with pytest.raises(PreferencesError, match="does not trust"):
        other.import_preferences(forged)
    assert other.import_preferences(pack).rules_added  # the administrator's own pack is accepted


def test_malformed_wrong_version_and_oversized_packs(other: CodingService, pack: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "medcoder-preferences-pack", "schema_version": 1, ', encoding="utf-8")
    with pytest.raises(PreferencesError, match="not valid JSON"):
        other.import_preferences(bad, trust_signer=True)
    bad.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(PreferencesError, match="not a medcoder preferences pack"):
        other.import_preferences(bad, trust_signer=True)
    doc = json.loads(pack.read_text(encoding="ascii"))
    doc["schema_version"] = 3
    bad.write_bytes(pack_module.layout(doc))
    with pytest.raises(PreferencesError, match="schema version 3.*update medcoder"):
        other.import_preferences(bad, trust_signer=True)
    doc["schema_version"] = 1  # packs without issue numbers (before replays were refused)
    bad.write_bytes(pack_module.layout(doc))
    with pytest.raises(PreferencesError, match="schema version 1.*export it again"):
        other.import_preferences(bad, trust_signer=True)
    bad.write_text("[" * 100_000, encoding="ascii")
    with pytest.raises(PreferencesError, match="nested too deeply"):
        other.import_preferences(bad, trust_signer=True)
    bad.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(PreferencesError, match="not text"):
        other.import_preferences(bad, trust_signer=True)
    monkeypatch.setattr(pack_module, "MAX_PACK_BYTES", 1024)
    with pytest.raises(PreferencesError, match="more than the .* MB a pack may have"):
        other.import_preferences(pack, trust_signer=True)
    assert store_bytes(other) is None and other.preferences_manager().keys.trusted() == []


def test_unknown_codes_are_reported_and_skipped(admin: CodingService, other: CodingService, tmp_path: Path) -> None:
    source = LearnedSource(id="gold:feedfeedfeedfeed", kind="gold", label="old.jsonl", learned_at="2026-01-01",
                           items=3, codes={"R50.9": Tally(n=3, kept=3, expected=1.0), "XX9.99": Tally(n=3, kept=3)},
                           replacements={"R05.9": {"YY1": 3}})
    payload = PackPayload(
        metadata=PackMetadata(organization="General Hospital", created="2026-01-01",
                              issued_at="2026-01-01T00:00:00.000000+00:00", sequence=1),
        rules=[Rule(kind="never", code="QQ1.23"), Rule(kind="never", code="R69")], sources=[source])
    path = tmp_path / "unknown.json"
    blob, _ = build_pack(payload, admin.preferences_manager().keys)
    path.write_bytes(blob)
    report = other.import_preferences(path, trust_signer=True)
    assert report.unknown_codes == ["QQ1.23", "XX9.99", "YY1"]
    assert report.skipped_rules == ["never suggest QQ1.23 (unknown: QQ1.23)"]
    assert report.rules_added == ["never suggest R69"]
    stored = other.preferences_manager().store.load().sources["gold:feedfeedfeedfeed"]
    assert set(stored.codes) == {"R50.9"} and stored.replacements == {}


def test_conflicts_are_reported(other: CodingService, admin: CodingService, tmp_path: Path) -> None:
    other.add_rule("never", "Z79.4")
    path = tmp_path / "p.json"
    admin.export_preferences(path, organization="General Hospital")
    report = other.import_preferences(path, trust_signer=True)
    assert len(report.conflicts) == 1
    assert "pair E11 with Z79.4" in report.conflicts[0] and "never wins" in report.conflicts[0]
    got = {code for code, *_ in suggestions(other)}
    assert "Z79.4" not in got  # never wins, as reported


def test_keys_are_owner_only(admin: CodingService, tmp_path: Path) -> None:
    keys = admin.preferences_manager().keys
    assert keys.key_path.stat().st_mode & 0o777 == 0o600
    assert keys.trust_path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(PreferencesError, match="already"):
        keys.create()
    with pytest.raises(PreferencesError, match="not a public key"):
        keys.trust_file(admin.preferences_manager().store.path)


def test_export_needs_a_signing_key(other: CodingService, tmp_path: Path) -> None:
    with pytest.raises(PreferencesError, match="prefs key create"):
        other.export_preferences(tmp_path / "p.json", organization="X")
    assert not (tmp_path / "p.json").exists()
