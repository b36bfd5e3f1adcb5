"""ruff, ``mypy --strict`` and the import contracts (``[tool.importlinter]`` in pyproject.toml) are
part of the suite, so the README test command checks them too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff() -> None:
    result = run(sys.executable, "-m", "ruff", "check", "server", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    """The package, and the tests and the benchmark harness that lean on it, all strict."""
    result = run(sys.executable, "-m", "mypy", "--strict", "-p", "attune", "-p", "tests",
                 "-p", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts() -> None:
    """The layers' direction: the core imports no transport, backend, node, app or event loop;
    backends no transport; the transport no backend (see docs/architecture.md)."""
    result = run(str(Path(sys.executable).parent / "lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr
