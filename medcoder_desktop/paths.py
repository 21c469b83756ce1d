"""Where the product keeps its files.

``MEDCODER_HOME`` overrides everything (tests, portable installs); otherwise platformdirs' per-user
folders. Nothing is created at import time: call :meth:`AppPaths.ensure` when a folder is needed.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "medcoder"
APP_AUTHOR = "medcoder"


def resources_dir() -> Path:
    """The bundled resources folder: beside the package in a checkout, under ``_MEIPASS`` when frozen."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def bundled_dictionary() -> Path | None:
    """The dictionary built into a frozen bundle (copied to the data folder on first start), else None."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidate = Path(frozen) / "dictionary.sqlite" if frozen else None
    return candidate if candidate is not None and candidate.is_file() else None


def bundled_models() -> list[Path]:
    """GGUF files shipped in the ``models`` folder beside a frozen program (``make bundle MODEL=...``)."""
    if not getattr(sys, "frozen", False):
        return []
    return sorted((Path(sys.executable).resolve().parent / "models").glob("*.gguf"))


def resource(*parts: str) -> Path:
    """Path of one bundled resource, e.g. ``resource("abbreviations.tsv")``."""
    return resources_dir().joinpath(*parts)


@dataclass(frozen=True)
class AppPaths:
    """The product's folders for one user (or one ``MEDCODER_HOME``)."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def default(cls) -> "AppPaths":
        home = os.environ.get("MEDCODER_HOME")
        if home:
            base = Path(home).expanduser().resolve()
            return cls(base / "data", base / "config", base / "cache", base / "logs")
        return cls(
            Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)),
            Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)),
            Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR)),
            Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)),
        )

    @property
    def dictionary_db(self) -> Path:
        return self.data_dir / "dictionary.sqlite"

    @property
    def workspace_db(self) -> Path:
        return self.data_dir / "workspace.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    def ensure(self) -> "AppPaths":
        """Create the folders, readable by their owner only."""
        for d in (self.data_dir, self.config_dir, self.cache_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self
