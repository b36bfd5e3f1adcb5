"""The groups rules (forming, leftovers, late joins, dropouts, rotation), as pure code: no event
loop, no socket. The property test folds random join/leave/ready sequences through two replicas."""

from __future__ import annotations

from collections import Counter
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.core import groups as g
from attune.core import protocol as p
from attune.core.session import (
    GROUP_COUNTS,
    Changed,
    Commanded,
    Grouped,
    Joined,
    Left,
    Readied,
    Regrouped,
    Session,
    Submitted,
    Ticked,
)
from tests.support.sessions import GROUPS, TRIADS, command, errors, make, on_groups_step


def state(size: int = 3, leftover: Literal["join", "own"] = "join", roles: int = 3,
          rounds: int = 3, rotate: bool = True, secret: str = "k" * 32) -> g.GroupsState:
    return g.GroupsState(0, size, leftover, roles, rounds, rotate, 240, secret=secret)


def ready(groups: g.GroupsState, *people: str) -> None:
    for who in people:
        groups.set_ready(who, True)


def sizes_of(groups: g.GroupsState) -> list[int]:
    return sorted(len(group) for group in groups.groups if group)


def check_invariant(groups: g.GroupsState) -> None:
    """Every ready participant in exactly one group of 2..size+1, and nobody else grouped."""
    placed = Counter(who for group in groups.groups for who in group)
    assert all(count == 1 for count in placed.values())
    assert set(placed) == set(groups.ready)
    assert all(2 <= len(group) <= groups.size + 1 for group in groups.groups if group)
    assert not groups.waiting
    assert set(groups.roles) == set(groups.ready)


# --- forming ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "size", "leftover", "expected"), [
    (2, 3, "join", [2]),
    (3, 3, "join", [3]),
    (4, 3, "join", [4]),
    (5, 3, "join", [2, 3]),
    (10, 3, "join", [3, 3, 4]),
    (11, 3, "join", [3, 4, 4]),
    (10, 3, "own", [2, 2, 3, 3]),
    (5, 2, "own", [2, 3]),
    (13, 7, "join", [6, 7]),
    (7, 2, "join", [2, 2, 3]),
])
def test_sizes_are_even_and_never_below_two(count: int, size: int, leftover: Literal["join", "own"],
                                            expected: list[int]) -> None:
    assert sorted(g.sizes(count, size, leftover)) == expected


@pytest.mark.parametrize("leftover", ["join", "own"])
@pytest.mark.parametrize("size", range(2, 8))
def test_every_count_fits_the_allowed_sizes(size: int, leftover: Literal["join", "own"]) -> None:
    for count in range(2, 200):
        made = g.sizes(count, size, leftover)
        assert sum(made) == count
        assert all(2 <= n <= size + 1 for n in made), (count, made)
        assert max(made) - min(made) <= 1


def test_one_person_cannot_form_a_group() -> None:
    with pytest.raises(ValueError):
        g.sizes(1, 3, "join")
    groups = state()
    ready(groups, "a")
    with pytest.raises(ValueError):
        groups.form()


def test_forming_is_a_pure_function_of_ready_set_secret_and_forming() -> None:
    a, b = state(secret="secret-1" * 4), state(secret="secret-1" * 4)
    ready(a, *"abcdefghij")
    ready(b, *"jihgfedcba")  # another arrival order: the shuffle does not depend on it
    a.form()
    b.form()
    assert a.groups == b.groups and a.roles == b.roles
    c = state(secret="secret-2" * 4)
    ready(c, *"abcdefghij")
    c.form()
    assert c.groups != a.groups
    a.form()  # forming again reshuffles
    assert a.groups != b.groups
    check_invariant(a)


