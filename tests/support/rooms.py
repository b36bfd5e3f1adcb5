"""The steps browser tests repeat to put a room together: a projector and a phone beside an open
console, a session started and moved to a step with every page following, script phones made
ready for a groups step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from playwright.async_api import Page, ViewportSize

from attune.client import Client
from attune.core import protocol as p
from tests.support.browser import PHONE, at_step


@dataclass
class Views:
    """The three pages a test runs a session from, each in a browser context of its own."""

    console: Page
    screen: Page
    phone: Page


async def join_views(console: Page, open_page: Callable[[ViewportSize], Awaitable[Page]],
                     base: str, code: str, screen: ViewportSize) -> Views:
    """Open a projector of size ``screen`` and a phone (``open_page`` makes a page of a size) on
    session ``code`` beside an open console; return once the phone shows the lobby."""
    projector = await open_page(screen)
    await projector.goto(f"{base}/screen/#{code}")
    phone = await open_page(PHONE)
    await phone.goto(f"{base}/join/#{code}")
    await phone.locator(".waiting h1").wait_for()
    return Views(console, projector, phone)


async def start_to(views: Views, step: int) -> None:
    """Start the session from the console and press Next up to ``step``; return once every page
    shows it."""
    await views.console.locator("[data-keep=start]").click()
    await at_step(views.console, 0)
    for index in range(1, step + 1):
        await views.console.locator("[data-keep=next]").click()
        await at_step(views.console, index)
    for page in (views.screen, views.phone):
        await at_step(page, step)


async def ready_for_groups(clients: list[Client], step: int) -> None:
    """Script phones hear that groups are forming at ``step`` and say they are ready."""
    for client in clients:
        await client.expect(p.GroupsEvent)
        await client.ready(step)
