"""Fixtures shared by the suite: a real server on a free loopback port, per backend."""

from __future__ import annotations

import asyncio
import atexit
import inspect
import os
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
import uvloop
from playwright.async_api import Browser
from starlette.applications import Starlette

from attune.app import create_app, uvicorn_config
from attune.client import Client, Created, create_session
from attune.config import Settings
from tests.redis_server import RedisProcess
from tests.support.browser import launched

DATA = Path(__file__).parent / "data"

# Whatever a test starts without naming a data folder (Settings(), `attune serve`) keeps its
# files in a temporary folder, never in the user's own.
os.environ["ATTUNE_DATA"] = tempfile.mkdtemp(prefix="attune-test-data-")
atexit.register(shutil.rmtree, os.environ["ATTUNE_DATA"], ignore_errors=True)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item,
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The suite runs on the event loop `attune serve` runs on: uvicorn picks uvloop."""
    return {"uvloop": uvloop.new_event_loop}


async def until(check: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Wait until ``check()`` (or the coroutine it returns) is true, polling every 10 ms; fail
    saying what was awaited once ``timeout`` seconds have passed. Tests wait on conditions, never
    for a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    base: str
    app: Starlette
    settings: Settings

    async def session(self, scenario: str = "every-kind", **kw: object) -> Created:
        return await create_session(self.base, scenario, **kw)  # type: ignore[arg-type]

    async def facilitator(self, created: Created) -> Client:
        return await Client.facilitator(created)

    async def participant(self, created: Created) -> Client:
        return await Client.participant(created.code, base=self.base)

    async def screen(self, created: Created) -> Client:
        return await Client.screen(created.code, base=self.base)


async def start_server(settings: Settings) -> tuple[uvicorn.Server, asyncio.Task[None], Starlette]:
    app = create_app(settings)
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


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    redis = RedisProcess(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend_url(request: pytest.FixtureRequest) -> str:
    """Every test that uses a server runs once per backend: one behaviour suite for all."""
    if request.param == "redis":
        server: RedisProcess = request.getfixturevalue("redis_server")
        return server.url
    if request.param == "sqlite":
        folder: Path = request.getfixturevalue("tmp_path")
        return f"sqlite://{folder}/attune.sqlite3"
    return "memory://"


@pytest.fixture
def settings(backend_url: str) -> Settings:
    # The themes worker is a process with a model in it: only the tests about themes start one
    # (tests/test_themes_protocol.py overrides this fixture).
    return Settings(port=free_port(), backend=backend_url, scenarios=DATA, themes=False)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Running]:
    uv, task, app = await start_server(settings)
    try:
        yield Running(f"http://127.0.0.1:{settings.port}", app, settings)
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A real headless Chromium (see tests/support/browser.py), closed after the test."""
    async for launched_browser in launched():
        yield launched_browser
