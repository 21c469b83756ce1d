"""Frozen entry point of the window program ``medcoder-gui`` (no console window on Windows)."""

import os
import sys

# A windowed program on Windows has no stdout/stderr: anything written to them would raise.
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115

from medcoder_desktop.cli import gui_main  # noqa: E402

raise SystemExit(gui_main())
