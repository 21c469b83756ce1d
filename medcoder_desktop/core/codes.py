"""Codes as the coder types them and as the code sets compare them."""

from __future__ import annotations


def typed_code(code: str) -> str:
    """A code as a coder types it, upper-cased and without spaces (the dot is optional in lookups)."""
    return code.strip().upper().replace(" ", "")


def undotted(code: str) -> str:
    """A code without its dot, upper-cased: the form the CMS files and the grouper compare."""
    return code.replace(".", "").strip().upper()
