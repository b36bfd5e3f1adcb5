"""Session rules and aggregates, tested as pure code: no socket, no event loop, no backend."""

from __future__ import annotations

import gc
import itertools

import pytest

from attune.core import protocol as p
from attune.core.aggregate import ScaleTally
from attune.core.session import (
    AnyEntry,
    Broadcast,
    Changed,
    Commanded,
    Joined,
    Reply,
    Session,
    Submitted,
    digest,
)
from tests.support.sessions import make

STORY, CHECKIN, SCALE, CHOICE, TEXT, BREATHE, TIMER, REFLECT = range(8)
_ids = itertools.count()


def join(session: Session, who: str) -> None:
    session.apply(Joined(at=1, participant=who, token_hash=digest(who)))


def command(session: Session, cmd: p.FacilitatorCommand, at: float = 10) -> list[object]:
    return list(session.apply(Commanded(at=at, origin="n/f", command=cmd)))


def answer(
    session: Session, who: str, step: int, value: p.AnswerValue,
    guess: p.AnswerValue | None = None, submission: str | None = None,
) -> list[object]:
    message = p.Answer(step=step, submission=submission or str(next(_ids)), value=value,
                       guess=guess)
    return list(session.apply(Submitted(at=20, origin=f"n/{who}", participant=who,
                                        message=message)))


def errors(outcomes: list[object]) -> list[str]:
    return [o.message.code for o in outcomes if isinstance(o, Reply)
            and isinstance(o.message, p.Error)]


def at_step(step: int, people: int = 3, min_responses: int = 3) -> Session:
    session = make(min_responses)
    for i in range(people):
        join(session, f"p{i}")
    command(session, p.Start())
    if step:
        command(session, p.Goto(step=step))
    return session


def test_start_next_back_goto_sequence_events() -> None:
    session = make()
    out = command(session, p.Start(), at=5)
    assert isinstance(out[0], Broadcast)
    event = out[0].others
    assert isinstance(event, p.StepEvent)
    assert (event.seq, event.step.index, event.started_at) == (1, 0, 5)
    assert out[0].facilitator.step.notes == "Read slowly."  # type: ignore[union-attr]
    assert event.step.notes is None, "notes are for the facilitator only"
    command(session, p.Next())
    command(session, p.Next())
    command(session, p.Back())
    assert (session.index, session.seq) == (1, 4)
    command(session, p.Goto(step=REFLECT))
    assert session.index == REFLECT
    assert errors(command(session, p.Next())) == ["no-such-step"]
    assert errors(command(session, p.Goto(step=99))) == ["no-such-step"]
    assert session.seq == 5, "a refused command changes nothing"


def test_commands_out_of_order() -> None:
    session = make()
    assert errors(command(session, p.Next())) == ["not-started"]
    assert errors(command(session, p.Reveal())) == ["not-started"]
    command(session, p.Start())
    assert errors(command(session, p.Start())) == ["forbidden"]
    assert errors(command(session, p.Reveal())) == ["not-answerable"], "story step"
    command(session, p.End())
    assert errors(command(session, p.Next())) == ["session-ended"]


def test_answer_rules() -> None:
    session = at_step(CHECKIN)
    ok = answer(session, "p0", CHECKIN, p.CheckinValue(word="calm", intensity=2))
    assert isinstance(ok[0], Reply) and isinstance(ok[0].message, p.Ack)
    assert ok[1] == Changed(CHECKIN)
    assert errors(answer(session, "p1", SCALE, p.ScaleValue(value=3))) == ["not-current-step"]
    assert errors(answer(session, "p1", CHECKIN, p.ScaleValue(value=3))) == ["invalid-answer"]
    assert errors(answer(session, "p1", CHECKIN, p.CheckinValue(word="nope"))) == [
        "invalid-answer"
    ]
    assert errors(answer(session, "ghost", CHECKIN, p.CheckinValue(word="calm"))) == [
        "not-joined"
    ]
    command(session, p.CloseResponses())
    assert errors(answer(session, "p1", CHECKIN, p.CheckinValue(word="calm"))) == [
        "responses-closed"
    ]
    command(session, p.Goto(step=STORY))
    assert errors(answer(session, "p1", STORY, p.TextValue(text="hi"))) == ["not-answerable"]
    assert session.tallies[CHECKIN].answers.count == 1, "refusals never touch the answers"


