"""The edge under atheris, a coverage-guided fuzzer, for a bounded number of runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import DATA, ROOT

pytestmark = pytest.mark.hardening


def test_atheris_finds_nothing_but_typed_errors(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "support" / "fuzz.py"), "-runs=30000", "-max_len=512",
         "-rss_limit_mb=1024", str(corpus), str(DATA / "fuzz-seeds")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 30000 runs" in result.stderr