def test_the_shuffle_never_changes_across_versions() -> None:
    """A log outlives the code that wrote it: replayed by a newer node, a session must form the
    same groups. These values come from the first implementation (one BLAKE2s per person)."""
    assert g.shuffle_key("k" * 32, 1, 0)("p0").hex() == "dcd64ca564e8927f"
    groups = g.GroupsState(1, 3, "join", 3, 3, True, 240, [0, 0, 2], "k" * 32)
    ready(groups, *(f"p{i}" for i in range(10)))
    groups.form()
    assert groups.groups == [["p8", "p9", "p7", "p4"], ["p5", "p3", "p6"], ["p1", "p0", "p2"]]
    assert groups.roles == {"p8": 0, "p9": 1, "p7": 2, "p4": 2, "p5": 0, "p3": 1, "p6": 2,
                            "p1": 0, "p0": 1, "p2": 2}
    assert groups.checklists.held[2] == {(1, 1), (1, 2), (1, 3)}
    groups.form()
    assert groups.groups == [["p4", "p3", "p0", "p1"], ["p6", "p5", "p7"], ["p9", "p8", "p2"]]


def test_places_worked_out_at_ready_are_the_shuffle_keys() -> None:
    """Each place is kept from "I'm ready" so that forming only sorts: it is the keyed hash of
    the forming to come, for the people ready before a first forming and after a later one."""
    groups = state()
    ready(groups, *"abcdef")
    key = g.shuffle_key("k" * 32, 0, 0)
    assert groups.places == {who: key(who) for who in "abcdef"}
    groups.form()
    ready(groups, "g")
    groups.set_ready("a", False)
    assert "a" not in groups.places and "g" not in groups.places  # stale since forming
    groups.form()  # forming again hashes everyone with the second forming's key
    again = state()
    ready(again, *"bcdefg")
    again.formings = again.places_for = 1
    again.places = {who: g.shuffle_key("k" * 32, 0, 1)(who) for who in "bcdefg"}
    again.form()
    assert groups.groups == again.groups
    check_invariant(groups)


def test_a_plan_worked_out_ahead_is_the_forming_and_changes_nothing() -> None:
    """``plan`` and ``after`` leave the state as it was; forming with the plan gives what
    forming without it does, checklist holds included; a plan from before a change is not
    used."""
    groups = g.GroupsState(0, 3, "join", 3, 3, True, 240, [0, 0, 2], "k" * 32)
    plain = g.GroupsState(0, 3, "join", 3, 3, True, 240, [0, 0, 2], "k" * 32)
    for formed in (groups, plain):
        ready(formed, *(f"p{i}" for i in range(11)))
    plan = groups.plan()
    seen = groups.after(plan)
    assert (groups.phase, groups.formings, groups.groups, groups.roles) == ("gathering", 0, [], {})
    assert groups.checklists.held == [set(), set(), set()]
    assert seen.phase == "grouped" and seen.groups == plan.groups and seen.formings == 1
    groups.form(plan)
    plain.form()
    assert groups.groups == plain.groups and groups.roles == plain.roles
    assert groups.where == plain.where and groups.checklists.held == plain.checklists.held
    stale = groups.plan()
    groups.set_ready("p3", False)
    plain.set_ready("p3", False)
    groups.form(stale)  # worked out before p3 stepped out: forming works it out again
    plain.form()
    assert groups.groups == plain.groups and "p3" not in groups.where
    check_invariant(groups)


def test_roles_rotate_so_each_member_of_a_triad_speaks_once() -> None:
    groups = state()
    ready(groups, "a", "b", "c")
    groups.form()
    seen: dict[str, list[int]] = {who: [] for who in "abc"}
    for round_ in range(3):
        if round_:
            groups.next_round(1000.0 * round_)
        for who in "abc":
            role = groups.role(who)
            assert role is not None
            seen[who].append(role)
    assert all(sorted(roles) == [0, 1, 2] for roles in seen.values())
    with pytest.raises(ValueError):
        groups.next_round(5000)


