"""Shared fixtures: a private MEDCODER_HOME for every test and one built dictionary per session."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary.build import build_dictionary


@pytest.fixture(autouse=True)
def medcoder_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the user's real folders."""
    home = tmp_path / "medcoder-home"
    home.mkdir()
    monkeypatch.setenv("MEDCODER_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def built_dictionary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fully built dictionary, made once per session and read-only: copy it to change it."""
    path = tmp_path_factory.mktemp("built") / "dictionary.sqlite"
    build_dictionary(path)
    path.chmod(stat.S_IRUSR)
    return path


@pytest.fixture
def dictionary_copy(built_dictionary: Path, tmp_path: Path) -> Path:
    """A writable copy of the session's built dictionary."""
    copy = tmp_path / "dictionary.sqlite"
    shutil.copyfile(built_dictionary, copy)
    copy.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return copy
