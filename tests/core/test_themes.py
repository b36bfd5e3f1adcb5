"""Theme bookkeeping (core/themes.py and its fold in core/session.py): no event loop, no model."""

from __future__ import annotations

import pytest

from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core import themes as th
from attune.core.errors import Refused
from attune.core.export import export, to_csv
from attune.core.session import Commanded, Joined, Session, SessionInfo, Submitted, Themed
from tests.support.paths import DATA

SCENARIO = DATA / "themes" / "story.yaml"


def grouped(*themes: tuple[str, list[str]]) -> th.Grouped:
    return th.Grouped(seeds=[th.Seed(label=label, cards=cards) for label, cards in themes],
                      model="test")


def book_of(*themes: tuple[str, list[str]]) -> th.ThemeBook:
    book = th.ThemeBook()
    book.apply(grouped(*themes))
    return book


def test_a_grouping_numbers_themes_and_places_each_card_once() -> None:
    book = book_of(("work", ["a", "b", "c"]), ("home", ["d", "e", "a"]))
    assert [(t.id, t.label, t.cards) for t in book.themes.values()] == [
        ("t1", "work", ["a", "b", "c"]), ("t2", "home", ["d", "e"])]
    assert book.of == {"a": "t1", "b": "t1", "c": "t1", "d": "t2", "e": "t2"}


def test_regrouping_never_reuses_an_id_so_stale_edits_are_refused() -> None:
    book = book_of(("work", ["a", "b"]))
    book.apply(grouped(("again", ["a", "b"])))
    assert list(book.themes) == ["t2"]
    with pytest.raises(Refused) as refused:
        book.rename("t1", "old")
    assert refused.value.code == "no-such-theme"


def test_rename_merge_move_and_divide() -> None:
    book = book_of(("work", ["a", "b", "c"]), ("home", ["d", "e"]), ("sleep", ["f"]))
    book.rename("t1", "  Deadlines  ")
    assert book.themes["t1"].label == "Deadlines"
    book.merge("t3", into="t2")
    assert "t3" not in book.themes and book.themes["t2"].cards == ["d", "e", "f"]
    assert book.of["f"] == "t2"
    book.move("a", "t2")
    assert book.themes["t1"].cards == ["b", "c"] and book.themes["t2"].cards[-1] == "a"
    book.move("a", th.OTHER)
    assert "a" not in book.of
    book.apply(th.Divided(theme="t2", seeds=[th.Seed(label="x", cards=["d", "e"]),
                                             th.Seed(label="ill", cards=["f", "zzz"])]))
    assert book.themes["t2"].cards == ["d", "e"] and book.themes["t2"].label == "home"
    assert book.themes["t4"].cards == ["f"] and book.themes["t4"].label == "ill"
    assert book.edited
    with pytest.raises(Refused):
        book.merge("t1", into="t1")


def test_the_room_sees_small_themes_folded_into_other_and_no_hidden_cards() -> None:
    book = book_of(("work", ["a", "b", "c", "h"]), ("home", ["d", "e"]))
    cards = {"a", "b", "c", "d", "e", "h", "late"}
    room = book.view(cards, hidden={"h"}, threshold=3, moderator=False)
    assert room is not None
    assert [(t.id, t.cards, t.folded) for t in room.themes] == [("t1", ["a", "b", "c"], False)]
    assert room.other == ["d", "e", "late"]
    host = book.view(cards, hidden={"h"}, threshold=3, moderator=True)
    assert host is not None
    assert [(t.id, t.cards, t.folded) for t in host.themes] == [
        ("t1", ["a", "b", "c", "h"], False), ("t2", ["d", "e"], True)]
    assert host.other == ["late"]


def test_withdrawn_answers_drop_out_and_a_theme_can_fall_below_the_threshold() -> None:
    book = book_of(("work", ["a", "b", "c"]))
    view = book.view({"a", "b"}, set(), threshold=3, moderator=False)
    assert view is not None and view.themes == [] and view.other == ["a", "b"]


def test_regroup_on_reveal_only_when_it_throws_no_edit_away() -> None:
    book = th.ThemeBook()
    assert book.needs_grouping({"a"})
    book.apply(grouped(("work", ["a"])))
    assert not book.needs_grouping({"a"})
    assert book.needs_grouping({"a", "new"})
    book.rename("t1", "mine")
    assert not book.needs_grouping({"a", "new"})


