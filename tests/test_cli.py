"""The ``attune`` command as a user runs it: a real process, real HTTP, real WebSockets."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from attune.cli import app_from_environment, main
from attune.client import Client, create_session
from attune.core import protocol as p
from tests.support.paths import ROOT
from tests.support.servers import free_port, settings_for, start_server


def attune(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "attune.cli", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


@pytest.fixture
def served() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "attune.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # imports are slow on a loaded 2-core machine
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    _, err = process.communicate()
                    raise RuntimeError(f"attune serve did not start: {err}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=30)  # with the themes worker, stopping takes seconds


def test_help_lists_every_option_with_its_environment_variable() -> None:
    result = attune("serve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for option, variable in [
        ("--host", "ATTUNE_HOST"), ("--port", "ATTUNE_PORT"), ("--backend", "ATTUNE_BACKEND"),
        ("--scenarios", "ATTUNE_SCENARIOS"), ("--allowed-origins", "ATTUNE_ALLOWED_ORIGINS"),
        ("--min-responses", "ATTUNE_MIN_RESPONSES"), ("--admin-key", "ATTUNE_ADMIN_KEY"),
        ("--data", "ATTUNE_DATA"), ("--inactivity", "ATTUNE_INACTIVITY"),
    ]:
        assert option in text and variable in text, option
    assert "sqlite://" in text and "memory://" in text and "redis://" in text


async def test_serve_runs_the_builtin_scenarios_with_no_external_service(served: str) -> None:
    with urllib.request.urlopen(f"{served}/api/scenarios", timeout=5) as response:
        listed = {s["id"] for s in json.loads(response.read())}
    assert "mood-checkin" in listed and len(listed) >= 8
    created = await create_session(served, "mood-checkin")
    host = await Client.facilitator(created)
    phone = await Client.participant(created.code, base=served)
    await host.command(p.Start())
    event = await phone.expect(p.StepEvent)
    assert event.step.index == 0
    await host.close()
    await phone.close()


@pytest.mark.parametrize("backend", ["sqlite://", "memory://"])
def test_workers_need_a_shared_backend(backend: str) -> None:
    result = attune("serve", "--workers", "2", "--backend", backend)
    assert result.returncode == 2
    assert "needs a shared backend" in result.stderr
    assert "--backend redis://HOST:PORT/0" in result.stderr, "says what to do"


def test_a_second_server_on_the_same_data_folder_is_refused(served: str) -> None:
    result = attune("serve", "--port", "1")
    assert result.returncode == 2
    assert "another Attune process is using" in result.stderr


def test_a_broken_scenario_folder_stops_serve_with_the_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: bad\ntitle: [unclosed\n", encoding="utf-8")
    result = attune("serve", "--scenarios", str(tmp_path), env={"ATTUNE_PORT": "1"})
    assert result.returncode == 2
    assert "bad.yaml:" in result.stderr


def test_scenarios_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["scenarios", "list"]) == 0
    assert "mood-checkin" in capsys.readouterr().out
    assert main(["scenarios", "validate", str(ROOT / "scenarios")]) == 0
    assert capsys.readouterr().out.count("ok ") >= 8
    broken = tmp_path / "typo.yaml"
    broken.write_text((ROOT / "tests/data/every-kind.yaml").read_text().replace(
        "duration_minutes: 10", "duration_minuts: 10"), encoding="utf-8")
    assert main(["scenarios", "validate", str(broken)]) == 1
    error = capsys.readouterr().err
    assert "typo.yaml:6: unknown field 'duration_minuts'" in error
    assert main(["scenarios", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Attune scenario"


async def test_only_a_serving_process_tunes_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    """An app started inside another process (here, the test's) keeps that process's collector;
    ``attune serve``'s worker factory raises the thresholds and freezes what exists."""
    before = gc.get_threshold(), gc.get_freeze_count()
    settings = settings_for()
    uv, task, _app = await start_server(settings)
    uv.should_exit = True
    await task
    assert (gc.get_threshold(), gc.get_freeze_count()) == before, "create_app tuned the collector"
    monkeypatch.setenv("ATTUNE_SETTINGS", msgspec.json.encode(settings, enc_hook=str).decode())
    try:
        app_from_environment()
        assert gc.get_threshold() == (10_000, 10, 10)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before[0])
