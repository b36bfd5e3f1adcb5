"""A real server for a test: a free loopback port, uvicorn started in the test's own event loop,
and the four kinds of client a session has."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from attune.app import create_app, uvicorn_config
from attune.client import Client, Created, create_session
from attune.clock import Clock
from attune.config import Settings
from tests.support.clock import MovableClock
from tests.support.paths import DATA

ONE_BACKEND = pytest.mark.parametrize("backend_url", ["memory"], indirect=True)
"""For a test whose subject no backend takes part in (the handshake, framing, limits, the edge's
refusals): it runs once, on the memory backend, instead of once per backend (``backend_url``)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_HELD: dict[int, socket.socket] = {}
"""Sockets ``settings_for`` bound, by port, until the server of those settings listens on its
own (``start_server``): a port chosen free and bound only later can be taken in between by
another test worker's server or a Redis it starts."""


def held_port() -> int:
    """A loopback port bound now and held for this process's next server on it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    _HELD[port] = sock
    return port


def settings_for(**fields: Any) -> Settings:
    """Settings for a server inside the test process: a port held for it, the scenarios of
    tests/data, the memory backend and no themes worker (a process with a model in it, seconds
    to start and to stop), each unless a test names its own."""
    if "port" not in fields:
        fields["port"] = held_port()
    defaults: dict[str, Any] = {
        "backend": "memory://", "scenarios": DATA, "themes": False,
    }
    return Settings(**{**defaults, **fields})


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
    held = _HELD.pop(settings.port, None)  # the port's socket, bound since ``settings_for``
    task = asyncio.create_task(server.serve(None if held is None else [held]))
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task, app


@asynccontextmanager
async def serving(settings: Settings, stop_within: float = 30.0) -> AsyncIterator[Running]:
    """A server for the length of a ``with`` block, on the node clock a test can move."""
    clock = MovableClock()
    uv, task, app = await start_server(settings, clock)
    try:
        yield Running(f"http://127.0.0.1:{settings.port}", app, settings, clock)
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, stop_within)
