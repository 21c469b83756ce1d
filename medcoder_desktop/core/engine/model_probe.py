"""Whether a model can run on this workstation, checked once in a child process.

llama.cpp is native code: a kernel that faults on this CPU (AMX tiles on some Xeons), a file that is
truncated after a valid header, or a backend that hangs would take the whole window down if the
first decode happened in-process. So before the first in-process use of a combination of model
(SHA-256), runtime build (llama-cpp-python version and its native libraries) and CPU, a child process
loads the model and decodes a short prompt under a JSON schema, with a timeout. The verdict is kept in
the data folder (``model-checks.json``); an unusable combination makes the product run retrieval-only
and say why. ``medcoder model verify`` runs the check again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

from medcoder_desktop.core.clock import now
from medcoder_desktop.core.private_files import write_private

PROBE_FLAG = "--medcoder-model-probe"
CHECKS_FILE = "model-checks.json"
DEFAULT_TIMEOUT_S = 180.0
# Test switch read by the child only: "abort", "hang" or "error" makes the check fail that way.
FAULT_ENV = "MEDCODER_PROBE_FAULT"
TIMEOUT_ENV = "MEDCODER_PROBE_TIMEOUT"
_SCHEMA = {"type": "object", "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}},
           "required": ["answer"]}


class ProbeResult(BaseModel):
    """The verdict on one (model, runtime build, CPU) combination."""

    ok: bool
    reason: str = ""
    seconds: float = 0.0
    system_info: str = ""
    checked_at: str = ""
    key: str = ""


def llama_lib_dir() -> Path | None:
    """The folder of llama.cpp's shared libraries (``LLAMA_CPP_LIB_PATH`` wins, as in llama-cpp-python)."""
    override = os.environ.get("LLAMA_CPP_LIB_PATH")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("llama_cpp")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        lib = Path(folder) / "lib"
        if lib.is_dir():
            return lib
    return None


