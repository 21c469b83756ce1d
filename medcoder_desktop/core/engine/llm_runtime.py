"""The in-process llama.cpp runtime: one loaded GGUF model, one model call at a time.

llama.cpp keeps the KV cache of the last evaluation inside a ``Llama`` instance and llama-cpp-python
re-uses the longest common token prefix with the next prompt, so prompts that share a fixed system
prompt only pay for their differing tail. Every call therefore goes through one long-lived instance
on one worker thread.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import sys
import threading
import time
import weakref
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from medcoder_desktop.core.private_files import write_private
from medcoder_desktop.core.textfile import check_file
from medcoder_desktop.errors import MedcoderError, ModelError

if TYPE_CHECKING:
    from medcoder_desktop.core.engine.enum_decoding import EnumAnswer, Slot

GGUF_MAGIC = b"GGUF"
HASH_CACHE_FILE = "model-sha256.json"
# Prompt tokens are decoded in slices of this size so that a cancel request is honoured within about
# a second even while a long prompt is being read; a slice of 64 keeps batched decoding efficient.
EVAL_SLICE = 64


class Cancelled(MedcoderError):
    """A model call was stopped because its cancel event was set (or the runtime was closing)."""

    exit_code = 130


@dataclass(frozen=True)
class CallStats:
    """Token accounting of the last ``chat_json`` call.

    Attributes:
        prompt_tokens: tokens of the formatted prompt.
        prompt_evaluated: prompt tokens actually decoded; the rest came from the KV cache.
        completion_tokens: generated tokens.
        seconds: wall time of the call.
    """

    prompt_tokens: int
    prompt_evaluated: int
    completion_tokens: int
    seconds: float

    @property
    def prompt_reused(self) -> int:
        """Prompt tokens served from the KV cache of the previous call."""
        return self.prompt_tokens - self.prompt_evaluated


def import_llama() -> Any:
    """``llama_cpp``, imported with OpenMP told to sleep rather than spin while it waits.

    A workstation runs other programs (and the window): spinning worker threads make two model users,
    or a model and a busy CPU, slow each other down many times over. The variable is read once, when
    the OpenMP runtime starts, so it is set before the first import; a value set by IT is kept.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import llama_cpp

    return llama_cpp


