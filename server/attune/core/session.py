"""Session rules: a pure state machine folded over the session's log of entries.

Every change to a session (a participant joining, an answer, a facilitator command) is first
appended to the session's log in the backend; every node then folds the same entries in the same
order through ``Session.apply``. Because this code is deterministic (time comes from the entry,
randomness from the session's secret), every node holds an identical replica: the same step, the
same aggregates and the same sequence numbers. There is no read-modify-write anywhere, which is what
lets several processes share one session through Redis.

``apply`` returns outcomes for the I/O layer: events to broadcast, replies to one connection, and
which step's aggregate changed. Nothing here touches a socket, a clock or an event loop.
"""

from __future__ import annotations

import hashlib
from collections import deque
from typing import Final, NamedTuple

import msgspec

from attune.core import protocol as p
from attune.core import scenario as s
from attune.core import themes as th
from attune.core import views
from attune.core.aggregate import CheckinTally, ChoiceTally, ScaleTally, Tally, TextTally
from attune.core.emotions import VOCABULARY
from attune.core.errors import Refused

HISTORY_LIMIT = 1024
"""Events kept for resume, at most; older ones are answered with a snapshot."""


# --- the session record and the log entries --------------------------------------------------


class SessionInfo(msgspec.Struct, kw_only=True):
    """What is fixed when a session is created; stored once in the backend."""

    id: str
    code: str
    epoch: str
    secret: str
    """Random per session; salts card ids so they cannot be linked to participants."""
    token_hash: str
    """SHA-256 of the facilitator token; the token itself is never stored."""
    language: str
    min_responses: int
    created_at: float
    scenario: s.Scenario


class Entry(msgspec.Struct, tag_field="t", kw_only=True):
    at: float
    """Server clock (ms since the Unix epoch) on the node that appended the entry."""
    origin: str = ""
    """``node/connection`` that sent it, so the right node can reply; empty for none."""


class Joined(Entry, tag="join"):
    participant: str
    token_hash: str


class Submitted(Entry, tag="answer"):
    participant: str
    message: p.Answer | p.Pass


class Commanded(Entry, tag="command"):
    command: p.FacilitatorCommand


class Left(Entry, tag="leave"):
    participant: str


class Themed(Entry, tag="themes"):
    """What the facilitator's node's grouper found (``core/themes.py`` says why it is logged)."""

    step: int
    change: th.Change


AnyEntry = Joined | Submitted | Commanded | Left | Themed
entry_encoder = msgspec.msgpack.Encoder()
entry_decoder = msgspec.msgpack.Decoder(AnyEntry)
info_decoder = msgspec.msgpack.Decoder(SessionInfo)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- outcomes --------------------------------------------------------------------------------


class Broadcast(NamedTuple):
    """A sequenced event for every connection of the session; facilitators get their own
    rendering (with notes), everyone else shares one."""

    facilitator: p.Event
    others: p.Event


class Reply(NamedTuple):
    origin: str
    message: p.Ack | p.Error


class Changed(NamedTuple):
    """The aggregate of ``step`` changed (``PRESENCE``: the participant count); push it,
    coalesced."""

    step: int


PRESENCE: Final = -1
"""``Changed.step`` for the participant count, which is no step's aggregate."""


Outcome = Broadcast | Reply | Changed


class Record(NamedTuple):
    value: p.AnswerValue | None
    """None for a pass."""
    guess: p.AnswerValue | None


class Participant:
    __slots__ = ("answers", "submissions", "token_hash")

    def __init__(self, token_hash: str) -> None:
        self.token_hash = token_hash
        self.answers: dict[int, Record] = {}
        self.submissions: set[str] = set()


class StepTallies:
    __slots__ = ("answers", "guesses", "passes")

    def __init__(self, answers: Tally, guesses: Tally | None) -> None:
        self.answers = answers
        self.guesses = guesses
        self.passes = 0


