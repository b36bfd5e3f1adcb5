"""The wire protocol: every message a client and the server exchange over ``/ws``.

JSON text frames, one message each, tagged by a ``type`` field. Client messages are decoded once at
the edge with the module-level decoder into the ``ClientMessage`` union; nothing past the endpoint
sees a raw dict. ``docs/protocol.md`` describes each message with an example, and
``attune protocol-schema`` prints the JSON Schema generated from these Structs.

Sequencing: every server message carries ``seq``, the session's sequence number. Only the
*events* (``step``, ``responses``, ``reveal``, ``ended``, ``groups``, ``clock``, ``join``)
advance it; state pushes (``results``, ``presence``, ``ack``, ``feedback``, ``group``,
``group_counts``) carry the number they are consistent with. A client that resumes with the
last ``seq`` it saw is sent exactly the events it missed, or a full snapshot.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from attune.core.errors import ErrorCode

Role = Literal["facilitator", "participant", "screen"]
Status = Literal["lobby", "running", "ended"]

_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_Code = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
_Token = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
_OptionId = Annotated[str, msgspec.Meta(max_length=64)]
_Step = Annotated[int, msgspec.Meta(ge=0, le=1000)]


class Message(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, omit_defaults=True):
    """Base of every wire message."""


# --- answer values ---------------------------------------------------------------------------


class Value(msgspec.Struct, tag_field="kind", forbid_unknown_fields=True, omit_defaults=True,
            gc=False):
    """Base of answer values; ``kind`` names the step kind the value answers. Never tracked by
    the cyclic collector (``gc=False``): a value holds strings and numbers only, so it cannot
    be in a cycle, and a room's answers are kept for the whole session."""


class CheckinValue(Value, tag="checkin", kw_only=True):
    word: Annotated[str, msgspec.Meta(max_length=40)]
    intensity: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None


class ScaleValue(Value, tag="scale", kw_only=True):
    value: float


class ChoiceValue(Value, tag="choice", kw_only=True):
    options: Annotated[list[_OptionId], msgspec.Meta(max_length=20)]


class TextValue(Value, tag="perspective", kw_only=True):
    text: Annotated[str, msgspec.Meta(max_length=4000)]


AnswerValue = CheckinValue | ScaleValue | ChoiceValue | TextValue


# --- client to server ------------------------------------------------------------------------


