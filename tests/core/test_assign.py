"""Assigned characters, as pure code: balance, determinism, stability, privacy of the hand-out."""

from __future__ import annotations

from collections import Counter

from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.assign import Assignments
from attune.core.session import Commanded, Joined, Left, Session, SessionInfo, Submitted, digest

POOL = ("sam", "noor", "teacher")

SCENARIO = """
id: assign-test
title: Assign test
summary: Two characters handed out.
audience: [classroom]
duration_minutes: 5
languages: [en]
steps:
  - kind: story
    text: Sam and Noor.
    characters:
      - {id: sam, name: Sam}
      - {id: noor, name: Noor, description: Her friend}
  - kind: checkin
    prompt: How does your character feel?
    characters: [sam, noor]
    assign: each
  - kind: perspective
    prompt: What are they thinking?
    characters: [Sam, noor]
    assign: each
"""


def test_balanced_within_one_at_every_moment() -> None:
    assignments = Assignments("s" * 32)
    for n in range(1, 50):
        assignments.give(POOL, f"p{n}")
        counts = assignments.counts(POOL).values()
        assert max(counts) - min(counts) <= 1


def test_deterministic_and_kept() -> None:
    one, two = Assignments("secret"), Assignments("secret")
    people = [f"p{i}" for i in range(20)]
    given = [one.give(POOL, who) for who in people]
    assert given == [two.give(POOL, who) for who in people], "same log, same hand-out"
    assert [one.give(POOL, who) for who in people] == given, "asking again changes nothing"
    other = Assignments("another session")
    assert [other.give(POOL, who) for who in people] != given, "the key is per session"


def test_leaving_frees_a_place_for_the_next_to_join() -> None:
    assignments = Assignments("k")
    for i in range(6):
        assignments.give(POOL, f"p{i}")
    gone = [who for who in (f"p{i}" for i in range(6)) if assignments.of(POOL, who) == "sam"]
    for who in gone:
        assignments.forget(who)
    assert assignments.counts(POOL)["sam"] == 0
    assert assignments.give(POOL, "late1") == "sam"
    assert assignments.give(POOL, "late2") == "sam"


def session() -> Session:
    scenario = sc.loads(SCENARIO)
    return Session(SessionInfo(
        id="s", code="ABCDEF", epoch="e", secret="z" * 32, token_hash=digest("t"),
        language="en", min_responses=3, created_at=0, scenario=scenario,
    ))


def fold(s: Session, entries: list[Joined | Commanded | Submitted | Left]) -> None:
    for entry in entries:
        s.apply(entry)


def test_session_hands_out_keeps_and_counts_per_character() -> None:
    entries: list[Joined | Commanded | Submitted | Left] = [
        Joined(at=0, participant=f"p{i}", token_hash="h") for i in range(7)
    ]
    entries += [Commanded(at=1, command=p.Start()), Commanded(at=2, command=p.Next())]
    entries.append(Joined(at=3, participant="late", token_hash="h"))
    s = session()
    fold(s, entries)
    people = [*(f"p{i}" for i in range(7)), "late"]
    given = {who: s.assigned(who) for who in people}
    assert all(a is not None for a in given.values()), "joined late is given one too"
    counts = Counter(a.character.id for a in given.values() if a is not None)
    assert sorted(counts.values()) == [4, 4]
    noor = next(a for a in given.values() if a is not None and a.character.id == "noor")
    assert noor.character.description == "Her friend"
    words: dict[str | None, str] = {"sam": "stressed", "noor": "tired"}
    for n, who in enumerate(people):
        a = given[who]
        assert a is not None
        s.apply(Submitted(at=4, participant=who, message=p.Answer(
            step=1, submission=f"x{n}", value=p.CheckinValue(word=words[a.character.id]))))
    results = s.results("facilitator", 1)
    assert results is not None
    by_id = {c.id: c for c in results.characters}
    assert by_id["sam"].count == 4 and by_id["sam"].answers is not None
    assert by_id["sam"].answers.words == {"stressed": 4}  # type: ignore[union-attr]
    assert by_id["noor"].answers.words == {"tired": 4}  # type: ignore[union-attr]
    # The same characters on the next step: everyone keeps theirs.
    s.apply(Commanded(at=5, command=p.Next()))
    assert {who: s.assigned(who).character.id for who in people} == {  # type: ignore[union-attr]
        who: a.character.id for who, a in given.items() if a is not None
    }
    # A replica rebuilt from the same log agrees.
    again = session()
    fold(again, [*entries])
    assert {who: again.assigned(who) for who in people} == given


def test_a_small_character_group_is_hidden_with_its_complement() -> None:
    s = session()
    fold(s, [Joined(at=0, participant=f"p{i}", token_hash="h") for i in range(8)])
    fold(s, [Commanded(at=1, command=p.Start()), Commanded(at=2, command=p.Next())])
    noors = [f"p{i}" for i in range(8) if s.assigned(f"p{i}").character.id == "noor"]  # type: ignore[union-attr]
    sams = [f"p{i}" for i in range(8) if f"p{i}" not in noors]
    for n, who in enumerate([*sams, *noors[:2]]):
        s.apply(Submitted(at=3, participant=who, message=p.Answer(
            step=1, submission=f"y{n}", value=p.CheckinValue(word="calm"))))
    results = s.results("facilitator", 1)
    assert results is not None and results.answers is not None
    assert [c.answers for c in results.characters] == [None, None], (
        "2 Noor answers are hidden, and so are Sam's, or the room minus Sam gives Noor's away"
    )
