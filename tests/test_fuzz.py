"""The edge under atheris, a coverage-guided fuzzer, for a bounded number of runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hardening
HERE = Path(__file__).parent


def test_atheris_finds_nothing_but_typed_errors(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    result = subprocess.run(
        [sys.executable, str(HERE / "fuzz_decoder.py"), "-runs=30000", "-max_len=512",
         "-rss_limit_mb=1024", str(corpus), str(HERE / "fuzz-seeds")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 30000 runs" in result.stderr
