"""Observers' checklist ticks as answers: folded into per-group totals, shown only at the debrief
and above the minimum, withdrawn with the rest of someone's answers, never naming anyone."""

from __future__ import annotations

from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core import session as s
from attune.core.checklist import Checklists, Tick, Total
from attune.core.export import export, to_csv
from tests.support.paths import ROOT
from tests.support.sessions import GROUPS, command, errors, make, on_groups_step

OBSERVER = 2
"""The observer's role index in tests/data/triads.yaml (one checklist item)."""


def test_a_group_counts_once_however_many_rounds_noticed_it() -> None:
    lists = Checklists([0, 0, 2])
    for _ in range(3):  # three rounds
        for number in (1, 2, 3):
            lists.hold(OBSERVER, 1, number)
        lists.hold(0, 1, 1)  # a role without a checklist is not counted
    assert lists.set("a", Tick(OBSERVER, 0, 1, 1, 0), True)
    assert lists.set("b", Tick(OBSERVER, 0, 1, 1, 1), True)
    assert not lists.set("b", Tick(OBSERVER, 0, 1, 1, 1), True)
    assert lists.set("c", Tick(OBSERVER, 1, 1, 2, 2), True)
    assert lists.totals() == [Total(OBSERVER, 3, [1, 1])]
    assert lists.reporters == 3
    assert lists.ticked("b", OBSERVER, 1, 1, 1) == [0]
    assert lists.ticked("b", OBSERVER, 1, 1, 0) == []
    assert lists.set("c", Tick(OBSERVER, 1, 1, 2, 2), False)
    assert lists.reporters == 2 and lists.totals() == [Total(OBSERVER, 3, [1, 0])]
    assert lists.forget("a") and not lists.forget("a")
    assert lists.totals() == [Total(OBSERVER, 3, [1, 0])]  # b noticed it in group 1 too


def observers(session: s.Session) -> list[str]:
    state = session.groups[GROUPS]
    return sorted(who for who, role in state.roles.items() if role == OBSERVER)


def tick(session: s.Session, who: str, item: int = 0, ticked: bool = True) -> list[object]:
    return list(session.apply(s.Ticked(at=5, origin="n/c", participant=who, step=GROUPS,
                                     item=item, ticked=ticked)))


def grouped(people: int) -> s.Session:
    session = on_groups_step(people)
    for i in range(people):
        session.apply(s.Readied(at=2, participant=f"p{i}", step=GROUPS, ready=True))
    command(session, p.GroupsForm())
    return session


def test_three_rounds_of_two_triads_total_per_group_at_the_debrief() -> None:
    session = grouped(6)
    ticked_by = []
    for round_ in range(3):
        first = observers(session)[0]
        outcomes = tick(session, first)
        assert outcomes == [s.Grouped(frozenset({first})), s.Changed(s.GROUP_COUNTS)]
        view = session.group_view(first)
        assert view is not None and view.ticked == [0]
        ticked_by.append(first)
        if round_ < 2:
            command(session, p.GroupsNext())
            view = session.group_view(first)
            assert view is not None and view.ticked == []  # a fresh list each round
    counts = session.group_counts("facilitator")
    assert counts is not None and counts.ticked == 3 and counts.checklist == []  # not yet
    command(session, p.GroupsEnd())
    for role in ("facilitator", "screen"):
        counts = session.group_counts(role)
        assert counts is not None and len(counts.checklist) == 1
        total = counts.checklist[0]
        assert total.role == "Observer" and total.groups == 2
        noticed = {session.groups[GROUPS].group_of(who) for who in ticked_by}
        assert [item.groups for item in total.items] == [len(noticed)]
        assert total.items[0].text == "Reflected feelings"
        encoded = p.encoder.encode(counts).decode()
        assert not any(f'"p{i}"' in encoded for i in range(6))
    assert session.group_counts("participant") is None


