"""Build (once) and install a portable llama-cpp-python wheel into the running interpreter.

pip picks a cached wheel by name and version alone and ignores ``CMAKE_ARGS`` when it does, so a
wheel built natively on one CPU can be handed back on another, where it crashes. This script keeps
its own wheel folder keyed by everything that changes the binary: the llama-cpp-python version,
the CMake flags, the Python tag, the platform and this recipe's version. It never reads pip's cache.

Default flags, x86-64: a portable baseline (SSE4.2, AVX, AVX2, FMA, F16C, BMI2) with
``-march=native``, AVX-512 and AMX off. llama.cpp's AMX kernels fault on some CPUs that report
AMX, and a native build is only safe on the CPU that built it. ARM: ``GGML_NATIVE=OFF``; macOS
keeps Metal on (llama-cpp-python turns it on). Workstations with a GPU set ``LLAMA_CMAKE_ARGS``
(see the README), which replaces the defaults and gets a folder of its own.

Usage: ``python packaging/llama_runtime.py [--print-key] [--flags]``
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

LLAMA_CPP_PYTHON = "0.3.36"  # keep in step with pyproject.toml
RECIPE = 1  # bump when the way the wheel is built changes

# Parts of llama.cpp the product never loads: leaving them out saves build time.
_COMMON = [
    "-DLLAVA_BUILD=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=OFF",
    "-DLLAMA_BUILD_SERVER=OFF",
]
_X86_PORTABLE = [
    "-DGGML_NATIVE=OFF",
    "-DGGML_SSE42=ON", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON",
    "-DGGML_BMI2=ON",
    "-DGGML_AVX_VNNI=OFF", "-DGGML_AVX512=OFF", "-DGGML_AVX512_VBMI=OFF",
    "-DGGML_AVX512_VNNI=OFF", "-DGGML_AVX512_BF16=OFF",
    "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF",
]
_OTHER_PORTABLE = ["-DGGML_NATIVE=OFF"]


def default_flags() -> list[str]:
    """The portable CMake flags for this machine's architecture."""
    machine = platform.machine().lower()
    if machine in {"x86_64", "amd64", "x64"}:
        return _X86_PORTABLE + _COMMON
    return _OTHER_PORTABLE + _COMMON


def chosen_flags() -> list[str]:
    """``LLAMA_CMAKE_ARGS`` when set (GPU builds), else the portable defaults."""
    custom = os.environ.get("LLAMA_CMAKE_ARGS", "").strip()
    if custom:
        return shlex.split(custom) + _COMMON
    return default_flags()


def wheel_key(flags: list[str]) -> str:
    """A folder name that changes whenever the binary would."""
    parts = [
        f"llama-cpp-python=={LLAMA_CPP_PYTHON}",
        f"recipe={RECIPE}",
        f"python={sys.implementation.cache_tag}",
        f"platform={sysconfig.get_platform()}",
        "flags=" + " ".join(flags),
    ]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return f"{LLAMA_CPP_PYTHON}-{sys.implementation.cache_tag}-{digest}"


def wheel_root() -> Path:
    """Where built wheels are kept between clones (``MEDCODER_WHEEL_CACHE`` overrides)."""
    override = os.environ.get("MEDCODER_WHEEL_CACHE")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "medcoder-desktop" / "llama-wheels"
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "medcoder-desktop" / "llama-wheels"


def build(folder: Path, flags: list[str]) -> Path:
    """Build the wheel into ``folder`` without pip's cache; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["CMAKE_ARGS"] = " ".join(flags)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    env["FORCE_CMAKE"] = "1"
    print(f"Building llama-cpp-python {LLAMA_CPP_PYTHON} (portable; about 10-15 minutes on 2 cores)")
    print(f"  CMAKE_ARGS={env['CMAKE_ARGS']}")
    tmp = folder.with_name(folder.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-cache-dir", "--no-deps",
         "--no-binary", "llama-cpp-python", "--disable-pip-version-check", "--quiet",
         "-w", str(tmp), f"llama-cpp-python=={LLAMA_CPP_PYTHON}"],
        check=True, env=env,
    )
    wheels = sorted(tmp.glob("llama_cpp_python-*.whl"))
    if not wheels:
        raise SystemExit("llama-cpp-python built no wheel")
    target = folder / wheels[0].name
    os.replace(wheels[0], target)
    (folder / "CMAKE_ARGS").write_text(" ".join(flags) + "\n")
    for leftover in tmp.iterdir():
        leftover.unlink()
    tmp.rmdir()
    return target


def check_installed() -> int:
    """Fail when the installed llama.cpp reports AMX (its kernels fault on some CPUs)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
    print(f"llama.cpp runs with: {info}")
    if "AMX" in info and "= 1" in info.split("AMX", 1)[1][:12]:
        print("llama.cpp was built with AMX: rebuild it with packaging/llama_runtime.py", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-key", action="store_true", help="print the wheel folder and exit")
    parser.add_argument("--flags", action="store_true", help="print the CMake flags and exit")
    parser.add_argument("--build-only", action="store_true", help="build the wheel, do not install")
    parser.add_argument("--check", action="store_true",
                        help="print what the installed runtime runs with; fail if it uses AMX")
    args = parser.parse_args(argv)
    if args.check:
        return check_installed()
    flags = chosen_flags()
    folder = wheel_root() / wheel_key(flags)
    if args.flags:
        print(" ".join(flags))
        return 0
    if args.print_key:
        print(folder)
        return 0
    wheels = sorted(folder.glob("llama_cpp_python-*.whl"))
    wheel = wheels[0] if wheels else build(folder, flags)
    if args.build_only:
        print(wheel)
        return 0
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-cache-dir", "--force-reinstall", "--no-deps", str(wheel)],
        check=True,
    )
    # The runtime's own small dependencies (numpy, jinja2, diskcache, typing-extensions).
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "numpy>=1.20", "jinja2>=2.11.3", "diskcache>=5.6.1", "typing-extensions>=4.5"],
        check=True,
    )
    (Path(sys.prefix) / "llama-runtime.txt").write_text(f"{wheel}\n{' '.join(flags)}\n")
    print(f"llama-cpp-python installed from {wheel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
