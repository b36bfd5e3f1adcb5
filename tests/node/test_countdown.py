"""Countdowns and timer steps over a real server, on every backend: every device sees the clock,
pauses, resumes, +N and the close at zero; bad countdown commands are typed errors."""

from __future__ import annotations

import pytest

from attune.client import Refusal
from attune.core import protocol as p
from tests.support.servers import Running

SCALE = 2
TIMER = 6


async def test_a_timer_step_pauses_resumes_and_extends_on_every_device(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    phone = await server.participant(created)
    screen = await server.screen(created)
    await host.command(p.Start())
    await host.command(p.Goto(step=TIMER))
    entered = await phone.expect(p.StepEvent, lambda e: e.step.index == TIMER)
    started = await screen.expect(p.ClockEvent, lambda e: e.clock is not None)
    assert started.clock is not None and started.clock.deadline is not None
    assert started.clock.deadline == entered.started_at + 60_000
    await host.command(p.PauseClock())
    paused = await phone.expect(p.ClockEvent, lambda e: e.clock is not None
                                and e.clock.deadline is None)
    assert paused.clock is not None and paused.clock.left is not None
    assert 50_000 < paused.clock.left <= 60_000
    left = paused.clock.left
    await host.command(p.ExtendClock(seconds=30))
    await screen.expect(p.ClockEvent, lambda e: e.clock is not None
                        and e.clock.left == left + 30_000)
    await host.command(p.ResumeClock())
    resumed = await phone.expect(p.ClockEvent, lambda e: e.clock is not None
                                 and e.clock.deadline is not None)
    assert resumed.clock is not None and resumed.clock.deadline is not None
    assert resumed.clock.deadline > started.clock.deadline + 30_000
    # A late phone sees the same clock in its snapshot.
    late = await server.participant(created)
    assert late.welcome is not None and late.welcome.snapshot is not None
    assert late.welcome.snapshot.clock == resumed.clock
    for client in (host, phone, screen, late):
        await client.close()


async def test_a_countdown_closes_responses_at_zero_on_every_device(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    phone = await server.participant(created)
    screen = await server.screen(created)
    await host.command(p.Start())
    await host.command(p.Goto(step=SCALE))
    await phone.expect(p.StepEvent, lambda e: e.step.index == SCALE)
    await host.command(p.Countdown(seconds=5, reveal=True))
    started = await screen.expect(p.ClockEvent, lambda e: e.clock is not None)
    assert started.clock is not None and started.clock.deadline is not None
    await host.command(p.ExtendClock(seconds=1))
    deadline = started.clock.deadline
    await phone.expect(p.ClockEvent, lambda e: e.clock is not None
                       and e.clock.deadline == deadline + 1000)
    server.clock.advance(6)
    for client in (host, phone, screen):
        await client.expect(p.ResponsesEvent, lambda e: not e.open)
        await client.expect(p.RevealEvent, lambda e: e.revealed)
    with pytest.raises(Refusal, match="no-countdown"):
        await host.command(p.PauseClock())
        await host.expect(p.Pong)
    await host.send_raw('{"type": "countdown", "seconds": 4}')
    assert (await host.expect(p.Error)).code == "malformed", "out of range is a typed error"
    await host.send_raw('{"type": "countdown", "seconds": 3601}')
    assert (await host.expect(p.Error)).code == "malformed"
    for client in (host, phone, screen):
        await client.close()