def _tally(step: s.AnswerStep) -> Tally:
    match step:
        case s.Checkin():
            return CheckinTally()
        case s.Scale():
            return ScaleTally(step.min, step.max)
        case s.Choice():
            return ChoiceTally([o.id for o in step.options])
        case s.Perspective():
            return TextTally()


class Session:
    """One live session's state. Mutated only by ``apply``; everything else reads."""

    def __init__(self, info: SessionInfo) -> None:
        self.info = info
        self.scenario = info.scenario
        self.status: p.Status = "lobby"
        self.index = -1
        self.responses_open = False
        self.revealed = False
        self.started_at: float | None = None
        self.seq = 0
        self.participants: dict[str, Participant] = {}
        self.tallies: dict[int, StepTallies] = {
            i: StepTallies(_tally(step), _tally(step) if getattr(step, "predict", None) else None)
            for i, step in enumerate(self.scenario.steps)
            if isinstance(step, s.Checkin | s.Scale | s.Choice | s.Perspective)
        }
        self.books: dict[int, th.ThemeBook] = {
            i: th.ThemeBook() for i, step in enumerate(self.scenario.steps)
            if isinstance(step, s.Perspective)
        }
        self.history: deque[tuple[float, Broadcast]] = deque(maxlen=HISTORY_LIMIT)
        self._views: dict[tuple[int, bool], p.StepView] = {}

    # --- folding the log ---------------------------------------------------------------------

    def apply(self, entry: AnyEntry) -> list[Outcome]:
        try:
            match entry:
                case Joined():
                    if entry.participant in self.participants:
                        return []
                    self.participants[entry.participant] = Participant(entry.token_hash)
                    return [Changed(PRESENCE)]
                case Submitted():
                    return self._submit(entry)
                case Commanded():
                    return self._command(entry.command, entry.at)
                case Left():
                    return self._leave(entry.participant)
                case Themed():
                    self.book(entry.step).apply(entry.change)
                    return [Changed(entry.step)]
        except Refused as refused:
            ref = entry.message.submission if isinstance(entry, Submitted) else (
                entry.command.ref if isinstance(entry, Commanded) else None
            )
            return [Reply(entry.origin, self.error(refused, ref))]

    def error(self, refused: Refused, ref: str | None = None) -> p.Error:
        return p.Error(seq=self.seq, code=refused.code, message=refused.message, ref=ref)

    def _submit(self, entry: Submitted) -> list[Outcome]:
        message = entry.message
        participant = self.participants.get(entry.participant)
        if participant is None:
            raise Refused("not-joined", "Join the session before answering.")
        if message.submission in participant.submissions:
            ack = p.Ack(seq=self.seq, step=message.step, submission=message.submission,
                        duplicate=True)
            return [Reply(entry.origin, ack)]
        self.check_answer(message)
        participant.submissions.add(message.submission)
        tallies = self.tallies[message.step]
        # Only free-text answers become cards; hashing an id for every tap would be waste.
        card = self.card_id(entry.participant, message.step) \
            if isinstance(tallies.answers, TextTally) else ""
        old = participant.answers.get(message.step)
        if old is not None:
            self._count(tallies, old, card, -1)
        record = Record(message.value, message.guess) if isinstance(message, p.Answer) \
            else Record(None, None)
        self._count(tallies, record, card, 1)
        participant.answers[message.step] = record
        ack = p.Ack(seq=self.seq, step=message.step, submission=message.submission)
        return [Reply(entry.origin, ack), Changed(message.step)]

    def _leave(self, participant: str) -> list[Outcome]:
        """Withdraw every answer of a participant who leaves; the aggregates forget them, and a
        step that falls below the threshold is hidden again."""
        gone = self.participants.pop(participant, None)
        if gone is None:
            return []
        for step, record in gone.answers.items():
            self._count(self.tallies[step], record, self.card_id(participant, step), -1)
        outcomes: list[Outcome] = [Changed(step) for step in sorted(gone.answers)]
        outcomes.append(Changed(PRESENCE))
        return outcomes

    @staticmethod
    def _count(tallies: StepTallies, record: Record, card: str, sign: int) -> None:
        if record.value is None:
            tallies.passes += sign
            return
        (tallies.answers.add if sign > 0 else tallies.answers.remove)(record.value, card)
        if record.guess is not None and tallies.guesses is not None:
            (tallies.guesses.add if sign > 0 else tallies.guesses.remove)(record.guess, card)

    def check_answer(self, message: p.Answer | p.Pass) -> None:
        """Raise Refused unless this answer or pass fits the current state; nodes call this before
        appending so hopeless answers never reach the log, and ``apply`` calls it again because
        the state may have moved on in between."""
        self._require_running()
        if message.step != self.index:
            raise Refused("not-current-step", f"Step {message.step} is not the current step "
                          f"({self.index}).")
        step = self.scenario.steps[self.index]
        if self.index not in self.tallies:
            raise Refused("not-answerable", "This step takes no answers.")
        if not self.responses_open:
            raise Refused("responses-closed", "Responses are closed for this step.")
        if isinstance(message, p.Answer):
            _check_value(step, message.value, guess=False)  # type: ignore[arg-type]
            if message.guess is not None:
                if getattr(step, "predict", None) is None:
                    raise Refused("invalid-answer", "This step does not ask for a guess.")
                _check_value(step, message.guess, guess=True)  # type: ignore[arg-type]

    def _require_running(self) -> None:
        if self.status == "lobby":
            raise Refused("not-started", "The session has not started yet.")
        if self.status == "ended":
            raise Refused("session-ended", "The session has ended.")

    def _command(self, command: p.FacilitatorCommand, at: float) -> list[Outcome]:
        match command:
            case p.Start():
                if self.status != "lobby":
                    self._require_running()
                    raise Refused("forbidden", "The session has already started.")
                self.status = "running"
                return [self._enter(0, at)]
            case p.Next() | p.Back() | p.Goto():
                self._require_running()
                target = {p.Next: self.index + 1, p.Back: self.index - 1}.get(
                    type(command), getattr(command, "step", -1)
                )
                if not 0 <= target < len(self.scenario.steps):
                    raise Refused("no-such-step", f"There is no step {target}.")
                return [self._enter(target, at)]
            case p.OpenResponses() | p.CloseResponses():
                self._require_answer_step()
                wanted = isinstance(command, p.OpenResponses)
                if wanted == self.responses_open:
                    return []
                self.responses_open = wanted
                return [self._broadcast(p.ResponsesEvent(seq=0, open=wanted), at)]
            case p.Reveal() | p.HideResults():
                self._require_answer_step()
                wanted = isinstance(command, p.Reveal)
                if wanted == self.revealed:
                    return []
                self.revealed = wanted
                return [self._broadcast(p.RevealEvent(seq=0, revealed=wanted), at)]
            case p.HideCard() | p.RestoreCard():
                tallies = self.tallies.get(command.step)
                if tallies is None or not isinstance(tallies.answers, TextTally):
                    raise Refused("no-such-card", f"Step {command.step} has no free-text cards.")
                if command.card not in tallies.answers.cards:
                    raise Refused("no-such-card", f"No card {command.card} on this step.")
                tallies.answers.hide(command.card, isinstance(command, p.HideCard))
                return [Changed(command.step)]
            case p.RenameTheme():
                self.book(command.step).rename(command.theme, command.label)
                return [Changed(command.step)]
            case p.MergeThemes():
                self.book(command.step).merge(command.theme, command.into)
                return [Changed(command.step)]
            case p.MoveCard():
                book = self.book(command.step)
                if command.card not in self.text_cards(command.step):
                    raise Refused("no-such-card", f"No card {command.card} on this step.")
                book.move(command.card, command.theme)
                return [Changed(command.step)]
            case p.GroupThemes() | p.SplitTheme():
                # Carried out by the facilitator's node, which logs the result as ``Themed``.
                return []
            case p.End():
                self._require_running()
                self.status = "ended"
                self.responses_open = False
                return [self._broadcast(p.EndedEvent(seq=0), at)]

    def _require_answer_step(self) -> None:
        self._require_running()
        if self.index not in self.tallies:
            raise Refused("not-answerable", "This step takes no answers.")

    def _enter(self, index: int, at: float) -> Broadcast:
        self.index = index
        self.started_at = at
        self.responses_open = index in self.tallies
        self.revealed = False
        return self._broadcast(
            p.StepEvent(seq=0, step=self.step_view(index, False), started_at=at,
                        responses_open=self.responses_open),
            at,
        )

    def _broadcast(self, event: p.Event, at: float) -> Broadcast:
        self.seq += 1
        event.seq = self.seq
        moderator = event
        if isinstance(event, p.StepEvent):
            moderator = msgspec.structs.replace(event, step=self.step_view(self.index, True))
        broadcast = Broadcast(moderator, event)
        self.history.append((at, broadcast))
        return broadcast

    # --- reading the state -------------------------------------------------------------------

    def step_view(self, index: int, moderator: bool) -> p.StepView:
        key = (index, moderator)
        if key not in self._views:
            self._views[key] = views.step_view(
                self.scenario.steps[index], index, self.info.language, moderator
            )
        return self._views[key]

    def book(self, step: int) -> th.ThemeBook:
        """The themes of a free-text step, or Refused for any other step."""
        book = self.books.get(step)
        if book is None:
            raise Refused("not-answerable", f"Step {step} has no free-text answers to group.")
        return book

    def themes(self, step: int, moderator: bool) -> p.Themes | None:
        """A free-text step's themes as the facilitator (or the room) may see them."""
        tally = self.tallies[step].answers
        book = self.books.get(step)
        if book is None or not isinstance(tally, TextTally):
            return None
        return book.view(set(tally.cards), tally.hidden, self.info.min_responses, moderator)

    def text_cards(self, step: int) -> dict[str, str]:
        """Card id to text, hidden cards included, of a free-text step."""
        tally = self.tallies[step].answers
        assert isinstance(tally, TextTally)
        return tally.cards

    def card_id(self, participant: str, step: int) -> str:
        return hashlib.blake2s(
            f"{participant}/{step}".encode(), key=self.info.secret.encode()[:32], digest_size=6
        ).hexdigest()

    def missed(self, last_seq: int, now: float, window_ms: float) -> list[Broadcast] | None:
        """The events after ``last_seq``, or None when they are no longer all kept (or were
        too long ago), in which case the client needs a snapshot."""
        if last_seq > self.seq:
            return None
        needed = self.seq - last_seq
        if needed == 0:
            return []
        if needed > len(self.history):
            return None
        tail = list(self.history)[-needed:]
        if tail[0][0] < now - window_ms:
            return None
        return [broadcast for _, broadcast in tail]

    def snapshot(self, role: p.Role, participant: str | None = None) -> p.Snapshot:
        moderator = role == "facilitator"
        snap = p.Snapshot(
            title=s.localize(self.scenario.title, self.info.language) or "",
            language=self.info.language,
            status=self.status,
            step=self.step_view(self.index, moderator) if self.index >= 0 else None,
            step_count=len(self.scenario.steps),
            started_at=self.started_at,
            responses_open=self.responses_open,
            revealed=self.revealed,
        )
        if moderator:
            snap.outline = views.outline(self.scenario, self.info.language)
        own = self.participants.get(participant) if participant else None
        if own is not None:
            snap.answers = {i: r.value for i, r in own.answers.items() if r.value is not None}
            snap.passed = sorted(i for i, r in own.answers.items() if r.value is None)
        return snap

    def results(self, role: p.Role, step: int | None = None) -> p.Results | None:
        """The aggregate of a step as ``role`` may see it, or None if it may see nothing.

        The facilitator sees counts always and aggregates from the threshold on. Everyone else
        sees aggregates only once revealed and at the threshold; until then the projector shows
        the live count of the current step (as a room expects), and phones nothing.
        """
        step = self.index if step is None else step
        tallies = self.tallies.get(step)
        if tallies is None:
            return None
        moderator = role == "facilitator"
        enough = tallies.answers.count >= self.info.min_responses
        if not moderator and not (self.revealed and step == self.index and enough):
            if role != "screen" or step != self.index:
                return None
            return p.Results(seq=self.seq, step=step, count=tallies.answers.count,
                             passes=tallies.passes)
        guesses = tallies.guesses
        answers = tallies.answers.view(moderator) if enough else None
        if isinstance(answers, p.TextAggregate):
            answers.themes = self.themes(step, moderator)
        return p.Results(
            seq=self.seq,
            step=step,
            count=tallies.answers.count,
            passes=tallies.passes,
            answers=answers,
            guesses=guesses.view(moderator)
            if guesses is not None and guesses.count >= self.info.min_responses and enough
            else None,
        )

    def feedback(self, participant: str) -> p.Feedback | None:
        """How close one participant's guess about the group was, once results are revealed."""
        own = self.participants.get(participant)
        tallies = self.tallies.get(self.index)
        if own is None or tallies is None or not self.revealed:
            return None
        record = own.answers.get(self.index)
        if record is None or record.guess is None:
            return None
        actual = tallies.answers
        if actual.count < self.info.min_responses:
            return None
        feedback = p.Feedback(seq=self.seq, step=self.index, guess="", actual="", close=False)
        match record.guess, actual:
            case p.CheckinValue(word=word), CheckinTally():
                feedback.guess = VOCABULARY[word].quadrant
                feedback.actual = actual.top_quadrant()
                feedback.close = feedback.guess == feedback.actual
                feedback.share = round(actual.quadrants[feedback.guess] / actual.count, 3)
            case p.ScaleValue(value=value), ScaleTally():
                mean = actual.mean()
                feedback.guess, feedback.actual = f"{value:g}", f"{mean:.2f}"
                feedback.distance = round(abs(value - mean), 2)
                feedback.close = feedback.distance <= (actual.high - actual.low) / 10
            case p.ChoiceValue(options=[option]), ChoiceTally():
                feedback.guess, feedback.actual = option, actual.top()
                feedback.close = actual.options[option] == actual.options[feedback.actual]
                feedback.share = round(actual.options[option] / actual.count, 3)
            case _:
                return None
        return feedback


