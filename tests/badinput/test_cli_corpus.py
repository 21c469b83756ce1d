"""Every CLI entry on every bad input: one clear line and a documented exit code, never a traceback; the
dictionary, the workspace and the preferences byte-identical after each failure; UTF-16/32 decoded.

Runs in-process (``cli.main``), which is where a traceback would escape; the inputs that could hang a
process (pipes, devices, endless streams, locks) are also run as real processes with a timeout in
``test_processes.py``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.errors import EXIT_CODES, MedcoderError
from tests.badinput import corpus
from tests.badinput.conftest import restore_dictionary, state

IMPORT_KINDS = {"hcpcs": "hcpcs", "cpt": "cpt", "icd10cm-index": "index", "icd10cm-drug": "index",
                "icd10cm-neoplasm": "index", "icd10cm-eindex": "index"}
# entry -> (argv with {file}, kind of content it reads)
ENTRIES: dict[str, tuple[list[str], str]] = {
    "suggest": (["suggest", "{file}", "--model", "none", "--json"], "note"),
    "suggest-stdin": (["suggest", "-", "--model", "none", "--json"], "note"),
    "eval": (["eval", "{file}", "--model", "none", "--json"], "gold"),
    **{f"codes-import-{k}": (["codes", "import", k, "{file}"], kind) for k, kind in IMPORT_KINDS.items()},
    "prefs-import": (["prefs", "import", "{file}"], "pack"),
    "prefs-learn": (["prefs", "learn", "{file}"], "gold"),
    "prefs-trust": (["prefs", "trust", "{file}"], "key"),
    "model-import": (["model", "import", "{file}"], "gguf"),
}
TEXT_KINDS = {"note", "gold", "csv", "jsonl", "cpt", "hcpcs", "index"}  # decoded from every encoding
# A successful import rebuilds the search index (seconds): imports get two encodings, the others all.
IMPORT_ENCODINGS = ("utf16le", "utf32be_bom")
SPECIAL = {"directory", "fifo", "devzero", "missing"}  # not something stdin can be


def cases() -> list[tuple[str, str]]:
    out = []
    for entry, (_, kind) in ENTRIES.items():
        for h in corpus.HOSTILE:
            if not (entry == "suggest-stdin" and h in SPECIAL):
                out.append((entry, f"hostile:{h}"))
        for name in corpus.malformed()[kind]:
            out.append((entry, f"malformed:{name}"))
        encodings = corpus.ENCODINGS if not entry.startswith("codes-import") else IMPORT_ENCODINGS
        if entry.startswith("codes-import") and entry != f"codes-import-{kind if kind != 'index' else 'icd10cm-index'}":
            encodings = ()  # the drug, neoplasm and E-index importers are fed Index content: covered above
        for variant in encodings:
            out.append((entry, f"encoded:{variant}"))
    return out


def make_input(case: str, kind: str, root: Path) -> Path:
    group, name = case.split(":", 1)
    if group == "hostile":
        p = corpus.hostile(name, root)
    elif group == "encoded":
        p = corpus.encoded(kind, name, root)
    else:
        p = root / (f"HCPC2020_{name}.txt" if kind == "hcpcs" else f"{kind}_{name}.txt")
        p.write_bytes(corpus.malformed()[kind][name])
    return p


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
            stdin: bytes | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def check_failure_output(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in EXIT_CODES and code != 70, (code, err)
    if code != 0:
        lines = [ln for ln in err.splitlines() if ln.startswith("medcoder:") and "warning:" not in ln]
        assert len(lines) == 1, err  # one clear line
        assert len(lines[0]) > 30 and out == "", (lines, out)


@pytest.mark.parametrize(("entry", "case"), cases())
def test_cli_entry_on_bad_input(entry: str, case: str, home: Path, tmp_path: Path, built_dictionary: Path,
                                capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv, kind = ENTRIES[entry]
    path = make_input(case, kind, tmp_path)
    writes_dictionary = entry.startswith("codes-import")
    before = state(home, dictionary_bytes=writes_dictionary)
    stdin = None
    if entry == "suggest-stdin":
        stdin = path.read_bytes()
    code, out, err = run_cli([a.replace("{file}", str(path)) for a in argv], capsys, monkeypatch, stdin)
    check_failure_output(code, out, err)
    if case.startswith("encoded:") and kind in TEXT_KINDS:
        assert code == 0, f"{case} must be decoded, not refused: {err}"
    if code != 0:
        assert state(home, dictionary_bytes=writes_dictionary) == before, "a failure changed the data folder"
    else:  # a good input (decoded from UTF-16/32): put the data folder back for the next case
        if writes_dictionary:
            restore_dictionary(built_dictionary, home)
        (home / "data" / "preferences.json").unlink(missing_ok=True)
        for key in (home / "config").glob("trusted*"):
            key.unlink()


# -- workspace imports (the window's File > Import; no CLI command) ----------------------------------
WS_ENTRIES = {"workspace-csv": ("import_csv", "csv"), "workspace-jsonl": ("import_jsonl", "jsonl"),
              "workspace-folder": ("import_folder", "note")}


def ws_cases() -> list[tuple[str, str]]:
    out = []
    for entry, (_, kind) in WS_ENTRIES.items():
        out += [(entry, f"hostile:{h}") for h in corpus.HOSTILE]
        out += [(entry, f"malformed:{n}") for n in corpus.malformed()[kind]]
        out += [(entry, f"encoded:{v}") for v in corpus.ENCODINGS]
    return out


@pytest.mark.parametrize(("entry", "case"), ws_cases())
def test_workspace_import_on_bad_input(entry: str, case: str, medcoder_home: Path, tmp_path: Path) -> None:
    """Each case on a fresh workspace (no dictionary needed): an import never raises anything but the
    product's errors, a bad file imports nothing and says why, a UTF-16/32 file imports its note."""
    from medcoder_desktop.core.failures import user_error
    from medcoder_desktop.core.service import CodingService

    method, kind = WS_ENTRIES[entry]
    path = make_input(case, kind, tmp_path)
    if entry == "workspace-folder":  # a folder holding the file as its one note
        folder = tmp_path / "notes"
        folder.mkdir()
        if path.exists() or path.is_symlink():
            path.rename(folder / (path.name if path.suffix == ".txt" else path.name + ".txt"))
        path = folder
    _create_workspace()
    before = state(medcoder_home, dictionary_bytes=False)  # with the workspace closed (its log merged)
    service = CodingService(model="none")
    try:
        result = getattr(service.workspace(), method)(path)
    except Exception as exc:  # noqa: BLE001 - what matters is what it is
        assert isinstance(user_error(exc), MedcoderError), f"{type(exc).__name__}: {exc}"
        result = None
    finally:
        service.shutdown()
    if case.startswith("encoded:"):
        assert result is not None and len(result.imported) == 1, f"{case} must be decoded and imported: {result}"
        return
    assert not (result and result.imported), (case, result)
    assert result is None or result.errors, "a bad file must say why nothing was imported"
    assert state(medcoder_home, dictionary_bytes=False) == before or _only_audit_changed(result)


def _create_workspace() -> None:
    from medcoder_desktop.core.service import CodingService

    service = CodingService(model="none")
    service.workspace()
    service.shutdown()


def _only_audit_changed(result) -> bool:
    # An import that stored nothing may still record that it was tried (the audit log): allowed.
    return result is not None and not result.imported
