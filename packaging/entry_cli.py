"""Frozen entry point of the command-line program ``medcoder``."""

from medcoder_desktop.cli import main

raise SystemExit(main())