# --- folded in the session, as every node folds the log ----------------------------------


def session_with_answers(texts: list[str]) -> tuple[Session, list[str]]:
    scenario = sc.load(SCENARIO)
    info = SessionInfo(id="s", code="C", epoch="e", secret="k" * 32, token_hash="", language="en",
                       min_responses=3, created_at=0.0, scenario=scenario)
    session = Session(info)
    session.apply(Commanded(at=1, command=p.Start()))
    for n, text in enumerate(texts):
        session.apply(Joined(at=2, participant=f"p{n}", token_hash=""))
        session.apply(Submitted(at=3, participant=f"p{n}", message=p.Answer(
            step=0, submission=f"s{n}", value=p.TextValue(text=text))))
    return session, [session.card_id(f"p{n}", 0) for n in range(len(texts))]


def test_themes_reach_results_and_export_and_edits_follow() -> None:
    session, cards = session_with_answers(["exam", "test", "deadline", "tired", "sleepy",
                                           "no sleep", "late one"])
    session.apply(Themed(at=4, step=0, change=grouped(("work", cards[:3]), ("sleep", cards[3:6]))))
    session.apply(Commanded(at=5, command=p.Reveal()))
    results = session.results("screen")
    assert results is not None and isinstance(results.answers, p.TextAggregate)
    themes = results.answers.themes
    assert themes is not None and [t.label for t in themes.themes] == ["work", "sleep"]
    assert themes.other == [cards[6]]

    outcomes = session.apply(Commanded(at=6, command=p.RenameTheme(step=0, theme="t2",
                                                                   label="Exhausted")))
    assert outcomes and not any(hasattr(o, "message") for o in outcomes)
    session.apply(Commanded(at=7, command=p.MoveCard(step=0, card=cards[6], theme="t2")))
    data = export(session)
    answers = data.steps[0].answers
    assert isinstance(answers, p.TextAggregate) and answers.themes is not None
    assert [(t.label, len(t.cards)) for t in answers.themes.themes] == [
        ("Exhausted", 4), ("work", 3)]
    rows = to_csv(data)
    assert "theme:Exhausted,late one" in rows and "theme:work,exam" in rows


def test_bad_theme_edits_are_refused_to_the_sender_and_change_nothing() -> None:
    session, cards = session_with_answers(["a1", "b2", "c3"])
    session.apply(Themed(at=4, step=0, change=grouped(("x", cards))))
    refusals: list[tuple[p.FacilitatorCommand, str]] = [
        (p.RenameTheme(step=0, theme="t9", label="?"), "no-such-theme"),
        (p.MoveCard(step=0, card="nope", theme="t1"), "no-such-card"),
        (p.MergeThemes(step=0, theme="t1", into="t1"), "no-such-theme"),
        (p.RenameTheme(step=1, theme="t1", label="?"), "not-answerable"),
    ]
    for command, code in refusals:
        [reply] = session.apply(Commanded(at=5, origin="n/c", command=command))
        assert reply.message.code == code  # type: ignore[union-attr]
    assert session.books[0].themes["t1"].label == "x"


# --- themes per character (a step that hands characters out) ------------------------------------

CHAIRS = DATA / "themes" / "chairs.yaml"


def chairs_session(n: int) -> tuple[Session, dict[str, list[str]]]:
    """``n`` people on the free-text step of ``chairs.yaml``, each answering as the character
    they were given; the cards of each character."""
    info = SessionInfo(id="s", code="C", epoch="e", secret="k" * 32, token_hash="", language="en",
                       min_responses=3, created_at=0.0, scenario=sc.load(CHAIRS))
    session = Session(info)
    session.apply(Commanded(at=1, command=p.Start()))
    session.apply(Commanded(at=1, command=p.Next()))
    cards: dict[str, list[str]] = {"noor": [], "sam": []}
    for i in range(n):
        session.apply(Joined(at=2, participant=f"p{i}", token_hash=""))
        session.apply(Submitted(at=3, participant=f"p{i}", message=p.Answer(
            step=1, submission=f"s{i}", value=p.TextValue(text=f"thought {i}"))))
        character = session.assignments.of(session.pools[1], f"p{i}")
        assert character is not None
        cards[character].append(session.card_id(f"p{i}", 1))
    return session, cards


