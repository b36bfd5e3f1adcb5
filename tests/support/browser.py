"""Real headless Chromium for the browser tests: where it is, how it starts, where shots go.

Chromium is the Debian package (``apt-get install chromium``, done by ``tests/system-deps.sh``);
Playwright is pointed at it and never downloads a browser. If it is missing the tests fail and say
so: they never skip. One Chromium serves the whole run (``launched``, the ``browser`` fixtures in
tests/conftest.py); each test opens its own contexts (fresh cookies, storage and cache), closed
after it. Screenshots go to a temporary folder, removed at exit if no test wrote into it, or to the
folder named by ``ATTUNE_SCREENSHOTS``; ``python -m tests.support.screenshots`` regenerates the
committed set in docs/screenshots/. The suite itself never writes into the checkout.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Dialog,
    Locator,
    Page,
    ViewportSize,
    async_playwright,
)

SHOTS = Path(os.environ.get("ATTUNE_SCREENSHOTS") or tempfile.mkdtemp(prefix="attune-shots-"))


def _remove_if_empty(folder: Path) -> None:
    """A run without browser tests (or whose tests took no screenshot) leaves no empty folder;
    one with screenshots keeps them to be looked at (the fit test prints where)."""
    with contextlib.suppress(OSError):
        folder.rmdir()


if not os.environ.get("ATTUNE_SCREENSHOTS"):
    atexit.register(_remove_if_empty, SHOTS)

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-gpu",
]
"""Without the background-networking flags Chromium keeps dialling hosts this sandbox refuses."""
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)


def chromium() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        pytest.fail(
            "Chromium is not installed, and the browser tests need it (they never skip). "
            "Install the Debian package: sudo apt-get install -y chromium"
        )
    return path


async def launched() -> AsyncIterator[Browser]:
    """One Chromium, closed after the ``async for`` body (the run's, in tests/conftest.py)."""
    executable = chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def close_contexts(browser: Browser) -> None:
    """Close every context a test opened, so the next test starts from a browser with none."""
    for context in browser.contexts:
        await context.close()


EXPECTED_OFFLINE = "ERR_INTERNET_DISCONNECTED"
"""Chromium logs the reconnect attempts made while a test has taken a phone offline."""


class Watch:
    """Collects what must never happen on a page: script errors and dialogs (alert())."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def attach(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.text}")
                if m.type == "error" and EXPECTED_OFFLINE not in m.text else None)

        async def dismiss(dialog: Dialog) -> None:
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)
        return page

    def check(self) -> None:
        assert not self.dialogs, f"a dialog opened: {self.dialogs}"
        assert not self.errors, "\n".join(self.errors)


async def device(browser: Browser, watch: Watch, size: ViewportSize, **options: object) -> Page:
    mobile = size == PHONE
    options = {"locale": "en-GB", **options}
    context: BrowserContext = await browser.new_context(
        viewport=size, is_mobile=mobile, has_touch=mobile, accept_downloads=True,
        **options,  # type: ignore[arg-type]
    )
    return watch.attach(await context.new_page())


async def at_step(page: Page, index: int, timeout: float = 15_000) -> None:
    """Wait until a live page (console, projector, phone, remote) is at step ``index``, as its
    ``<body data-step>`` says: the one place tests read a page's state from (web/js/page.js)."""
    await page.locator(f"body[data-step='{index}']").wait_for(state="attached", timeout=timeout)


async def offline(page: Page) -> None:
    """Take a device off the network, as a phone losing its Wi-Fi: the page hears the browser's
    ``offline`` and shows that it is reconnecting (web/js/live.js)."""
    await page.context.set_offline(True)
    await page.locator("body[data-connection='reconnecting']").wait_for(state="attached")


async def session_button(console: Page, name: str) -> Locator:
    """A button of the console's session bar by its accessible name, from the bar's "More" menu
    when the window has no room for it there (``web/js/overflow.js``)."""
    button = console.get_by_role("button", name=name)
    more = console.locator(".topbar .more-menu")
    if await more.count() and not await button.is_visible():
        await more.locator("summary").click()
    return button
