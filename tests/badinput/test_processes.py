"""Bad inputs and faults that need a real process: endless input, pipes and devices (a hang would show as a
timeout), unreadable files and a read-only data folder (as another user: the tests run as root, whom
permissions do not stop), a full disk, a dictionary held by another program, several first starts at once.

Each run has a timeout; none may end in a traceback; each failure is one line with a documented exit code
and leaves the data folder byte-identical.
"""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from medcoder_desktop.errors import EXIT_CODES
from tests.badinput import corpus
from tests.badinput.conftest import state
from tests.helpers import ROOT, install_dictionary

TIMEOUT = 120


def medcoder(*argv: str, home: Path, stdin=None, env: dict | None = None, preexec=None, user: int | None = None,
             timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "MEDCODER_HOME": str(home), "MEDCODER_BUSY_WAIT": "2",
                "MEDCODER_LOCK_WAIT": "2", **(env or {})}
    full_env.pop("MEDCODER_DEBUG", None)
    kwargs = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
    try:
        return subprocess.run([sys.executable, "-m", "medcoder_desktop", *argv], env=full_env, stdin=stdin,
                              capture_output=True, text=True, timeout=timeout, preexec_fn=preexec, cwd="/",
                              **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"medcoder {' '.join(argv)} hung (no answer in {timeout} s)")


def assert_clear_failure(r: subprocess.CompletedProcess, code: int | None = None) -> str:
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    assert r.returncode in EXIT_CODES and r.returncode not in (0, 70), (r.returncode, r.stderr)
    if code is not None:
        assert r.returncode == code, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("medcoder:")]
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