class Resume(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What a reconnecting client remembers: its token and the last event it saw.

    A client that still holds the state (a dropped network) sends ``epoch`` and ``last_seq`` and
    is sent just the events it missed. A client that lost it (a page refresh) sends only its
    token, and gets a snapshot with its own answers back.
    """

    epoch: _Token | None = None
    last_seq: Annotated[int, msgspec.Meta(ge=0)] | None = None
    token: _Token | None = None
    """The participant's resume token (participants only)."""


class Hello(Message, tag="hello", kw_only=True):
    """First message on every connection: who is this and which session."""

    role: Role
    code: _Code | None = None
    """Join code (participant and screen)."""
    session: _Id | None = None
    """Session id (facilitator)."""
    token: _Token | None = None
    """Facilitator token (facilitator)."""
    resume: Resume | None = None


class Answer(Message, tag="answer", kw_only=True, gc=False):
    """A participant's answer (and optional guess about the group) to the current step.

    ``submission`` is made by the client; sending the same one again is acknowledged and not
    counted twice. A later submission to the same step replaces the earlier one while responses
    are open.
    """

    step: _Step
    submission: _Id
    value: AnswerValue
    guess: AnswerValue | None = None


class Pass(Message, tag="pass", kw_only=True, gc=False):
    """The participant chooses not to answer this step; always allowed."""

    step: _Step
    submission: _Id


class Leave(Message, tag="leave", kw_only=True):
    """The participant leaves for good and withdraws every answer they gave in this session."""


class Ready(Message, tag="ready", kw_only=True):
    """On a ``groups`` step: "I'm ready to be put in a group" (or, ``ready`` false, "I stepped
    out"). Only ready participants are grouped; see ``core/groups.py`` for the rules."""

    step: _Step
    ready: bool = True


class Tick(Message, tag="tick", kw_only=True):
    """On a ``groups`` step, in a group: tick (``ticked`` false: untick) item ``item`` of this
    round's role's checklist. An answer like any other: the room sees only totals per item
    (``group_counts.checklist``); see ``core/checklist.py``."""

    step: _Step
    item: Annotated[int, msgspec.Meta(ge=0, le=11)]
    ticked: bool = True


class Ping(Message, tag="ping", kw_only=True):
    """Clock sync: the server answers ``pong`` with its own clock (ms since the epoch)."""

    t: float


class Command(Message, kw_only=True):
    """Base of facilitator commands; ``ref`` is echoed in the error when one is refused."""

    ref: _Id | None = None


class _OnStep(Command, kw_only=True):
    """A command about one step (by index), not necessarily the current one."""

    step: _Step


class _OnCard(_OnStep, kw_only=True):
    """A command about one free-text card of a step."""

    card: _Id


class Start(Command, tag="start", kw_only=True):
    pass


class Next(Command, tag="next", kw_only=True):
    pass


class Back(Command, tag="back", kw_only=True):
    reopen: bool = False
    """Open responses again on the step returned to; without it they stay closed there, so
    going back to look at a step never lets people change their old answers."""


class Goto(_OnStep, tag="goto", kw_only=True):
    reopen: bool = False
    """As for ``back``: a step entered before opens again only when asked."""


class OpenResponses(Command, tag="open", kw_only=True):
    pass


class CloseResponses(Command, tag="close", kw_only=True):
    pass


class Reveal(Command, tag="reveal", kw_only=True):
    pass


class HideResults(Command, tag="hide_results", kw_only=True):
    pass


class HideCard(_OnCard, tag="hide_card", kw_only=True):
    pass


class RestoreCard(_OnCard, tag="restore_card", kw_only=True):
    pass


class End(Command, tag="end", kw_only=True):
    pass


class ApproveCard(_OnCard, tag="approve_card", kw_only=True):
    """Moderation: let a waiting or flagged card reach the room (never a distress card)."""


class ApproveAll(_OnStep, tag="approve_all", kw_only=True):
    """Moderation: approve every card waiting in the queue; flagged cards stay held, to be
    approved one by one."""


class Countdown(Command, tag="countdown", kw_only=True):
    """Start a countdown on the current answer step (no ``seconds``: stop it); at zero responses
    close, and with ``reveal`` the results show."""

    seconds: Annotated[int, msgspec.Meta(ge=5, le=3600)] | None = None
    reveal: bool = False


class ShowJoin(Command, tag="show_join", kw_only=True):
    """Put the join QR code and code over the projector (or take them off), on any step."""

    shown: bool = True


class PauseClock(Command, tag="pause_clock", kw_only=True):
    pass


class ResumeClock(Command, tag="resume_clock", kw_only=True):
    pass


class ExtendClock(Command, tag="extend_clock", kw_only=True):
    seconds: Annotated[int, msgspec.Meta(ge=1, le=600)] = 30


class Spotlight(_OnStep, tag="spotlight", kw_only=True):
    """Show one approved card full-screen on the projector; no ``card`` clears the spotlight."""

    card: _Id | None = None


class GroupsForm(Command, tag="groups_form", kw_only=True):
    """Put every ready participant of the current ``groups`` step in a group (again)."""


class GroupsStart(Command, tag="groups_start", kw_only=True):
    """Start (or resume) the current round's timer."""


class GroupsPause(Command, tag="groups_pause", kw_only=True):
    pass


class GroupsExtend(Command, tag="groups_extend", kw_only=True):
    """Give the current round more time."""

    seconds: Annotated[int, msgspec.Meta(ge=1, le=600)] = 30


class GroupsNext(Command, tag="groups_next", kw_only=True):
    """Next round: people waiting or left alone are placed, roles rotate, the timer starts."""


class GroupsEnd(Command, tag="groups_end", kw_only=True):
    """End the rounds; the debrief question (if any) opens."""


GroupsCommand = GroupsForm | GroupsStart | GroupsPause | GroupsExtend | GroupsNext | GroupsEnd

_ThemeId = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class _OnTheme(_OnStep, kw_only=True):
    """A command about one theme of a free-text step."""

    theme: _ThemeId


class GroupThemes(_OnStep, tag="group_themes", kw_only=True):
    """Group a free-text step's answers into themes now (needs the ``themes`` extra on the
    facilitator's node); the result reaches everyone as part of the step's ``results``."""


class RenameTheme(_OnTheme, tag="rename_theme", kw_only=True):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


class MergeThemes(_OnTheme, tag="merge_themes", kw_only=True):
    """Fold ``theme`` into ``into``; ``into`` keeps its label."""

    into: _ThemeId


class SplitTheme(_OnTheme, tag="split_theme", kw_only=True):
    """Split one theme in two by meaning (needs the ``themes`` extra, like ``group_themes``)."""


class MoveCard(_OnCard, tag="move_card", kw_only=True):
    """Move a card to another theme, or to ``other`` to take it out of every theme."""

    theme: _ThemeId


ThemeCommand = GroupThemes | RenameTheme | MergeThemes | SplitTheme | MoveCard
FacilitatorCommand = (
    Start | Next | Back | Goto | OpenResponses | CloseResponses | Reveal | HideResults | HideCard
    | RestoreCard | End | GroupThemes | RenameTheme | MergeThemes | SplitTheme | MoveCard
    | ApproveCard | ApproveAll | Spotlight | GroupsCommand
    | Countdown | PauseClock | ResumeClock | ExtendClock | ShowJoin
)
ClientMessage = Hello | Answer | Pass | Leave | Ready | Tick | Ping | FacilitatorCommand

# --- step views ------------------------------------------------------------------------------


class Character(msgspec.Struct, omit_defaults=True):
    name: str
    description: str | None = None
    id: str | None = None
    """On steps that hand characters out: the key ``assigned`` and ``characters`` results use."""


class Option(msgspec.Struct):
    id: str
    label: str


class Word(msgspec.Struct, array_like=False):
    id: str
    label: str
    p: int
    e: int


class Pacer(msgspec.Struct):
    inhale: float
    hold_in: float
    exhale: float
    hold_out: float
    cycles: int


class RoleView(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A role of a ``groups`` step. In the step everyone sees, only the name; the prompt and
    checklist go to the facilitator, and privately to whoever holds the role."""

    id: str
    name: str
    prompt: str | None = None
    checklist: list[str] = []
    note: str | None = None
    """A question answered privately on the phone (it is never sent back)."""


class StepView(msgspec.Struct, tag_field="kind", omit_defaults=True, kw_only=True):
    """One step in the session's language, as a client shows it: one struct per step kind,
    tagged by ``kind``, with what that kind needs; facilitator notes only for them."""

    index: int
    title: str | None = None
    notes: str | None = None

    @property
    def kind(self) -> str:
        return str(self.__struct_config__.tag)


class StoryView(StepView, tag="story", kw_only=True):
    text: str | None = None
    image: str | None = None
    characters: list[Character] = []


class CheckinView(StepView, tag="checkin", kw_only=True):
    prompt: str | None = None
    words: list[Word] = []
    intensity: bool = False
    predict: str | None = None
    """The question about the group, when the step asks for a guess too."""
    compare: int | None = None
    """Index of the earlier step this one is compared with; its shift comes with the results."""
    compare_title: str | None = None
    assign: str | None = None
    """``each``: every participant is given one of ``characters`` privately (``assigned``)."""
    characters: list[Character] = []


class ScaleView(StepView, tag="scale", kw_only=True):
    prompt: str | None = None
    min: int
    max: int
    min_label: str | None = None
    max_label: str | None = None
    predict: str | None = None
    compare: int | None = None
    compare_title: str | None = None


class ChoiceView(StepView, tag="choice", kw_only=True):
    prompt: str | None = None
    options: list[Option] = []
    multiple: bool = False
    predict: str | None = None


class PerspectiveView(StepView, tag="perspective", kw_only=True):
    prompt: str | None = None
    character: str | None = None
    max_length: int
    assign: str | None = None
    characters: list[Character] = []


class BreatheView(StepView, tag="breathe", kw_only=True):
    prompt: str | None = None
    pacer: Pacer


class TimerView(StepView, tag="timer", kw_only=True):
    prompt: str | None = None
    seconds: int


class ReflectView(StepView, tag="reflect", kw_only=True):
    prompt: str | None = None


class GroupsView(StepView, tag="groups", kw_only=True):
    prompt: str | None = None
    size: int
    """The group size aimed for."""
    rounds: int
    rotate: bool = False
    seconds: int
    roles: list[RoleView] = []
    debrief: ScaleView | ChoiceView | None = None
    """The question asked once the rounds end, rendered as a step of its kind."""
    remote: str | None = None
    """Facilitator only: how to mirror the groups in video breakout rooms."""


AnyStepView = (
    StoryView | CheckinView | ScaleView | ChoiceView | PerspectiveView | BreatheView | TimerView
    | ReflectView | GroupsView
)
AssigningView = (CheckinView, PerspectiveView)
"""The kinds of step that can hand story characters out (``assign: each``)."""


class Outline(msgspec.Struct, omit_defaults=True):
    """A step as listed in the facilitator's step list."""

    index: int
    kind: str
    title: str
    notes: str | None = None
    """The step's facilitator notes, so the phone remote can show the next step's."""


# --- aggregates ------------------------------------------------------------------------------


class Aggregate(msgspec.Struct, tag_field="kind", omit_defaults=True):
    """Base of aggregates; each is computed from many answers and names no one."""


class CheckinAggregate(Aggregate, tag="checkin", kw_only=True):
    count: int
    words: dict[str, int]
    quadrants: dict[str, int]
    mean_pleasantness: float
    mean_energy: float
    mean_intensity: float | None
    grid: list[list[int]]
    """10 x 10 counts: ``grid[energy row][pleasantness column]``, high energy first, from the
    unpleasant side: row 0 is energy +5, column 0 is pleasantness -5."""


class ScaleAggregate(Aggregate, tag="scale", kw_only=True):
    count: int
    min: int
    max: int
    histogram: list[int]
    """Counts for each whole value from ``min`` to ``max``."""
    mean: float
    median: float
    stdev: float


class ChoiceAggregate(Aggregate, tag="choice", kw_only=True):
    count: int
    options: dict[str, int]


CardHold = Literal["queue", "abuse", "distress"]


class Card(msgspec.Struct, omit_defaults=True):
    id: str
    text: str
    hidden: bool = False
    held: CardHold | None = None
    """Facilitator only: why the room does not see this card yet. ``queue``: waiting for
    approval; ``abuse``: it matched the insult and slur lists; ``distress``: it reads like someone
    in distress, and stays with the facilitator (see docs/protocol.md, "Moderation")."""


class ThemeView(msgspec.Struct, omit_defaults=True):
    id: str
    label: str
    cards: list[str]
    """Card ids, most central (most typical of the theme) first."""
    folded: bool = False
    """Below the minimum-responses threshold: the room sees these cards under "other"
    (facilitator only)."""


class Themes(msgspec.Struct, omit_defaults=True):
    """Answers grouped by meaning; cards are named by id and found in the aggregate's cards."""

    model: str
    themes: list[ThemeView]
    other: list[str] = []
    """Cards in no theme shown: arrived after the grouping, moved out, or from folded themes."""


class TextAggregate(Aggregate, tag="perspective", kw_only=True):
    count: int
    cards: list[Card]
    """In a stable shuffled order, never the order of arrival; hidden cards reach the facilitator
    only, marked ``hidden``."""
    words: list[tuple[str, int]]
    """Most frequent words, stop words removed, for a word cloud."""
    held: int = 0
    """Facilitator only: cards the room does not see yet (queued or flagged, not hidden)."""
    themes: Themes | None = None
    """Once the facilitator grouped the answers (or revealed a step with ``themes: true``)."""


AnyAggregate = CheckinAggregate | ScaleAggregate | ChoiceAggregate | TextAggregate


# --- shifts and per-character results ----------------------------------------------------------


class Shift(msgspec.Struct, tag_field="kind", omit_defaults=True):
    """Base of shifts: how the room moved since the step it compares with, over the people who
    answered both. A count of None is suppressed (see ``attune.core.shift``)."""


class QuadrantFlow(msgspec.Struct):
    before: str
    after: str
    count: int | None
    """People who were in quadrant ``before`` then and are in ``after`` now; None: hidden."""


class CheckinShift(Shift, tag="checkin", kw_only=True):
    compare: int
    """Index of the earlier step."""
    pairs: int
    """People who answered both steps; below the threshold nothing else is given."""
    flows: list[QuadrantFlow] = []
    """Every quadrant to quadrant flow (16), in the order of ``QUADRANTS`` before, then after."""
    stayed: int | None = None
    moved: int | None = None
    """Exact when no flow on the diagonal is hidden; otherwise the ``_at_least`` bounds."""
    stayed_at_least: int | None = None
    moved_at_least: int | None = None
    before: CheckinAggregate | None = None
    """The earlier step's own aggregate, as public as on its own reveal."""


class ScaleShift(Shift, tag="scale", kw_only=True):
    compare: int
    pairs: int
    down: int | None = None
    same: int | None = None
    up: int | None = None
    """People whose answer went down, stayed, went up; None: hidden (or fewer pairs than the
    threshold)."""
    before: ScaleAggregate | None = None
    mean_change: float | None = None
    """The room's mean now minus its mean then (each over everyone who answered it)."""


AnyShift = CheckinShift | ScaleShift


class CharacterResult(msgspec.Struct, omit_defaults=True, kw_only=True):
    """One assigned character's answers; ``answers`` None below the threshold (or when it would
    give away a smaller character's answers by subtraction from the room's)."""

    id: str
    name: str
    count: int
    answers: AnyAggregate | None = None


# --- server to client ------------------------------------------------------------------------


class _Sequenced(Message, kw_only=True):
    """A server message, with the session's ``seq`` it was made at (see the module's docstring)."""

    seq: int


class _OfStep(_Sequenced, kw_only=True):
    """A server message about one step, by index."""

    step: int


class Snapshot(msgspec.Struct, omit_defaults=True, kw_only=True):
    """The whole current state as one role may see it."""

    title: str
    language: str
    status: Status
    step: AnyStepView | None
    step_count: int
    started_at: float | None = None
    """Server clock (ms) when the current step began; pacers and timers count from it."""
    responses_open: bool = False
    revealed: bool = False
    clock: Clock | None = None
    """The current step's countdown, if one runs."""
    join_shown: bool = False
    """The join QR code and code are over the projector."""
    outline: list[Outline] = []
    """Facilitator only."""
    answers: dict[int, AnswerValue] = {}
    """Participant only: their own answers by step index, restored on resume."""
    passed: list[int] = []
    """Participant only: steps they passed."""
    groups: GroupsEvent | None = None
    """The current ``groups`` step's shared state; a participant's own group follows in a
    ``group`` message."""


class Welcome(_Sequenced, tag="welcome", kw_only=True):
    """Reply to ``hello``. ``replay`` true: the missed events follow and no snapshot is sent.
    ``replay`` false: ``snapshot`` is the full state (a new join, or a resume that came too late
    or on another epoch)."""

    epoch: str
    role: Role
    session: str
    code: str
    replay: bool
    snapshot: Snapshot | None = None
    token: str | None = None
    """Participant's resume token: keep it (per tab) to come back as the same participant."""
    min_responses: int = 3
    themes: bool = False
    """Facilitator only: this node can group answers into themes (the ``themes`` extra is
    installed); when false the console says so instead of offering the button."""
    moderator: bool = False
    """Facilitator role joined with the moderator link: moderation and steps, never ``end``."""
    joined: int | None = None
    """Facilitator and screen: participants in the session now, so a view opened at any moment
    shows the headcount at once (``presence`` follows only when it changes)."""
    connected: int | None = None
    """Facilitator and screen: participants connected now, over every node."""


class StepEvent(_Sequenced, tag="step", kw_only=True):
    step: AnyStepView
    started_at: float
    responses_open: bool


class ResponsesEvent(_Sequenced, tag="responses", kw_only=True):
    open: bool


class RevealEvent(_Sequenced, tag="reveal", kw_only=True):
    revealed: bool


class EndedEvent(_Sequenced, tag="ended", kw_only=True):
    pass


class Clock(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A countdown on the current step: running until ``deadline`` (server ms), or paused with
    ``left`` ms to go. ``reveal``: the results show at zero."""

    deadline: float | None = None
    left: float | None = None
    reveal: bool = False


class JoinEvent(_Sequenced, tag="join", kw_only=True):
    """The facilitator put the join QR code and code over the projector, or took them off."""

    shown: bool


class ClockEvent(_Sequenced, tag="clock", kw_only=True):
    """The current step's countdown changed (started, paused, resumed, extended, stopped: no
    ``clock``); a new step has none."""

    clock: Clock | None = None


GroupsPhase = Literal["gathering", "grouped", "debrief"]


class GroupsEvent(_OfStep, tag="groups", kw_only=True):
    """The shared state of the current ``groups`` step: what the projector shows to the room.

    The round timer is on the server clock: while ``started_at`` is set it runs, and the time
    left is ``seconds - elapsed - (now - started_at) / 1000``; paused, it is ``seconds -
    elapsed``. Groups are counted, never listed: group ``n``'s colour and word are a pure
    function of ``n`` (see ``core/groups.py``), so clients draw the grid from ``groups`` alone.
    """

    phase: GroupsPhase
    round: int
    """0-based."""
    rounds: int
    groups: int
    """How many groups have anyone in them."""
    numbers: list[int] = []
    """Their numbers, when some were emptied (otherwise 1 to ``groups``)."""
    seconds: int
    """This round's length, extensions included."""
    started_at: float | None = None
    elapsed: float = 0
    """Seconds the round ran before its last pause."""


Event = StepEvent | ResponsesEvent | RevealEvent | EndedEvent | GroupsEvent | ClockEvent | JoinEvent


class Results(_OfStep, tag="results", kw_only=True):
    """The current step's aggregate. ``count`` always; the aggregates only once at least
    ``min_responses`` answers exist (facilitator), and to others only once revealed."""

    count: int
    passes: int
    answers: AnyAggregate | None = None
    guesses: AnyAggregate | None = None
    spotlight: Card | None = None
    """The approved card the facilitator put on the projector, full-screen; to the screen even
    before the reveal."""
    shift: AnyShift | None = None
    """On a step that compares with an earlier one: the room's shift since then."""
    characters: list[CharacterResult] = []
    """On a step that assigns characters: the answers per character, side by side."""


class Presence(_Sequenced, tag="presence", kw_only=True):
    joined: int
    """Participants who ever joined this session."""
    connected: int
    """Participants connected now."""


GroupStatus = Literal["unready", "ready", "grouped", "waiting", "alone"]


class GroupView(_OfStep, tag="group", kw_only=True):
    """Private to one participant: their own group and role. It names no one: a group is a
    number, a colour and a word, and ``others`` says how many people to look for.

    ``status``: ``unready`` (not yet said "I'm ready"), ``ready`` (waiting for groups to form),
    ``grouped``, ``waiting`` (every group was full: placed at the next round) or ``alone``
    (the others left: joins another group at the next round).
    """

    status: GroupStatus
    round: int = 0
    number: int = 0
    colour: str | None = None
    word: str | None = None
    others: int = 0
    role: RoleView | None = None
    """This round's role with its private prompt."""
    next_role: str | None = None
    """The name of the role held next round, when roles rotate."""
    ticked: list[int] = []
    """The items of this role's checklist this participant ticked, this round."""


class ChecklistItem(msgspec.Struct, kw_only=True):
    text: str
    groups: int
    """Groups in which someone holding the role ticked this item."""


class RoleChecklist(msgspec.Struct, kw_only=True):
    """One role's checklist totalled for the room: "in 9 of 12 groups, the observer noticed"."""

    role: str
    """The role's name."""
    groups: int
    """Groups in which someone held the role (the "of 12")."""
    items: list[ChecklistItem]


class GroupCounts(_OfStep, tag="group_counts", kw_only=True):
    """Facilitator and projector: how many are ready, grouped, waiting or alone; counts only.
    ``sizes`` (facilitator only) lists each group's size by number, for breakout rooms.

    ``ticked`` counts the people who ticked a checklist item; once the groups end (``debrief``)
    and at least ``min_responses`` did, ``checklist`` holds the totals per role and item."""

    ready: int
    grouped: int
    waiting: int
    alone: int
    groups: int
    sizes: list[int] = []
    ticked: int = 0
    checklist: list[RoleChecklist] = []


class Ack(_OfStep, tag="ack", kw_only=True):
    submission: str
    duplicate: bool = False
    help: str | None = None
    """Only to the writer of a card that reads like distress: where help is (the scenario's or
    the operator's text, or a default for the language). Nobody else learns of it."""


class Feedback(_OfStep, tag="feedback", kw_only=True):
    """Private to one participant on reveal: how close their guess about the group was."""

    guess: str
    actual: str
    close: bool
    share: float | None = None
    """Share of the group (0-1) that answered what this participant guessed."""
    distance: float | None = None
    tied: list[str] = []
    """On a tie for the most common answer: every answer tied, ``actual`` first; else empty."""


class Assigned(_OfStep, tag="assigned", kw_only=True):
    """Private to one participant: the character they answer as on this step."""

    character: Character


class OwnShift(_OfStep, tag="own_shift", kw_only=True):
    """Private to one participant on reveal: their own two answers and how they moved."""

    compare: int
    before: AnswerValue
    after: AnswerValue
    moved: bool = False
    before_quadrant: str | None = None
    after_quadrant: str | None = None
    change: float | None = None


class Pong(Message, tag="pong", kw_only=True):
    t: float
    server: float


class Error(_Sequenced, tag="error", kw_only=True):
    code: ErrorCode
    message: str
    ref: str | None = None


ServerMessage = (
    Welcome | Event | Results | Presence | Ack | Feedback | Assigned | OwnShift | GroupView
    | GroupCounts | Pong | Error
)

decoder = msgspec.json.Decoder(ClientMessage)


def decode_client(frame: str | bytes) -> ClientMessage:
    """The one place client bytes become a message; anything else raises ``DecodeError``."""
    try:
        message: ClientMessage = decoder.decode(frame)
    except UnicodeDecodeError as exc:
        raise msgspec.DecodeError(f"invalid UTF-8: {exc.reason}") from None
    return message
server_decoder = msgspec.json.Decoder(ServerMessage)
encoder = msgspec.json.Encoder()
