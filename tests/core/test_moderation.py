"""Moderation rules as pure code: the lexicon's flags, and which cards reach the room."""

from __future__ import annotations

import itertools
import unicodedata
from pathlib import Path

import pytest

from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.moderation import DEFAULT_HELP, Lexicon, help_text, normalize, shown
from attune.core.session import (
    Changed,
    Commanded,
    Joined,
    Reply,
    Session,
    SessionInfo,
    Submitted,
    digest,
)
from tests.support.paths import DATA

TEXT = 4
_ids = itertools.count()
LEXICON = Lexicon.builtin()


@pytest.mark.parametrize(("text", "language", "flag"), [
    ("Noor is a selfish idiot who never listens", "en", "abuse"),
    ("IDIOTS, all of them", "en", "abuse"),
    ("C'est un crétin", "fr", "abuse"),
    ("c'est un CRETIN", "fr", "abuse"),
    ("他是个白痴", "zh", "abuse"),
    ("I want to hurt myself", "en", "distress"),
    ("sometimes i think i'd be better off dead", "en", "distress"),
    ("Je veux mourir", "fr", "distress"),
    ("我想伤害自己", "zh", "distress"),
    ("je veux mourir", "en", "distress"),  # distress is looked for in every language
    ("you idiot, I want to die", "en", "distress"),  # care before abuse
    ("Sam might feel left out and a bit hurt", "en", None),
    ("Elle est peut-être triste", "fr", None),
    ("我喝牛乳", "zh", None),  # one-character list entries are not used as substrings
    ("Scunthorpe", "en", None),  # whole words only
])
def test_lexicon_flags(text: str, language: str, flag: str | None) -> None:
    assert LEXICON.flag(text, language) == flag


def test_an_operator_file_extends_both_lists(tmp_path: Path) -> None:
    extra = tmp_path / "extra.txt"
    extra.write_text("# our school's words\nnumpty head\nblorf\n笨笨\n[distress]\nrun away "
                     "from home\n", encoding="utf-8")
    lexicon = Lexicon.builtin(extra)
    assert lexicon.flag("what a blorf", "fr") == "abuse"
    assert lexicon.flag("numpty head", "en") == "abuse"
    assert lexicon.flag("你笨笨的", "zh") == "abuse"
    assert lexicon.flag("I will run away from home", "en") == "distress"
    assert LEXICON.flag("what a blorf", "fr") is None


def test_help_text_prefers_the_scenario_then_the_operator() -> None:
    assert help_text("fr", "Vois Mme Dupont", "Call 999") == "Vois Mme Dupont"
    assert help_text("fr", None, "Call 999") == "Call 999"
    assert help_text("zh", None, None) == DEFAULT_HELP["zh"]
    assert help_text("de", None, None) == DEFAULT_HELP["en"]
    assert set(DEFAULT_HELP) == {"en", "fr", "zh"}


def test_shown() -> None:
    assert shown(queue=False, approved=False, hidden=False, flag=None)
    assert not shown(queue=True, approved=False, hidden=False, flag=None)
    assert shown(queue=True, approved=True, hidden=False, flag=None)
    assert not shown(queue=False, approved=False, hidden=False, flag="abuse")
    assert shown(queue=False, approved=True, hidden=False, flag="abuse")
    assert not shown(queue=False, approved=True, hidden=False, flag="distress")
    assert not shown(queue=False, approved=True, hidden=True, flag=None)


# --- the rules folded over a session's log ---------------------------------------------------


def make(queue: bool, min_responses: int = 1) -> Session:
    session = Session(SessionInfo(
        id="s1", code="ABCDEF", epoch="e1", secret="x" * 32, token_hash=digest("t"),
        language="en", min_responses=min_responses, created_at=0,
        scenario=sc.load(DATA / "every-kind.yaml"), moderation=queue, help_text="See Ms Ray",
    ))
    session.apply(Commanded(at=1, command=p.Start()))
    session.apply(Commanded(at=2, command=p.Goto(step=TEXT)))
    return session


def write(session: Session, who: str, text: str) -> list[object]:
    if who not in session.participants:
        session.apply(Joined(at=3, participant=who, token_hash=digest(who)))
    flag = LEXICON.flag(text, "en")
    answer = p.Answer(step=TEXT, submission=f"s{next(_ids)}", value=p.TextValue(text=text))
    return list(session.apply(Submitted(at=4, origin="n/c", participant=who, message=answer,
                                        flag=flag)))


def command(session: Session, command: p.FacilitatorCommand) -> list[object]:
    return list(session.apply(Commanded(at=5, origin="n/c", command=command)))


def room(session: Session) -> p.TextAggregate:
    session.apply(Commanded(at=6, command=p.Reveal()))
    results = session.results("screen")
    assert results is not None and isinstance(results.answers, p.TextAggregate)
    return results.answers


