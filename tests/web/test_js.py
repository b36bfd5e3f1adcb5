"""The browser's pure modules (reducers, code reading, the editor's model) under Node's runner.

tests/web/js/*.test.mjs import web/js/ modules that touch no DOM (live-state.js, phone-state.js,
codes.js, editor/model.js) and check them with ``node:test``: no npm packages, no build step.
Node is a Debian package (``apt-get install nodejs``, done by tests/system-deps.sh); without it
this test fails and says so, it never skips.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = Path(__file__).parent / "js"
MINIMUM = (20, 19)
"""From Node 20.19 an ES module file without a package.json "type" loads as one (web/js/*.js)."""


def node() -> str:
    path = shutil.which("node") or shutil.which("nodejs")
    if path is None:
        pytest.fail("Node is not installed, and the JS unit tests need it (they never skip). "
                    "Install the Debian package: sudo apt-get install -y nodejs "
                    "(or run bash tests/system-deps.sh)")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    found = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if found < MINIMUM:
        pytest.fail(f"Node {version.strip()} is too old for the JS unit tests: they need "
                    f"{'.'.join(map(str, MINIMUM))} or newer (Debian 13's nodejs is)")
    return path


def test_js_unit_tests_pass() -> None:
    files = sorted(JS_TESTS.glob("*.test.mjs"))
    assert files, f"no *.test.mjs in {JS_TESTS}"
    result = subprocess.run([node(), "--test", "--test-reporter=tap", *map(str, files)],
                            capture_output=True, text=True, timeout=120, check=False)
    summary = dict(re.findall(r"^# (\w+) (\d+)$", result.stdout, flags=re.MULTILINE))
    assert result.returncode == 0 and summary.get("fail") == "0", result.stdout + result.stderr
    assert int(summary.get("pass", 0)) >= len(files), "each file holds at least one test"
    assert summary.get("skipped") == "0" and summary.get("todo") == "0", result.stdout
