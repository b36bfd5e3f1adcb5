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
import sys
from collections import deque
from collections.abc import Mapping
from typing import Final, NoReturn

import msgspec

from attune.core import checklist as ch
from attune.core import countdown, views
from attune.core import group_frames as gf
from attune.core import groups as g
from attune.core import protocol as p
from attune.core import scenario as s
from attune.core import shift as shifts
from attune.core import themes as th
from attune.core.aggregate import CheckinTally, ChoiceTally, ScaleTally, Tally, TextTally
from attune.core.assign import Assignments, Pool
from attune.core.emotions import QUADRANTS, VOCABULARY
from attune.core.errors import Refused
from attune.core.moderation import Flag, help_text

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
    moderation: bool = False
    """Free-text cards wait for the facilitator's approval before the room sees them."""
    help_text: str = ""
    """Shown privately to the writer of a card that reads like distress (``core.moderation``)."""


class Entry(msgspec.Struct, tag_field="t", kw_only=True):
    at: float
    """Server clock (ms since the Unix epoch) on the node that appended the entry."""
    origin: str = ""
    """``node/connection`` that sent it, so the right node can reply; empty for none."""


class Joined(Entry, tag="join"):
    participant: str
    token_hash: str


class Submitted(Entry, tag="answer", gc=False):
    """An answer or a pass. Not tracked by the cyclic collector (``gc=False``, as the answer
    structs): it holds strings and an answer, which cannot lead back to it."""

    participant: str
    message: p.Answer | p.Pass
    flag: Flag | None = None
    """What the appending node's lexicon said of a free-text answer; in the log, so every node
    folds the same decision."""


class Commanded(Entry, tag="command"):
    command: p.FacilitatorCommand


class Left(Entry, tag="leave"):
    participant: str


class Readied(Entry, tag="ready"):
    participant: str
    step: int
    ready: bool


class Ticked(Entry, tag="tick"):
    """A checklist tick on a groups step (``core/checklist.py``): an answer, counted only."""

    participant: str
    step: int
    item: int
    ticked: bool


class Themed(Entry, tag="themes"):
    """What the facilitator's node's grouper found (``core/themes.py`` says why it is logged)."""

    step: int
    change: th.Change


class Expired(Entry, tag="expire"):
    """A node's timer reached the countdown's ``deadline`` (``core/countdown.py``)."""

    step: int
    deadline: float


class Delegated(Entry, tag="delegate"):
    """A moderator link was made (the SHA-256 of its token) or revoked (empty): one at a time,
    so making a new one revokes the old."""

    token_hash: str


AnyEntry = Joined | Submitted | Commanded | Left | Readied | Ticked | Themed | Delegated \
    | Expired
entry_encoder = msgspec.msgpack.Encoder()
entry_decoder = msgspec.msgpack.Decoder(AnyEntry)
info_decoder = msgspec.msgpack.Decoder(SessionInfo)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- outcomes --------------------------------------------------------------------------------
# Small frozen Structs rather than NamedTuples: an answer's fold makes a Reply and a Changed,
# and a NamedTuple is built by a Python-level ``__new__`` (three to five times a Struct's cost
# under ``timeit``); they compare, match and read the same.


class Broadcast(msgspec.Struct, frozen=True):
    """A sequenced event for every connection of the session; facilitators get their own
    rendering (with notes), everyone else shares one."""

    facilitator: p.Event
    others: p.Event


class Reply(msgspec.Struct, frozen=True, gc=False):
    origin: str
    message: p.Ack | p.Error


class Changed(msgspec.Struct, frozen=True):
    """The aggregate of ``step`` changed (``PRESENCE``: the participant count,
    ``GROUP_COUNTS``: the current groups step's counts); push it, coalesced."""

    step: int


PRESENCE: Final = -1
"""``Changed.step`` for the participant count, which is no step's aggregate."""
GROUP_COUNTS: Final = -2
"""``Changed.step`` for the current groups step's counts (ready, grouped, waiting, alone)."""


class Grouped(msgspec.Struct, frozen=True):
    """These participants' private group views changed; send each theirs."""

    participants: frozenset[str]


class Regrouped(msgspec.Struct, frozen=True):
    """Everyone's group view changed with this shared event (forming, a new round, entering a
    groups step): send each phone the event and its own view together (``group_frames``).
    ``prepared``: the forming worked out ahead that this one adopted, whose views still hold
    (``Session.prepare_forming``)."""

    event: Broadcast
    prepared: gf.Prepared | None = None


Outcome = Broadcast | Reply | Changed | Grouped | Regrouped


class Record(msgspec.Struct, frozen=True, gc=False):
    """A participant's answer to one step, kept for the session. Never tracked by the cyclic
    collector: it holds answer values only, so it cannot be in a cycle, and 10,000 participants
    leave 10,000 a step that a collection would otherwise scan again and again."""

    value: p.AnswerValue | None
    """None for a pass."""
    guess: p.AnswerValue | None


PASSED: Final = Record(None, None)


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


