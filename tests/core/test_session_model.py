"""A property-based stateful test: the session rules against a simple model.

Hypothesis drives joins, answers, passes, leaves, drops, resumes, navigation, reveals and node
restarts (a fresh replica folding the whole log) and checks after every step that the incremental
aggregates equal a recount from scratch, that nothing shows below the threshold, that a replica
rebuilt from the log agrees, and that every client that resumed converges on the server's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from attune.core import protocol as p
from attune.core.session import (
    AnyEntry,
    Broadcast,
    Commanded,
    Joined,
    Left,
    Outcome,
    Session,
    Submitted,
    entry_decoder,
    entry_encoder,
)
from tests.support.sessions import make

pytestmark = pytest.mark.hardening
K = 2
PEOPLE = [f"p{i}" for i in range(5)]
VALUES: dict[int, list[p.AnswerValue]] = {
    1: [p.CheckinValue(word=w) for w in ("calm", "angry", "tired", "happy")],
    2: [p.ScaleValue(value=v) for v in (1, 3, 5, 9)],
    3: [p.ChoiceValue(options=o) for o in (["a"], ["b", "c"], ["z"])],
    4: [p.TextValue(text=t) for t in ("sam is sad", "tired sam", "")],
}


@dataclass
class View:
    """What a client believes, built only from the messages it received."""

    seq: int = 0
    index: int = -1
    revealed: bool = False
    open: bool = False
    online: bool = True
    log: list[int] = field(default_factory=list)

    def apply(self, event: p.Event) -> None:
        assert event.seq == self.seq + 1, "events arrive in order without gaps"
        self.seq = event.seq
        self.log.append(event.seq)
        match event:
            case p.StepEvent():
                self.index, self.open, self.revealed = (
                    event.step.index, event.responses_open, False
                )
            case p.ResponsesEvent():
                self.open = event.open
            case p.RevealEvent():
                self.revealed = event.revealed
            case p.EndedEvent():
                self.open = False


class SessionModel(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.session = make(min_responses=K)
        self.entries: list[bytes] = []
        self.answers: dict[tuple[str, int], p.AnswerValue | None] = {}
        self.joined: set[str] = set()
        self.views: dict[str, View] = {}
        self.clock = 0.0
        self.submission = 0
        self.fold(Commanded(at=0, command=p.Start()))

    def fold(self, entry: AnyEntry) -> list[Outcome]:
        self.clock += 1
        entry.at = self.clock
        raw = entry_encoder.encode(entry)
        self.entries.append(raw)
        outcomes = list(self.session.apply(entry_decoder.decode(raw)))
        for outcome in outcomes:
            if isinstance(outcome, Broadcast):
                for view in self.views.values():
                    if view.online:
                        view.apply(outcome.others)
        return outcomes

    @rule(who=st.sampled_from(PEOPLE))
    def join(self, who: str) -> None:
        if who in self.joined:
            return
        self.fold(Joined(at=0, participant=who, token_hash=who))
        self.joined.add(who)
        snapshot = self.session.snapshot("participant", who)
        self.views[who] = View(seq=self.session.seq, index=snapshot.step.index
                               if snapshot.step else -1, revealed=snapshot.revealed,
                               open=snapshot.responses_open)

    @rule(who=st.sampled_from(PEOPLE), pick=st.integers(0, 3), passing=st.booleans())
    def answer(self, who: str, pick: int, passing: bool) -> None:
        step = self.session.index
        self.submission += 1
        message: p.Answer | p.Pass
        if passing or step not in VALUES:
            message = p.Pass(step=max(step, 0), submission=str(self.submission))
        else:
            options = VALUES[step]
            message = p.Answer(step=step, submission=str(self.submission),
                               value=options[pick % len(options)])
        accepted = who in self.joined and step in VALUES and self.session.responses_open
        if isinstance(message, p.Answer):
            value = message.value
            accepted = accepted and _valid(step, value)
        outcomes = self.fold(Submitted(at=0, participant=who, message=message))
        acked = any(isinstance(getattr(o, "message", None), p.Ack) for o in outcomes)
        assert acked == accepted
        if accepted:
            self.answers[who, step] = message.value if isinstance(message, p.Answer) else None

    @rule(who=st.sampled_from(PEOPLE))
    def leave(self, who: str) -> None:
        self.fold(Left(at=0, participant=who))
        if who in self.joined:
            self.joined.discard(who)
            self.views.pop(who, None)
            self.answers = {k: v for k, v in self.answers.items() if k[0] != who}

    @rule(who=st.sampled_from(PEOPLE))
    def drop(self, who: str) -> None:
        if who in self.views:
            self.views[who].online = False

    @rule(who=st.sampled_from(PEOPLE), long_away=st.booleans())
    def resume(self, who: str, long_away: bool) -> None:
        view = self.views.get(who)
        if view is None or view.online:
            return
        view.online = True
        window = 0.5 if long_away else 1e9
        missed = self.session.missed(view.seq, now=self.clock + 1, window_ms=window)
        if missed is None:
            snapshot = self.session.snapshot("participant", who)
            view.seq = self.session.seq
            view.index = snapshot.step.index if snapshot.step else -1
            view.revealed, view.open = snapshot.revealed, snapshot.responses_open
        else:
            for broadcast in missed:
                view.apply(broadcast.others)

    @rule(step=st.integers(0, 7))
    def goto(self, step: int) -> None:
        self.fold(Commanded(at=0, command=p.Goto(step=step)))

    @rule(command=st.sampled_from([p.Next(), p.Back(), p.Reveal(), p.HideResults(),
                                   p.CloseResponses(), p.OpenResponses()]))
    def facilitate(self, command: p.FacilitatorCommand) -> None:
        self.fold(Commanded(at=0, command=command))

    @rule()
    def restart(self) -> None:
        """A node restarts (or another node takes over): a replica rebuilt from the log."""
        rebuilt = Session(self.session.info)
        for raw in self.entries:
            rebuilt.apply(entry_decoder.decode(raw))
        for step in VALUES:
            assert rebuilt.results("facilitator", step) == self.session.results(
                "facilitator", step
            )
        assert (rebuilt.seq, rebuilt.index, rebuilt.revealed) == (
            self.session.seq, self.session.index, self.session.revealed
        )
        self.session = rebuilt

    @invariant()
    def aggregates_equal_a_recount(self) -> None:
        if not hasattr(self, "session"):
            return
        for step in VALUES:
            values = [v for (who, s), v in self.answers.items() if s == step]
            answered = [v for v in values if v is not None]
            tallies = self.session.tallies[step]
            assert tallies.answers.count == len(answered)
            assert tallies.passes == len(values) - len(answered)
            results = self.session.results("facilitator", step)
            assert results is not None
            if len(answered) < K:
                assert results.answers is None
            else:
                assert results.answers is not None
                _check_recount(results.answers, answered)

    @invariant()
    def nothing_public_below_the_threshold(self) -> None:
        if not hasattr(self, "session"):
            return
        for role in ("screen", "participant"):
            public = self.session.results(role)
            if public is not None and public.answers is not None:
                assert public.count >= K and self.session.revealed
            if role == "participant":
                assert public is None or public.answers is not None, "phones get no counts"

    @invariant()
    def online_clients_converge(self) -> None:
        if not hasattr(self, "session"):
            return
        for view in self.views.values():
            if view.online:
                assert (view.seq, view.index, view.revealed, view.open) == (
                    self.session.seq, self.session.index, self.session.revealed,
                    self.session.responses_open,
                )
                assert len(view.log) == len(set(view.log)), "no event twice"


def _valid(step: int, value: p.AnswerValue) -> bool:
    match value:
        case p.ScaleValue(value=v):
            return 1 <= v <= 5
        case p.ChoiceValue(options=options):
            return all(o in "abc" for o in options)
        case p.TextValue(text=text):
            return bool(text.strip())
    return True


def _check_recount(aggregate: p.AnyAggregate, values: list[p.AnswerValue]) -> None:
    match aggregate:
        case p.CheckinAggregate():
            words: dict[str, int] = {}
            for v in values:
                assert isinstance(v, p.CheckinValue)
                words[v.word] = words.get(v.word, 0) + 1
            assert aggregate.words == words
        case p.ScaleAggregate():
            numbers = [v.value for v in values if isinstance(v, p.ScaleValue)]
            assert aggregate.mean == round(sum(numbers) / len(numbers), 2)
            assert sum(aggregate.histogram) == len(numbers)
        case p.ChoiceAggregate():
            for option, count in aggregate.options.items():
                assert count == sum(option in v.options for v in values
                                    if isinstance(v, p.ChoiceValue))
        case p.TextAggregate():
            assert sorted(c.text for c in aggregate.cards) == sorted(
                v.text for v in values if isinstance(v, p.TextValue)
            )


TestSessionModel = SessionModel.TestCase
TestSessionModel.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