def test_next_role_is_what_the_next_round_gives() -> None:
    groups = state()
    ready(groups, *"abcdef")
    groups.form()
    upcoming = {who: groups.next_role(who) for who in "abcdef"}
    groups.next_round(10)
    assert upcoming == {who: groups.role(who) for who in "abcdef"}
    groups.next_round(20)
    assert all(groups.next_role(who) is None for who in "abcdef")


def test_without_rotation_roles_stay() -> None:
    groups = state(size=2, roles=2, rounds=2, rotate=False)
    ready(groups, "a", "b")
    groups.form()
    before = dict(groups.roles)
    groups.next_round(10)
    assert groups.roles == before
    assert groups.next_role("a") is None


def test_extra_members_share_the_last_role_and_a_pair_drops_it() -> None:
    groups = state()
    ready(groups, *"abcd")
    groups.form()
    assert sorted(groups.roles.values()) == [0, 1, 2, 2]
    pair = state()
    ready(pair, "a", "b")
    pair.form()
    assert sorted(pair.roles.values()) == [0, 1]


# --- late joiners and dropouts ----------------------------------------------------------------


def test_a_late_joiner_goes_to_the_smallest_group_in_the_last_role() -> None:
    groups = state()
    ready(groups, *"abcdefg")  # 7: groups of 4 and 3
    groups.form()
    changed = groups.set_ready("late", True)
    number = groups.group_of("late")
    assert number is not None and groups.members(number) == 4
    assert changed == set(groups.groups[number - 1])
    assert groups.role("late") == 2
    assert groups.status("late") == "grouped"


def test_late_joiners_wait_when_every_group_is_full_and_are_placed_next_round() -> None:
    groups = state()
    ready(groups, *"abcdefgh")  # 8: groups of 4 and 4, both full
    groups.form()
    groups.set_ready("x", True)
    assert groups.status("x") == "waiting" and groups.group_of("x") is None
    groups.set_ready("y", True)
    groups.next_round(10)
    assert groups.group_of("x") == groups.group_of("y") is not None
    check_invariant(groups)


def test_a_single_waiter_with_every_group_full_pairs_with_someone_next_round() -> None:
    groups = state()
    ready(groups, *"abcdefgh")
    groups.form()
    groups.set_ready("x", True)
    groups.next_round(10)
    number = groups.group_of("x")
    assert number is not None and groups.members(number) == 2
    check_invariant(groups)


def test_someone_left_alone_is_told_and_merged_at_the_next_round() -> None:
    groups = state(size=2, roles=2)
    ready(groups, *"abcdef")
    groups.form()
    partner = next(who for who in groups.groups[0] if who != groups.groups[0][0])
    alone = groups.groups[0][0]
    changed = groups.remove(partner)
    assert changed == {partner, alone}
    assert groups.status(alone) == "alone"
    assert groups.counts() == (5, 4, 0, 1)
    groups.next_round(10)
    assert groups.status(alone) == "grouped"
    assert groups.members(groups.group_of(alone) or 0) == 3
    assert groups.live_groups() == [2, 3]  # group 1 emptied; numbers keep their meaning
    check_invariant(groups)


def test_the_last_person_standing_waits_and_is_told() -> None:
    groups = state(size=2, roles=2)
    ready(groups, "a", "b")
    groups.form()
    groups.remove("a")
    groups.next_round(10)
    assert groups.status("b") == "waiting"


def test_stepping_out_and_back_in_is_a_dropout_then_a_late_join() -> None:
    groups = state()
    ready(groups, *"abcdef")
    groups.form()
    groups.set_ready("a", False)
    assert groups.status("a") == "unready" and groups.group_of("a") is None
    groups.set_ready("a", True)
    assert groups.status("a") == "grouped"


def test_the_round_timer_runs_pauses_and_extends_on_the_given_clock() -> None:
    groups = state()
    ready(groups, "a", "b")
    groups.form()
    assert groups.left(0) == 240
    assert groups.start(1000)
    assert not groups.start(2000)
    assert groups.left(11_000) == 230
    assert groups.pause(11_000)
    assert groups.left(99_000) == 230
    groups.extend(30)
    assert groups.left(99_000) == 260
    groups.next_round(100_000)
    assert groups.left(100_000) == 240 and groups.started_at == 100_000


