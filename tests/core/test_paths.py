"""Where files go: MEDCODER_HOME first, nothing created before it is needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from medcoder_desktop.paths import AppPaths, resource


def test_medcoder_home_overrides_platform_dirs(medcoder_home: Path) -> None:
    paths = AppPaths.default()
    assert paths.data_dir == medcoder_home.resolve() / "data"
    assert paths.dictionary_db.parent == paths.data_dir
    assert not paths.data_dir.exists()  # nothing is created until asked
    paths.ensure()
    assert paths.data_dir.is_dir()
    assert paths.data_dir.stat().st_mode & 0o077 == 0


def test_importing_the_package_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = "import medcoder_desktop.cli, medcoder_desktop.core.service, medcoder_desktop.paths"
    subprocess.run([sys.executable, "-c", code], check=True, env={"MEDCODER_HOME": str(home), "PATH": ""})
    assert not home.exists()


def test_resources_are_found() -> None:
    assert resource("abbreviations.tsv").is_file()
    assert resource("samples", "outpatient_followup.txt").is_file()
