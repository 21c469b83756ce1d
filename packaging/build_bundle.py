"""Build the desktop bundle: dist/medcoder/ with `medcoder`, `medcoder-gui` and a ready dictionary.

Steps: build the code dictionary (so a new workstation starts at once and needs no package data at run
time), record the llama.cpp build flags, run PyInstaller on packaging/medcoder.spec, optionally add a
model, and write dist/medcoder/BUILD-INFO.json (versions, flags, sizes).

Usage: python packaging/build_bundle.py [--model FILE.gguf] [--dist DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build_dictionary(work: Path) -> Path:
    """A freshly built, compacted dictionary for the bundle."""
    sys.path.insert(0, str(ROOT))
    from medcoder_desktop.core.dictionary import Dictionary

    target = work / "dictionary.sqlite"
    target.unlink(missing_ok=True)
    start = time.monotonic()
    d = Dictionary.open(target)
    d.engine  # the search index is part of the file
    d.db.execute("vacuum")
    d.close()
    print(f"dictionary built in {time.monotonic() - start:.0f} s: {target.stat().st_size / 1e6:.1f} MB")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="A GGUF file to ship in dist/medcoder/models/ (none by default).")
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="Output folder (default dist/).")
    args = parser.parse_args(argv)
    work = ROOT / "build" / "bundle"
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["MEDCODER_HOME"] = str(work / "home")  # the build never touches the builder's own data
    env["MEDCODER_BUNDLE_DICTIONARY"] = str(build_dictionary(work))
    record = Path(sys.prefix) / "llama-runtime.txt"
    if record.is_file():
        shutil.copyfile(record, work / "llama-runtime.txt")
        env["MEDCODER_BUNDLE_RUNTIME_RECORD"] = str(work / "llama-runtime.txt")
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", args.dist, "--workpath", str(work / "pyinstaller"),
                    str(ROOT / "packaging" / "medcoder.spec")], check=True, env=env, cwd=ROOT)
    bundle = Path(args.dist) / "medcoder"
    if args.model:
        models = bundle / "models"
        models.mkdir(exist_ok=True)
        shutil.copyfile(args.model, models / Path(args.model).name)
    info = {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "llama_runtime": record.read_text(encoding="utf-8").splitlines() if record.is_file() else None,
        "pyinstaller_seconds": round(time.monotonic() - start, 1),
        "size_bytes": folder_size(bundle),
        "model": Path(args.model).name if args.model else None,
    }
    (bundle / "BUILD-INFO.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"bundle: {bundle} ({info['size_bytes'] / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