# --- the property: any sequence, every ready person grouped, two replicas the same ------------

people = st.sampled_from([f"p{i}" for i in range(14)])
action = st.one_of(
    st.tuples(st.just("ready"), people),
    st.tuples(st.just("unready"), people),
    st.tuples(st.just("leave"), people),
    st.tuples(st.just("tick"), people),
    st.tuples(st.just("untick"), people),
    st.tuples(st.just("next"), st.just("")),
    st.tuples(st.just("form"), st.just("")),
)


def make_session(secret: str = "s" * 32) -> Session:
    return make(scenario=TRIADS, secret=secret)


def entries(before: list[tuple[str, str]], after: list[tuple[str, str]]) -> list[object]:
    """A session log: everyone joins, the groups step begins, the actions run around a form."""
    log: list[object] = [Joined(at=1, participant=f"p{i}", token_hash="") for i in range(14)]
    log += [Commanded(at=2, command=p.Start()), Commanded(at=3, command=p.Next())]
    for phase in (before, [("form", "")], after):
        for kind, who in phase:
            match kind:
                case "ready" | "unready":
                    log.append(Readied(at=4, participant=who, step=GROUPS, ready=kind == "ready"))
                case "tick" | "untick":
                    log.append(Ticked(at=4, participant=who, step=GROUPS, item=0,
                                      ticked=kind == "tick"))
                case "leave":
                    log.append(Left(at=4, participant=who))
                    log.append(Joined(at=4, participant=who, token_hash=""))
                case "next":
                    log.append(Commanded(at=5, command=p.GroupsNext()))
                case "form":
                    log.append(Commanded(at=5, command=p.GroupsForm()))
    return log


@settings(max_examples=200, deadline=None)
@given(st.lists(action, max_size=30), st.lists(action, max_size=40),
       st.integers(min_value=3, max_value=14))
def test_any_sequence_groups_every_ready_participant_once_on_every_replica(
    before: list[tuple[str, str]], after: list[tuple[str, str]], first: int,
) -> None:
    before = [("ready", f"p{i}") for i in range(first)] + before
    log = entries(before, after)
    one, two = make_session(), make_session()
    for entry in log:
        assert one.apply(entry) == two.apply(entry)  # type: ignore[arg-type]
    state_one, state_two = one.groups[GROUPS], two.groups[GROUPS]
    assert state_one.groups == state_two.groups and state_one.roles == state_two.roles
    views = [one.group_view(f"p{i}") for i in range(14)]
    assert views == [two.group_view(f"p{i}") for i in range(14)]
    assert state_one.checklists.totals() == state_two.checklists.totals()
    for total in state_one.checklists.totals():
        assert all(0 <= noticed <= total.groups for noticed in total.noticed)
    if state_one.phase == "grouped" and len(state_one.ready) >= 2:
        # A boundary settles everyone: whoever waited or stood alone is placed.
        if state_one.round + 1 < state_one.rounds:
            one.apply(Commanded(at=9, command=p.GroupsNext()))
        else:
            one.apply(Commanded(at=9, command=p.GroupsForm()))
        check_invariant(one.groups[GROUPS])
        for view in (one.group_view(f"p{i}") for i in range(14)):
            assert view is not None
            assert (view.status == "grouped") == (view.number > 0)
            if view.status == "grouped":
                assert 1 <= view.others <= 3 and view.role is not None
    for group in state_one.groups:
        assert len(group) <= state_one.size + 1


# --- through the session: typed refusals, privacy, debrief --------------------------------------


