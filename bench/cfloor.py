"""The compiled floor (``bench/cfloor.c``): built here with the system's C compiler at run time.

It is compiled, not shipped, so it is always the source next to it; a missing compiler or
missing OpenSSL headers stop the benchmark with a message saying so instead of silently
dropping the target.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).with_name("cfloor.c")
FLAGS = ("-O2", "-Wall", "-Wextra")


class BuildError(RuntimeError):
    """The compiled floor could not be built (no ``cc``, no OpenSSL headers, a compile error)."""


def build(folder: Path) -> Path:
    """The floor's executable in ``folder``, compiled again when the source is newer."""
    binary = folder / "cfloor"
    if binary.exists() and binary.stat().st_mtime >= SOURCE.stat().st_mtime:
        return binary
    compiler = shutil.which("cc")
    if compiler is None:
        raise BuildError("the compiled floor needs a C compiler: no `cc` on PATH (install gcc "
                         "or clang and the OpenSSL headers, e.g. apt-get install build-essential "
                         "libssl-dev), or leave out the cfloor target")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([compiler, *FLAGS, "-o", str(binary), str(SOURCE), "-lcrypto"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"`cc` could not build {SOURCE.name} (are the OpenSSL headers "
                         f"installed? libssl-dev):\n{done.stderr.strip()}")
    return binary
