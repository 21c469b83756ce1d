"""Fixtures of the bad-input corpus: a data folder with a dictionary, and the corpus files."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.helpers import install_dictionary


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="module")
def module_home(built_dictionary: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder for a module's many CLI runs (a dictionary copy, an empty workspace)."""
    home = tmp_path_factory.mktemp("badinput-home")
    install_dictionary(built_dictionary, home)
    for sub in ("config", "cache", "logs"):
        (home / sub).mkdir(mode=0o700, exist_ok=True)
    return home


@pytest.fixture
def home(module_home: Path, medcoder_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MEDCODER_HOME pointed at the module's data folder (after the suite's own private home)."""
    monkeypatch.setenv("MEDCODER_HOME", str(module_home))
    monkeypatch.setenv("MEDCODER_BUSY_WAIT", "2")
    monkeypatch.setenv("MEDCODER_LOCK_WAIT", "2")
    return module_home


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def state(home: Path, *, dictionary_bytes: bool) -> dict[str, object]:
    """What a failed command must leave exactly as it was: every file of the data and config folders, by
    content (the dictionary by content when ``dictionary_bytes``, else by size and modification time)."""
    out: dict[str, object] = {}
    for base in (home / "data", home / "config"):
        for p in sorted(base.rglob("*")):
            if not p.is_file() or p.name.endswith(".lock") or p.name.endswith(("-wal", "-shm")):
                continue
            rel = str(p.relative_to(home))
            if p.name == "dictionary.sqlite" and not dictionary_bytes:
                st = p.stat()
                out[rel] = (st.st_size, st.st_mtime_ns)
            else:
                out[rel] = digest(p)
    return out


def restore_dictionary(built: Path, home: Path) -> None:
    shutil.copyfile(built, home / "data" / "dictionary.sqlite")
