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
import pytest_asyncio
import redis
import uvloop
from playwright.async_api import Browser

from attune import app as app_module
from attune import node as node_module
from attune.config import Settings
from tests.support import servers as servers_module
from tests.support.browser import close_contexts, launched
from tests.support.fixed import Seeded, ports
from tests.support.redis_server import RedisProcess
from tests.support.servers import Running, serving, settings_for

# Whatever a test starts without naming a data folder (Settings(), `attune serve`) keeps its
# files in a temporary folder, never in the user's own.
os.environ["ATTUNE_DATA"] = tempfile.mkdtemp(prefix="attune-test-data-")
atexit.register(shutil.rmtree, os.environ["ATTUNE_DATA"], ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """How many processes ``-n auto`` (pyproject's addopts) runs: the whole suite on two to four,
    one file each at a time (``--dist loadfile``): most of a test's time is spent waiting on
    sockets, servers and Chromium, so even two cores run two files at once. A run that names its
    tests (a folder, a file) stays in this process and starts sooner."""
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return 0
    return max(2, min(4, os.cpu_count() or 1))


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item,
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The suite runs on the event loop `attune serve` runs on: uvicorn picks uvloop."""
    return {"uvloop": uvloop.new_event_loop}


@pytest.fixture(autouse=True)
def fixed_draws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """While screenshots are kept (ATTUNE_SCREENSHOTS, as tests/support/screenshots.py sets it),
    the server's random draws and its port are seeded with the test's id: the same join address,
    codes and QR codes on every run."""
    if os.environ.get("ATTUNE_SCREENSHOTS"):
        seeded = Seeded(request.node.nodeid)
        monkeypatch.setattr(app_module, "secrets", seeded)
        monkeypatch.setattr(node_module, "secrets", seeded)
        monkeypatch.setattr(servers_module, "free_port", ports(request.node.nodeid))


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
        # The Redis server lives for the whole run (of this worker): start each test on an empty
        # database, as the memory and SQLite backends do, so no test sees another's sessions or
        # saved scenarios whatever order the tests run in.
        with redis.Redis.from_url(server.url) as client:
            client.flushdb()
        return server.url
    if request.param == "sqlite":
        folder: Path = request.getfixturevalue("tmp_path")
        return f"sqlite://{folder}/attune.sqlite3"
    return "memory://"


@pytest.fixture
def settings(backend_url: str) -> Settings:
    # Without the themes worker: only the tests about themes start one (tests/node/test_themes.py
    # overrides this fixture).
    return settings_for(backend=backend_url)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Running]:
    async with serving(settings) as running:
        yield running


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium_process() -> AsyncIterator[Browser]:
    """One real headless Chromium for the run (tests/support/browser.py): launching one costs
    a second or more on a busy machine, and a test needs only fresh contexts."""
    async for launched_browser in launched():
        yield launched_browser


@pytest_asyncio.fixture(loop_scope="session")
async def browser(chromium_process: Browser) -> AsyncIterator[Browser]:
    """The run's Chromium for one test; every context (cookies, storage, cache) the test opened
    is closed after it. Its tests run on the session's event loop, where Chromium's connection
    lives (tests/browser/conftest.py puts them there)."""
    yield chromium_process
    await close_contexts(chromium_process)