def test_totals_stay_hidden_below_the_minimum_and_leaving_withdraws_ticks() -> None:
    session = grouped(6)
    for _ in range(2):
        tick(session, observers(session)[0])
        command(session, p.GroupsNext())
    command(session, p.GroupsEnd())
    counts = session.group_counts("screen")
    assert counts is not None and counts.ticked == 2 and counts.checklist == []  # min is 3
    assert export(session).steps[0].checklist == []
    session = grouped(6)
    gone = observers(session)[0]
    tick(session, gone)
    for _ in range(2):
        command(session, p.GroupsNext())
        tick(session, observers(session)[0])
    command(session, p.GroupsEnd())
    counts = session.group_counts("screen")
    assert counts is not None and counts.ticked == 3 and counts.checklist
    outcomes = list(session.apply(s.Left(at=9, participant=gone)))
    assert s.Changed(s.GROUP_COUNTS) in outcomes
    counts = session.group_counts("screen")
    assert counts is not None and counts.ticked == 2 and counts.checklist == []


def test_the_export_carries_the_totals_as_the_room_saw_them() -> None:
    session = grouped(6)
    for round_ in range(3):
        for who in observers(session):
            tick(session, who)
        if round_ < 2:
            command(session, p.GroupsNext())
    command(session, p.GroupsEnd())
    data = export(session)
    result = next(step for step in data.steps if step.index == GROUPS)
    assert result.ticked == 6
    assert [(c.role, c.groups, [i.groups for i in c.items]) for c in result.checklist] \
        == [("Observer", 2, [2])]
    rows = [line for line in to_csv(data).splitlines() if ",checklist" in line]
    head = "2,groups,How well were you heard?"
    assert rows == [f"{head},checklist,ticked,6", f"{head},checklist:Observer,groups,2",
                    f"{head},checklist:Observer,Reflected feelings,2"]


def test_bad_ticks_are_refused_with_a_typed_error() -> None:
    session = on_groups_step(4)
    for i in range(4):
        session.apply(s.Readied(at=2, participant=f"p{i}", step=GROUPS, ready=True))
    assert errors(tick(session, "p0")) == ["groups-not-formed"]
    command(session, p.GroupsForm())
    speaker = next(who for who, role in session.groups[GROUPS].roles.items() if role == 0)
    assert errors(tick(session, speaker)) == ["not-in-group"]
    assert errors(tick(session, observers(session)[0], item=1)) == ["not-in-group"]
    assert errors(tick(session, "stranger")) == ["not-joined"]
    refused = [o for o in tick(session, speaker) if isinstance(o, s.Reply)]
    assert refused and refused[0].origin == "n/c"
    command(session, p.GroupsEnd())
    assert errors(tick(session, observers(session)[0])) == ["groups-over"]
    command(session, p.Next())
    assert errors(tick(session, "p0")) == ["not-groups-step"]


def test_empathy_circle_speakers_tick_yes_thats_it() -> None:
    """The speaker's "yes, that's it" / "not quite" is the speaker role's checklist; the room
    learns in how many circles each was said."""
    session = make(scenario=ROOT / "scenarios" / "empathy-circle.yaml", language="fr",
                   secret="s" * 32)
    step = next(i for i, kind in enumerate(session.scenario.steps) if isinstance(kind, sc.Groups))
    for i in range(12):
        session.apply(s.Joined(at=1, participant=f"p{i}", token_hash=""))
    session.apply(s.Commanded(at=2, command=p.Start()))
    session.apply(s.Commanded(at=2, command=p.Goto(step=step)))
    for i in range(12):
        session.apply(s.Readied(at=3, participant=f"p{i}", step=step, ready=True))
    session.apply(s.Commanded(at=4, command=p.GroupsForm()))
    state = session.groups[step]
    speakers = sorted(who for who, role in state.roles.items() if role == 0)
    assert len(speakers) == 3  # three circles of four
    for item, who in zip((0, 0, 1), speakers, strict=True):
        session.apply(s.Ticked(at=5, participant=who, step=step, item=item, ticked=True))
    session.apply(s.Commanded(at=6, command=p.GroupsEnd()))
    counts = session.group_counts("screen")
    assert counts is not None
    (speaker,) = counts.checklist
    assert speaker.role == "Personne qui parle" and speaker.groups == 3
    assert [(i.text, i.groups) for i in speaker.items] == [
        ("J\u2019ai dit «\u00a0oui, c\u2019est ça\u00a0»", 2),
        ("J\u2019ai dit «\u00a0pas tout à fait\u00a0» et ajouté ce qui manquait", 1)]
