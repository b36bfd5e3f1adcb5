"""Everyone's group view built from shared parts (core/group_frames.py): byte for byte what
encoding each participant's ``GroupView`` gives, for any log, in every built-in groups scenario
and language, and holding nothing of anyone else's; and a forming worked out ahead
(``Session.prepare_forming``) is the forming, to the byte."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.session import (
    Commanded,
    Joined,
    Left,
    Outcome,
    Readied,
    Regrouped,
    Session,
    SessionInfo,
    Ticked,
    digest,
)
from tests.support.paths import BUILTIN as SCENARIOS

PEOPLE = [f"participant-{i:02d}" for i in range(14)]
BUILTIN = sorted(path.name for path in SCENARIOS.glob("*.yaml")
                 if "kind: groups" in path.read_text())

who = st.sampled_from(PEOPLE)
action = st.one_of(
    st.tuples(st.sampled_from(["ready", "unready", "leave", "tick", "untick"]), who,
              st.integers(0, 3)),
    st.tuples(st.sampled_from(["next", "form", "end", "back"]), st.just(""), st.just(0)),
)


def on_groups_step(scenario: str, language: str) -> tuple[Session, int]:
    """A running session on the scenario's first groups step, everyone joined."""
    loaded = sc.load(SCENARIOS / scenario)
    session = Session(SessionInfo(
        id="s1", code="ABCDEF", epoch="e1", secret="s" * 32, token_hash=digest("t"),
        language=language, min_responses=3, created_at=0, scenario=loaded,
    ))
    step = next(i for i, s in enumerate(loaded.steps) if isinstance(s, sc.Groups))
    for participant in PEOPLE:
        session.apply(Joined(at=1, participant=participant, token_hash=""))
    session.apply(Commanded(at=2, command=p.Start()))
    session.apply(Commanded(at=2, command=p.Goto(step=step)))
    return session, step


def entry(step: int, kind: str, participant: str, item: int) -> list[object]:
    match kind:
        case "ready" | "unready":
            return [Readied(at=4, participant=participant, step=step, ready=kind == "ready")]
        case "tick" | "untick":
            return [Ticked(at=4, participant=participant, step=step, item=item,
                           ticked=kind == "tick")]
        case "leave":
            return [Left(at=4, participant=participant),
                    Joined(at=4, participant=participant, token_hash="")]
        case "next":
            return [Commanded(at=5, command=p.GroupsNext())]
        case "form":
            return [Commanded(at=5, command=p.GroupsForm())]
        case "end":
            return [Commanded(at=5, command=p.GroupsEnd())]
        case _:  # leave the step and come back: everyone's view is sent again on entering
            return [Commanded(at=5, command=p.Goto(step=step - 1)),
                    Commanded(at=5, command=p.Goto(step=step))]


def assert_frames_are_the_views(session: Session) -> None:
    frames = session.group_frames()
    for participant in PEOPLE:
        view = session.group_view(participant)
        assert frames.of(participant) == (None if view is None else p.encoder.encode(view))


@pytest.mark.parametrize("language", ["en", "fr", "zh"])
@pytest.mark.parametrize("scenario", BUILTIN)
@settings(max_examples=40, deadline=None)
@given(actions=st.lists(action, max_size=40), first=st.integers(2, 14))
def test_every_frame_is_the_encoded_view(scenario: str, language: str,
                                         actions: list[tuple[str, str, int]],
                                         first: int) -> None:
    session, step = on_groups_step(scenario, language)
    log = [("ready", participant, 0) for participant in PEOPLE[:first]]
    log += [("form", "", 0), *actions]
    for kind, participant, item in log:
        for made in entry(step, kind, participant, item):
            session.apply(made)  # type: ignore[arg-type]
            assert_frames_are_the_views(session)


def test_the_builtin_groups_scenarios_are_all_checked() -> None:
    assert len(BUILTIN) >= 4


@pytest.mark.parametrize("scenario", BUILTIN)
def test_a_frame_holds_only_its_own_group_and_role(scenario: str) -> None:
    """After forming 30 people, each phone's bytes name no one, and hold its own role's
    private prompt and no other role's."""
    loaded = sc.load(SCENARIOS / scenario)
    session = Session(SessionInfo(
        id="s1", code="ABCDEF", epoch="e1", secret="s" * 32, token_hash=digest("t"),
        language="en", min_responses=3, created_at=0, scenario=loaded,
    ))
    step = next(i for i, s in enumerate(loaded.steps) if isinstance(s, sc.Groups))
    groups = loaded.steps[step]
    assert isinstance(groups, sc.Groups)
    room = [f"{i:024x}" for i in range(30)]
    for participant in room:
        session.apply(Joined(at=1, participant=participant, token_hash=""))
    session.apply(Commanded(at=2, command=p.Start()))
    session.apply(Commanded(at=2, command=p.Goto(step=step)))
    for participant in room:
        session.apply(Readied(at=3, participant=participant, step=step, ready=True))
    outcomes = list(session.apply(Commanded(at=4, command=p.GroupsForm())))
    assert any(isinstance(outcome, Regrouped) for outcome in outcomes)
    prompts = [sc.localize(role.prompt, "en") or "" for role in groups.roles]
    frames = session.group_frames()
    for participant in room:
        frame = frames.of(participant)
        assert frame is not None
        text = frame.decode()
        assert not any(other in text for other in room)
        view = p.server_decoder.decode(frame)
        assert isinstance(view, p.GroupView) and view.role is not None
        own = next(i for i, role in enumerate(groups.roles) if role.id == view.role.id)
        assert view.role.prompt == prompts[own]
        assert all(prompt not in text for i, prompt in enumerate(prompts)
                   if i != own and prompt != prompts[own])