def test_bad_input_is_refused_with_a_typed_error() -> None:
    session = make_session()
    session.apply(Joined(at=1, participant="a", token_hash=""))
    command(session, p.Start())
    assert errors(list(session.apply(Readied(at=2, participant="a", step=0, ready=True)))) \
        == ["not-groups-step"]
    assert errors(command(session, p.GroupsForm())) == ["not-groups-step"]
    command(session, p.Next())
    assert errors(command(session, p.GroupsForm())) == ["too-few-ready"]
    session.apply(Readied(at=2, participant="a", step=GROUPS, ready=True))
    assert errors(command(session, p.GroupsForm())) == ["too-few-ready"]
    assert errors(command(session, p.GroupsNext())) == ["groups-not-formed"]
    assert errors(command(session, p.GroupsStart())) == ["groups-not-formed"]
    assert errors(list(session.apply(Readied(at=2, participant="a", step=0, ready=True)))) \
        == ["not-current-step"]


def test_rotating_past_the_last_round_is_refused() -> None:
    session = on_groups_step(3)
    for i in range(3):
        session.apply(Readied(at=2, participant=f"p{i}", step=GROUPS, ready=True))
    assert not errors(command(session, p.GroupsForm()))
    assert not errors(command(session, p.GroupsNext()))
    assert not errors(command(session, p.GroupsNext()))
    assert errors(command(session, p.GroupsNext())) == ["no-more-rounds"]


def test_views_name_no_one_and_prompts_stay_private() -> None:
    session = on_groups_step(5)
    for i in range(5):
        session.apply(Readied(at=2, participant=f"p{i}", step=GROUPS, ready=True))
    outcomes = command(session, p.GroupsForm())
    assert any(isinstance(o, Regrouped) for o in outcomes) and Changed(GROUP_COUNTS) in outcomes
    step = session.step_view(GROUPS, moderator=False)
    moderated = session.step_view(GROUPS, moderator=True)
    assert isinstance(step, p.GroupsView) and isinstance(moderated, p.GroupsView)
    assert all(role.prompt is None for role in step.roles)
    assert all(role.prompt for role in moderated.roles)
    for i in range(5):
        view = session.group_view(f"p{i}")
        assert view is not None and view.role is not None and view.role.prompt
        encoded = p.encoder.encode(view).decode()
        assert not any(f"p{j}" in encoded for j in range(5))
    counts = session.group_counts("screen")
    assert counts is not None and counts.sizes == [] and counts.grouped == 5
    host = session.group_counts("facilitator")
    assert host is not None and sorted(host.sizes) == [2, 3]
    assert session.group_counts("participant") is None


def test_the_debrief_opens_when_the_groups_end_and_aggregates_like_a_step() -> None:
    session = on_groups_step(4)
    assert not session.responses_open
    for i in range(4):
        session.apply(Readied(at=2, participant=f"p{i}", step=GROUPS, ready=True))
    command(session, p.GroupsForm())
    command(session, p.GroupsEnd())
    assert session.responses_open
    assert errors(list(session.apply(Readied(at=2, participant="p0", step=GROUPS, ready=True)))) \
        == ["groups-over"]
    for i in range(3):
        message = p.Answer(step=GROUPS, submission=f"s{i}", value=p.ScaleValue(value=4))
        assert not errors(list(session.apply(Submitted(at=3, participant=f"p{i}",
                                                       message=message))))
    results = session.results("facilitator")
    assert results is not None and results.count == 3
    assert isinstance(results.answers, p.ScaleAggregate) and results.answers.mean == 4
    assert session.results("screen") is not None
    hidden = session.results("participant")
    assert hidden is None


def test_leaving_the_session_takes_you_out_of_your_group() -> None:
    session = on_groups_step(4)
    for i in range(4):
        session.apply(Readied(at=2, participant=f"p{i}", step=GROUPS, ready=True))
    command(session, p.GroupsForm())
    outcomes = list(session.apply(Left(at=3, participant="p0")))
    grouped = [o for o in outcomes if isinstance(o, Grouped)]
    assert grouped
    assert "p0" not in grouped[0].participants
    assert session.groups[GROUPS].group_of("p0") is None
