"""``kill -9`` in the middle of a session, then the same command again: no acknowledged answer
is lost.

A real ``attune serve`` process on the default SQLite backend is killed with SIGKILL while a
facilitator, a projector and phones are connected and answering. Started again on the same data
folder, it must have every acknowledged answer, the session and its join code, the same epoch;
and every client must resume with the replay the log allows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from attune.client import Client, create_session
from attune.core import protocol as p
from tests.support.servers import free_port

pytestmark = pytest.mark.crash
SCALE = 1
"""The mood-checkin scenario's second step: a 1-5 scale."""


class Served:
    """``attune serve`` on a fixed port and data folder, started (and killed) at will."""

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data = data
        self.log = data.parent / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # stderr to a file, not a pipe: a killed server's helper processes (the themes worker)
        # may hold a pipe open for a while after it died.
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "attune.cli", "serve", "--port", str(self.port),
                 "--data", str(self.data)],
                stdout=subprocess.DEVNULL, stderr=log,
                env={k: v for k, v in os.environ.items() if k != "ATTUNE_BACKEND"})
        deadline = time.monotonic() + 90  # a loaded 2-core machine imports slowly
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.process.kill()
                    self.process.wait(10)
                    raise RuntimeError(f"attune serve did not start: "
                                       f"{self.log.read_text()}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None


def exported(base: str, session: str, token: str) -> dict[str, object]:
    request = urllib.request.Request(f"{base}/api/sessions/{session}/export",
                                     headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        data: dict[str, object] = json.loads(response.read())
        return data


async def test_every_acknowledged_answer_survives_kill_9_and_every_client_resumes(
    tmp_path: Path,
) -> None:
    served = Served(tmp_path / "data")
    served.start()
    try:
        created = await create_session(served.base, "mood-checkin")
        host = await Client.facilitator(created)
        screen = await Client.screen(created.code, base=served.base)
        phones = [await Client.participant(created.code, base=served.base) for _ in range(5)]
        await host.command(p.Start())
        await host.command(p.Next())
        for client in [host, screen, *phones]:
            await client.expect(p.StepEvent, lambda e: e.step.index == SCALE)
        acks = [await phone.answer(SCALE, p.ScaleValue(value=1 + i % 5))
                for i, phone in enumerate(phones)]
        assert len({ack.submission for ack in acks}) == len(phones)
        assert not any(ack.duplicate for ack in acks)
        epoch, seq = host.epoch, host.seq
        tokens = [phone.token for phone in phones]

        served.kill()
        for client in [host, screen, *phones]:
            client.seen.clear()
        served.start()

        for client in [host, screen, *phones]:
            welcome = await client.resume()
            assert welcome.epoch == epoch, "the epoch changed: clients would start over"
            assert welcome.replay, "the log allowed a replay, not a snapshot"
            assert welcome.seq == seq
        assert [phone.token for phone in phones] == tokens
        # A returning phone is the same participant: no "bad-resume", no second join.
        assert not [m for phone in phones for m in phone.seen if isinstance(m, p.Error)]
        data = exported(served.base, created.session, created.token)
        steps = {s["index"]: s for s in data["steps"]}  # type: ignore[attr-defined]
        assert steps[SCALE]["count"] == len(phones)
        assert data["participants"] == len(phones)
        # The join code still leads to the session, and the session goes on where it was.
        late = await Client.participant(created.code, base=served.base)
        await host.command(p.Next())
        for client in [host, screen, *phones, late]:
            event = await client.expect(p.StepEvent)
            assert event.seq == seq + 1 and event.step.index == SCALE + 1
        for client in [host, screen, *phones, late]:
            await client.close()
    finally:
        served.stop()


async def test_a_backup_of_the_live_file_holds_every_acknowledged_answer(tmp_path: Path) -> None:
    served = Served(tmp_path / "data")
    served.start()
    try:
        created = await create_session(served.base, "mood-checkin")
        host = await Client.facilitator(created)
        phones = [await Client.participant(created.code, base=served.base) for _ in range(3)]
        await host.command(p.Start())
        await host.command(p.Next())
        for phone in phones:
            await phone.expect(p.StepEvent, lambda e: e.step.index == SCALE)
            await phone.answer(SCALE, p.ScaleValue(value=4))
        copy = tmp_path / "copy" / "attune.sqlite3"
        copy.parent.mkdir()
        result = subprocess.run(
            [sys.executable, "-m", "attune.cli", "backup", str(copy), "--data", str(served.data)],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        for client in [host, *phones]:
            await client.close()
    finally:
        served.stop()
    # The copy alone is a working data folder: the session, its code and its answers.
    restored = Served(copy.parent)
    restored.start()
    try:
        data = exported(restored.base, created.session, created.token)
        steps = {s["index"]: s for s in data["steps"]}  # type: ignore[attr-defined]
        assert steps[SCALE]["count"] == len(phones)
        screen = await Client.screen(created.code, base=restored.base)
        await screen.close()
    finally:
        restored.stop()


@pytest.mark.browser
async def test_console_projector_and_phones_resume_by_themselves_after_kill_9(
    tmp_path: Path,
) -> None:
    """The real pages in Chromium, with nobody touching them between the kill and the resume."""
    from playwright.async_api import async_playwright

    from tests.support.browser import (
        CHROMIUM_ARGS,
        DESKTOP,
        PHONE,
        Watch,
        at_step,
        chromium,
        device,
    )

    served = Served(tmp_path / "data")
    served.start()
    watch = Watch()
    try:
        created = await create_session(served.base, "mood-checkin")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium(),
                                                       args=CHROMIUM_ARGS)
            try:
                console = await device(browser, watch, DESKTOP)
                screen = await device(browser, watch, DESKTOP)
                phones = [await device(browser, watch, PHONE) for _ in range(2)]
                await console.goto(created.facilitator_url)
                await screen.goto(created.screen_url)
                for phone in phones:
                    await phone.goto(f"{served.base}/join/#{created.code}")
                pages = [console, screen, *phones]
                host = await Client.facilitator(created)
                await host.command(p.Start())
                for page in pages:
                    await at_step(page, 0)
                epoch = await console.locator("body").get_attribute("data-epoch")
                assert epoch
                await host.close()

                served.kill()
                served.start()

                # Nobody reloads anything: the facilitator's next command reaches every page.
                host = await Client.facilitator(created)
                await host.command(p.Next())
                for page in pages:
                    await at_step(page, 1)
                    assert await page.locator("body").get_attribute("data-epoch") == epoch
                await host.close()
                data = exported(served.base, created.session, created.token)
                assert data["participants"] == len(phones), "a phone came back as a new one"
            finally:
                await browser.close()
        # While the server was down the pages logged failed reconnects; nothing else.
        watch.errors = [e for e in watch.errors if "ERR_CONNECTION_REFUSED" not in e
                        and "WebSocket connection to" not in e]
        watch.check()
    finally:
        served.stop()