def test_an_answer_checked_before_the_log_is_checked_again_if_the_state_moved() -> None:
    """The node checks an answer before appending it; its fold skips the second check only when
    no entry was folded in between (``Session._checked``)."""
    session = at_step(SCALE)
    early = p.Answer(step=SCALE, submission="early", value=p.ScaleValue(value=2))
    session.check_answer(early)
    command(session, p.CloseResponses())
    late = session.apply(Submitted(at=20, origin="n/p0", participant="p0", message=early))
    assert errors(list(late)) == ["responses-closed"]
    command(session, p.OpenResponses())
    checked = p.Answer(step=SCALE, submission="checked", value=p.ScaleValue(value=2))
    session.check_answer(checked)
    other = p.Answer(step=SCALE, submission="other", value=p.ScaleValue(value=9))
    assert errors(list(session.apply(Submitted(at=20, origin="n/p1", participant="p1",
                                               message=other)))) == ["invalid-answer"]
    assert errors(list(session.apply(Submitted(at=20, origin="n/p0", participant="p0",
                                               message=checked)))) == [], "checked again, and fits"
    assert session.tallies[SCALE].answers.count == 1


@pytest.mark.parametrize(("step", "value", "guess"), [
    (SCALE, p.ScaleValue(value=6), None),
    (SCALE, p.ScaleValue(value=2.5), None),
    (SCALE, p.ScaleValue(value=3), p.ScaleValue(value=9)),
    (CHOICE, p.ChoiceValue(options=["z"]), None),
    (CHOICE, p.ChoiceValue(options=["a", "a"]), None),
    (CHOICE, p.ChoiceValue(options=["a"]), p.ChoiceValue(options=["a", "b"])),
    (TEXT, p.TextValue(text="   "), None),
    (TEXT, p.TextValue(text="x" * 201), None),
])
def test_values_outside_the_step_are_refused(
    step: int, value: p.AnswerValue, guess: p.AnswerValue | None
) -> None:
    session = at_step(step)
    assert errors(answer(session, "p0", step, value, guess)) == ["invalid-answer"]


def test_changing_an_answer_replaces_it_and_retries_count_once() -> None:
    session = at_step(SCALE)
    answer(session, "p0", SCALE, p.ScaleValue(value=1), submission="a")
    answer(session, "p0", SCALE, p.ScaleValue(value=5), submission="b")
    retry = answer(session, "p0", SCALE, p.ScaleValue(value=1), submission="a")
    assert isinstance(retry[0], Reply) and isinstance(retry[0].message, p.Ack)
    assert retry[0].message.duplicate
    tally = session.tallies[SCALE].answers
    assert isinstance(tally, ScaleTally)
    assert (tally.count, tally.histogram) == (1, [0, 0, 0, 0, 1])


def test_kept_answers_are_never_scanned_by_the_collector() -> None:
    """A room keeps every answer for the session: the structs that hold them are untracked
    (``gc=False``), decoded off the wire as well as folded, so a collection never rescans them.
    A choice holds a list, which would otherwise make each of them tracked."""
    session = at_step(CHOICE)
    wire = p.decode_client(b'{"type":"answer","step":%d,"submission":"w","value":'
                           b'{"kind":"choice","options":["a"]}}' % CHOICE)
    assert isinstance(wire, p.Answer)
    entry = Submitted(at=20, origin="n/p0", participant="p0", message=wire)
    replies = list(session.apply(entry))
    assert isinstance(replies[0], Reply) and isinstance(replies[0].message, p.Ack)
    record = session.participants["p0"].answers[CHOICE]
    assert not any(gc.is_tracked(o) for o in (wire, wire.value, entry, record, *replies))


def test_pass_replaces_an_answer() -> None:
    session = at_step(CHOICE)
    answer(session, "p0", CHOICE, p.ChoiceValue(options=["a", "b"]))
    session.apply(Submitted(at=1, origin="n/x", participant="p0",
                            message=p.Pass(step=CHOICE, submission="pass-1")))
    tallies = session.tallies[CHOICE]
    assert (tallies.answers.count, tallies.passes) == (0, 1)
    assert session.snapshot("participant", "p0").passed == [CHOICE]


def test_nothing_shown_below_the_threshold() -> None:
    session = at_step(SCALE)
    answer(session, "p0", SCALE, p.ScaleValue(value=2))
    answer(session, "p1", SCALE, p.ScaleValue(value=4))
    command(session, p.Reveal())
    moderator = session.results("facilitator")
    assert moderator is not None and moderator.count == 2 and moderator.answers is None
    count_only = session.results("screen")
    assert count_only is not None and count_only.count == 2 and count_only.answers is None
    assert session.results("participant") is None
    answer(session, "p2", SCALE, p.ScaleValue(value=4))
    shown = session.results("screen")
    assert shown is not None and isinstance(shown.answers, p.ScaleAggregate)
    assert (shown.answers.mean, shown.answers.median, shown.answers.histogram) == (
        3.33, 4, [0, 1, 0, 2, 0]
    )


