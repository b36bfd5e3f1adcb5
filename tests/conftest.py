"""Fixtures shared by the suite: a real server on a free loopback port, per backend."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import uvloop
from playwright.async_api import Browser

from attune.config import Settings
from tests.support.browser import launched
from tests.support.clock import MovableClock
from tests.support.paths import DATA
from tests.support.redis_server import RedisProcess
from tests.support.servers import Running, free_port, start_server

# Whatever a test starts without naming a data folder (Settings(), `attune serve`) keeps its
# files in a temporary folder, never in the user's own.
os.environ["ATTUNE_DATA"] = tempfile.mkdtemp(prefix="attune-test-data-")
atexit.register(shutil.rmtree, os.environ["ATTUNE_DATA"], ignore_errors=True)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item,
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The suite runs on the event loop `attune serve` runs on: uvicorn picks uvloop."""
    return {"uvloop": uvloop.new_event_loop}


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
    # (tests/node/test_themes.py overrides this fixture).
    return Settings(port=free_port(), backend=backend_url, scenarios=DATA, themes=False)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Running]:
    clock = MovableClock()
    uv, task, app = await start_server(settings, clock)
    try:
        yield Running(f"http://127.0.0.1:{settings.port}", app, settings, clock)
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A real headless Chromium (see tests/support/browser.py), closed after the test."""
    async for launched_browser in launched():
        yield launched_browser