def check_gguf(path: str | os.PathLike[str], name: str | None = None) -> Path:
    """Return ``path`` if it is a readable file that starts like a GGUF model, else raise ModelError.

    ``name``: what the message calls a file that is not GGUF (default: its path)."""
    p = Path(path).expanduser()
    if not p.exists() and not p.is_symlink():
        raise ModelError(f"Model file {p} does not exist.")
    check_file(p, "model file (GGUF)", ModelError)  # a folder, a pipe or a device is named as such
    try:
        with p.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelError(f"Model file {p} cannot be read ({exc.strerror or exc.__class__.__name__}).") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(f"{name or p} is not a GGUF model file.")
    return p


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _hash_key(path: Path) -> tuple[str, dict[str, int]]:
    st = path.stat()
    return str(path.resolve()), {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_hash_cache(cache_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((cache_dir / HASH_CACHE_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # a lost cache only costs one re-hash


def remember_sha256(path: Path, sha256: str, cache_dir: Path) -> None:
    """Record a file's hash, keyed by (path, size, mtime), so that it is not hashed again."""
    key, stamp = _hash_key(path)
    data = _read_hash_cache(cache_dir)
    data[key] = {**stamp, "sha256": sha256}
    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(cache_dir / HASH_CACHE_FILE, json.dumps(data))


def cached_sha256(path: Path, cache_dir: Path) -> str:
    """SHA-256 of a model file, computed once per (path, size, mtime): hashing 800 MB takes seconds."""
    key, stamp = _hash_key(path)
    hit = _read_hash_cache(cache_dir).get(key)
    if isinstance(hit, dict) and all(hit.get(k) == v for k, v in stamp.items()) and hit.get("sha256"):
        return str(hit["sha256"])
    sha = file_sha256(path)
    try:
        remember_sha256(path, sha, cache_dir)
    except OSError:
        pass  # read-only cache folder: correct, just slower next time
    return sha


def default_threads() -> int:
    """CPU threads for llama.cpp: the cores this process may use, halved on big SMT machines."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n = os.cpu_count() or 1
    # Token generation is memory-bound: hyper-threads add contention, not speed.
    return n if n <= 4 else max(4, n // 2)


def chat_tokens(llama: Any, messages: list[dict[str, str]]) -> list[int]:
    """The chat prompt of ``messages`` as tokens, ending where the assistant's answer starts.

    The GGUF's own chat template is used when it has one. Gemma files without one get Gemma's turns,
    with the system text at the head of the first user turn (Gemma has no system role); others ChatML.
    """
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if template:
        eos = llama.detokenize([llama.token_eos()]).decode("utf-8", "replace")
        bos = llama.detokenize([llama.token_bos()]).decode("utf-8", "replace")
        out = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)(messages=messages)
        return llama.tokenize(out.prompt.encode("utf-8"), add_bos=not out.added_special, special=True)
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] != "system"]
    if str(llama.metadata.get("general.architecture", "")).startswith("gemma"):
        text = ""
        for i, m in enumerate(turns):
            content = f"{system}\n\n{m['content']}" if i == 0 and system else m["content"]
            role = "model" if m["role"] == "assistant" else "user"
            text += f"<start_of_turn>{role}\n{content}<end_of_turn>\n"
        text += "<start_of_turn>model\n"
    else:
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        text += "<|im_start|>assistant\n"
    return llama.tokenize(text.encode("utf-8"), add_bos=True, special=True)


def _backend(llama_cpp: Any, offloaded: bool) -> str:
    if not offloaded:
        return "CPU"
    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace").upper()
    for key, name in (("CUDA", "CUDA"), ("METAL", "Metal"), ("MTL", "Metal"), ("VULKAN", "Vulkan"),
                      ("HIP", "ROCm"), ("SYCL", "SYCL")):
        if key in info:
            return name
    return "Metal" if sys.platform == "darwin" else "GPU"


class LlamaRuntime:
    """One loaded model. Calls run one at a time on the runtime's own worker thread."""

    def __init__(self, llama: Any, path: Path, *, backend: str, load_seconds: float, seed: int,
                 cache_dir: Path) -> None:
        self.path, self.name, self.backend, self.load_seconds = path, path.stem, backend, load_seconds
        self.seed, self.last_call = seed, None
        self._llama, self._cache_dir, self._sha256 = llama, cache_dir, None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medcoder-llm")
        self._lock = threading.Lock()
        self._closed = False
        self._cancel: threading.Event | None = None
        self._first_eval: int | None = None
        self._install_eval_hook(llama)
        # Free the model before the interpreter tears its modules down: llama-cpp-python's __del__ run
        # that late finds its ctypes functions gone ("'NoneType' object is not callable").
        ref = weakref.ref(self)
        atexit.register(lambda: (rt := ref()) is not None and rt.close())

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, n_ctx: int = 4096, threads: int | None = None,
             gpu_layers: int | None = None, seed: int = 0, cache_dir: Path | None = None) -> "LlamaRuntime":
        """Load a GGUF model; ``gpu_layers=None`` offloads every layer when a GPU backend exists.

        Raises:
            ModelError: the file is missing, unreadable, not GGUF, or llama.cpp cannot load it.
        """
        p = check_gguf(path)
        llama_cpp = import_llama()  # imported here: the CLI's other commands should not pay for it

        gpu = bool(llama_cpp.llama_supports_gpu_offload())
        n_gpu = -1 if gpu and gpu_layers is None else (gpu_layers or 0)
        n_threads = threads or default_threads()
        start = time.perf_counter()
        try:
            llama = llama_cpp.Llama(model_path=str(p), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                                    n_gpu_layers=n_gpu, seed=seed, verbose=False)
        except Exception as exc:  # llama.cpp reports every load failure as a bare ValueError
            raise ModelError(f"Model file {p} could not be loaded: corrupt or unsupported "
                             f"({exc.__class__.__name__}).") from exc
        if cache_dir is None:
            from medcoder_desktop.paths import AppPaths

            cache_dir = AppPaths.default().cache_dir
        return cls(llama, p, backend=_backend(llama_cpp, gpu and n_gpu != 0),
                   load_seconds=time.perf_counter() - start, seed=seed, cache_dir=cache_dir)

    @property
    def sha256(self) -> str:
        """The model file's SHA-256, computed on first use and cached on disk."""
        if self._sha256 is None:
            self._sha256 = cached_sha256(self.path, self._cache_dir)
        return self._sha256

    @property
    def closed(self) -> bool:
        return self._closed

    def _install_eval_hook(self, llama: Any) -> None:
        # ``Llama.generate`` decodes the uncached prompt tail with one ``self.eval`` call and then each
        # sampled token with another: the one place to count cache reuse and to stop between tokens.
        original = llama.eval

        def eval_sliced(tokens: Any) -> None:
            tokens = list(tokens)
            if self._first_eval is None:
                self._first_eval = len(tokens)
            for i in range(0, max(len(tokens), 1), EVAL_SLICE):
                if self._closed or (self._cancel is not None and self._cancel.is_set()):
                    raise Cancelled("The model call was cancelled.")
                original(tokens[i:i + EVAL_SLICE])

        llama.eval = eval_sliced

    def submit(self, fn: Callable[..., Any], *args: Any) -> "Future[Any]":
        """Run ``fn(llama, *args)`` on the model thread, after any call already queued.

        Raises:
            ModelError: the runtime has been closed.
        """
        with self._lock:
            if self._closed:
                raise ModelError(f"The model {self.name} has been closed; load it again.")
            return self._executor.submit(fn, self._llama, *args)

    def chat_json(self, messages: list[dict[str, str]], schema: dict[str, Any], *, max_tokens: int = 128,
                  cancel: threading.Event | None = None) -> tuple[dict[str, Any] | None, str]:
        """Ask for one JSON object constrained by ``schema`` (temperature 0) and wait for it.

        Returns:
            The parsed object, or None when the text is not a JSON object, and the raw text.

        Raises:
            Cancelled: ``cancel`` was set (or the runtime closed) before the answer was complete.
            ModelError: the runtime is closed or the model call failed.
        """
        future = self.submit(self._chat_json, messages, schema, max_tokens, cancel)
        try:
            return future.result()
        except CancelledError:  # queued work dropped by close()
            raise Cancelled("The model call was cancelled: the model was closed.") from None

    def _chat_json(self, llama: Any, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int,
                   cancel: threading.Event | None) -> tuple[dict[str, Any] | None, str]:
        self._cancel, self._first_eval = cancel, None
        start = time.perf_counter()
        try:
            if cancel is not None and cancel.is_set():
                raise Cancelled("The model call was cancelled.")
            out = llama.create_chat_completion(
                messages=messages, response_format={"type": "json_object", "schema": schema},
                temperature=0, max_tokens=max_tokens, seed=self.seed)
        except MedcoderError:
            raise
        except Exception as exc:
            # Exception texts may quote generated text, which may quote the note: keep only what is safe.
            hint = " (the prompt is longer than the model's context)" if "context window" in str(exc) else ""
            raise ModelError(f"The model call failed: {exc.__class__.__name__}{hint}.") from None
        finally:
            self._cancel = None
        text = out["choices"][0]["message"].get("content") or ""
        usage = out.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens", 0))
        self.last_call = CallStats(prompt_tokens, min(self._first_eval or 0, prompt_tokens),
                                   int(usage.get("completion_tokens", 0)), time.perf_counter() - start)
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        return (parsed if isinstance(parsed, dict) else None), text

    def choose_json(self, messages: list[dict[str, str]], slots: "list[Slot]", *,
                    cancel: threading.Event | None = None) -> "EnumAnswer":
        """Ask for one JSON object whose values each come from their slot's options, and wait for it.

        Only the places where the options part cost a model step; the rest of the answer is decoded in
        batches (core/engine/enum_decoding.py). Sets ``last_call``.

        Raises:
            Cancelled: ``cancel`` was set (or the runtime closed) before the answer was complete.
            ModelError: the runtime is closed, the prompt does not fit, or the model call failed.
        """
        future = self.submit(self._choose_json, messages, slots, cancel)
        try:
            return future.result()
        except CancelledError:
            raise Cancelled("The model call was cancelled: the model was closed.") from None

    def _choose_json(self, llama: Any, messages: list[dict[str, str]], slots: "list[Slot]",
                     cancel: threading.Event | None) -> "EnumAnswer":
        from medcoder_desktop.core.engine.enum_decoding import decode_enum_json

        def check() -> None:
            if self._closed or (cancel is not None and cancel.is_set()):
                raise Cancelled("The model call was cancelled.")

        start = time.perf_counter()
        try:
            prompt = chat_tokens(llama, messages)
            # Where this prompt starts to differ from one with another last message: the shared prefix.
            other = chat_tokens(llama, [*messages[:-1], {**messages[-1], "content": "\x01"}])
            shared = next((i for i, (a, b) in enumerate(zip(prompt, other)) if a != b), 0)
            answer = decode_enum_json(llama, prompt, slots, fixed_prefix=shared, check=check)
        except MedcoderError:
            raise
        except Exception as exc:  # texts of llama.cpp errors may quote the prompt: keep only the kind
            raise ModelError(f"The model call failed: {exc.__class__.__name__}.") from None
        self.last_call = CallStats(answer.prompt_tokens, answer.prompt_evaluated, answer.answer_tokens,
                                   time.perf_counter() - start)
        return answer

    def close(self) -> None:
        """Stop the running call at its next token, drop queued ones and free the model. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        llama, self._llama = self._llama, None
        if hasattr(llama, "close"):
            llama.close()

    def __enter__(self) -> "LlamaRuntime":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
