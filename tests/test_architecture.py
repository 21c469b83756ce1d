"""The layers of the code, as pyproject.toml's import-linter contracts say them, are kept."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.helpers import ROOT

PACKAGE = ROOT / "medcoder_desktop"


def test_import_contracts_are_kept() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(exe), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_a_layers_contract_orders_the_whole_package() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = [c for c in contracts if c["type"] == "layers"]
    assert len(layers) == 1
    named = {m.strip() for layer in layers[0]["layers"] for m in re.split(r"[|:]", layer)}
    # Every module and package of the product stands in one layer, so a new import against the order fails.
    for path in sorted(PACKAGE.iterdir()):
        if path.name.startswith("_") and path.name != "__main__.py" or path.name == "core":
            continue
        if path.suffix == ".py" or (path / "__init__.py").is_file():
            assert f"medcoder_desktop.{path.stem}" in named, path.name
    for path in sorted((PACKAGE / "core").iterdir()):
        if path.name.startswith("_"):
            continue
        if path.suffix == ".py" or (path / "__init__.py").is_file():
            assert f"medcoder_desktop.core.{path.stem}" in named, path.name


def test_the_window_imports_nothing_of_the_core_but_the_service_and_its_data() -> None:
    pattern = re.compile(r"core\.(workspace|engine|dictionary|preferences)")
    found = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((PACKAGE / "gui").rglob("*.py"))
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert found == []
