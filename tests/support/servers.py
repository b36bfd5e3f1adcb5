"""A real server for a test: a free loopback port, uvicorn started in the test's own event loop,
and the four kinds of client a session has."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from attune.app import create_app, uvicorn_config
from attune.client import Client, Created, create_session
from attune.clock import Clock
from attune.config import Settings
from tests.support.clock import MovableClock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    base: str
    app: Starlette
    settings: Settings
    clock: MovableClock
    """The node's session time: ``clock.advance(s)`` instead of sleeping ``s``."""

    async def session(self, scenario: str = "every-kind", **kw: object) -> Created:
        return await create_session(self.base, scenario, **kw)  # type: ignore[arg-type]

    async def facilitator(self, created: Created) -> Client:
        return await Client.facilitator(created)

    async def participant(self, created: Created) -> Client:
        return await Client.participant(created.code, base=self.base)

    async def screen(self, created: Created) -> Client:
        return await Client.screen(created.code, base=self.base)


async def start_server(
    settings: Settings, clock: Clock | None = None,
) -> tuple[uvicorn.Server, asyncio.Task[None], Starlette]:
    app = create_app(settings, clock)
    config = uvicorn.Config(app, log_level="warning", **uvicorn_config(settings))  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task, app


