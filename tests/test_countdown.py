"""Countdowns on answer steps: pure rules, then over a real server on every backend."""

from __future__ import annotations

import pytest

from attune.client import Refusal
from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.session import Commanded, Expired, Session, SessionInfo, digest
from tests.conftest import DATA, Running

SCALE = 2
TIMER = 6


def make() -> Session:
    session = Session(SessionInfo(
        id="s1", code="ABCDEF", epoch="e1", secret="x" * 32, token_hash=digest("t"),
        language="en", min_responses=1, created_at=0, scenario=sc.load(DATA / "every-kind.yaml"),
    ))
    session.apply(Commanded(at=1, command=p.Start()))
    session.apply(Commanded(at=2, command=p.Goto(step=SCALE)))
    return session


def run(session: Session, at: float, command: p.FacilitatorCommand) -> list[object]:
    return list(session.apply(Commanded(at=at, command=command)))


def test_pause_resume_extend_then_zero_closes_and_reveals() -> None:
    session = make()
    run(session, 1000, p.Countdown(seconds=60, reveal=True))
    assert session.clock == p.Clock(deadline=61_000, reveal=True)
    run(session, 11_000, p.PauseClock())
    assert session.clock == p.Clock(left=50_000, reveal=True)
    run(session, 20_000, p.ExtendClock())
    assert session.clock == p.Clock(left=80_000, reveal=True)
    run(session, 30_000, p.ResumeClock())
    assert session.clock == p.Clock(deadline=110_000, reveal=True)
    # An end scheduled for an older deadline changes nothing.
    assert session.apply(Expired(at=61_000, step=SCALE, deadline=61_000)) == []
    assert session.responses_open
    session.apply(Expired(at=110_000, step=SCALE, deadline=110_000))
    assert not session.responses_open and session.revealed and session.clock is None
    assert session.apply(Expired(at=110_001, step=SCALE, deadline=110_000)) == []


def test_a_new_step_or_closing_by_hand_stops_the_countdown() -> None:
    session = make()
    run(session, 1000, p.Countdown(seconds=30))
    run(session, 2000, p.CloseResponses())
    assert session.clock is None
    run(session, 3000, p.Countdown(seconds=30))
    assert session.responses_open, "a countdown opens responses"
    run(session, 4000, p.Next())
    assert session.clock is None


def test_countdown_commands_are_refused_where_they_do_not_apply() -> None:
    session = make()
    refused = run(session, 1000, p.PauseClock())
    assert refused[0].message.code == "no-countdown"  # type: ignore[attr-defined]
    run(session, 1000, p.Goto(step=0))
    refused = run(session, 1000, p.Countdown(seconds=30))
    assert refused[0].message.code == "not-answerable"  # type: ignore[attr-defined]


def test_a_timer_step_runs_on_a_clock_that_pauses_and_takes_more_time() -> None:
    session = make()
    run(session, 1000, p.Goto(step=TIMER))
    assert session.clock == p.Clock(deadline=61_000), "entering the step starts its 60 s"
    assert session.due() is None, "a timer's zero closes nothing, so no node times it"
    run(session, 11_000, p.PauseClock())
    assert session.clock == p.Clock(left=50_000)
    run(session, 20_000, p.ExtendClock())
    run(session, 30_000, p.ResumeClock())
    assert session.clock == p.Clock(deadline=110_000)
    # At zero the clock stays, showing 0:00; +30 s then counts from now, not from the past.
    run(session, 200_000, p.ExtendClock())
    assert session.clock == p.Clock(deadline=230_000)
    refused = run(session, 200_000, p.Countdown(seconds=30))
    assert refused[0].message.code == "not-answerable"  # type: ignore[attr-defined]
    run(session, 210_000, p.Back())
    assert session.clock is None
    run(session, 220_000, p.Next())
    assert session.clock == p.Clock(deadline=280_000), "back on the step: it starts again"
    run(session, 230_000, p.End())
    refused = run(session, 230_000, p.PauseClock())
    assert refused[0].message.code == "session-ended"  # type: ignore[attr-defined]


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
    await host.command(p.ExtendClock(seconds=30))
    await screen.expect(p.ClockEvent, lambda e: e.clock is not None
                        and e.clock.left == paused.clock.left + 30_000)  # type: ignore[union-attr]
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
    await phone.expect(p.ClockEvent, lambda e: e.clock is not None
                       and e.clock.deadline == started.clock.deadline + 1000)  # type: ignore[union-attr]
    for client in (host, phone, screen):
        await client.expect(p.ResponsesEvent, lambda e: not e.open, timeout=15)
        await client.expect(p.RevealEvent, lambda e: e.revealed, timeout=5)
    with pytest.raises(Refusal, match="no-countdown"):
        await host.command(p.PauseClock())
        await host.expect(p.Pong)
    await host.send_raw('{"type": "countdown", "seconds": 4}')
    assert (await host.expect(p.Error)).code == "malformed", "out of range is a typed error"
    await host.send_raw('{"type": "countdown", "seconds": 3601}')
    assert (await host.expect(p.Error)).code == "malformed"
    for client in (host, phone, screen):
        await client.close()
