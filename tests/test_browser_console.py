"""The facilitator's tools in real headless Chromium: headcount, moderation queue, spotlight,
"My sessions", and the phone's private help text.

Each test starts its own server (memory backend) with ``tests/data`` as the scenarios folder, and
scripts phones with the protocol client where the phone's screen is not what is being tested, so
each test stays short on a busy machine. Screenshots go to a temporary folder, or to the folder
named by ``ATTUNE_SCREENSHOTS``; the suite never writes into the checkout.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from attune.client import Client
from attune.config import Settings
from attune.core import protocol as p
from tests.conftest import DATA, free_port, start_server

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

SHOTS = Path(os.environ.get("ATTUNE_SCREENSHOTS") or tempfile.mkdtemp(prefix="attune-shots-"))
PHONE = ViewportSize(width=390, height=844)
PROJECTOR = ViewportSize(width=1280, height=720)
WIDE = ViewportSize(width=1920, height=1080)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is not installed (apt-get install -y chromium); browser tests "
                    "never skip.")
    return path


@pytest.fixture
async def base() -> AsyncIterator[str]:
    settings = Settings(port=free_port(), scenarios=DATA, min_responses=3)
    server, task, _ = await start_server(settings)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium(), args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


class Errors:
    """Script errors on any page fail the test."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.seen.append(f"{page.url}: {error}"))
        return page


async def page(browser: Browser, errors: Errors, size: ViewportSize = PROJECTOR,
               locale: str = "en-GB") -> Page:
    mobile = size == PHONE
    context = await browser.new_context(viewport=size, is_mobile=mobile, has_touch=mobile,
                                        locale=locale, accept_downloads=True)
    return errors.watch(await context.new_page())


async def shoot(view: Page, name: str, sizes: tuple[ViewportSize, ...]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        await view.set_viewport_size(size)
        await view.wait_for_timeout(60)
        await view.screenshot(path=SHOTS / f"{name}-{size['width']}x{size['height']}.png",
                              animations="disabled")


async def open_session(console: Page, base: str, scenario: str = "every-kind") -> str:
    await console.goto(f"{base}/console/")
    await console.locator(f"button[data-scenario='{scenario}']").click()
    code = console.locator(".big-code")
    await expect(code).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    return (await code.text_content() or "").strip()


async def test_views_opened_late_show_the_headcount_at_once(base: str, browser: Browser) -> None:
    errors = Errors()
    console = await page(browser, errors)
    code = await open_session(console, base)
    phones = [await Client.participant(code, base=base) for _ in range(3)]
    await expect(console.locator("#presence")).to_have_text("3 connected · 3 joined")
    screen = await page(browser, errors)
    await screen.goto(f"{base}/screen/#{code}")
    await expect(screen.locator("#screen-presence")).to_have_text("3 people are here")
    # A second console, opened when nothing changes any more, and a refreshed one.
    second = await page(browser, errors)
    await second.goto(console.url)
    await expect(second.locator("#presence")).to_have_text("3 connected · 3 joined")
    await phones[0].send(p.Leave())
    await expect(console.locator("#presence")).to_have_text("2 connected · 2 joined")
    await console.reload()
    await expect(console.locator("#presence")).to_have_text("2 connected · 2 joined")
    await expect(screen.locator("#screen-presence")).to_have_text("2 people are here")
    for phone in phones[1:]:
        await phone.close()
    assert not errors.seen, errors.seen