@lru_cache(maxsize=1)
def runtime_signature() -> str:
    """llama-cpp-python's version and a hash of its native libraries: a rebuild with other flags changes it."""
    try:
        version = importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    h = hashlib.sha256(version.encode())
    lib = llama_lib_dir()
    for f in sorted(lib.iterdir()) if lib else []:
        if f.is_file() and any(s in f.name for s in (".so", ".dylib", ".dll")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return f"{version}:{h.hexdigest()[:16]}"


@lru_cache(maxsize=1)
def cpu_signature() -> str:
    """The CPU model and its feature flags (Linux), else what the platform module says."""
    text = f"{platform.machine()} {platform.processor()}"
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        info = ""
    for line in info.splitlines():
        if line.startswith(("model name", "flags", "Features", "CPU implementer", "CPU part")):
            text += "\n" + line
        if not line.strip() and len(text) > 40:
            break  # the first processor is enough
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def combination_key(model_sha256: str) -> str:
    """The key of one model on this runtime build and this CPU."""
    return f"{model_sha256[:16]}/{runtime_signature()}/{cpu_signature()}"


def probe_command(path: Path) -> list[str]:
    """The child's command line: the frozen program itself, or this interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable, PROBE_FLAG, str(path)]
    return [sys.executable, "-m", "medcoder_desktop.core.engine.model_probe", str(path)]


def run_probe(path: Path, timeout: float | None = None) -> ProbeResult:
    """Load ``path`` and decode a short prompt under a JSON schema in a child process."""
    if timeout is None:
        timeout = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_S)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    try:
        done = subprocess.run(probe_command(path), capture_output=True, text=True, errors="replace",
                              timeout=timeout, env=env, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return ProbeResult(ok=False, seconds=timeout,
                           reason=f"llama.cpp did not finish a short test answer within {timeout:.0f} s")
    except OSError as exc:
        return ProbeResult(ok=False, reason=f"the check could not start ({exc.strerror or exc})")
    seconds = round(time.perf_counter() - start, 2)
    if done.returncode < 0 or done.returncode > 128:
        sig = -done.returncode if done.returncode < 0 else done.returncode - 128
        return ProbeResult(ok=False, seconds=seconds,
                           reason=f"llama.cpp crashed while running it (signal {sig})")
    answer = _last_json_line(done.stdout)
    if done.returncode != 0 or answer is None or not answer.get("ok"):
        detail = (answer or {}).get("error") or f"exit status {done.returncode}"
        return ProbeResult(ok=False, seconds=seconds, reason=f"llama.cpp could not run it ({detail})")
    return ProbeResult(ok=True, seconds=seconds, system_info=str(answer.get("system_info", "")))


def _last_json_line(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        return value if isinstance(value, dict) else None
    return None


class ModelChecks:
    """The verdicts kept in the data folder, one per combination."""

    def __init__(self, data_dir: Path) -> None:
        self.file = Path(data_dir) / CHECKS_FILE

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a lost file costs one more check
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> ProbeResult | None:
        raw = self._read().get(key)
        try:
            return ProbeResult.model_validate(raw) if isinstance(raw, dict) else None
        except ValueError:
            return None

    def put(self, result: ProbeResult) -> None:
        data = self._read()
        data[result.key] = result.model_dump()
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private(self.file, json.dumps(data, indent=2))
        except OSError:
            pass  # a read-only data folder: the check runs again next time, nothing worse

    def check(self, path: Path, model_sha256: str, *, force: bool = False,
              timeout: float | None = None) -> ProbeResult:
        """The remembered verdict for this model here, running the child check when there is none."""
        key = combination_key(model_sha256)
        if not force:
            known = self.get(key)
            if known is not None:
                return known
        result = run_probe(path, timeout)
        result.key = key
        result.checked_at = now()
        self.put(result)
        return result


def system_info() -> str:
    """``llama_print_system_info()`` of the runtime in this process (imports llama_cpp)."""
    from medcoder_desktop.core.engine.llm_runtime import import_llama

    llama_cpp = import_llama()

    return llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()


def cpu_features(info: str) -> list[str]:
    """The features a system-info line reports as on, e.g. ``["AVX", "AVX2", "FMA", ...]``."""
    feats = []
    for part in info.replace("\n", "|").split("|"):
        name, _, value = part.rpartition("=")
        name = name.split(":")[-1].strip()
        if name and value.strip() == "1":
            feats.append(name)
    return feats


def child_main(path: str) -> int:
    """The child: load, answer one schema-constrained question, print one JSON line."""
    fault = os.environ.get(FAULT_ENV, "")
    if fault == "abort":
        os.abort()
    if fault == "hang":
        time.sleep(10_000)
    try:
        if fault == "error":
            raise RuntimeError("forced failure")
        from medcoder_desktop.core.engine.llm_runtime import import_llama

        llama_cpp = import_llama()

        llama = llama_cpp.Llama(model_path=path, n_ctx=512, n_threads=2, n_threads_batch=2, n_gpu_layers=0,
                                seed=0, verbose=False)
        try:
            out = llama.create_chat_completion(
                messages=[{"role": "user", "content": "Is hypertension a condition? Answer in JSON."}],
                response_format={"type": "json_object", "schema": _SCHEMA}, temperature=0, max_tokens=12)
            text = out["choices"][0]["message"].get("content") or ""
            info = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
        finally:
            llama.close()
        print(json.dumps({"ok": True, "answer_chars": len(text), "system_info": info}), flush=True)
        return 0
    except Exception as exc:  # the parent only needs the kind of failure
        print(json.dumps({"ok": False, "error": exc.__class__.__name__}), flush=True)
        return 1


def maybe_run_child(argv: list[str]) -> None:
    """In a frozen program, run the child check and exit when the program was started as one."""
    if len(argv) >= 2 and argv[0] == PROBE_FLAG:
        raise SystemExit(child_main(argv[1]))


if __name__ == "__main__":
    raise SystemExit(child_main(sys.argv[1]) if len(sys.argv) > 1 else 2)


@lru_cache(maxsize=1)
def runtime_info() -> dict:
    """What llama.cpp runs with in this process: version, build flags, system info, CPU features, AMX."""
    try:
        version = importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return {"llama_cpp_python": None, "system_info": "", "cpu_features": [], "amx": False, "build_flags": ""}
    info = system_info()
    feats = cpu_features(info)
    return {"llama_cpp_python": version, "system_info": info, "cpu_features": feats,
            "amx": any(f.startswith("AMX") for f in feats), "build_flags": build_flags()}


def build_flags() -> str:
    """The CMake flags the runtime was built with, as recorded by ``packaging/llama_runtime.py``."""
    for folder in (Path(sys.prefix), Path(getattr(sys, "_MEIPASS", sys.prefix))):
        record = folder / "llama-runtime.txt"
        try:
            lines = record.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        return lines[1] if len(lines) > 1 else ""
    return ""