def _tally(step: s.AnswerStep | s.Groups, language: str, queue: bool = False) -> Tally:
    if isinstance(step, s.Groups):
        assert step.debrief is not None
        step = step.debrief
    match step:
        case s.Checkin():
            return CheckinTally()
        case s.Scale():
            return ScaleTally(step.min, step.max)
        case s.Choice():
            return ChoiceTally([o.id for o in step.options])
        case s.Perspective():
            return TextTally(language, queue)


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
            i: StepTallies(_tally(step, info.language, info.moderation),
                           _tally(step, info.language) if getattr(step, "predict", None) else None)
            for i, step in enumerate(self.scenario.steps)
            if isinstance(step, s.Checkin | s.Scale | s.Choice | s.Perspective)
            or (isinstance(step, s.Groups) and step.debrief is not None)
        }
        self._asks: dict[int, s.AnswerStep] = {}
        """What each step that takes answers asks (a groups step's debrief), for the check."""
        for i, step in enumerate(self.scenario.steps):
            asked = step.debrief if isinstance(step, s.Groups) else step
            if isinstance(asked, s.AnswerStep):
                self._asks[i] = asked
        self._checked: p.Answer | p.Pass | None = None
        """The answer ``check_answer`` passed last, while no entry has been folded since: the
        state it was checked against is still the state, so its fold need not check again."""
        self.groups: dict[int, g.GroupsState] = {
            i: g.GroupsState(i, step.size, step.leftover, len(step.roles), step.rounds,
                             step.rotate, step.seconds, [len(r.checklist) for r in step.roles],
                             info.secret)
            for i, step in enumerate(self.scenario.steps) if isinstance(step, s.Groups)
        }
        self.books: dict[int, th.ThemeBook] = {
            i: th.ThemeBook() for i, step in enumerate(self.scenario.steps)
            if isinstance(step, s.Perspective)
        }
        self.history: deque[tuple[float, Broadcast]] = deque(maxlen=HISTORY_LIMIT)
        self.spotlight: str | None = None
        """The card on the projector, full-screen, on the current step."""
        self.clock: p.Clock | None = None
        """The current step's countdown (``core/countdown.py``)."""
        self.join_shown = False
        """The join QR code and code are over the projector, until taken off."""
        self.moderator_hash = ""
        """SHA-256 of the moderator link's token; empty when there is none."""
        self._views: dict[tuple[int, bool], p.AnyStepView] = {}
        self._roles: dict[tuple[int, int], p.RoleView] = {}
        self._pieces: dict[int, gf.Pieces] = {}
        """Per groups step, the encoded parts of its private views (``group_frames``)."""
        self._prepared: gf.Prepared | None = None
        """The next forming, worked out ahead (``prepare_forming``). A memo, not state: a
        forming gives the same groups and events with it or without it."""
        self.visited: set[int] = set()
        """Steps entered before: entering one again leaves its responses closed."""
        self.compares: dict[int, int] = {}
        """Step index to the index of the earlier step it compares with."""
        self.pools: dict[int, Pool] = {}
        """Step index to the characters it hands out."""
        for i, step in enumerate(self.scenario.steps):
            compare = s.compared_index(self.scenario, step)
            if compare is not None:
                self.compares[i] = compare
            if isinstance(step, s.ASSIGNABLE) and step.assign == "each":
                self.pools[i] = tuple(
                    s.character_key(c) for ref in step.characters
                    if (c := s.find_character(self.scenario, ref, i)) is not None
                )
        self.assignments = Assignments(info.secret)
        self._card_key = info.secret.encode()[:32]
        self.by_character: dict[int, dict[str, StepTallies]] = {
            i: {c: StepTallies(_tally(self.scenario.steps[i], info.language,  # type: ignore[arg-type]
                                      info.moderation), None)
                for c in pool}
            for i, pool in self.pools.items()
        }
        self.changes = 0
        """Counts answer changes, so a shift is recomputed only when an answer moved."""
        self.departures = 0
        """Counts participants who left, so a node's list of who gets what, made earlier, knows
        whether it still names only people in the session (``Node._prepare``)."""
        self._shifts: dict[int, tuple[int, p.AnyShift]] = {}

    # --- folding the log ---------------------------------------------------------------------

    def apply(self, entry: AnyEntry) -> list[Outcome]:
        checked = self._checked
        try:
            match entry:
                case Submitted():
                    return self._submit(entry, entry.message is checked)
                case Joined():
                    if entry.participant in self.participants:
                        return []
                    # Interned, as the node interns its members' ids: an answer's lookup then
                    # finds the key by identity, without reading a second copy of the id.
                    self.participants[sys.intern(entry.participant)] = \
                        Participant(entry.token_hash)
                    pool = self.pools.get(self.index)
                    if pool and self.status == "running":
                        self.assignments.give(pool, entry.participant)
                    return [Changed(PRESENCE)]
                case Commanded():
                    return self._command(entry.command, entry.at)
                case Left():
                    return self._leave(entry.participant)
                case Delegated():
                    self.moderator_hash = entry.token_hash
                    return []
                case Expired():
                    return self._expire(entry)
                case Readied():
                    return self._ready(entry)
                case Ticked():
                    return self._tick(entry)
                case Themed():
                    self.book(entry.step).apply(entry.change)
                    return [Changed(entry.step)]
        except Refused as refused:
            ref = entry.message.submission if isinstance(entry, Submitted) else (
                entry.command.ref if isinstance(entry, Commanded) else None
            )
            return [Reply(entry.origin, self.error(refused, ref))]
        finally:
            self._checked = None  # this entry may have changed what the check read

    def error(self, refused: Refused, ref: str | None = None) -> p.Error:
        return p.Error(seq=self.seq, code=refused.code, message=refused.message, ref=ref)

    def _submit(self, entry: Submitted, checked: bool) -> list[Outcome]:
        """Count an answer or a pass (``checked``: ``check_answer`` passed it against this very
        state, on the node that appends it, so it is not checked twice)."""
        message = entry.message
        participant = self.participants.get(entry.participant)
        if participant is None:
            raise Refused("not-joined", "Join the session before answering.")
        step, submission = message.step, message.submission
        if submission in participant.submissions:
            ack = p.Ack(seq=self.seq, step=step, submission=submission, duplicate=True)
            return [Reply(entry.origin, ack)]
        if not checked:
            self.check_answer(message)
        participant.submissions.add(submission)
        tallies = self.tallies[step]
        # Only free-text answers become cards; hashing an id for every tap would be waste.
        card = self.card_id(entry.participant, step) \
            if isinstance(tallies.answers, TextTally) else ""
        old = participant.answers.get(step)
        record = Record(message.value, message.guess) if isinstance(message, p.Answer) \
            else PASSED
        participant.answers[step] = record
        self._recount(tallies, old, record, card, entry.flag)
        pool = self.pools.get(step)
        if pool:
            character = self.assignments.give(pool, entry.participant)
            self._recount(self.by_character[step][character], old, record, card, entry.flag)
        self.changes += 1
        ack = p.Ack(seq=self.seq, step=step, submission=submission)
        if entry.flag == "distress" and record.value is not None:
            ack.help = self.info.help_text or help_text(self.info.language, None, None)
        return [Reply(entry.origin, ack), Changed(step)]

    @classmethod
    def _recount(cls, tallies: StepTallies, old: Record | None, record: Record, card: str,
                 flag: Flag | None) -> None:
        """Replace a participant's ``old`` answer (if any) in ``tallies`` with ``record``."""
        if old is not None:
            cls._count(tallies, old, card, -1)
        answers = tallies.answers
        if isinstance(answers, TextTally):
            answers.mark(card, flag)
        if record.value is None:
            tallies.passes += 1
            return
        answers.add(record.value, card)
        if record.guess is not None and tallies.guesses is not None:
            tallies.guesses.add(record.guess, card)

    def _leave(self, participant: str) -> list[Outcome]:
        """Withdraw every answer of a participant who leaves; the aggregates forget them, and a
        step that falls below the threshold is hidden again."""
        gone = self.participants.pop(participant, None)
        if gone is None:
            return []
        self.departures += 1
        for step, record in gone.answers.items():
            card = self.card_id(participant, step)
            self._count(self.tallies[step], record, card, -1)
            pool = self.pools.get(step)
            character = self.assignments.of(pool, participant) if pool else None
            if character is not None:
                self._count(self.by_character[step][character], record, card, -1)
        self.assignments.forget(participant)
        self.changes += 1
        outcomes: list[Outcome] = [Changed(step) for step in sorted(gone.answers)]
        outcomes.append(Changed(PRESENCE))
        for state in self.groups.values():
            if state.checklists.forget(participant):
                outcomes.append(Changed(GROUP_COUNTS))
            if participant in state.ready or participant in state.where:
                outcomes.append(Grouped(frozenset(state.remove(participant) - {participant})))
                outcomes.append(Changed(GROUP_COUNTS))
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
        appending so hopeless answers never reach the log, and ``apply`` calls it again unless
        nothing was folded in between (the state may have moved on)."""
        step = self._asks.get(message.step)
        if step is None or message.step != self.index or not self.responses_open \
                or self.status != "running":
            self._refuse_answer(message.step)
        if isinstance(message, p.Answer):
            _check_value(step, message.value, guess=False)
            if message.guess is not None:
                if getattr(step, "predict", None) is None:
                    raise Refused("invalid-answer", "This step does not ask for a guess.")
                _check_value(step, message.guess, guess=True)
        self._checked = message

    def _refuse_answer(self, step: int) -> NoReturn:
        """The first rule an answer to ``step`` breaks, in order, raised."""
        self._require_running()
        if step != self.index:
            raise Refused("not-current-step", f"Step {step} is not the current step "
                          f"({self.index}).")
        if self.index not in self.tallies:
            raise Refused("not-answerable", "This step takes no answers.")
        raise Refused("responses-closed", "Responses are closed for this step.")

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
                return self._enter(0, at)
            case p.Next() | p.Back() | p.Goto():
                self._require_running()
                target = {p.Next: self.index + 1, p.Back: self.index - 1}.get(
                    type(command), getattr(command, "step", -1)
                )
                if not 0 <= target < len(self.scenario.steps):
                    raise Refused("no-such-step", f"There is no step {target}.")
                return self._enter(target, at, getattr(command, "reopen", False))
            case p.OpenResponses() | p.CloseResponses():
                self._require_answer_step()
                wanted = isinstance(command, p.OpenResponses)
                if wanted == self.responses_open:
                    return []
                self.responses_open = wanted
                opened: list[Outcome] = [self._broadcast(p.ResponsesEvent(seq=0, open=wanted), at)]
                if not wanted and self.clock is not None:
                    # Closed by hand: the countdown has nothing left to close.
                    self.clock = None
                    opened.append(self._broadcast(p.ClockEvent(seq=0, clock=None), at))
                return opened
            case p.Reveal() | p.HideResults():
                self._require_answer_step()
                wanted = isinstance(command, p.Reveal)
                if wanted == self.revealed:
                    return []
                self.revealed = wanted
                return [self._broadcast(p.RevealEvent(seq=0, revealed=wanted), at)]
            case p.HideCard() | p.RestoreCard() | p.ApproveCard():
                cards = self._cards(command.step, command.card)
                if isinstance(command, p.ApproveCard) \
                        and cards.flags.get(command.card) == "distress":
                    raise Refused("held-for-care", "This card stays with the facilitator.")
                for tally in self._card_tallies(command.step, command.card):
                    if isinstance(command, p.ApproveCard):
                        tally.approve(command.card)
                    else:
                        tally.hide(command.card, isinstance(command, p.HideCard))
                if self.spotlight == command.card and not cards.shown(command.card):
                    self.spotlight = None
                return [Changed(command.step)]
            case p.ApproveAll():
                cards = self._cards(command.step, None)
                for card in cards.waiting():
                    for tally in self._card_tallies(command.step, card):
                        tally.approve(card)
                return [Changed(command.step)]
            case p.ShowJoin():
                self._require_running()
                if command.shown == self.join_shown:
                    return []
                self.join_shown = command.shown
                return [self._broadcast(p.JoinEvent(seq=0, shown=command.shown), at)]
            case p.Countdown() | p.PauseClock() | p.ResumeClock() | p.ExtendClock():
                self._require_running()
                if isinstance(command, p.Countdown) or not self._on_timer_step():
                    self._require_answer_step()
                match command:
                    case p.Countdown(seconds=None):
                        clock = None
                    case p.Countdown(seconds=int(seconds)):
                        clock = countdown.start(at, seconds, command.reveal)
                        if not self.responses_open:
                            self.responses_open = True
                            outcomes = [self._broadcast(p.ResponsesEvent(seq=0, open=True), at)]
                            self.clock = clock
                            return [*outcomes, self._broadcast(p.ClockEvent(seq=0, clock=clock),
                                                               at)]
                    case p.PauseClock():
                        clock = countdown.pause(self.clock, at)
                    case p.ResumeClock():
                        clock = countdown.resume(self.clock, at)
                    case p.ExtendClock():
                        clock = countdown.extend(self.clock, command.seconds, at)
                self.clock = clock
                return [self._broadcast(p.ClockEvent(seq=0, clock=clock), at)]
            case p.Spotlight():
                if command.step != self.index:
                    raise Refused("not-current-step", "Only a card of the current step can be "
                                  "spotlighted.")
                cards = self._cards(command.step, command.card)
                if command.card is not None and not cards.shown(command.card):
                    raise Refused("not-approved", "Approve this card before spotlighting it.")
                if self.spotlight == command.card:
                    return []
                self.spotlight = command.card
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
                book.move(command.card, command.theme,
                          self.character_of_card(command.step, command.card))
                return [Changed(command.step)]
            case p.GroupThemes() | p.SplitTheme():
                # Carried out by the facilitator's node, which logs the result as ``Themed``.
                return []
            case p.End():
                self._require_running()
                self.status = "ended"
                self.responses_open = False
                return [self._broadcast(p.EndedEvent(seq=0), at)]
            case p.GroupsForm() | p.GroupsStart() | p.GroupsPause() | p.GroupsExtend() \
                    | p.GroupsNext() | p.GroupsEnd():
                return self._groups_command(command, at)
        raise Refused("forbidden", "This command is not known here.")

    def _card_tallies(self, step: int, card: str) -> list[TextTally]:
        """Every tally holding a card: the step's, and its character's when characters are
        handed out, so moderation applies to both alike."""
        found = [self._cards(step, card)]
        for group in self.by_character.get(step, {}).values():
            if isinstance(group.answers, TextTally) and card in group.answers.cards:
                found.append(group.answers)
        return found

    def _cards(self, step: int, card: str | None) -> TextTally:
        """The free-text cards of ``step``, which must hold ``card`` when one is named."""
        tallies = self.tallies.get(step)
        if tallies is None or not isinstance(tallies.answers, TextTally):
            raise Refused("no-such-card", f"Step {step} has no free-text cards.")
        if card is not None and card not in tallies.answers.cards:
            raise Refused("no-such-card", f"No card {card} on this step.")
        return tallies.answers

    def _on_timer_step(self) -> bool:
        """A scenario ``timer`` step, whose clock starts on entry and pauses like a countdown."""
        return self.status != "lobby" and isinstance(self.scenario.steps[self.index], s.Timer)

    def due(self) -> float | None:
        """The deadline a node must time: a countdown that closes responses. A timer step's
        zero is shown on every device from its clock and changes nothing here."""
        if self.clock is None or self._on_timer_step():
            return None
        return self.clock.deadline

    def _require_answer_step(self) -> None:
        self._require_running()
        if self.index not in self.tallies:
            raise Refused("not-answerable", "This step takes no answers.")

    def _enter(self, index: int, at: float, reopen: bool = False) -> list[Outcome]:
        """Enter a step. Responses open on a first visit only (or when the facilitator asks
        with ``reopen``): going back to show an earlier result must not let people change it."""
        first = index not in self.visited
        self.visited.add(index)
        self.index = index
        self._prepared = None
        self.started_at = at
        state = self.groups.get(index)
        # A groups step's debrief opens when the rounds end, not when the step begins.
        self.responses_open = index in self.tallies and (first or reopen) \
            and (state is None or state.phase == "debrief")
        self.revealed = False
        self.spotlight = None
        self.clock = None
        step = self.scenario.steps[index]
        seconds = getattr(step, "countdown", None)
        if seconds and self.responses_open:
            self.clock = countdown.start(at, seconds, False)
        if isinstance(step, s.Timer):
            self.clock = countdown.start(at, step.seconds, False)
        pool = self.pools.get(index)
        if pool:
            for participant in self.participants:
                self.assignments.give(pool, participant)
        outcomes: list[Outcome] = [self._broadcast(
            p.StepEvent(seq=0, step=self.step_view(index, False), started_at=at,
                        responses_open=self.responses_open),
            at,
        )]
        if state is not None:
            outcomes += [Regrouped(self._broadcast(self.groups_event(state), at)),
                         Changed(GROUP_COUNTS)]
        if self.clock is not None:
            outcomes.append(self._broadcast(p.ClockEvent(seq=0, clock=self.clock), at))
        return outcomes

    def _expire(self, entry: Expired) -> list[Outcome]:
        """Zero: responses close (and the results show, if asked), once, for the countdown
        still running; a paused, extended or replaced one is not this entry's."""
        if entry.step != self.index or not countdown.current(self.clock, entry.deadline):
            return []
        assert self.clock is not None
        reveal = self.clock.reveal
        self.clock = None
        outcomes: list[Outcome] = [self._broadcast(p.ClockEvent(seq=0, clock=None), entry.at)]
        if self.responses_open:
            self.responses_open = False
            outcomes.append(self._broadcast(p.ResponsesEvent(seq=0, open=False), entry.at))
        if reveal and not self.revealed:
            self.revealed = True
            outcomes.append(self._broadcast(p.RevealEvent(seq=0, revealed=True), entry.at))
        return outcomes

    # --- groups steps (the rules are in core/groups.py) ----------------------------------------

    def current_groups(self) -> g.GroupsState:
        """The current step's groups, or Refused if the current step is not a groups step."""
        self._require_running()
        state = self.groups.get(self.index)
        if state is None:
            raise Refused("not-groups-step", "The current step is not a groups step.")
        return state

    def check_ready(self, message: p.Ready) -> g.GroupsState:
        state = self.current_groups()
        if message.step != self.index:
            raise Refused("not-current-step", f"Step {message.step} is not the current step "
                          f"({self.index}).")
        if state.phase == "debrief":
            raise Refused("groups-over", "The groups of this step have ended.")
        return state

    def _ready(self, entry: Readied) -> list[Outcome]:
        if entry.participant not in self.participants:
            raise Refused("not-joined", "Join the session first.")
        state = self.check_ready(p.Ready(step=entry.step, ready=entry.ready))
        changed = state.set_ready(entry.participant, entry.ready)
        if not changed:
            return []
        return [Grouped(frozenset(changed)), Changed(GROUP_COUNTS)]

    def check_tick(self, participant: str, message: p.Tick) -> tuple[g.GroupsState, ch.Tick]:
        """Where this tick belongs, or Refused: a tick needs a place in a group, in a role whose
        checklist has the item, during the rounds."""
        state = self.check_ready(p.Ready(step=message.step))
        if state.phase != "grouped":
            raise Refused("groups-not-formed", "Form the groups first.")
        tick = state.tick(participant, message.item)
        if tick is None:
            raise Refused("not-in-group", "Only someone in a group, in a role with this "
                          "checklist item, can tick it.")
        return state, tick

    def _tick(self, entry: Ticked) -> list[Outcome]:
        if entry.participant not in self.participants:
            raise Refused("not-joined", "Join the session first.")
        state, tick = self.check_tick(entry.participant, p.Tick(step=entry.step, item=entry.item))
        if not state.checklists.set(entry.participant, tick, entry.ticked):
            return []
        return [Grouped(frozenset((entry.participant,))), Changed(GROUP_COUNTS)]

    def _groups_command(self, command: p.FacilitatorCommand, at: float) -> list[Outcome]:
        state = self.current_groups()
        if isinstance(command, p.GroupsForm):
            if len(state.ready) < 2:
                raise Refused("too-few-ready", f"{len(state.ready)} ready; groups need two.")
            prepared, self._prepared = self._prepared, None
            if prepared is not None and (prepared.step != self.index
                                         or prepared.plan.changes != state.changes):
                prepared = None
            state.form(None if prepared is None else prepared.plan)
            broadcast = self._broadcast(self.groups_event(state), at)
            if prepared is not None and prepared.seq != self.seq:
                prepared = None  # another event came first: the views ahead hold another seq
            return [Regrouped(broadcast, prepared), Changed(GROUP_COUNTS)]
        if isinstance(command, p.GroupsEnd):
            if state.phase == "debrief":
                return []
            state.end(at)
            # The counts change with the phase: the checklist totals are shown from now on.
            outcomes: list[Outcome] = [self._broadcast(self.groups_event(state), at),
                                       Changed(GROUP_COUNTS)]
            if self.index in self.tallies and not self.responses_open:
                self.responses_open = True
                outcomes.append(self._broadcast(p.ResponsesEvent(seq=0, open=True), at))
            return outcomes
        if state.phase != "grouped":
            raise Refused("groups-not-formed", "Form the groups first.")
        match command:
            case p.GroupsStart():
                changed = state.start(at)
            case p.GroupsPause():
                changed = state.pause(at)
            case p.GroupsExtend():
                state.extend(command.seconds)
                changed = True
            case p.GroupsNext():
                if state.round + 1 >= state.rounds:
                    raise Refused("no-more-rounds", f"Round {state.round + 1} of "
                                  f"{state.rounds} was the last.")
                state.next_round(at)
                return [Regrouped(self._broadcast(self.groups_event(state), at)),
                        Changed(GROUP_COUNTS)]
            case _:
                raise Refused("forbidden", "Not a groups command.")
        return [self._broadcast(self.groups_event(state), at)] if changed else []

    def groups_event(self, state: g.GroupsState) -> p.GroupsEvent:
        # The numbers are listed only when they are not 1 to the count: after forming, no group
        # is empty, which says so without listing 3,333 of them.
        if all(state.groups):
            count, numbers = len(state.groups), []
        else:
            live = state.live_groups()
            count, numbers = len(live), [] if live == list(range(1, len(live) + 1)) else live
        return p.GroupsEvent(
            seq=0, step=state.step, phase=state.phase, round=state.round, rounds=state.rounds,
            groups=count, numbers=numbers,
            seconds=state.seconds + state.extra, started_at=state.started_at,
            elapsed=round(state.elapsed, 3),
        )

    def group_view(self, participant: str) -> p.GroupView | None:
        """One participant's own group and role on the current step; None off a groups step."""
        state = self.groups.get(self.index)
        if state is None or self.status != "running" or participant not in self.participants:
            return None
        view = p.GroupView(seq=self.seq, step=self.index, status=state.status(participant),
                           round=state.round)
        number = state.group_of(participant)
        if number is None:
            return view
        step = self.scenario.steps[self.index]
        assert isinstance(step, s.Groups)
        view.number, view.colour, view.word = number, g.colour(number), g.word(number)
        view.others = state.members(number) - 1
        role = state.role(participant)
        if role is not None:
            view.role = self._role_view(step, role)
        upcoming = state.next_role(participant)
        if upcoming is not None:
            view.next_role = self._role_view(step, upcoming).name
        view.ticked = state.ticked(participant)
        return view

    def group_frames(self) -> gf.Frames:
        """Every participant's ``group_view``, encoded, when everyone's changed at once: most
        from parts the room shares (``core/group_frames.py``), the same bytes either way."""
        state = self.groups.get(self.index)
        if state is None or self.status != "running":
            return gf.Frames(([], {}), {}, self.group_view)
        return gf.Frames(self._group_pieces().seated(self.seq, state), state.where,
                         self.group_view)

    def prepare_forming(self) -> gf.Prepared | None:
        """The forming the facilitator's next "form groups" would give, worked out now, and
        every participant's view after it, encoded (``gf.Prepared``); the same one while
        nothing has changed. None off a running groups step, after its end, or with fewer
        than two ready.

        This changes nothing the session shows: it is a memo that the next forming adopts if
        nothing changed in between (``_groups_command``). A node calls it once the room has
        been still for a moment, so that forming 10,000 people costs the command no more
        than one step's fan-out (``Node._prepare``)."""
        state = self.groups.get(self.index)
        if state is None or self.status != "running" or state.phase == "debrief" \
                or len(state.ready) < 2:
            self._prepared = None
            return None
        seq = self.seq + 1
        prepared = self._prepared
        if prepared is not None and prepared.step == self.index and prepared.seq == seq \
                and prepared.plan.changes == state.changes:
            return prepared
        plan = state.plan()
        after = state.after(plan)
        event = self.groups_event(after)
        event.seq = seq
        seated = self._group_pieces().seated(seq, after)
        unready = p.encoder.encode(p.GroupView(seq=seq, step=self.index, status="unready"))
        self._prepared = prepared = gf.Prepared(self.index, seq, plan, event, seated, unready)
        return prepared

    def _group_pieces(self) -> gf.Pieces:
        """The current groups step's encoded parts (``core/group_frames.py``), kept per step."""
        pieces = self._pieces.get(self.index)
        if pieces is None:
            step = self.scenario.steps[self.index]
            assert isinstance(step, s.Groups)
            pieces = self._pieces[self.index] = gf.Pieces(
                [self._role_view(step, role) for role in range(len(step.roles))])
        return pieces

    def _role_view(self, step: s.Groups, role: int) -> p.RoleView:
        """A role with its private prompt, rendered once per step and role: forming 10,000
        people builds 10,000 views of three roles."""
        key = (self.index, role)
        if key not in self._roles:
            self._roles[key] = views.role_view(step.roles[role], self.info.language, private=True)
        return self._roles[key]

    def group_counts(self, role: p.Role) -> p.GroupCounts | None:
        """Counts for the facilitator and the projector; sizes (for breakout rooms) to the host."""
        state = self.groups.get(self.index)
        if state is None or role == "participant" or self.status != "running":
            return None
        ready, grouped, waiting, alone = state.counts()
        counts = p.GroupCounts(seq=self.seq, step=self.index, ready=ready, grouped=grouped,
                               waiting=waiting, alone=alone, groups=len(state.live_groups()))
        if role == "facilitator":
            counts.sizes = [len(group) for group in state.groups]
        counts.ticked = state.checklists.reporters
        if state.phase == "debrief" and counts.ticked >= self.info.min_responses:
            counts.checklist = self.checklist_totals(state)
        return counts

    def checklist_totals(self, state: g.GroupsState) -> list[p.RoleChecklist]:
        """The room's checklist totals for a groups step, in the session's language; shown (and
        exported) only once at least ``min_responses`` people ticked something."""
        if state.checklists.reporters < self.info.min_responses:
            return []
        step = self.scenario.steps[state.step]
        assert isinstance(step, s.Groups)
        language = self.info.language
        return [
            p.RoleChecklist(
                role=s.localize(step.roles[total.role].name, language) or "",
                groups=total.groups,
                items=[p.ChecklistItem(text=s.localize(text, language) or "", groups=noticed)
                       for text, noticed in zip(step.roles[total.role].checklist, total.noticed,
                                                strict=True)],
            )
            for total in state.checklists.totals()
        ]

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

    def step_view(self, index: int, moderator: bool) -> p.AnyStepView:
        key = (index, moderator)
        if key not in self._views:
            view = views.step_view(
                self.scenario.steps[index], index, self.info.language, moderator
            )
            views.link(view, self.scenario, index, self.info.language)
            self._views[key] = view
        return self._views[key]

    def book(self, step: int) -> th.ThemeBook:
        """The themes of a free-text step, or Refused for any other step."""
        book = self.books.get(step)
        if book is None:
            raise Refused("not-answerable", f"Step {step} has no free-text answers to group.")
        return book

    def themes(self, step: int, moderator: bool,
               character: str | None = None) -> p.Themes | None:
        """A free-text step's themes as the facilitator (or the room) may see them; on a step
        that hands characters out, only per character (``core/themes.py``)."""
        if (character is None) != (step not in self.pools):
            return None
        tally = (self.tallies[step] if character is None
                 else self.by_character[step][character]).answers
        book = self.books.get(step)
        if book is None or not isinstance(tally, TextTally):
            return None
        # What the room may not see (hidden, queued, flagged) is what themes treat as hidden.
        unseen = {card for card in tally.cards if not tally.shown(card)}
        return book.view(set(tally.cards), unseen, self.info.min_responses, moderator,
                         character)

    def character_of_card(self, step: int, card: str) -> str | None:
        """The character a free-text card was written as, on a step that hands them out."""
        for character, group in self.by_character.get(step, {}).items():
            if isinstance(group.answers, TextTally) and card in group.answers.cards:
                return character
        return None

    def text_cards(self, step: int) -> dict[str, str]:
        """Card id to text, hidden cards included, of a free-text step."""
        tally = self.tallies[step].answers
        assert isinstance(tally, TextTally)
        return tally.cards

    def card_id(self, participant: str, step: int) -> str:
        return hashlib.blake2s(
            f"{participant}/{step}".encode(), key=self._card_key, digest_size=6
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
            clock=self.clock,
            join_shown=self.join_shown,
        )
        state = self.groups.get(self.index)
        if state is not None and self.status == "running":
            snap.groups = self.groups_event(state)
            snap.groups.seq = self.seq
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
        state = self.groups.get(step)
        if state is not None and state.phase != "debrief" and not moderator:
            return None  # a groups step's debrief count means nothing to the room before it opens
        enough = tallies.answers.count >= self.info.min_responses
        spotlight = None
        cards = tallies.answers
        if step == self.index and self.spotlight is not None and isinstance(cards, TextTally) \
                and cards.shown(self.spotlight):
            spotlight = p.Card(id=self.spotlight, text=cards.cards[self.spotlight])
        if not moderator and not (self.revealed and step == self.index and enough):
            if role != "screen" or step != self.index:
                return None
            return p.Results(seq=self.seq, step=step, count=tallies.answers.count,
                             passes=tallies.passes, spotlight=spotlight)
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
            spotlight=spotlight,
            shift=self.shift(step) if step in self.compares else None,
            characters=self.character_results(step, moderator),
        )

    def shift(self, step: int) -> p.AnyShift:
        """The room's shift from the compared step to ``step``, linked per participant here and
        published only as suppressed counts (``attune.core.shift``); cached until an answer
        changes."""
        cached = self._shifts.get(step)
        if cached is not None and cached[0] == self.changes:
            return cached[1]
        compare = self.compares[step]
        k = self.info.min_responses
        pairs = []
        for participant in self.participants.values():
            then, now = participant.answers.get(compare), participant.answers.get(step)
            if then is not None and now is not None and then.value is not None \
                    and now.value is not None:
                pairs.append((then.value, now.value))
        earlier, later = self.tallies[compare].answers, self.tallies[step].answers
        result: p.AnyShift
        if isinstance(earlier, CheckinTally):
            result = shifts.checkin_shift(
                pairs, k, compare,  # type: ignore[arg-type]
                earlier.view(False) if earlier.count >= k else None,
            )
        else:
            assert isinstance(earlier, ScaleTally) and isinstance(later, ScaleTally)
            result = shifts.scale_shift(
                [(a.value, b.value) for a, b in pairs],  # type: ignore[union-attr]
                k, compare,
                earlier.view(False) if earlier.count >= k else None,
                later.view(False) if later.count >= k else None,
            )
        self._shifts[step] = (self.changes, result)
        return result

    def character_results(self, step: int, moderator: bool) -> list[p.CharacterResult]:
        """Per-character aggregates of a step that hands characters out, side by side."""
        groups = self.by_character.get(step)
        if not groups:
            return []
        counts = [group.answers.count for group in groups.values()]
        shown = shifts.partition(counts, self.info.min_responses)
        names = {c.id: c.name for c in self._characters(step)}
        results = [
            p.CharacterResult(
                id=c, name=names.get(c, c), count=n,
                answers=group.answers.view(moderator) if visible else None,
            )
            for (c, group), n, visible in zip(groups.items(), counts, shown, strict=True)
        ]
        for result in results:
            if isinstance(result.answers, p.TextAggregate):
                result.answers.themes = self.themes(step, moderator, result.id)
        return results

    def _characters(self, step: int) -> list[p.Character]:
        """The story characters a step hands out (none on a step that hands none out)."""
        view = self.step_view(step, False)
        return view.characters if isinstance(view, p.AssigningView) else []

    def assigned(self, participant: str) -> p.Assigned | None:
        """The character a participant answers as on the current step, for them alone."""
        pool = self.pools.get(self.index)
        character = self.assignments.of(pool, participant) if pool else None
        if character is None:
            return None
        view = next(c for c in self._characters(self.index) if c.id == character)
        return p.Assigned(seq=self.seq, step=self.index, character=view)

    def own_shift(self, participant: str) -> p.OwnShift | None:
        """A participant's own shift on the current step, once revealed, for them alone."""
        compare = self.compares.get(self.index)
        own = self.participants.get(participant)
        if compare is None or own is None or not self.revealed:
            return None
        then, now = own.answers.get(compare), own.answers.get(self.index)
        if then is None or now is None or then.value is None or now.value is None:
            return None
        result = shifts.own_shift(self.index, compare, then.value, now.value)
        result.seq = self.seq
        return result

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
                feedback.tied = _ties({q: actual.quadrants[q] for q in QUADRANTS}, feedback.actual)
                most = actual.quadrants[feedback.actual]
                feedback.close = actual.quadrants[feedback.guess] == most
                feedback.share = round(actual.quadrants[feedback.guess] / actual.count, 3)
            case p.ScaleValue(value=value), ScaleTally():
                mean = actual.mean()
                feedback.guess, feedback.actual = f"{value:g}", f"{mean:.2f}"
                feedback.distance = round(abs(value - mean), 2)
                feedback.close = feedback.distance <= (actual.high - actual.low) / 10
            case p.ChoiceValue(options=[option]), ChoiceTally():
                feedback.guess, feedback.actual = option, actual.top()
                feedback.tied = _ties(actual.options, feedback.actual)
                feedback.close = actual.options[option] == actual.options[feedback.actual]
                feedback.share = round(actual.options[option] / actual.count, 3)
            case _:
                return None
        return feedback