def without_ahead(outcomes: list[Outcome]) -> list[Outcome]:
    return [msgspec.structs.replace(o, prepared=None) if isinstance(o, Regrouped) else o
            for o in outcomes]


def assert_ahead_is_what_the_forming_sent(session: Session, outcome: Regrouped) -> None:
    """What was worked out ahead, for everyone, is the event and the views after forming."""
    prepared = outcome.prepared
    assert prepared is not None
    assert p.encoder.encode(prepared.event) == p.encoder.encode(outcome.event.others)
    for participant in PEOPLE:
        view = session.group_view(participant)
        assert view is not None
        lead, end = prepared.parts(participant)
        assert lead + end == p.encoder.encode(view)


@pytest.mark.parametrize("scenario", BUILTIN)
@settings(max_examples=40, deadline=None)
@given(actions=st.lists(action, max_size=40), first=st.integers(2, 14),
       ahead=st.lists(st.booleans(), min_size=60, max_size=60))
def test_a_forming_worked_out_ahead_is_the_forming(scenario: str,
                                                   actions: list[tuple[str, str, int]],
                                                   first: int, ahead: list[bool]) -> None:
    """Two replicas fold the same log; one works the next forming out ahead before the
    entries ``ahead`` marks. Every outcome, group, role, checklist count and view is the same
    on both, and whenever a forming adopted what was worked out ahead, its event and every
    participant's view were those bytes."""
    prepared, plain = on_groups_step(scenario, "fr")[0], on_groups_step(scenario, "fr")[0]
    step = on_groups_step(scenario, "fr")[1]
    log = [("ready", participant, 0) for participant in PEOPLE[:first]]
    log += [("form", "", 0), *actions]
    for index, (kind, participant, item) in enumerate(log):
        for made in entry(step, kind, participant, item):
            fresh = prepared.prepare_forming() if ahead[index % len(ahead)] else None
            outcomes = prepared.apply(made)  # type: ignore[arg-type]
            assert without_ahead(outcomes) == plain.apply(made)  # type: ignore[arg-type]
            regrouped = [o for o in outcomes if isinstance(o, Regrouped)]
            if kind == "form" and fresh is not None:  # worked out just before: adopted
                assert [o.prepared for o in regrouped] == [fresh]
            for outcome in regrouped:
                if outcome.prepared is not None:
                    assert_ahead_is_what_the_forming_sent(prepared, outcome)
    one, two = prepared.groups[step], plain.groups[step]
    assert (one.groups, one.roles, one.where) == (two.groups, two.roles, two.where)
    assert one.checklists.held == two.checklists.held
    assert [prepared.group_view(who) for who in PEOPLE] == [plain.group_view(who)
                                                             for who in PEOPLE]


def test_a_forming_adopts_what_was_worked_out_only_while_nothing_changed() -> None:
    session, step = on_groups_step("listening-triads.yaml", "en")
    for participant in PEOPLE[:7]:
        session.apply(Readied(at=3, participant=participant, step=step, ready=True))
    ahead = session.prepare_forming()
    assert ahead is not None and session.prepare_forming() is ahead  # the same while still
    formed = session.apply(Commanded(at=4, command=p.GroupsForm()))
    regrouped = next(o for o in formed if isinstance(o, Regrouped))
    assert regrouped.prepared is ahead
    assert_ahead_is_what_the_forming_sent(session, regrouped)

    session.prepare_forming()
    session.apply(Readied(at=5, participant=PEOPLE[8], step=step, ready=True))
    formed = session.apply(Commanded(at=6, command=p.GroupsForm()))
    assert next(o for o in formed if isinstance(o, Regrouped)).prepared is None
    assert PEOPLE[8] in session.groups[step].where  # worked out afresh, with the newcomer

    session.prepare_forming()
    session.apply(Commanded(at=7, command=p.GroupsStart()))  # an event: the seq moved on
    formed = session.apply(Commanded(at=8, command=p.GroupsForm()))
    assert next(o for o in formed if isinstance(o, Regrouped)).prepared is None

    session.apply(Commanded(at=9, command=p.GroupsEnd()))
    assert session.prepare_forming() is None  # the groups are over: nothing to prepare
