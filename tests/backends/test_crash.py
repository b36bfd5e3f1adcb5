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
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from attune.client import Client, create_session
from attune.core import protocol as p
from tests.support.spawn import Served

pytestmark = pytest.mark.crash
SCALE = 1
"""The mood-checkin scenario's second step: a 1-5 scale."""


def served(data: Path) -> Served:
    """``attune serve`` on the default backend (SQLite) in ``data``, whatever the caller's
    environment names."""
    env = {k: v for k, v in os.environ.items() if k != "ATTUNE_BACKEND"}
    return Served(data.parent / "serve.log", "--data", str(data), env=env)


def exported(base: str, session: str, token: str) -> dict[str, object]:
    request = urllib.request.Request(f"{base}/api/sessions/{session}/export",
                                     headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        data: dict[str, object] = json.loads(response.read())
        return data


async def test_every_acknowledged_answer_survives_kill_9_and_every_client_resumes(
    tmp_path: Path,
) -> None:
    server = served(tmp_path / "data")
    await server.up()
    try:
        created = await create_session(server.base, "mood-checkin")
        host = await Client.facilitator(created)
        screen = await Client.screen(created.code, base=server.base)
        phones = [await Client.participant(created.code, base=server.base) for _ in range(5)]
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

        server.kill()
        for client in [host, screen, *phones]:
            client.seen.clear()
        await server.up()

        for client in [host, screen, *phones]:
            welcome = await client.resume()
            assert welcome.epoch == epoch, "the epoch changed: clients would start over"
            assert welcome.replay, "the log allowed a replay, not a snapshot"
            assert welcome.seq == seq
        assert [phone.token for phone in phones] == tokens
        # A returning phone is the same participant: no "bad-resume", no second join.
        assert not [m for phone in phones for m in phone.seen if isinstance(m, p.Error)]
        data = exported(server.base, created.session, created.token)
        steps = {s["index"]: s for s in data["steps"]}  # type: ignore[attr-defined]
        assert steps[SCALE]["count"] == len(phones)
        assert data["participants"] == len(phones)
        # The join code still leads to the session, and the session goes on where it was.
        late = await Client.participant(created.code, base=server.base)
        await host.command(p.Next())
        for client in [host, screen, *phones, late]:
            event = await client.expect(p.StepEvent)
            assert event.seq == seq + 1 and event.step.index == SCALE + 1
        for client in [host, screen, *phones, late]:
            await client.close()
    finally:
        server.stop()


async def test_a_backup_of_the_live_file_holds_every_acknowledged_answer(tmp_path: Path) -> None:
    server = served(tmp_path / "data")
    await server.up()
    try:
        created = await create_session(server.base, "mood-checkin")
        host = await Client.facilitator(created)
        phones = [await Client.participant(created.code, base=server.base) for _ in range(3)]
        await host.command(p.Start())
        await host.command(p.Next())
        for phone in phones:
            await phone.expect(p.StepEvent, lambda e: e.step.index == SCALE)
            await phone.answer(SCALE, p.ScaleValue(value=4))
        copy = tmp_path / "copy" / "attune.sqlite3"
        copy.parent.mkdir()
        result = subprocess.run(
            [sys.executable, "-m", "attune.cli", "backup", str(copy),
             "--data", str(tmp_path / "data")],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        for client in [host, *phones]:
            await client.close()
    finally:
        server.stop()
    # The copy alone is a working data folder: the session, its code and its answers.
    restored = served(copy.parent)
    await restored.up()
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

    server = served(tmp_path / "data")
    await server.up()
    watch = Watch()
    try:
        created = await create_session(server.base, "mood-checkin")
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
                    await phone.goto(f"{server.base}/join/#{created.code}")
                pages = [console, screen, *phones]
                host = await Client.facilitator(created)
                await host.command(p.Start())
                for page in pages:
                    await at_step(page, 0)
                epoch = await console.locator("body").get_attribute("data-epoch")
                assert epoch
                await host.close()

                server.kill()
                await server.up()

                # Nobody reloads anything: the facilitator's next command reaches every page.
                host = await Client.facilitator(created)
                await host.command(p.Next())
                for page in pages:
                    await at_step(page, 1)
                    assert await page.locator("body").get_attribute("data-epoch") == epoch
                await host.close()
                data = exported(server.base, created.session, created.token)
                assert data["participants"] == len(phones), "a phone came back as a new one"
            finally:
                await browser.close()
        # While the server was down the pages logged failed reconnects; nothing else.
        watch.errors = [e for e in watch.errors if "ERR_CONNECTION_REFUSED" not in e
                        and "WebSocket connection to" not in e]
        watch.check()
    finally:
        server.stop()