def test_endless_stdin_is_read_with_a_cap(home: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        r = medcoder("suggest", "-", "--model", "none", "--json", home=home, stdin=zero)
    assert "at most" in assert_clear_failure(r, 2)


@pytest.mark.parametrize("name", ["fifo", "devzero", "directory"])
@pytest.mark.parametrize("entry", [("suggest", "{f}", "--model", "none"), ("eval", "{f}", "--model", "none"),
                                   ("codes", "import", "cpt", "{f}"), ("prefs", "import", "{f}"),
                                   ("model", "import", "{f}")])
def test_pipes_devices_and_folders_never_hang(entry: tuple, name: str, home: Path, tmp_path: Path) -> None:
    path = corpus.hostile(name, tmp_path)
    before = state(home, dictionary_bytes=True)
    r = medcoder(*[a.replace("{f}", str(path)) for a in entry], home=home, timeout=60)
    line = assert_clear_failure(r)
    assert {"fifo": "is a pipe", "devzero": "is a device", "directory": "is a folder"}[name] in line
    assert state(home, dictionary_bytes=True) == before


# -- permissions: unreadable files, a read-only data folder --------------------------------------------
def _without_root_overrides() -> None:
    """Run as root, but without the capabilities that let root ignore file permissions (dropped from the
    bounding set before exec), so that a mode of 000 or 555 stops the product as it stops any user."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def permissions_apply():
    """(preexec function or None, reason to skip or None): how to make file permissions bind here."""
    if os.geteuid() != 0:
        return None, None  # an ordinary user: permissions stop it already
    probe = Path(tempfile.mkdtemp()) / "probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        r = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}).read()"], preexec_fn=_without_root_overrides,
                           capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"running as root and cannot drop CAP_DAC_OVERRIDE here ({exc})"
    finally:
        shutil.rmtree(probe.parent, ignore_errors=True)
    if r.returncode == 0:
        return None, "running as root and file permissions do not bind even without CAP_DAC_OVERRIDE"
    return _without_root_overrides, None


def test_unreadable_files_are_named(home: Path, tmp_path: Path) -> None:
    preexec, why = permissions_apply()
    if why:
        pytest.skip(why)
    for entry, content in ((("suggest", "{f}", "--model", "none"), corpus.NOTE),
                           (("eval", "{f}", "--model", "none"), corpus.GOOD["gold"]),
                           (("codes", "import", "cpt", "{f}"), corpus.GOOD["cpt"]),
                           (("prefs", "import", "{f}"), corpus.GOOD["pack"]),
                           (("prefs", "learn", "{f}"), corpus.GOOD["gold"]),
                           (("prefs", "trust", "{f}"), corpus.GOOD["key"]),
                           (("model", "import", "{f}"), "GGUF")):
        f = tmp_path / "secret.txt"
        f.write_text(content, encoding="utf-8")
        f.chmod(0)
        before = state(home, dictionary_bytes=True)
        r = medcoder(*[a.replace("{f}", str(f)) for a in entry], home=home, preexec=preexec, timeout=60)
        assert "permission denied" in assert_clear_failure(r), r.stderr
        assert state(home, dictionary_bytes=True) == before
        f.unlink()


def test_read_only_data_folder(built_dictionary: Path, tmp_path: Path) -> None:
    preexec, why = permissions_apply()
    if why:
        pytest.skip(why)
    home = tmp_path / "ro-home"
    install_dictionary(built_dictionary, home)
    for sub in ("config", "cache", "logs"):
        (home / sub).mkdir()
    note = tmp_path / "note.txt"
    note.write_text(corpus.NOTE, encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(corpus.GOOD["gold"], encoding="utf-8")
    cpt = tmp_path / "cpt.csv"
    cpt.write_text(corpus.GOOD["cpt"], encoding="utf-8")
    (home / "data" / "dictionary.sqlite").chmod(0o444)
    dirs = [home, *[d for d in home.rglob("*") if d.is_dir()]]
    for d in dirs:
        d.chmod(0o555)
    try:
        before = state(home, dictionary_bytes=True)
        runs = {
            "suggest": medcoder("suggest", str(note), "--model", "none", "--json", home=home, preexec=preexec),
            "rule": medcoder("prefs", "rule", "add", "never", "R69", home=home, preexec=preexec),
            "import": medcoder("codes", "import", "cpt", str(cpt), home=home, preexec=preexec),
            "build": medcoder("codes", "build", "--force", home=home, preexec=preexec),
            "learn": medcoder("prefs", "learn", str(gold), home=home, preexec=preexec),
        }
        for name, r in runs.items():
            if r.returncode == 0:  # reading needs no write access: suggestions still work
                assert name == "suggest", (name, r.stderr)
                continue
            line = assert_clear_failure(r)
            assert r.returncode == 6 and "read-only" in line, (name, line)
        assert state(home, dictionary_bytes=True) == before
    finally:
        for d in dirs:
            d.chmod(0o755)


# -- a full disk -----------------------------------------------------------------------------------
def _file_size_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: writes fail
    return apply


def test_full_disk_during_an_import_changes_nothing(home: Path, tmp_path: Path) -> None:
    cpt = tmp_path / "cpt.csv"
    cpt.write_text("code,description\n" + "".join(f"{99000 + i},Visit number {i}\n" for i in range(500)),
                   encoding="utf-8")
    before = state(home, dictionary_bytes=True)
    r = medcoder("codes", "import", "cpt", str(cpt), home=home, preexec=_file_size_limit(256 * 1024))
    assert "disk" in assert_clear_failure(r, 6).lower()
    assert state(home, dictionary_bytes=True) == before
    r = medcoder("prefs", "rule", "add", "never", "R69", home=home, preexec=_file_size_limit(64))
    assert_clear_failure(r, 6)
    assert state(home, dictionary_bytes=True) == before


def test_full_disk_on_a_small_tmpfs(built_dictionary: Path, tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    size = built_dictionary.stat().st_size + 2 * 1024 * 1024
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], check=True,
                       capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("cannot mount a tmpfs here (not privileged); the file-size limit test covers a full disk")
    try:
        home = mount / "home"
        install_dictionary(built_dictionary, home)
        cpt = tmp_path / "cpt.csv"
        cpt.write_text("code,description\n" + "".join(f"{99000 + i},Visit number {i}\n" for i in range(500)),
                       encoding="utf-8")
        before = state(home, dictionary_bytes=True)
        r = medcoder("codes", "import", "cpt", str(cpt), home=home)
        assert "disk" in assert_clear_failure(r, 6).lower()
        assert state(home, dictionary_bytes=True) == before
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=30)


# -- a dictionary held by another program -----------------------------------------------------------
def test_a_locked_dictionary_is_waited_for_then_reported(home: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text(corpus.NOTE, encoding="utf-8")
    blocker = sqlite3.connect(home / "data" / "dictionary.sqlite")
    blocker.execute("begin exclusive")
    try:
        start = time.monotonic()
        r = medcoder("suggest", str(note), "--model", "none", home=home)
        assert "in use by another medcoder" in assert_clear_failure(r, 7)
        assert time.monotonic() - start < 60
    finally:
        blocker.rollback()
        blocker.close()
    assert medcoder("suggest", str(note), "--model", "none", home=home).returncode == 0  # and then it works


def test_an_import_waits_for_a_build_then_reports_busy(home: Path, tmp_path: Path) -> None:
    from filelock import FileLock

    from medcoder_desktop.core.dictionary.build_lock import lock_path

    cpt = tmp_path / "cpt.csv"
    cpt.write_text(corpus.GOOD["cpt"], encoding="utf-8")
    before = state(home, dictionary_bytes=True)
    with FileLock(str(lock_path(home / "data" / "dictionary.sqlite"))):  # "another medcoder is building"
        r = medcoder("codes", "import", "cpt", str(cpt), home=home)
    assert "waiting for another medcoder" in r.stderr
    assert "still building or importing" in assert_clear_failure(r, 7)
    assert state(home, dictionary_bytes=True) == before


def test_first_starts_at_once_build_the_dictionary_once(medcoder_home: Path) -> None:
    """Three processes on a fresh data folder: one builds, the others wait and open what it built."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MEDCODER_HOME": str(medcoder_home), "MEDCODER_LOCK_WAIT": "600"}
    procs = [subprocess.Popen([sys.executable, "-m", "medcoder_desktop", "codes", "build"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    built = [e for _, e in outs if "Loading ICD-10-CM" in e]
    waited = [e for _, e in outs if "waiting for another medcoder" in e]
    assert len(built) == 1 and len(waited) == 2, [e[-300:] for _, e in outs]
    assert all("using the dictionary another medcoder just built" in e for e in waited)
    assert not list((medcoder_home / "data").glob(".dictionary.sqlite.building-*"))
