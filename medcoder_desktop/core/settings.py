"""The user's settings: one small JSON file in the config folder, written atomically and owner-only."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medcoder_desktop.core.private_files import write_private
from medcoder_desktop.errors import SettingsError
from medcoder_desktop.paths import AppPaths

SCHEMA_VERSION = 1
SETTINGS_FILE = "settings.json"


class Settings(BaseModel):
    """What a user (or an IT department) can set.

    Attributes:
        model_path: GGUF file to use; "none" for retrieval only (no model); None lets the model manager choose.
        threads: CPU threads for the model; None means one per core.
        gpu_layers: layers to offload; None means all of them when a GPU backend exists, else 0.
        default_setting: the encounter setting new notes start with.
        confidence_threshold: suggestions below it are listed but not suggested; None means the
            threshold chosen on development data (resources/calibration.json).
        user_name: recorded with decisions in the audit log.
    """

    # Unknown keys are ignored so that a file written by a later minor version still loads.
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    schema_version: int = SCHEMA_VERSION
    model_path: str | None = None
    threads: int | None = Field(default=None, ge=1, le=512)
    gpu_layers: int | None = Field(default=None, ge=0)
    default_setting: Literal["outpatient", "inpatient"] = "outpatient"
    confidence_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    user_name: str | None = Field(default=None, max_length=200)


def settings_file(paths: AppPaths) -> Path:
    """Where the settings live for these folders."""
    return paths.config_dir / SETTINGS_FILE


def load_settings(paths: AppPaths) -> Settings:
    """Read the settings, or the defaults when there is no settings file yet.

    Raises:
        SettingsError: the file is unreadable, not JSON, or holds unusable values.
    """
    path = settings_file(paths)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"The settings file {path} cannot be read ({exc.__class__.__name__}). "
                            "Fix its permissions or delete it to return to the defaults.") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"The settings file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}). "
                            "Fix it or delete it to return to the defaults.") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"The settings file {path} must hold one JSON object. "
                            "Fix it or delete it to return to the defaults.")
    version = data.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise SettingsError(f"The settings file {path} was written by a newer medcoder (schema {version}). "
                            "Update medcoder or delete the file.")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        # Name the fields only: the values may be anything a user typed.
        fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()}))
        raise SettingsError(f"The settings file {path} has unusable values for: {fields}. "
                            "Fix them or delete the file to return to the defaults.") from None


def save_settings(paths: AppPaths, settings: Settings) -> Path:
    """Write the settings atomically (temp file + rename), readable by their owner only.

    Returns:
        The settings file's path.
    """
    path = settings_file(paths)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = settings.model_dump_json(indent=2) + "\n"
    write_private(path, text)
    return path


def resolve_user(user: str | None) -> str:
    """The configured user name when given, else the operating-system user."""
    if user and user.strip():
        return user.strip()
    try:
        return getpass.getuser()
    except Exception:  # no USER/LOGNAME and no passwd entry (some containers, some Windows services)
        return "unknown"
