"""The wheel is the product: built from this checkout, installed into a fresh virtual environment
(with constraints.txt, as the image installs it), run from an empty folder far from the checkout.

The rest of the suite runs from the checkout's editable install, so only this test can see that
the wheel carries the web UI and the built-in scenarios, and that nothing needs the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.servers import free_port

pytestmark = pytest.mark.wheel
SOURCES = ["pyproject.toml", "README.md", "constraints.txt", "server", "web", "scenarios"]
"""What deploy/Dockerfile copies to build the wheel."""

SCRIPT = """
import asyncio, sys
from attune.client import Client, create_session
from attune.core import protocol as p

async def main(base):
    created = await create_session(base, "mood-checkin")
    host = await Client.facilitator(created)
    phones = [await Client.participant(created.code, base=base) for _ in range(3)]
    await host.command(p.Start())
    for phone in phones:
        event = await phone.expect(p.StepEvent)
    step = event.step.index
    acks = [await phone.skip(step) for phone in phones]
    print("ok", created.code, len(acks))

asyncio.run(main(sys.argv[1]))
"""


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 600) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def get(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read(), response.headers.get("content-type", "")


def test_the_wheel_serves_the_console_and_runs_a_session_from_an_empty_folder(
    tmp_path: Path,
) -> None:
    wheels, venv, empty = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    empty.mkdir()
    # Built from a copy of what the image copies, so the build leaves nothing in the checkout
    # (setuptools writes its egg-info beside the package, where it would shadow the real
    # metadata of the editable install).
    source = tmp_path / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, source)
    (wheel,) = wheels.glob("attune_server-*.whl")
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "-c", ROOT / "constraints.txt", wheel)
    # A folder holding a server.py, as in the issue: the import package is `attune`, no clash.
    (empty / "server.py").write_text("raise SystemExit('this is not the Attune server')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {"PATH": f"{venv / 'bin'}:{env.get('PATH', '')}", "ATTUNE_DATA": str(tmp_path / "data")}
    assert run(venv / "bin" / "attune", "--version", cwd=empty, env=env).startswith("attune ")
    listed = run(venv / "bin" / "attune", "scenarios", "list", cwd=empty, env=env)
    assert "mood-checkin" in listed
    port = free_port()
    server = subprocess.Popen([venv / "bin" / "attune", "serve", "--port", str(port)],
                              cwd=empty, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"{base}/readyz")
                break
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "attune serve did not become ready"
                time.sleep(0.2)
        status, body, kind = get(f"{base}/console/")
        assert status == 200 and kind.startswith("text/html") and b"<script" in body
        status, body, kind = get(f"{base}/js/live.js")
        assert status == 200 and "javascript" in kind and b"export" in body
        status, body, _ = get(f"{base}/api/scenarios")
        scenarios = {s["id"] for s in json.loads(body)}
        assert "mood-checkin" in scenarios and len(scenarios) >= 8
        (empty / "session.py").write_text(textwrap.dedent(SCRIPT))
        out = run(python, empty / "session.py", base, cwd=empty, env=env, timeout=60)
        assert out.startswith("ok ") and out.split()[2] == "3"
        # The default backend kept the session in the data folder, not in the checkout.
        assert (tmp_path / "data" / "attune.sqlite3").is_file()
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    assert "Traceback" not in err, err