def _check_value(step: s.AnswerStep, value: p.AnswerValue, guess: bool) -> None:
    """Raise Refused unless ``value`` fits ``step`` (a guess about the group may be a mean)."""

    def bad(why: str) -> Refused:
        return Refused("invalid-answer", why)

    match step, value:
        case s.Checkin(), p.CheckinValue():
            allowed = step.words if step.words is not None else VOCABULARY
            if value.word not in allowed:
                raise bad(f"{value.word!r} is not one of this step's words.")
            if value.intensity is not None and not step.intensity:
                raise bad("This step does not ask for intensity.")
        case s.Scale(), p.ScaleValue():
            if not step.min <= value.value <= step.max:
                raise bad(f"Expected a number from {step.min} to {step.max}.")
            if not guess and value.value != int(value.value):
                raise bad("Expected a whole number.")
        case s.Choice(), p.ChoiceValue():
            ids = {o.id for o in step.options}
            if not value.options or any(o not in ids for o in value.options):
                raise bad("Expected one or more of this step's option ids.")
            if len(set(value.options)) != len(value.options):
                raise bad("Each option may be chosen once.")
            if len(value.options) > 1 and (guess or not step.multiple):
                raise bad("Expected exactly one option.")
        case s.Perspective(), p.TextValue():
            if not value.text.strip():
                raise bad("The text is empty.")
            if len(value.text) > step.max_length:
                raise bad(f"The text is longer than {step.max_length} characters.")
            if guess:
                raise bad("Free-text steps take no guess.")
        case _:
            raise bad(f"A {step.__struct_config__.tag} step needs a {step.__struct_config__.tag} "
                      f"value, not {value.__struct_config__.tag}.")
