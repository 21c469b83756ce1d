"""Small helpers shared by tests."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def install_dictionary(built: Path, home: Path) -> Path:
    """Put a writable copy of the session's dictionary where MEDCODER_HOME expects it."""
    target = home / "data" / "dictionary.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, target)
    target.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return target