def _ties(counts: Mapping[str, int], top: str) -> list[str]:
    """Every key as common as ``top``, ``top`` first, when there are several; else empty."""
    tied = [top] + [key for key, n in counts.items() if n == counts[top] and key != top]
    return tied if len(tied) > 1 else []


def _check_value(step: s.AnswerStep, value: p.AnswerValue, guess: bool) -> None:
    """Raise Refused unless ``value`` fits ``step`` (a guess about the group may be a mean).
    A chain of ``isinstance`` rather than ``match step, value``: every answer comes through here,
    and matching a tuple costs it a tuple and a sequence pattern per case."""

    def bad(why: str) -> Refused:
        return Refused("invalid-answer", why)

    if isinstance(value, p.ScaleValue) and isinstance(step, s.Scale):
        if not step.min <= value.value <= step.max:
            raise bad(f"Expected a number from {step.min} to {step.max}.")
        if not guess and value.value != int(value.value):
            raise bad("Expected a whole number.")
    elif isinstance(value, p.CheckinValue) and isinstance(step, s.Checkin):
        allowed = step.words if step.words is not None else VOCABULARY
        if value.word not in allowed:
            raise bad(f"{value.word!r} is not one of this step's words.")
        if value.intensity is not None and not step.intensity:
            raise bad("This step does not ask for intensity.")
    elif isinstance(value, p.ChoiceValue) and isinstance(step, s.Choice):
        ids = {o.id for o in step.options}
        if not value.options or any(o not in ids for o in value.options):
            raise bad("Expected one or more of this step's option ids.")
        if len(set(value.options)) != len(value.options):
            raise bad("Each option may be chosen once.")
        if len(value.options) > 1 and (guess or not step.multiple):
            raise bad("Expected exactly one option.")
    elif isinstance(value, p.TextValue) and isinstance(step, s.Perspective):
        if not value.text.strip():
            raise bad("The text is empty.")
        if len(value.text) > step.max_length:
            raise bad(f"The text is longer than {step.max_length} characters.")
        if guess:
            raise bad("Free-text steps take no guess.")
    else:
        raise bad(f"A {step.__struct_config__.tag} step needs a {step.__struct_config__.tag} "
                  f"value, not {value.__struct_config__.tag}.")
