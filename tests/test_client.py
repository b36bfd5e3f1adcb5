"""The test and script client (``attune.client``): what it reports when the server misbehaves."""

from __future__ import annotations

import time

import pytest

from attune.core import protocol as p
from tests.support.servers import Running


@pytest.fixture
def backend_url() -> str:
    return "memory://"  # the client's own behaviour; the backends are tested elsewhere


async def test_a_gap_in_the_events_fails_the_next_expect_with_its_numbers(
    server: Running,
) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    phone = await server.participant(created)
    await host.command(p.Start())
    await phone.expect(p.StepEvent)
    phone.seq -= 1  # as if the phone had missed one event
    had = phone.seq
    await host.command(p.Next())
    started = time.monotonic()
    with pytest.raises(AssertionError, match=rf"^gap in events: had {had}, got {had + 2}$"):
        await phone.expect(p.StepEvent, timeout=5)
    assert time.monotonic() - started < 2, "reported at once, not as a timeout"
