"""Countdowns and timer steps as pure rules: pause, resume, extend, the end at zero, and where the
commands are refused (tests/node/test_countdown.py runs them over a real server)."""

from __future__ import annotations

from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.session import (
    Commanded,
    Expired,
    Outcome,
    Reply,
    Session,
    SessionInfo,
    digest,
)
from tests.support.paths import DATA

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


def run(session: Session, at: float, command: p.FacilitatorCommand) -> list[Outcome]:
    return session.apply(Commanded(at=at, command=command))


def refusal(outcomes: list[Outcome]) -> str:
    """The code of the error a refused command got."""
    assert isinstance(outcomes[0], Reply) and isinstance(outcomes[0].message, p.Error), outcomes
    return outcomes[0].message.code


def clock(session: Session) -> p.Clock | None:
    """The session's clock read afresh: mypy keeps ``session.clock`` narrowed across the calls
    that change it, and would skip every check after an ``is None``."""
    return session.clock


def accepting(session: Session) -> bool:
    """``session.responses_open`` read afresh, for the same reason."""
    return session.responses_open


def test_pause_resume_extend_then_zero_closes_and_reveals() -> None:
    session = make()
    run(session, 1000, p.Countdown(seconds=60, reveal=True))
    assert clock(session) == p.Clock(deadline=61_000, reveal=True)
    run(session, 11_000, p.PauseClock())
    assert clock(session) == p.Clock(left=50_000, reveal=True)
    run(session, 20_000, p.ExtendClock())
    assert clock(session) == p.Clock(left=80_000, reveal=True)
    run(session, 30_000, p.ResumeClock())
    assert clock(session) == p.Clock(deadline=110_000, reveal=True)
    # An end scheduled for an older deadline changes nothing.
    assert session.apply(Expired(at=61_000, step=SCALE, deadline=61_000)) == []
    assert accepting(session)
    session.apply(Expired(at=110_000, step=SCALE, deadline=110_000))
    assert not accepting(session) and session.revealed and clock(session) is None
    assert session.apply(Expired(at=110_001, step=SCALE, deadline=110_000)) == []


def test_a_new_step_or_closing_by_hand_stops_the_countdown() -> None:
    session = make()
    run(session, 1000, p.Countdown(seconds=30))
    run(session, 2000, p.CloseResponses())
    assert clock(session) is None
    run(session, 3000, p.Countdown(seconds=30))
    assert accepting(session), "a countdown opens responses"
    run(session, 4000, p.Next())
    assert clock(session) is None


def test_countdown_commands_are_refused_where_they_do_not_apply() -> None:
    session = make()
    refused = run(session, 1000, p.PauseClock())
    assert refusal(refused) == "no-countdown"
    run(session, 1000, p.Goto(step=0))
    refused = run(session, 1000, p.Countdown(seconds=30))
    assert refusal(refused) == "not-answerable"


def test_a_timer_step_runs_on_a_clock_that_pauses_and_takes_more_time() -> None:
    session = make()
    run(session, 1000, p.Goto(step=TIMER))
    assert clock(session) == p.Clock(deadline=61_000), "entering the step starts its 60 s"
    assert session.due() is None, "a timer's zero closes nothing, so no node times it"
    run(session, 11_000, p.PauseClock())
    assert clock(session) == p.Clock(left=50_000)
    run(session, 20_000, p.ExtendClock())
    run(session, 30_000, p.ResumeClock())
    assert clock(session) == p.Clock(deadline=110_000)
    # At zero the clock stays, showing 0:00; +30 s then counts from now, not from the past.
    run(session, 200_000, p.ExtendClock())
    assert clock(session) == p.Clock(deadline=230_000)
    refused = run(session, 200_000, p.Countdown(seconds=30))
    assert refusal(refused) == "not-answerable"
    run(session, 210_000, p.Back())
    assert clock(session) is None
    run(session, 220_000, p.Next())
    assert clock(session) == p.Clock(deadline=280_000), "back on the step: it starts again"
    run(session, 230_000, p.End())
    refused = run(session, 230_000, p.PauseClock())
    assert refusal(refused) == "session-ended"
