"""The preferences pack: a signed, versioned JSON file that carries an organization's preferences.

Layout (``schema_version`` 1)::

    {"format": "medcoder-preferences-pack", "schema_version": 1,
     "payload": {"metadata": {organization, author, created, app_version, code_sets, counts},
                 "rules": [...], "sources": [...]},
     "signature": {"algorithm": "Ed25519", "signer": "sha256:...", "public_key": base64, "value": base64}}

The signature covers the canonical serialization (``signing.canonical``) of everything but
``signature``. The file itself is written in one canonical layout too (sorted keys, one-space indent,
ASCII) and must be found in it on import: so any changed byte, even a space, makes the pack refused.

Reading checks, in order: size, UTF-8, JSON, format and schema_version, signature and layout, the
signer's trust, then the pydantic schema. Nothing of the pack is used before all of them pass.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medcoder_desktop.core.preferences.model import LearnedSource, Rule
from medcoder_desktop.core.preferences.signing import KeyRing, TrustedKey, canonical, fingerprint, verify
from medcoder_desktop.errors import PreferencesError, UntrustedSignerError

PACK_FORMAT = "medcoder-preferences-pack"
PACK_SCHEMA_VERSION = 1
MAX_PACK_BYTES = 20 * 1024 * 1024


class PackMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization: str = Field(min_length=1, max_length=200)
    author: str = Field(default="", max_length=200)
    created: str
    app_version: str = ""
    code_sets: dict[str, str] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)


class PackPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metadata: PackMetadata
    rules: list[Rule] = Field(default_factory=list, max_length=5000)
    sources: list[LearnedSource] = Field(default_factory=list, max_length=1000)


class PackSignature(BaseModel):
    model_config = ConfigDict(extra="forbid")

    algorithm: Literal["Ed25519"]
    signer: str
    public_key: str
    value: str


def layout(doc: dict) -> bytes:
    """The one layout a pack file is written in."""
    return (json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")


def build_pack(payload: PackPayload, keys: KeyRing) -> tuple[bytes, TrustedKey]:
    """The signed pack file's bytes, and the signer."""
    body = {"format": PACK_FORMAT, "schema_version": PACK_SCHEMA_VERSION,
            "payload": payload.model_dump(mode="json")}
    signer, value = keys.sign(canonical(body))
    doc = {**body, "signature": {"algorithm": "Ed25519", "signer": signer.fingerprint,
                                 "public_key": signer.public_key, "value": value}}
    return layout(doc), signer


def _refuse(path: Path, why: str) -> PreferencesError:
    return PreferencesError(f"The preferences pack {path.name} was refused: {why} Nothing was changed.")


def read_pack(path: Path, keys: KeyRing, *, trust_signer: bool = False) -> tuple[PackPayload, TrustedKey, bytes]:
    """A pack's payload once every check has passed, its signer, and the file's bytes.

    A signer that is not trusted is refused unless ``trust_signer`` (the key is then returned, not yet
    recorded: the caller records it once the import has succeeded).

    Raises:
        PreferencesError: too large, not JSON, not a pack, another schema version, a bad signature (the
            pack was changed after signing), an untrusted signer, or content that breaks the schema.
    """
    path = Path(path)
    if not path.is_file():
        raise PreferencesError(f"{path}: no such file.")
    size = path.stat().st_size
    if size > MAX_PACK_BYTES:
        raise _refuse(path, f"it has {size / 2**20:.1f} MB, more than the {MAX_PACK_BYTES / 2**20:g} MB a pack "
                            "may have.")
    with path.open("rb") as fh:
        data = fh.read(MAX_PACK_BYTES + 1)
    if len(data) > MAX_PACK_BYTES:
        raise _refuse(path, f"it is larger than the {MAX_PACK_BYTES / 2**20:g} MB a pack may have.")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _refuse(path, "it is not text (not UTF-8): it is damaged or not a pack.") from None
    except json.JSONDecodeError as exc:
        raise _refuse(path, f"it is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); it is "
                            "damaged or was changed.") from None
    except RecursionError:
        raise _refuse(path, "its JSON is nested too deeply to be a pack.") from None
    if not isinstance(doc, dict) or doc.get("format") != PACK_FORMAT:
        raise _refuse(path, "it is not a medcoder preferences pack.")
    version = doc.get("schema_version")
    if version != PACK_SCHEMA_VERSION:
        newer = isinstance(version, int) and not isinstance(version, bool) and version > PACK_SCHEMA_VERSION
        raise _refuse(path, f"it has schema version {version!r}; this medcoder reads version {PACK_SCHEMA_VERSION}"
                            + (": update medcoder to import it." if newer else "."))
    try:
        sig = PackSignature.model_validate(doc.get("signature"))
    except ValidationError:
        raise _refuse(path, "it carries no valid Ed25519 signature.") from None
    try:
        raw = base64.b64decode(sig.public_key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or fingerprint(raw) != sig.signer:
        raise _refuse(path, "its signer's key does not match the fingerprint it names: it was changed after signing.")
    body = {k: v for k, v in doc.items() if k != "signature"}
    try:
        message = canonical(body)
    except ValueError:
        raise _refuse(path, "it holds numbers JSON cannot carry (NaN or infinity).") from None
    if not verify(sig.public_key, message, sig.value):
        raise _refuse(path, "its signature does not match its content: it was changed after it was signed "
                            "(or damaged on the way). Ask for a fresh copy.")
    if layout(doc) != data:
        raise _refuse(path, "its bytes are not laid out as they were signed: it was edited after signing. "
                            "Ask for a fresh copy.")
    signer = next((k for k in keys.trusted() if k.fingerprint == sig.signer), None)
    if signer is None:
        if not trust_signer:
            refused = _refuse(path, f"it is signed by a key this workstation does not trust ({sig.signer}). "
                                    "Check that fingerprint with the administrator, then run `medcoder prefs trust "
                                    "KEYFILE` or import again with --trust-signer.")
            raise UntrustedSignerError(str(refused), sig.signer)
        signer = TrustedKey(fingerprint=sig.signer, public_key=sig.public_key, label="")
    try:
        payload = PackPayload.model_validate(doc.get("payload"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise _refuse(path, f"its content does not follow the pack schema ({where}: {first['msg']}).") from None
    return payload, signer, data