def per_character(*themes: tuple[str, str, list[str]]) -> th.Grouped:
    return th.Grouped(seeds=[th.Seed(label=label, cards=cards, character=character)
                             for character, label, cards in themes], model="test")


def test_each_character_has_its_own_themes_in_results_and_export() -> None:
    session, cards = chairs_session(12)
    noor, sam = cards["noor"], cards["sam"]
    assert len(noor) == len(sam) == 6
    session.apply(Themed(at=4, step=1, change=per_character(
        ("noor", "tired", noor[:4]), ("noor", "alone", noor[4:]), ("sam", "hurt", sam))))
    session.apply(Commanded(at=5, command=p.Reveal()))
    results = session.results("screen")
    assert results is not None and isinstance(results.answers, p.TextAggregate)
    assert results.answers.themes is None, "no step-wide themes: the columns carry them"
    by = {c.id: c.answers for c in results.characters}
    assert all(isinstance(a, p.TextAggregate) and a.themes for a in by.values())
    noor_answers, sam_answers = by["noor"], by["sam"]
    assert isinstance(noor_answers, p.TextAggregate) and isinstance(sam_answers, p.TextAggregate)
    noor_themes, sam_themes = noor_answers.themes, sam_answers.themes
    assert noor_themes is not None and sam_themes is not None
    assert [(t.label, t.cards) for t in noor_themes.themes] == [("tired", noor[:4])]
    assert noor_themes.other == sorted(noor[4:]), "a theme of two is folded into other"
    assert [(t.label, t.cards) for t in sam_themes.themes] == [("hurt", sam)]
    facilitator = session.results("facilitator")
    assert facilitator is not None
    folded = [t for c in facilitator.characters if c.id == "noor"
              for t in c.answers.themes.themes]  # type: ignore[union-attr]
    assert [(t.label, t.folded) for t in folded] == [("tired", False), ("alone", True)]

    data = export(session)
    [step] = [s for s in data.steps if s.index == 1]
    exported = {c.id: c.answers for c in step.characters}
    assert [t.label for t in exported["sam"].themes.themes] == ["hurt"]  # type: ignore[union-attr]
    assert "theme:hurt,thought" in to_csv(data)


def test_no_edit_mixes_two_characters_and_a_split_keeps_its_character() -> None:
    session, cards = chairs_session(12)
    noor, sam = cards["noor"], cards["sam"]
    session.apply(Themed(at=4, step=1, change=per_character(
        ("noor", "tired", noor), ("sam", "hurt", sam[:3]), ("sam", "late", sam[3:]))))
    for command in (p.MergeThemes(step=1, theme="t1", into="t2"),
                    p.MoveCard(step=1, card=noor[0], theme="t2")):
        [reply] = session.apply(Commanded(at=5, origin="n/c", command=command))
        assert reply.message.code == "no-such-theme"  # type: ignore[union-attr]
    session.apply(Commanded(at=6, command=p.MergeThemes(step=1, theme="t3", into="t2")))
    session.apply(Commanded(at=6, command=p.MoveCard(step=1, card=noor[0], theme=th.OTHER)))
    book = session.books[1]
    assert book.themes["t2"].cards == sam and "t3" not in book.themes
    book.apply(th.Divided(theme="t1", seeds=[th.Seed(label="a", cards=noor[1:3]),
                                             th.Seed(label="b", cards=noor[3:])]))
    assert book.themes["t4"].character == "noor" and book.themes["t4"].cards == noor[3:]


def test_a_grouping_keeps_a_few_themes_per_character() -> None:
    book = th.ThemeBook()
    book.apply(th.Grouped(model="test", seeds=[
        th.Seed(label=f"{c}{i}", cards=[f"{c}{i}"], character=c)
        for c in ("x", "y") for i in range(th.CHARACTER_THEMES + 2)]))
    for c in ("x", "y"):
        view = book.view({f"{c}{i}" for i in range(9)}, set(), 1, True, c)
        assert view is not None and len(view.themes) == th.CHARACTER_THEMES