def test_results_reach_others_only_when_revealed() -> None:
    session = at_step(CHOICE)
    for i in range(3):
        answer(session, f"p{i}", CHOICE, p.ChoiceValue(options=["a"]))
    assert session.results("participant") is None
    live_count = session.results("screen")
    assert live_count is not None and live_count.answers is None and live_count.count == 3
    command(session, p.Reveal())
    shown = session.results("screen")
    assert shown is not None and shown.answers is not None
    command(session, p.HideResults())
    assert session.results("participant") is None
    command(session, p.Reveal())
    command(session, p.Next())
    assert session.revealed is False, "a new step starts hidden"


def test_checkin_aggregate() -> None:
    session = at_step(CHECKIN, people=4)
    for who, word in [("p0", "calm"), ("p1", "calm"), ("p2", "angry"), ("p3", "happy")]:
        answer(session, who, CHECKIN, p.CheckinValue(word=word, intensity=4))
    results = session.results("facilitator")
    assert results is not None
    agg = results.answers
    assert isinstance(agg, p.CheckinAggregate)
    assert agg.words == {"calm": 2, "angry": 1, "happy": 1}
    assert agg.quadrants == {"high-unpleasant": 1, "high-pleasant": 1, "low-unpleasant": 0,
                             "low-pleasant": 2}
    assert agg.mean_pleasantness == round((3 + 3 - 4 + 4) / 4, 2)
    assert agg.mean_intensity == 4
    assert sum(map(sum, agg.grid)) == 4
    assert agg.grid[0][1] == 1, "angry: energy +5 is row 0, pleasantness -4 is column 1"


def test_perspective_cards_moderation_and_word_cloud() -> None:
    session = at_step(TEXT)
    texts = ["Sam feels lonely", "Sam is lonely and tired", "<img src=x onerror=alert(1)>"]
    for i, text in enumerate(texts):
        answer(session, f"p{i}", TEXT, p.TextValue(text=text))
    results = session.results("facilitator")
    assert results is not None and isinstance(results.answers, p.TextAggregate)
    cards = results.answers.cards
    assert sorted(c.text for c in cards) == sorted(texts)
    assert [c.id for c in cards] == sorted(c.id for c in cards), "stable order, not arrival"
    assert ("lonely", 2) in results.answers.words
    bad = next(c.id for c in cards if c.text.startswith("<img"))
    command(session, p.HideCard(step=TEXT, card=bad))
    command(session, p.Reveal())
    public = session.results("screen")
    assert public is not None and isinstance(public.answers, p.TextAggregate)
    assert all(not c.text.startswith("<img") for c in public.answers.cards)
    assert "img" not in dict(public.answers.words)
    moderator = session.results("facilitator")
    assert moderator is not None and isinstance(moderator.answers, p.TextAggregate)
    assert [c.hidden for c in moderator.answers.cards].count(True) == 1
    command(session, p.RestoreCard(step=TEXT, card=bad))
    public = session.results("screen")
    assert public is not None and isinstance(public.answers, p.TextAggregate)
    assert len(public.answers.cards) == 3
    assert errors(command(session, p.HideCard(step=TEXT, card="nope"))) == ["no-such-card"]
    assert errors(command(session, p.HideCard(step=SCALE, card=bad))) == ["no-such-card"]


def test_card_ids_do_not_reveal_participants() -> None:
    session = at_step(TEXT)
    first = session.card_id("p0", TEXT)
    assert first != session.card_id("p0", CHECKIN), "not linkable across steps"
    assert "p0" not in first


def test_prediction_feedback() -> None:
    session = at_step(SCALE, people=4)
    for who, value in [("p0", 1), ("p1", 2), ("p2", 3)]:
        answer(session, who, SCALE, p.ScaleValue(value=value), p.ScaleValue(value=2.2))
    answer(session, "p3", SCALE, p.ScaleValue(value=2), p.ScaleValue(value=5))
    assert session.feedback("p0") is None, "nothing before reveal"
    command(session, p.Reveal())
    near, far = session.feedback("p0"), session.feedback("p3")
    assert near is not None and far is not None
    assert (near.actual, near.distance, near.close) == ("2.00", 0.2, True)
    assert (far.distance, far.close) == (3.0, False)
    results = session.results("screen")
    assert results is not None and isinstance(results.guesses, p.ScaleAggregate)
    assert results.guesses.count == 4