def host(session: Session) -> p.TextAggregate:
    results = session.results("facilitator")
    assert results is not None and isinstance(results.answers, p.TextAggregate)
    return results.answers


def test_with_a_queue_nothing_reaches_the_room_before_approval() -> None:
    session = make(queue=True)
    write(session, "a", "Sam feels left out")
    write(session, "b", "Maybe tired not angry")
    assert room(session).cards == [] and room(session).words == []
    cards = host(session).cards
    assert [c.held for c in cards] == ["queue", "queue"] and host(session).held == 2
    command(session, p.ApproveCard(step=TEXT, card=cards[0].id))
    assert [c.text for c in room(session).cards] == [cards[0].text]
    command(session, p.ApproveAll(step=TEXT))
    assert len(room(session).cards) == 2 and host(session).held == 0
    assert ("tired", 1) in room(session).words


def test_an_insult_is_held_even_without_a_queue_and_said_so() -> None:
    session = make(queue=False)
    write(session, "a", "Noor is a selfish idiot")
    write(session, "b", "Noor is worried")
    assert [c.text for c in room(session).cards] == ["Noor is worried"]
    assert all(word != "idiot" for word, _ in room(session).words)
    held = [c for c in host(session).cards if c.held]
    assert [c.held for c in held] == ["abuse"]
    command(session, p.ApproveAll(step=TEXT))
    assert len(room(session).cards) == 1, "approve all leaves flagged cards to the facilitator"
    command(session, p.ApproveCard(step=TEXT, card=held[0].id))
    assert len(room(session).cards) == 2


def test_a_distress_card_stays_with_the_facilitator_and_the_writer_sees_help() -> None:
    session = make(queue=False)
    outcomes = write(session, "a", "I want to hurt myself")
    ack = next(o.message for o in outcomes if isinstance(o, Reply))
    assert isinstance(ack, p.Ack) and ack.help == "See Ms Ray"
    other = write(session, "b", "Sam is sad")
    assert next(o.message for o in other if isinstance(o, Reply)).help is None  # type: ignore[union-attr]
    card = next(c for c in host(session).cards if c.held == "distress")
    refused = command(session, p.ApproveCard(step=TEXT, card=card.id))
    assert isinstance(refused[0], Reply) and isinstance(refused[0].message, p.Error)
    assert refused[0].message.code == "held-for-care"
    assert [c.text for c in room(session).cards] == ["Sam is sad"]


def test_an_edit_is_read_again_and_needs_approval_again() -> None:
    session = make(queue=True)
    write(session, "a", "Sam feels left out")
    card = host(session).cards[0].id
    command(session, p.ApproveCard(step=TEXT, card=card))
    command(session, p.Spotlight(step=TEXT, card=card))
    assert session.results("screen").spotlight.text == "Sam feels left out"  # type: ignore[union-attr]
    write(session, "a", "Sam is an idiot")
    assert room(session).cards == []
    assert host(session).cards[0].held == "abuse"
    assert session.results("screen").spotlight is None  # type: ignore[union-attr]


def test_spotlight_needs_an_approved_card_of_the_current_step() -> None:
    session = make(queue=True)
    write(session, "a", "Sam feels left out")
    card = host(session).cards[0].id
    refused = command(session, p.Spotlight(step=TEXT, card=card))
    assert refused[0].message.code == "not-approved"  # type: ignore[attr-defined]
    missing = command(session, p.ApproveCard(step=TEXT, card="nope"))
    assert missing[0].message.code == "no-such-card"  # type: ignore[attr-defined]
    command(session, p.ApproveCard(step=TEXT, card=card))
    assert command(session, p.Spotlight(step=TEXT, card=card)) == [Changed(TEXT)]
    # Before the reveal the projector gets the spotlight and the count, never the other cards.
    early = session.results("screen")
    assert early is not None and early.answers is None and early.spotlight is not None
    command(session, p.HideCard(step=TEXT, card=card))
    assert session.spotlight is None
    command(session, p.Next())
    assert session.spotlight is None


def test_ascii_text_is_normalized_as_the_unicode_steps_would() -> None:
    """``normalize`` lower-cases ASCII text without its three Unicode passes: the same result for
    every ASCII character, alone and between letters."""
    def unicode_steps(text: str) -> str:
        folded = unicodedata.normalize("NFKC", text).casefold().replace("'", " ")
        return unicodedata.normalize("NFC", "".join(
            c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c)))

    for c in map(chr, range(128)):
        for text in (c, f"A{c}b", f"{c}{c}Z"):
            assert normalize(text) == unicode_steps(text), repr(text)
    assert normalize("Élan D\u2019ÉTÉ") == "elan d ete", "and other text goes through them"
