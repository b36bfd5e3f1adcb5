"""Redis slow, hanging or resetting, seen through a fault-injecting proxy.

Calls stay bounded, the event loop keeps serving, ``/readyz`` and the facilitator are told, and
service resumes by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from attune.client import Client, Refusal
from attune.core import protocol as p
from tests.support.fault_proxy import FaultProxy
from tests.support.http import aget
from tests.support.redis_server import RedisProcess
from tests.support.servers import Running, serving, settings_for

pytestmark = [pytest.mark.redis, pytest.mark.hardening]
BOUND = 4.0
"""Seconds within which a fault must be noticed: the backend's 2 s call timeout, plus slack."""


@pytest.fixture
async def proxy(redis_server: RedisProcess) -> AsyncIterator[FaultProxy]:
    proxy = FaultProxy("127.0.0.1", redis_server.port)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def proxied(proxy: FaultProxy) -> AsyncIterator[Running]:
    async with serving(settings_for(backend=f"redis://127.0.0.1:{proxy.port}/0")) as running:
        try:
            yield running
        finally:
            proxy.heal()  # before the server stops, so its last Redis calls are answered


async def rtt(client: Client) -> float:
    sent = time.monotonic()
    await client.sync_clock(rounds=1)
    return time.monotonic() - sent


async def started(server: Running) -> tuple[Client, Client]:
    """A facilitator and a phone on the first step of a fresh session."""
    created = await server.session()
    host = await server.facilitator(created)
    phone = await server.participant(created)
    await host.command(p.Start())
    await phone.expect(p.StepEvent)
    return host, phone


async def test_a_hanging_redis_is_bounded_reported_and_recovered(
    proxied: Running, proxy: FaultProxy
) -> None:
    host, phone = await started(proxied)
    proxy.hang()
    hung_at = time.monotonic()
    await host.command(p.Next())
    error = await host.expect(p.Error, timeout=BOUND + 2)
    assert error.code == "unavailable" and "retry" in error.message.lower()
    assert time.monotonic() - hung_at < BOUND
    assert await rtt(phone) < 0.5, "the event loop keeps serving while Redis hangs"
    status, _ = await aget(f"{proxied.base}/readyz")
    assert status == 503
    proxy.heal()
    deadline = time.monotonic() + 15
    while (await aget(f"{proxied.base}/readyz"))[0] != 200:
        assert time.monotonic() < deadline, "service did not resume by itself"
        await asyncio.sleep(0.2)
    await host.command(p.Next())
    event = await phone.expect(p.StepEvent, timeout=10)
    assert event.step.index == 1


async def test_latency_slows_but_loses_nothing(proxied: Running, proxy: FaultProxy) -> None:
    created = await proxied.session()
    host = await proxied.facilitator(created)
    phones = [await proxied.participant(created) for _ in range(3)]
    await host.command(p.Start())
    await host.command(p.Goto(step=2))
    for phone in phones:
        await phone.expect(p.StepEvent, lambda e: e.step.index == 2)
    proxy.delay = 0.05
    await asyncio.gather(*(ph.answer(2, p.ScaleValue(value=3)) for ph in phones))
    results = await host.expect(p.Results, lambda r: r.count == 3, timeout=10)
    assert results.count == 3


async def test_reset_connections_recover_by_themselves(
    proxied: Running, proxy: FaultProxy
) -> None:
    host, phone = await started(proxied)
    proxy.reset()
    deadline = time.monotonic() + 15
    while True:
        await host.command(p.Next())
        try:
            event = await phone.expect(p.StepEvent, timeout=2)
            break
        except (TimeoutError, Refusal):
            assert time.monotonic() < deadline, "service did not recover after resets"
    assert event.step.index >= 1
