"""`medcoder model ...`: pull, import, list and verify the language models.

Wired into the main parser by ``cli.build_parser`` with ``add_model_commands(sub)``. Human text or one
JSON document goes to stdout; download progress goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from medcoder_desktop.cli_output import ProgressPrinter, emit, open_service, say
from medcoder_desktop.errors import ModelError


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def cmd_model_pull(args: argparse.Namespace) -> int:
    info = open_service().pull_model(args.repo, args.file, progress=ProgressPrinter())
    if args.json:
        emit(info.model_dump())
    else:
        print(f"Downloaded {info.name} ({_mb(info.size)}) to {info.path}\n  sha256 {info.sha256}")
    return 0


def cmd_model_import(args: argparse.Namespace) -> int:
    info = open_service().import_model(args.file)
    if args.json:
        emit(info.model_dump())
    else:
        print(f"Imported {info.name} ({_mb(info.size)}) to {info.path}\n  sha256 {info.sha256}")
    return 0


def cmd_model_list(args: argparse.Namespace) -> int:
    service = open_service()
    models = service.models()
    try:
        active, source = service.default_model()
    except ModelError:  # a stale settings path must not hide the list
        active, source = None, "settings (file missing)"
    runtime = service.runtime_info()
    if args.json:
        emit({"models": [m.model_dump() for m in models],
               "active": {"path": str(active) if active else None, "source": source},
               "runtime": runtime})
        return 0
    if not models:
        print("No models in the models folder. Add one with `medcoder model pull` or `medcoder model import FILE`.")
    for m in models:
        state = "" if m.present else "  (file missing)"
        print(f"{m.name:<40} {_mb(m.size):>9}  {m.added_at}  {m.source}{state}\n  sha256 {m.sha256}")
    print(f"Model used by default: {active or 'none (retrieval only)'}  [{source}]")
    if runtime["llama_cpp_python"]:
        print(f"Runtime: llama-cpp-python {runtime['llama_cpp_python']}; CPU features "
              f"{' '.join(runtime['cpu_features']) or 'none'}; AMX {'on' if runtime['amx'] else 'off'}")
    else:
        print("Runtime: llama-cpp-python is not installed (retrieval only).")
    return 0


def cmd_model_verify(args: argparse.Namespace) -> int:
    results = open_service().verify_models(args.name)
    ok = all(r.status == "ok" for r in results)
    if args.json:
        emit({"ok": ok, "results": [r.model_dump() for r in results]})
    else:
        if not results:
            print("No models to verify.")
        for r in results:
            print(f"{r.status.upper():<8} {r.name}  {r.path}")
            if r.check is not None:
                verdict = "runs here" if r.check.ok else f"cannot run here: {r.check.reason}"
                print(f"         {verdict} ({r.check.seconds:.1f} s)")
    return 0 if ok else ModelError.exit_code


def add_model_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``model pull|import|list|verify`` to the CLI's subcommands; returns the ``model`` parser."""
    model = subparsers.add_parser("model", help="Download, import, list and verify language models.")
    msub = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    pu = msub.add_parser("pull", help="Download a GGUF model from Hugging Face (the only command that uses the "
                                      "network; HF_ENDPOINT selects a mirror).")
    # Defaults live in the model manager; importing it here would slow every other command down.
    pu.add_argument("--repo", help="Repository on the hub (default bartowski/Llama-3.2-1B-Instruct-GGUF).")
    pu.add_argument("--file", help="GGUF file in the repository (default Llama-3.2-1B-Instruct-Q4_K_M.gguf).")
    pu.add_argument("--json", action="store_true", help="Print one JSON document.")
    pu.set_defaults(func=cmd_model_pull)

    im = msub.add_parser("import", help="Copy a GGUF model file in (from a USB stick or a shared drive).")
    im.add_argument("file", help="The .gguf file.")
    im.add_argument("--json", action="store_true", help="Print one JSON document.")
    im.set_defaults(func=cmd_model_import)

    ls = msub.add_parser("list", help="Models in the models folder and the one used by default.")
    ls.add_argument("--json", action="store_true", help="Print one JSON document.")
    ls.set_defaults(func=cmd_model_list)

    ve = msub.add_parser("verify", help="Re-check every model file against its recorded sha256, and check again in a "
                                          "child process that it runs on this computer.")
    ve.add_argument("name", nargs="?", help="Only this model (name or file name).")
    ve.add_argument("--json", action="store_true", help="Print one JSON document.")
    ve.set_defaults(func=cmd_model_verify)
    return model
