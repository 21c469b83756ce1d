"""Greedy decoding of a JSON object whose every value is one of a few fixed strings (an enum).

The answers the product asks for have this shape: ``{"1": "E11.65", "2": "none", "first": "I10"}``. Under
a JSON-schema grammar llama.cpp samples such an answer one token at a time, although almost every token
of it is fixed by the schema: the braces, the keys, the quotes and, once two candidates part, the rest of
a code. Here the fixed runs are decoded in one batch each (prompt speed, not generation speed) and the
model is consulted only where the allowed continuations part: the argmax over the allowed tokens is
taken there, which is what grammar-constrained greedy sampling picks too. The softmax over the allowed
tokens at those points gives each option a probability, which calibration uses.

Works on a ``llama_cpp.Llama`` through its public ``tokenize``/``eval``/``n_tokens`` and the context's
last logits, so llama.cpp's KV cache keeps serving a shared prompt prefix between calls.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medcoder_desktop.errors import ModelError


@dataclass(frozen=True)
class Slot:
    """One key of the answer and the strings its value may take."""

    key: str
    options: tuple[str, ...]


@dataclass
class EnumAnswer:
    """The decoded answer, each slot's option probabilities, and its token accounting."""

    values: dict[str, str]
    probabilities: dict[str, dict[str, float]]
    text: str
    prompt_tokens: int = 0
    prompt_evaluated: int = 0  # prompt tokens decoded; the rest came from the KV cache
    answer_tokens: int = 0  # tokens of the answer (what a sampler would have generated)
    model_steps: int = 0  # positions where the model chose among options
    forced_tokens: int = 0  # answer tokens fixed by the schema, decoded in batches
    log: list[str] = field(default_factory=list)


def schema_of(slots: Sequence[Slot]) -> dict[str, Any]:
    """The JSON schema the decoded answers satisfy: each key required, each value from its enum."""
    return {"type": "object",
            "properties": {s.key: {"type": "string", "enum": list(s.options)} for s in slots},
            "required": [s.key for s in slots], "additionalProperties": False}


def _logits(llama: Any) -> np.ndarray:
    ptr = llama._ctx.get_logits()  # the last evaluated position's logits (llama-cpp-python keeps no copy)
    return np.ctypeslib.as_array(ptr, shape=(llama.n_vocab(),))


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def decode_enum_json(llama: Any, prompt: Sequence[int], slots: Sequence[Slot], *, fixed_prefix: int = 0,
                     check: Callable[[], None] = lambda: None, n_ctx: int | None = None) -> EnumAnswer:
    """Decode ``{"<key>": "<option>", ...}`` for ``slots`` after the token list ``prompt``.

    ``fixed_prefix``: the prompt's first tokens that every call shares (the system prompt). At most these
    are taken from the KV cache, and when they are not there they are evaluated as a batch of their own, so
    that every call splits its evaluation the same way and the same prompt gets the same probabilities.
    ``check`` is called before every evaluation (it raises to stop: cancellation).

    Raises:
        ModelError: the prompt and answer do not fit the model's context.
    """
    if not slots or any(not s.options for s in slots):
        raise ValueError("every slot needs at least one option")

    def tok(text: str) -> list[int]:
        return llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    prompt = list(prompt)
    limit = n_ctx or llama.n_ctx()
    worst = sum(len(tok(json.dumps(s.key))) + max(len(tok(o)) for o in s.options) + 4 for s in slots)
    if len(prompt) + worst + 2 > limit:
        raise ModelError("The model call failed: ValueError (the prompt is longer than the model's context).")
    fixed_prefix = max(0, min(fixed_prefix, len(prompt) - 1))
    cached = _common_prefix(prompt, llama.input_ids[: llama.n_tokens].tolist())
    keep = fixed_prefix if cached >= fixed_prefix else 0
    llama.n_tokens = keep
    if keep < fixed_prefix:
        check()
        llama.eval(prompt[:fixed_prefix])
        keep = fixed_prefix
    ans = EnumAnswer(values={}, probabilities={}, text="", prompt_tokens=len(prompt),
                     prompt_evaluated=len(prompt) - (fixed_prefix if cached >= fixed_prefix else 0))
    pending = prompt[keep:]
    text = "{"
    for i, slot in enumerate(slots):
        fixed = ("{" if i == 0 else ", ") + json.dumps(slot.key) + ": \""
        text += fixed[1:] if i == 0 else fixed
        forced = tok(fixed)
        pending += forced
        ans.forced_tokens += len(forced)
        ans.answer_tokens += len(forced)
        value, probs, steps, n_tokens, tail = _choose(llama, tok, slot.options, pending, check)
        pending = tail
        ans.model_steps += steps
        ans.answer_tokens += n_tokens
        ans.forced_tokens += n_tokens - steps
        ans.values[slot.key] = value
        ans.probabilities[slot.key] = probs
        text += value + "\""
    closing = tok("\"}")
    ans.answer_tokens += len(closing) - 1  # the slot's closing quote was counted with its option
    ans.text = text + "}"
    return ans


def _choose(llama: Any, tok: Callable[[str], list[int]], options: Sequence[str], pending: list[int],
            check: Callable[[], None]) -> tuple[str, dict[str, float], int, int, list[int]]:
    """Walk the options' token trie from ``pending`` (tokens not yet evaluated).

    Returns the chosen option, each option's probability, the model's decision steps, the option's
    token count, and the tokens still to evaluate (the chosen option's forced tail)."""
    seqs = {o: tok(o) for o in options}
    alive = list(options)
    depth = 0
    steps = 0
    prob = {o: 1.0 for o in options}
    while True:
        nexts = {}
        for o in alive:
            if depth < len(seqs[o]):
                nexts.setdefault(seqs[o][depth], []).append(o)
        ended = [o for o in alive if depth >= len(seqs[o])]
        if ended:  # an option is a token-prefix of another: take the shorter (the grammar's close quote)
            return ended[0], _finish(prob, ended[0], options), steps, len(seqs[ended[0]]), pending
        if len(nexts) == 1:
            (t, group), = nexts.items()
            pending.append(t)
            alive = group
            depth += 1
            continue
        check()
        if pending:
            llama.eval(pending)
        pending = []
        logits = _logits(llama)
        allowed = list(nexts)
        z = np.array([logits[t] for t in allowed], dtype=np.float64)
        z = np.exp(z - z.max())
        z /= z.sum()
        best = int(np.argmax(z))
        for t, p in zip(allowed, z):
            for o in nexts[t]:
                prob[o] *= float(p)
        steps += 1
        t = allowed[best]
        pending.append(t)
        alive = nexts[t]
        depth += 1
        if len(alive) == 1:
            o = alive[0]
            pending.extend(seqs[o][depth:])
            return o, _finish(prob, o, options), steps, len(seqs[o]), pending


def _finish(prob: dict[str, float], chosen: str, options: Sequence[str]) -> dict[str, float]:
    """Options off the greedy path keep the mass of the branch they left on; normalised to sum to 1."""
    total = sum(prob.values()) or 1.0
    return {o: round(prob[o] / total, 4) if math.isfinite(prob[o]) else 0.0 for o in options}