def test_checkin_and_choice_prediction_feedback() -> None:
    session = at_step(CHECKIN)
    for i in range(3):
        answer(session, f"p{i}", CHECKIN, p.CheckinValue(word="calm"),
               p.CheckinValue(word="angry" if i else "relaxed"))
    command(session, p.Reveal())
    right, wrong = session.feedback("p0"), session.feedback("p1")
    assert right is not None and (right.close, right.share) == (True, 1.0)
    assert wrong is not None and (wrong.guess, wrong.close, wrong.share) == (
        "high-unpleasant", False, 0.0
    )
    session = at_step(CHOICE)
    for i, option in enumerate("aab"):
        answer(session, f"p{i}", CHOICE, p.ChoiceValue(options=[option]),
               p.ChoiceValue(options=["a"]))
    command(session, p.Reveal())
    feedback = session.feedback("p2")
    assert feedback is not None and (feedback.actual, feedback.close, feedback.share) == (
        "a", True, 0.667
    )


def test_feedback_on_a_tie_names_every_tied_answer() -> None:
    session = at_step(CHOICE, people=5)
    for i, option in enumerate("aabbc"):
        answer(session, f"p{i}", CHOICE, p.ChoiceValue(options=[option]),
               p.ChoiceValue(options=["c" if i == 4 else "b"]))
    command(session, p.Reveal())
    tied, far = session.feedback("p0"), session.feedback("p4")
    assert tied is not None and (tied.actual, tied.close, tied.tied) == ("a", True, ["a", "b"])
    assert far is not None and (far.close, far.tied) == (False, ["a", "b"])
    session = at_step(CHECKIN, people=4)
    for i, word in enumerate(["calm", "calm", "angry", "angry"]):
        answer(session, f"p{i}", CHECKIN, p.CheckinValue(word=word), p.CheckinValue(word="relaxed"))
    command(session, p.Reveal())
    feedback = session.feedback("p0")
    assert feedback is not None and feedback.close, "a guess in either tied quadrant is close"
    assert feedback.tied == ["high-unpleasant", "low-pleasant"]
    session = at_step(CHECKIN)
    for i in range(3):
        answer(session, f"p{i}", CHECKIN, p.CheckinValue(word="calm"), p.CheckinValue(word="calm"))
    command(session, p.Reveal())
    alone = session.feedback("p0")
    assert alone is not None and alone.tied == [] and b"tied" not in p.encoder.encode(alone)


def test_missed_events_for_resume() -> None:
    session = at_step(CHECKIN)
    seen = session.seq
    command(session, p.CloseResponses(), at=100)
    command(session, p.Reveal(), at=110)
    missed = session.missed(seen, now=120, window_ms=1000)
    assert missed is not None
    assert [type(b.others).__name__ for b in missed] == ["ResponsesEvent", "RevealEvent"]
    assert session.missed(session.seq, now=120, window_ms=1000) == []
    assert session.missed(seen, now=5000, window_ms=1000) is None, "too late: snapshot"
    assert session.missed(session.seq + 3, now=120, window_ms=1000) is None


def test_snapshot_restores_own_answers_only() -> None:
    session = at_step(CHECKIN)
    answer(session, "p0", CHECKIN, p.CheckinValue(word="calm"))
    own = session.snapshot("participant", "p0")
    assert own.answers == {CHECKIN: p.CheckinValue(word="calm")}
    assert session.snapshot("participant", "p1").answers == {}
    assert session.snapshot("screen").answers == {}
    assert len(session.snapshot("facilitator").outline) == 8
    assert session.snapshot("participant", "p0").outline == []


def test_replicas_folding_the_same_log_agree() -> None:
    """The property multi-node rests on: same entries in, same state and events out."""
    entries: list[AnyEntry] = [
        Joined(at=1, participant="a", token_hash="h"),
        Joined(at=1, participant="b", token_hash="h"),
        Commanded(at=2, command=p.Start()),
        Commanded(at=3, command=p.Goto(step=TEXT)),
        Submitted(at=4, participant="a", message=p.Answer(
            step=TEXT, submission="1", value=p.TextValue(text="hello there")
        )),
        Submitted(at=5, participant="b", message=p.Answer(
            step=TEXT, submission="2", value=p.TextValue(text="hello again")
        )),
        Commanded(at=6, command=p.Reveal()),
    ]
    one, two = make(min_responses=1), make(min_responses=1)
    out_one = [o for e in entries for o in one.apply(e)]
    out_two = [o for e in entries for o in two.apply(e)]
    assert out_one == out_two
    assert one.results("screen") == two.results("screen")
