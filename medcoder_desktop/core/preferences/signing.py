"""Keys that sign preference packs and keys this workstation trusts (Ed25519, ``cryptography``).

Why Ed25519 signatures rather than an HMAC with an organization key: with an HMAC, every workstation
that can check a pack holds the secret that makes one, so any workstation (or anyone who copies its
configuration) could forge a pack the others accept, and the shared secret would have to be handed to
every machine and would leak with any of them. With Ed25519 only the administrator's workstation holds
the private key; the others hold public keys, which verify and cannot sign, so a stolen workstation
cannot forge packs and there is no shared secret to distribute or leak. A key is named by its
fingerprint, ``sha256:`` and the hex SHA-256 of the raw 32-byte public key, which a person can read out
and compare (``prefs key list``) before trusting it.

Files (config folder, owner-only): ``prefs_signing_key.pem`` (PKCS#8, the administrator's private key)
and ``prefs_trusted_keys.json`` (the trusted public keys). Exported public keys are PEM files.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from medcoder_desktop.core import private_files
from medcoder_desktop.core.clock import now
from medcoder_desktop.core.textfile import check_file
from medcoder_desktop.errors import PreferencesError, StorageError
from medcoder_desktop.paths import AppPaths

KEY_FILE = "prefs_signing_key.pem"
TRUST_FILE = "prefs_trusted_keys.json"
MAX_KEY_FILE_BYTES = 16 * 1024


class TrustedKey(BaseModel):
    fingerprint: str
    public_key: str  # base64 of the raw 32-byte Ed25519 public key
    label: str = ""
    added: str = ""


class TrustFile(BaseModel):
    schema_version: int = 1
    keys: list[TrustedKey] = Field(default_factory=list)


def fingerprint(raw_public: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw_public).hexdigest()


def canonical(obj: Any) -> bytes:
    """The bytes a signature covers: JSON with sorted keys, no spaces, ASCII only."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def save_preferences_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by its owner only (``core.private_files``).

    Raises:
        PreferencesError: the folder is missing.
        StorageError: the folder cannot be written (read-only, no permission) or the disk is full.
    """
    if not path.parent.is_dir():
        raise PreferencesError(f"{path.parent}: no such folder.")
    try:
        private_files.write_private(path, data)
    except OSError as exc:
        raise StorageError(f"{path} cannot be written ({exc.strerror}): the disk is full, or the folder is "
                           "read-only or not yours. Nothing was changed.") from exc


def raw_public_key(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is the Ed25519 signature of ``message`` by ``public_key_b64``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
        key.verify(base64.b64decode(signature_b64, validate=True), message)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


class KeyRing:
    """This workstation's signing key (if it is the administrator's) and the public keys it trusts."""

    def __init__(self, paths: AppPaths):
        self.paths = paths
        self.key_path = paths.config_dir / KEY_FILE
        self.trust_path = paths.config_dir / TRUST_FILE

    # -- the signing key -------------------------------------------------------------------------
    def has_signing_key(self) -> bool:
        return self.key_path.is_file()

    def create(self, *, force: bool = False, label: str = "") -> TrustedKey:
        """Make this workstation's signing key (it trusts its own public key at once).

        Raises:
            PreferencesError: a key exists already and ``force`` is not set.
        """
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if self.has_signing_key() and not force:
            raise PreferencesError(f"This workstation has a signing key already ({self.key_path}). Packs signed "
                                   "with a new key are refused until the other workstations trust it: pass --force "
                                   "only if that is what you want.")
        self.paths.ensure()
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        save_preferences_file(self.key_path, pem)
        return self.trust_raw(raw_public_key(key.public_key()), label or "this workstation's signing key")

    def signing_key(self):
        """The private key. Raises PreferencesError when this workstation has none or it is unreadable."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if not self.has_signing_key():
            raise PreferencesError("This workstation has no signing key, so it cannot sign a pack. On the "
                                   "administrator's workstation run `medcoder prefs key create` first.")
        try:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise PreferencesError(f"The signing key {self.key_path} cannot be read ({exc}).") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise PreferencesError(f"{self.key_path} is not an Ed25519 key.")
        return key

    def own(self) -> TrustedKey:
        raw = raw_public_key(self.signing_key().public_key())
        return TrustedKey(fingerprint=fingerprint(raw), public_key=base64.b64encode(raw).decode("ascii"),
                          label="this workstation's signing key")

    def sign(self, message: bytes) -> tuple[TrustedKey, str]:
        """This workstation's public key and its signature of ``message`` (base64)."""
        key = self.signing_key()
        raw = raw_public_key(key.public_key())
        signer = TrustedKey(fingerprint=fingerprint(raw), public_key=base64.b64encode(raw).decode("ascii"))
        return signer, base64.b64encode(key.sign(message)).decode("ascii")

    def export_public(self, path: Path) -> TrustedKey:
        """Write this workstation's public key as a PEM file for the other workstations to trust."""
        from cryptography.hazmat.primitives import serialization

        pem = self.signing_key().public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)
        save_preferences_file(Path(path).expanduser().resolve(), pem)
        return self.own()

    # -- trusted keys ----------------------------------------------------------------------------
    def trusted(self) -> list[TrustedKey]:
        if not self.trust_path.is_file():
            return []
        try:
            return TrustFile.model_validate_json(self.trust_path.read_bytes()).keys
        except (OSError, ValidationError, ValueError) as exc:
            raise PreferencesError(f"The list of trusted keys {self.trust_path} is damaged ({type(exc).__name__}); "
                                   "move it aside and trust the keys again.") from None

    def is_trusted(self, fp: str) -> bool:
        return any(k.fingerprint == fp for k in self.trusted())

    def trust_file(self, path: Path, label: str = "") -> TrustedKey:
        """Trust the public key in a PEM file (from `prefs key export`).

        Raises:
            PreferencesError: not a readable Ed25519 public key.
        """
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        path = Path(path)
        if check_file(path, "public key file", PreferencesError) > MAX_KEY_FILE_BYTES:
            raise PreferencesError(f"{path} is too large to be a public key.")
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except (ValueError, TypeError, OSError):
            raise PreferencesError(f"{path} is not a public key file (expected the PEM file that "
                                   "`medcoder prefs key export` writes).") from None
        if not isinstance(key, Ed25519PublicKey):
            raise PreferencesError(f"{path} holds a public key of another kind: packs are signed with Ed25519.")
        return self.trust_raw(raw_public_key(key), label or path.name)

    def trust_raw(self, raw: bytes, label: str) -> TrustedKey:
        fp = fingerprint(raw)
        keys = self.trusted()
        for k in keys:
            if k.fingerprint == fp:
                return k
        entry = TrustedKey(fingerprint=fp, public_key=base64.b64encode(raw).decode("ascii"), label=label[:200],
                           added=now())
        self._save(keys + [entry])
        return entry

    def untrust(self, fp: str) -> TrustedKey:
        """Stop trusting a key, named by its fingerprint (or an unambiguous start of it, 8 characters or more)."""
        fp = fp.strip().lower()
        keys = self.trusted()
        hits = [k for k in keys if len(fp.removeprefix("sha256:")) >= 8
                and k.fingerprint.removeprefix("sha256:").startswith(fp.removeprefix("sha256:"))]
        if len(hits) != 1:
            raise PreferencesError(f"No single trusted key has the fingerprint {fp!r}; see `medcoder prefs key list`.")
        self._save([k for k in keys if k is not hits[0]])
        return hits[0]

    def _save(self, keys: list[TrustedKey]) -> None:
        self.paths.ensure()
        save_preferences_file(self.trust_path, (TrustFile(keys=keys).model_dump_json(indent=2) + "\n").encode("utf-8"))
