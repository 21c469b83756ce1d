"""The preferences pack: a signed, versioned JSON file that carries an organization's preferences.

Layout (``schema_version`` 2)::

    {"format": "medcoder-preferences-pack", "schema_version": 2,
     "payload": {"metadata": {organization, author, created, issued_at, sequence, app_version, code_sets,
                              counts},
                 "rules": [...], "sources": [...]},
     "signature": {"algorithm": "Ed25519", "signer": "sha256:...", "public_key": base64, "value": base64}}

The signature covers the canonical serialization (``signing.canonical``) of everything but
``signature``. The file itself is written in one canonical layout too (sorted keys, one-space indent,
ASCII) and must be found in it on import: so any changed byte, even a space, makes the pack refused.

Replays: each pack carries its issue time and a sequence number that its signer's workstation counts up.
A workstation remembers the newest pack it imported from each signer and refuses an older one, so a
pack an administrator has since replaced cannot bring back a rule they removed. Version 1 packs had
neither and are refused with a message that asks for a fresh export. Packs hold no note text: learned
wordings are dictionary vocabulary (``privacy.py``).

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

from medcoder_desktop.core.models import Rule
from medcoder_desktop.core.preferences.records import LearnedSource, SignerMark
from medcoder_desktop.core.preferences.rules import self_contradiction
from medcoder_desktop.core.preferences.signing import KeyRing, TrustedKey, canonical, fingerprint, verify
from medcoder_desktop.core.textfile import check_file
from medcoder_desktop.errors import PreferencesError, UntrustedSignerError

PACK_FORMAT = "medcoder-preferences-pack"
PACK_SCHEMA_VERSION = 2
MAX_PACK_BYTES = 20 * 1024 * 1024


class PackMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization: str = Field(min_length=1, max_length=200)
    author: str = Field(default="", max_length=200)
    created: str
    issued_at: str = Field(min_length=1, max_length=40)  # UTC, ISO 8601 with microseconds
    sequence: int = Field(ge=1)  # counted per signer by the workstation that signed it
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
    size = check_file(path, "preferences pack", PreferencesError)  # a folder, a pipe, a device: said so
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
        if version == 1:
            raise _refuse(path, "it has schema version 1, made by an older medcoder without issue numbers (an old "
                                "pack could be replayed over a newer one). Ask the administrator to export it again "
                                f"with this version of medcoder (schema version {PACK_SCHEMA_VERSION}).")
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
    for rule in payload.rules:
        why = self_contradiction(rule)
        if why:
            raise _refuse(path, f"{why}.")
    return payload, signer, data


def check_not_replayed(path: Path, meta: PackMetadata, signer: str, newest: SignerMark | None, sha256: str) -> None:
    """Refuse a pack older than the newest one imported from the same signer (or another pack with its number).

    Raises:
        PreferencesError: naming both packs and which is newer.
    """
    if newest is None:
        return
    this = f"this pack is number {meta.sequence}, issued {meta.issued_at}"
    other = f"number {newest.sequence}, issued {newest.issued_at}"
    if meta.sequence < newest.sequence:
        raise _refuse(path, f"it is older than a pack already imported from the same signer: {this}; the one "
                            f"imported is {other}, which is newer. An old pack cannot replace a newer one.")
    if meta.sequence == newest.sequence and sha256 != newest.sha256:
        raise _refuse(path, f"{this}, but another pack with the same number from the same signer was imported "
                            f"({other}); the signer never issues a number twice. Ask for a fresh export.")
