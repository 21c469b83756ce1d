"""Settings: defaults, round trip, owner-only atomic writes, clear errors for a broken file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from medcoder_desktop.core.settings import Settings, load_settings, save_settings, settings_file
from medcoder_desktop.errors import SettingsError
from medcoder_desktop.paths import AppPaths


def test_defaults_without_a_file(medcoder_home: Path) -> None:
    s = load_settings(AppPaths.default())
    assert s == Settings()
    assert (s.schema_version, s.model_path, s.gpu_layers, s.default_setting, s.confidence_threshold) == \
        (1, None, None, "outpatient", None)


def test_round_trip_is_owner_only(medcoder_home: Path) -> None:
    paths = AppPaths.default()
    path = save_settings(paths, Settings(model_path="/models/m.gguf", threads=4, gpu_layers=0,
                                         default_setting="inpatient", confidence_threshold=0.7, user_name="Ana"))
    assert path == settings_file(paths)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temporary file left
    loaded = load_settings(paths)
    assert (loaded.model_path, loaded.threads, loaded.gpu_layers, loaded.default_setting,
            loaded.confidence_threshold, loaded.user_name) == ("/models/m.gguf", 4, 0, "inpatient", 0.7, "Ana")


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "one JSON object"),
    ('{"confidence_threshold": 7, "default_setting": "ER"}', "confidence_threshold, default_setting"),
    ('{"schema_version": 99}', "newer medcoder"),
])
def test_broken_file_gives_a_clear_error(medcoder_home: Path, text: str, message: str) -> None:
    paths = AppPaths.default()
    settings_file(paths).parent.mkdir(parents=True)
    settings_file(paths).write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message) as info:
        load_settings(paths)
    assert "delete" in str(info.value)
    assert '"ER"' not in str(info.value)  # names the fields, never echoes the values
