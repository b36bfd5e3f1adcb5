"""Every page's socket carries its session's join code (``/ws?s=CODE``), so that a balancer
hashing on it (deploy/nginx/attune.conf) keeps a session's clients on one node. The phone and the
projector know the code from their URL; the console learns it from its first welcome and keeps
it for the reconnects and reloads after."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, WebSocket

from attune.client import Client, create_session
from attune.core import protocol as p
from tests.support.browser import at_step
from tests.support.paths import DATA
from tests.support.waiting import until

pytestmark = [pytest.mark.browser, pytest.mark.served(DATA / "every-kind.yaml")]


def sockets(page: Page) -> list[str]:
    """The URLs of the WebSockets ``page`` opens from now on."""
    opened: list[str] = []

    def seen(socket: WebSocket) -> None:
        opened.append(socket.url)

    page.on("websocket", seen)
    return opened


async def test_every_page_routes_its_socket_by_the_join_code(base: str, browser: Browser) -> None:
    created = await create_session(base, "every-kind")
    host = await Client.facilitator(created)
    context = await browser.new_context()
    try:
        routed = f"/ws?s={created.code}"
        phone, screen, console = [await context.new_page() for _ in range(3)]
        urls = {name: sockets(page) for name, page in
                (("phone", phone), ("screen", screen), ("console", console))}
        await phone.goto(f"{base}/join/#{created.code}")
        await screen.goto(f"{base}/screen/#{created.code}")
        await console.goto(f"{base}/console/#{created.session}.{created.token}")
        await host.command(p.Start())
        for page in (phone, screen, console):
            await at_step(page, 0)
        assert urls["phone"] and all(url.endswith(routed) for url in urls["phone"]), urls
        assert urls["screen"] and all(url.endswith(routed) for url in urls["screen"]), urls
        # A facilitator link holds no code: the first socket goes anywhere; after the welcome
        # the console knows it, and a reload routes by it from the first socket on.
        before = len(urls["console"])
        await console.reload()
        await until(lambda: len(urls["console"]) > before, "the reloaded console reconnects", 10)
        assert urls["console"][before].endswith(routed), urls["console"]
        await at_step(console, 0)
    finally:
        await context.close()
        await host.close()
