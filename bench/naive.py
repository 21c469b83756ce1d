"""The naive baseline: the same model asked for a note's codes with no dictionary to choose from.

This is what "just ask an LLM for codes" does. The answer is constrained only to look like
ICD-10-CM codes (a regular expression), so the model may write codes that do not exist; those are
counted as invalid by the evaluation.
"""

from __future__ import annotations

CODE_PATTERN = r"^[A-TV-Z][0-9][0-9A-Z]([.][0-9A-Z]{1,4})?$"  # "\." crashes llama.cpp's grammar parser
MAX_NOTE_CHARS = 6000  # the note is cut to fit the context window with room for the answer
SCHEMA = {
    "type": "object",
    "properties": {"codes": {"type": "array", "items": {"type": "string", "pattern": CODE_PATTERN},
                             "maxItems": 12}},
    "required": ["codes"],
}
SYSTEM = ("You are a certified medical coder. Read the clinical note and list the ICD-10-CM diagnosis codes "
          "that should be assigned to it, most important first. Reply with JSON {\"codes\": [\"...\"]}.")


def naive_codes(runtime, note: str) -> list[str]:
    """The codes the model writes for ``note`` on its own (may include codes that do not exist)."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": note[:MAX_NOTE_CHARS]}]
    obj, _raw = runtime.chat_json(messages, SCHEMA, max_tokens=160)
    codes = obj.get("codes", []) if obj else []
    seen: list[str] = []
    for c in codes:
        if isinstance(c, str) and c.strip().upper() not in seen:
            seen.append(c.strip().upper())
    return seen
