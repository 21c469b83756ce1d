"""Fixtures of the model tests: a data folder holding the session's real dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import install_dictionary


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home
