"""Owner-only files written atomically: workspace exports, eval reports, preferences and keys use them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from medcoder_desktop.core.private_files import write_private


def test_owner_only_and_replaced_whole(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "out.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)
    write_private(target, "new\r\ntext é")
    assert target.read_bytes() == "new\r\ntext é".encode("utf-8")  # newlines untouched
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    write_private(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    assert [p.name for p in folder.iterdir()] == ["out.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(OSError):
        write_private(folder / "missing" / "out.json", "x")
    target = folder / "dir-not-file"
    target.mkdir()
    with pytest.raises(OSError):
        write_private(target, "x")  # a folder cannot be replaced by a file
    assert target.is_dir() and sorted(p.name for p in folder.iterdir()) == ["dir-not-file"]
