"""The node: this process's replicas of live sessions and the connections attached to them.

A node turns client messages into log entries (after checking roles and the obvious rules), folds
the entries the backend delivers into each session replica, and fans the outcomes out to its own
sockets. A broadcast is encoded once per audience, framed once, and the same bytes go to every
socket.
Aggregate pushes are coalesced: at most one per session per ``PUSH_INTERVAL``, always the latest.

The node knows its clients as ``Member``s: who each is (role, session, participant), decided here
from its ``hello``, and the ``Peer`` that carries its messages. Of a socket it needs no more than
``Peer`` says; how fast a client may talk and where it comes from are the endpoint's business.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import msgspec

from attune.backends import Backend
from attune.clock import Clock, SystemClock, Timer
from attune.config import Settings
from attune.core import group_frames as gf
from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.aggregate import TextTally
from attune.core.errors import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_REVOKED,
    CLOSE_SESSION_GONE,
    BackendUnavailable,
    Refused,
    SessionGone,
)
from attune.core.moderation import Lexicon
from attune.core.session import (
    GROUP_COUNTS,
    PRESENCE,
    AnyEntry,
    Broadcast,
    Changed,
    Commanded,
    Delegated,
    Expired,
    Grouped,
    Joined,
    Left,
    Outcome,
    Readied,
    Regrouped,
    Reply,
    Session,
    Submitted,
    Themed,
    Ticked,
    digest,
    entry_decoder,
    entry_encoder,
    info_decoder,
)
from attune.metrics import Metrics
from attune.transport.outbox import Outgoing

if TYPE_CHECKING:
    from attune.themes.runner import Grouper

PUSH_INTERVAL = 0.1
ROLES: tuple[p.Role, ...] = ("facilitator", "screen", "participant")
PRESENCE_REFRESH = 5.0
"""Seconds between recounts of participants connected over all nodes."""
DETACH_AFTER = 30.0
"""Seconds a session replica outlives its last connection, so a refresh finds it warm."""
PREPARE_AFTER = 0.1
"""Seconds a groups step's ready set must stay still, at least, before the next forming is
worked out ahead (``Node._prepare``), so that people still tapping "I'm ready" are not prepared
for one by one."""
PREPARE_SHARE = 0.2
"""The most of the node's CPU that working formings out ahead may take while ready sets keep
changing: a room's set must be still for four times its last preparation's time (with 10,000
ready, a preparation takes about 50 ms, so 0.2 s of stillness), and after any preparation the
node waits four times its time before the next."""


def _rest_after(cost: float) -> float:
    """Seconds without preparing after a preparation of ``cost`` seconds, so that preparing
    takes at most ``PREPARE_SHARE`` of the time."""
    return cost * (1 / PREPARE_SHARE - 1)


log = logging.getLogger("attune.node")
_ids = itertools.count(1)

Handled = Callable[[BaseException | None], None]
"""Told that a client's message that had to wait is done: None, or what refused or failed it."""


class Peer(Protocol):
    """What the node needs from a client's socket (``attune.transport.connection.Connection``).

    A broadcast is one ``Outgoing`` handed to every peer: a peer whose socket takes data writes
    the shared frame at once, so fan-out costs one write per socket and nothing more.
    """

    def send(self, message: Outgoing) -> None:
        """A message that must arrive, in order (events, replies); a client too far behind to
        take it is dropped."""

    def push(self, kind: str, message: Outgoing) -> None:
        """The latest state of ``kind`` (results, presence ...); an older one not yet written
        is replaced."""

    def close(self, code: int) -> None:
        """Close with ``code`` once what is queued is written."""


class Member:
    """A connection attached to a session: who it is, as its ``hello`` proved."""

    __slots__ = ("id", "moderator", "origin", "participant", "peer", "role", "session")

    def __init__(self, peer: Peer, role: p.Role, session: str, moderator: bool = False,
                 prefix: str = "") -> None:
        self.peer = peer
        self.id = str(next(_ids))
        """This node's name for it: log entries it causes carry ``node id/member id`` as their
        origin, so the reply comes back here."""
        self.origin = prefix + self.id
        """That origin, ``prefix`` being the node's ``node id/`` (made once, not per message)."""
        self.role = role
        self.session = session
        self.participant: str | None = None
        """The participant id (participants only)."""
        self.moderator = moderator
        """A facilitator who joined with the moderator link: no ``end``."""


class Replica:
    """One session as folded on this node, and this node's connections to it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.offset = 0
        self.members: dict[str, Member] = {}
        self.phones: dict[str, list[Member]] = {}
        """Participant id to their open connections on this node (several tabs, one entry), so
        a private push to a few participants (their group view after "I'm ready" or a tick)
        does not walk every socket."""
        self.dirty: set[int] = set()
        self.flush: asyncio.TimerHandle | None = None
        self.last_flush = 0.0
        self.waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.catching_up = False
        self.heard = 0
        """The highest offset delivered out of turn; a catch-up reads at least this far."""
        self.detach: asyncio.TimerHandle | None = None
        self.presence: tuple[int, int] | None = None
        """The last presence pushed, so an unchanged count is not pushed again."""
        self.hosts = 0
        """Facilitator connections on this node: answers are embedded for themes where one is."""
        self.countdown: tuple[Timer, float] | None = None
        """The timer for the running countdown's deadline, and that deadline."""
        self.sharing = False
        self.share_again = False
        """One presence share runs at a time per replica, so an older count never lands after a
        newer one; a change seen meanwhile asks for one more round."""
        self.preparing: asyncio.TimerHandle | None = None
        """The timer for working out the next forming ahead (``Node._prepare``)."""
        self.prepare_at = 0.0
        """Loop time from which the groups have been still long enough to prepare."""
        self.prepare_cost = 0.0
        """Seconds the last preparation took, which sets how long the groups must be still."""
        self.prepared: Ahead | None = None
        """The next forming worked out ahead, and what each socket here will get from it."""
        self.version = 0
        """Bumped whenever a member attaches or detaches, so a list of them made earlier
        knows whether it still holds."""

    @property
    def connected(self) -> int:
        """Participants with an open connection on this node (several tabs count once)."""
        return len(self.phones)


class Ahead(NamedTuple):
    """A forming worked out ahead on one replica (``Node._prepare``): each socket's frame,
    the groups event and that participant's own view joined, ready to write."""

    prepared: gf.Prepared
    version: int
    departures: int
    """``Replica.version`` and ``Session.departures`` when ``writes`` was made: while both
    hold, it is every member of the replica, each still in the session."""
    writes: list[tuple[Peer, Outgoing]]
    """Every member's peer and its frame, the facilitator's and screens' the event alone."""
    frames: dict[str, Outgoing]
    """Participant to their frame, kept when a member comes or goes (``Node._join``)."""
    others: Outgoing
    """The groups event the forming will broadcast, alone: as the facilitator, the screens
    and anyone no longer in the session get it."""


class Node:
    def __init__(self, backend: Backend, settings: Settings, metrics: Metrics,
                 grouper: Grouper | None = None, clock: Clock | None = None) -> None:
        self.backend = backend
        self.prefix = backend.node_id + "/"
        """What every entry this node appends starts its ``origin`` with."""
        self.clock: Clock = clock or SystemClock()
        """Session time: every entry's ``at`` and the countdowns' ends (tests move it)."""
        self.settings = settings
        self.metrics = metrics
        self.grouper = grouper
        """Groups free-text answers into themes; None without the ``themes`` extra."""
        self.replicas: dict[str, Replica] = {}
        self.prepare_free_at = 0.0
        """Loop time before which no replica works a forming out ahead: the node's share of
        preparations stays within ``PREPARE_SHARE`` however many rooms gather at once."""
        self.lexicon = Lexicon.builtin(settings.lexicon)
        self._loading: dict[str, asyncio.Future[Replica | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._appending: dict[bytes, AnyEntry] = {}
        """Answers this node is appending, by their bytes: one delivered back before its append
        returns (always, with the memory backend) is folded without decoding it again. Only
        answers: their fields came off the wire and survive the round trip exactly, so every
        node folds the same values."""
        self._presence_task: asyncio.Task[None] | None = None
        self._sender: Member | None = None
        """The member whose answer is being appended: its reply, folded before the append
        returns, goes to it without finding it among the session's members (a lookup that
        reads the member's id, a line of memory per answer)."""

    async def start(self) -> None:
        await self.backend.start(self.deliver, self.gone)
        self._presence_task = asyncio.get_running_loop().create_task(self._refresh_presence())

    async def stop(self) -> None:
        if self._presence_task is not None:
            self._presence_task.cancel()
        for replica in self.replicas.values():
            for member in list(replica.members.values()):
                member.peer.close(CLOSE_GOING_AWAY)
        await self.backend.close()
        if self.grouper is not None:
            self.grouper.close()

    # --- replicas --------------------------------------------------------------------------

    async def replica(self, session_id: str) -> Replica | None:
        """The warm replica of a session, loading and catching it up from the log if needed."""
        replica = self.replicas.get(session_id)
        if replica is not None:
            return replica
        loading = self._loading.get(session_id)
        if loading is None:
            loading = asyncio.get_running_loop().create_future()
            self._loading[session_id] = loading
            try:
                loading.set_result(await self._load(session_id))
            except BaseException as exc:
                loading.set_exception(exc)
                raise
            finally:
                del self._loading[session_id]
        return await asyncio.shield(loading)

    async def _load(self, session_id: str) -> Replica | None:
        raw = await self.backend.info(session_id)
        if raw is None:
            return None
        replica = Replica(Session(info_decoder.decode(raw)))
        self.replicas[session_id] = replica
        self.metrics.sessions.set(len(self.replicas))
        await self.backend.subscribe(session_id)
        await self._catch_up(session_id, replica)
        return replica

    async def _catch_up(self, session_id: str, replica: Replica) -> None:
        """Read and fold the log up to the newest entry heard of. Entries delivered while a
        read is under way are dropped by ``deliver``, so read again until none is missing."""
        replica.catching_up = True
        try:
            while True:
                entries = await self.backend.read(session_id, replica.offset)
                for offset, entry in entries:
                    self._fold(session_id, replica, offset, entry)
                if not entries or replica.heard <= replica.offset:
                    return
        finally:
            replica.catching_up = False

    def deliver(self, session_id: str, offset: int, entry: bytes) -> None:
        """Backend callback: a new entry in a subscribed session's log."""
        replica = self.replicas.get(session_id)
        if replica is None or offset <= replica.offset:
            return
        if offset > replica.offset + 1:
            replica.heard = max(replica.heard, offset)
            if not replica.catching_up:
                self._spawn(self._catch_up(session_id, replica))
            return
        self._fold(session_id, replica, offset, entry)

    def _fold(self, session_id: str, replica: Replica, offset: int, raw: bytes) -> None:
        if offset != replica.offset + 1:
            return
        replica.offset = offset
        entry = self._appending.pop(raw, None) or entry_decoder.decode(raw)
        if isinstance(entry, Commanded) and entry.origin.startswith(self.prefix):
            self.metrics.command_latency.observe(max(0.0, self.clock.now_ms() - entry.at) / 1000)
        outcomes = replica.session.apply(entry)
        self._dispatch(session_id, replica, outcomes)
        if replica.waiters:
            self._release(replica, offset)
        if isinstance(entry, Submitted):
            # The hot path: an answer moves no clock, ends nothing, delegates nothing, and only
            # a free-text one is embedded for themes.
            if self.grouper is not None and isinstance(entry.message, p.Answer) \
                    and isinstance(entry.message.value, p.TextValue):
                self._themes_after(replica, entry)
            return
        if self.grouper is not None:
            self._themes_after(replica, entry)
        if isinstance(entry, Commanded) and isinstance(entry.command, p.End) \
                and replica.session.status == "ended" and entry.origin.startswith(self.prefix):
            self._spawn(self.backend.end(session_id))
        self._time(session_id, replica)
        if isinstance(entry, Delegated):
            # The old moderator link no longer opens anything, on every node.
            for member in list(replica.members.values()):
                if member.moderator:
                    member.peer.close(CLOSE_REVOKED)

    @staticmethod
    def _release(replica: Replica, offset: int) -> None:
        """Wake whoever waits for an entry up to ``offset`` to be folded here."""
        ready = [f for o, f in replica.waiters if o <= offset]
        replica.waiters = [(o, f) for o, f in replica.waiters if o > offset]
        for future in ready:
            if not future.done():
                future.set_result(None)

    def _time(self, session_id: str, replica: Replica) -> None:
        """Keep a timer for the running countdown's deadline. Every node holding the session
        keeps one, so the end comes even if a node dies; the session applies one ``Expired``
        per countdown and ignores the rest."""
        deadline = replica.session.due()
        if replica.countdown is not None and replica.countdown[1] == deadline:
            return
        if replica.countdown is not None:
            replica.countdown[0].cancel()
            replica.countdown = None
        if deadline is None:
            return
        step = replica.session.index

        def expire() -> None:
            replica.countdown = None
            self._spawn(self._append_quietly(session_id, Expired(
                at=self.clock.now_ms(), step=step, deadline=deadline)))

        delay = max(0.0, (deadline - self.clock.now_ms()) / 1000)
        replica.countdown = (self.clock.call_later(delay, expire), deadline)

    async def _append_quietly(self, session_id: str, entry: AnyEntry) -> None:
        """Append an entry nobody waits for (a countdown's end); a session deleted meanwhile
        has nothing left to end."""
        try:
            await self.append(session_id, entry)
        except Refused:
            return

    async def _folded(self, replica: Replica, offset: int) -> None:
        """Wait until the entry at ``offset`` has been folded here."""
        if replica.offset >= offset:
            return
        future = asyncio.get_running_loop().create_future()
        replica.waiters.append((offset, future))
        await asyncio.wait_for(future, timeout=10)

    def _themes_after(
        self, replica: Replica, entry: AnyEntry,
    ) -> None:
        """Embed a free-text answer as it arrives, where a facilitator may ask for themes; and
        group on reveal of a step that wants themes, on the node the reveal came from."""
        assert self.grouper is not None
        session = replica.session
        if isinstance(entry, Submitted):
            message = entry.message
            if replica.hosts and isinstance(message, p.Answer) \
                    and isinstance(message.value, p.TextValue):
                self.grouper.note(message.value.text)
        elif isinstance(entry, Commanded) and isinstance(entry.command, p.Reveal) \
                and entry.origin.startswith(self.prefix) and session.revealed:
            step = session.scenario.steps[session.index]
            if isinstance(step, sc.Perspective) and step.themes and session.books[
                session.index
            ].needs_grouping(set(session.text_cards(session.index))):
                self._spawn(self._group_on_reveal(replica, session.index, entry.origin))

    async def _group_on_reveal(self, replica: Replica, step: int, origin: str) -> None:
        try:
            await self._group(replica, step, origin)
        except Refused as refused:
            self._tell(replica, origin, replica.session.error(refused))

    async def _group(self, replica: Replica, step: int, origin: str) -> None:
        assert self.grouper is not None
        session = replica.session
        change = await self.grouper.group(self._groupable(session, step),
                                          session.info.min_responses, session.info.language)
        await self.append(session.info.id, Themed(at=self.clock.now_ms(), origin=origin, step=step,
                                                   change=change))

    async def _split(self, replica: Replica, command: p.SplitTheme, origin: str) -> None:
        assert self.grouper is not None
        session = replica.session
        cards = self._visible(session, command.step)
        members = {c: cards[c] for c in session.book(command.step).cards_of(command.theme)
                   if c in cards}
        if len(members) < 2:
            raise Refused("no-such-theme", "A theme needs two cards or more to split.")
        change = await self.grouper.split(command.theme, members, session.info.language)
        await self.append(session.info.id, Themed(at=self.clock.now_ms(), origin=origin,
                                                   step=command.step, change=change))

    @staticmethod
    def _visible(session: Session, step: int, character: str | None = None) -> dict[str, str]:
        """The cards a grouping considers (of one character, when given): only those the room
        may see (hidden, queued and flagged cards stay out of themes and labels)."""
        tally = (session.tallies[step] if character is None
                 else session.by_character[step][character]).answers
        assert isinstance(tally, TextTally)
        return {c: t for c, t in tally.cards.items() if tally.shown(c)}

    @classmethod
    def _groupable(cls, session: Session, step: int) -> dict[str | None, dict[str, str]]:
        """What a grouping groups: the step's cards, or each character's apart on a step that
        hands characters out (``core/themes.py``)."""
        characters = session.by_character.get(step)
        if not characters:
            return {None: cls._visible(session, step)}
        return {c: cls._visible(session, step, c) for c in characters}

    def _member(self, replica: Replica, origin: str) -> Member | None:
        """The member an entry came from, if it is attached to this node."""
        if origin.startswith(self.prefix):
            return replica.members.get(origin[len(self.prefix):])
        return None

    def _tell(self, replica: Replica, origin: str, message: p.Error) -> None:
        member = self._member(replica, origin)
        if member is not None:
            member.peer.send(Outgoing(message))

    # --- fan-out ---------------------------------------------------------------------------

    def _dispatch(self, session_id: str, replica: Replica, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            # An answer's two outcomes first, by type: every answer comes through here, and a
            # class pattern costs an isinstance and a getattr per field.
            if type(outcome) is Reply:
                origin, message = outcome.origin, outcome.message
                member = self._sender
                if member is None or origin is not member.origin:
                    member = replica.members.get(origin[len(self.prefix):]) \
                        if origin.startswith(self.prefix) else None
                if member is not None:
                    if isinstance(message, p.Error):
                        self.metrics.series(self.metrics.errors, message.code).inc()
                    member.peer.send(Outgoing(message))
                continue
            if type(outcome) is Changed:
                replica.dirty.add(outcome.step)
                if replica.flush is None:  # else a push is due already
                    self._mark(replica, outcome.step)
                if outcome.step == GROUP_COUNTS:  # who is ready or where changed
                    self._prepare_later(replica)
                continue
            match outcome:
                case Broadcast():
                    self._broadcast(replica, outcome)
                case Grouped(participants=participants):
                    self._send_groups(replica, participants)
                case Regrouped(event=event, prepared=prepared):
                    self._broadcast_grouped(replica, event, prepared)

    def _send_groups(self, replica: Replica, participants: frozenset[str]) -> None:
        """Each participant's own group view, to their own sockets only (it is private)."""
        for who in participants:
            phones = replica.phones.get(who)
            if phones:
                view = replica.session.group_view(who)
                if view is not None:
                    frame = Outgoing(view)
                    for member in phones:
                        member.peer.push("group", frame)

    def _broadcast_grouped(self, replica: Replica, broadcast: Broadcast,
                           prepared: gf.Prepared | None = None) -> None:
        """A ``groups`` event followed by every phone's own group view (forming, a new round,
        entering a groups step): each phone gets both in one write (``Outgoing.then``), as a
        step's fan-out is one write, not two.

        A forming worked out ahead (``prepared``, see ``_prepare``) writes each phone the frame
        joined then, so it costs what a step's fan-out does. Otherwise the views come encoded
        from parts the room shares (``Session.group_frames``) in two halves, a lead per group
        and an end per role, joined once per phone."""
        moderator = Outgoing(broadcast.facilitator)
        others = Outgoing(broadcast.others)
        ahead = replica.prepared
        replica.prepared = None
        # The frames ahead give the facilitator the event everyone gets: true of every groups
        # event, which has no facilitator's version (``Session._broadcast``).
        if prepared is not None and ahead is not None and ahead.prepared is prepared \
                and ahead.others.frame == others.frame \
                and broadcast.facilitator is broadcast.others:
            self.metrics.series(self.metrics.group_fanouts, "ahead").inc()
            if ahead.version != replica.version \
                    or ahead.departures != replica.session.departures:
                ahead = self._join(replica, prepared, ahead)  # who is here changed since
            for peer, frame in ahead.writes:  # as a step's fan-out: one write each
                peer.send(frame)
            return
        self.metrics.series(self.metrics.group_fanouts, "then").inc()
        frames = replica.session.group_frames()
        leads, ends, where = frames.leads, frames.ends, frames.where
        then = Outgoing.then
        for member in replica.members.values():
            who = member.participant or ""
            end = ends.get(who)
            if end is not None:
                member.peer.send(then(others, leads[where[who]], end))
                continue
            view = frames.of(who) if who else None
            if view is None:
                member.peer.send(moderator if member.role == "facilitator" else others)
            else:
                member.peer.send(then(others, view))

    def _prepare_later(self, replica: Replica) -> None:
        """The groups changed: work out the next forming once they have been still for
        ``PREPARE_AFTER`` seconds, or longer when a preparation costs more than
        ``PREPARE_SHARE`` of that (one timer per replica, moved on by each change)."""
        loop = asyncio.get_running_loop()
        still = max(PREPARE_AFTER, _rest_after(replica.prepare_cost))
        replica.prepare_at = loop.time() + still
        if replica.preparing is None:
            replica.preparing = loop.call_later(still, self._prepare, replica)

    def _prepare(self, replica: Replica) -> None:
        """Work out the next forming ahead (``Session.prepare_forming``) and join each phone's
        frame from it, so the facilitator's "form groups" costs no more than a step. The fold
        adopts it only if nothing changed in between; the frames are written only if the
        event the command broadcasts is the one they begin with."""
        loop = asyncio.get_running_loop()
        replica.preparing = None
        wait = max(replica.prepare_at, self.prepare_free_at) - loop.time()
        if wait > 0:
            replica.preparing = loop.call_later(wait, self._prepare, replica)
            return
        if self.replicas.get(replica.session.info.id) is not replica or not replica.phones:
            return  # dropped meanwhile, or nobody here to write to
        started = time.perf_counter()
        if self._work_out(replica):
            replica.prepare_cost = cost = time.perf_counter() - started
            # However many rooms prepare, all of it stays within PREPARE_SHARE of this node.
            self.prepare_free_at = loop.time() + _rest_after(cost)

    def _work_out(self, replica: Replica) -> bool:
        """``_prepare``'s work: False if there was none (nothing to form, or done already)."""
        session = replica.session
        prepared = session.prepare_forming()
        if prepared is None:
            replica.prepared = None
            return False
        ahead = replica.prepared
        if ahead is not None and ahead.prepared is prepared and ahead.version == replica.version \
                and ahead.departures == session.departures:
            return False
        replica.prepared = self._join(replica, prepared, ahead)
        return True

    @staticmethod
    def _join(replica: Replica, prepared: gf.Prepared, ahead: Ahead | None) -> Ahead:
        """Every member's frame from a forming worked out ahead: the event and their own view,
        joined; the event alone for the facilitator, the screens and anyone no longer in the
        session. Frames ``ahead`` made for the same forming are kept (only who is connected
        changed since: phones reconnect all the time), and the newcomers' joined."""
        session = replica.session
        if ahead is not None and ahead.prepared is prepared:
            frames, others = ahead.frames, ahead.others
        else:
            frames, others = {}, Outgoing(prepared.event)
        then = Outgoing.then
        participants = session.participants
        unready: Outgoing | None = None
        writes: list[tuple[Peer, Outgoing]] = []
        for member in replica.members.values():
            who = member.participant
            if who is None or who not in participants:
                writes.append((member.peer, others))
                continue
            frame = frames.get(who)
            if frame is None:
                lead, end = prepared.parts(who)
                if end:
                    frame = then(others, lead, end)
                else:
                    if unready is None:
                        unready = then(others, lead)
                    frame = unready
                frames[who] = frame
            writes.append((member.peer, frame))
        return Ahead(prepared, replica.version, session.departures, writes, frames, others)

    def _broadcast(self, replica: Replica, broadcast: Broadcast) -> None:
        moderator = Outgoing(broadcast.facilitator)
        others = Outgoing(broadcast.others)
        for member in replica.members.values():
            # The hot loop of fan-out: a ready peer writes the shared bytes at once.
            member.peer.send(moderator if member.role == "facilitator" else others)
        event = broadcast.others
        if isinstance(event, p.StepEvent):
            replica.prepared = None  # a forming worked out for the step left is no use
            self._mark(replica, event.step.index)
            if isinstance(event.step, p.AssigningView) and event.step.assign:
                for member in replica.members.values():
                    self._send_assigned(replica, member)
        elif isinstance(event, p.RevealEvent):
            self._mark(replica, replica.session.index)
            if event.revealed:
                for member in replica.members.values():
                    self._send_feedback(replica, member)

    def _send_feedback(self, replica: Replica, member: Member) -> None:
        """What a reveal tells one participant alone: how close their guess was, and their own
        shift since the step this one compares with."""
        if member.participant is not None:
            feedback = replica.session.feedback(member.participant)
            if feedback is not None:
                member.peer.send(Outgoing(feedback))
            own = replica.session.own_shift(member.participant)
            if own is not None:
                member.peer.send(Outgoing(own))

    def _send_assigned(self, replica: Replica, member: Member) -> None:
        if member.participant is not None:
            assigned = replica.session.assigned(member.participant)
            if assigned is not None:
                member.peer.send(Outgoing(assigned))

    def _mark(self, replica: Replica, step: int) -> None:
        replica.dirty.add(step)
        if replica.flush is None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, replica.last_flush + PUSH_INTERVAL - loop.time())
            replica.flush = loop.call_later(delay, self._flush, replica)

    def _flush(self, replica: Replica) -> None:
        replica.flush = None
        replica.last_flush = asyncio.get_running_loop().time()
        dirty, replica.dirty = replica.dirty, set()
        session = replica.session
        for step in sorted(dirty):
            if step == PRESENCE:
                self._push_presence(replica)
                continue
            if step == GROUP_COUNTS:
                self._push_group_counts(replica)
                continue
            frames = {}
            for role in ROLES:
                results = session.results(role, step)
                frames[role] = Outgoing(results) if results is not None else None
            for member in replica.members.values():
                frame = frames[member.role]
                if frame is not None:
                    member.peer.push("results", frame)

    def _push_group_counts(self, replica: Replica) -> None:
        frames: dict[p.Role, Outgoing | None] = {}
        for role in ("facilitator", "screen"):
            counts = replica.session.group_counts(role)
            frames[role] = Outgoing(counts) if counts is not None else None
        for member in replica.members.values():
            frame = frames.get(member.role)
            if frame is not None:
                member.peer.push("group_counts", frame)

    def _push_presence(self, replica: Replica) -> None:
        self._spawn(self._share_presence(replica))

    async def _share_presence(self, replica: Replica) -> None:
        """Publish this node's connected count, then push the count over all nodes."""
        if replica.sharing:
            replica.share_again = True
            return
        replica.sharing = True
        try:
            while True:
                replica.share_again = False
                counts = await self._counts(replica)
                if counts != replica.presence:
                    replica.presence = counts
                    presence = p.Presence(seq=replica.session.seq, joined=counts[0],
                                          connected=counts[1])
                    frame = Outgoing(presence)
                    for member in replica.members.values():
                        if member.role != "participant":
                            member.peer.push("presence", frame)
                if not replica.share_again:
                    return
        finally:
            replica.sharing = False

    async def _counts(self, replica: Replica) -> tuple[int, int]:
        """(joined, connected over all nodes), after publishing this node's connected count."""
        session_id = replica.session.info.id
        await self.backend.set_presence(session_id, replica.connected)
        return len(replica.session.participants), await self.backend.presence(session_id)

    async def _refresh_presence(self) -> None:
        """Other nodes' participants come and go unseen here: recount every few seconds."""
        while True:
            await asyncio.sleep(PRESENCE_REFRESH)
            for replica in list(self.replicas.values()):
                if replica.members:
                    self._push_presence(replica)

    # --- client messages -------------------------------------------------------------------

    async def hello(self, peer: Peer, hello: p.Hello) -> Member:
        """Attach a connection to its session as the member its ``hello`` proves it is, or
        raise Refused."""
        replica, moderator = await self._authenticate(hello)
        member = Member(peer, hello.role, replica.session.info.id, moderator, self.prefix)
        token = await self._identify(replica, member, hello.resume)
        await self._welcome(replica, member, hello.resume, token)
        return member

    async def _authenticate(self, hello: p.Hello) -> tuple[Replica, bool]:
        """The session a hello may open, and whether it opens it with the moderator link: a
        facilitator proves the session's token (or the moderator's); others need the join code
        of a session that has not ended."""
        if hello.role == "facilitator":
            replica = await self.replica(hello.session) if hello.session else None
            if replica is None:
                raise Refused("unknown-session", "No session with this id.")
            proof = digest(hello.token or "")
            moderator = bool(replica.session.moderator_hash) and hmac.compare_digest(
                proof, replica.session.moderator_hash
            )
            if not hello.token or not (moderator or hmac.compare_digest(
                proof, replica.session.info.token_hash
            )):
                raise Refused("bad-token", "This facilitator token does not match the session.")
            return replica, moderator
        session_id = await self.backend.lookup((hello.code or "").strip().upper())
        replica = await self.replica(session_id) if session_id else None
        if replica is None or replica.session.status == "ended":
            raise Refused("unknown-session", "No open session has this code.")
        return replica, False

    async def _identify(self, replica: Replica, member: Member,
                        resume: p.Resume | None) -> str | None:
        """Which participant this is: the one its resume token proves, or a new one (joined to
        the log, and told when a resume failed). Returns a new participant's resume token."""
        if member.role != "participant":
            return None
        session = replica.session
        # Interned, as ``Session`` interns the ids it keys participants by (see there).
        returning = self._returning(session, resume)
        if returning is not None:
            member.participant = sys.intern(returning)
            return None
        member.participant = sys.intern(secrets.token_hex(12))
        token = f"{member.participant}.{secrets.token_urlsafe(16)}"
        secret = token.partition(".")[2]
        offset = await self.append(session.info.id, Joined(
            at=self.clock.now_ms(), participant=member.participant, token_hash=digest(secret)
        ))
        await self._folded(replica, offset)
        if resume is not None and resume.token:
            member.peer.send(Outgoing(session.error(Refused(
                "bad-resume", "Could not resume; joined as a new participant."
            ))))
        return token

    async def _welcome(self, replica: Replica, member: Member, resume: p.Resume | None,
                       token: str | None) -> None:
        """Send the welcome (a snapshot, or the events missed since ``resume``), then what this
        member alone is owed, and attach it so that pushes reach it from now on."""
        session = replica.session
        role = member.role
        counts: tuple[int | None, int | None] = (None, None)
        if role != "participant":
            # The headcount a new view starts from; pushes only follow changes.
            counts = await self._counts(replica)
        missed = None
        if resume is not None and resume.last_seq is not None \
                and resume.epoch == session.info.epoch \
                and (role != "participant" or token is None):
            missed = session.missed(
                resume.last_seq, self.clock.now_ms(), self.settings.resume_window_s * 1000
            )
        peer = member.peer
        peer.send(Outgoing(p.Welcome(
            seq=session.seq,
            epoch=session.info.epoch,
            role=role,
            session=member.session,
            code=session.info.code,
            replay=missed is not None,
            snapshot=None if missed is not None else session.snapshot(role, member.participant),
            token=token,
            min_responses=session.info.min_responses,
            moderator=member.moderator,
            themes=role == "facilitator" and self.grouper is not None,
            joined=counts[0],
            connected=counts[1],
        )))
        for broadcast in missed or []:
            peer.send(Outgoing(broadcast.facilitator if role == "facilitator"
                               else broadcast.others))
        self._send_assigned(replica, member)
        results = session.results(role)
        if results is not None:
            peer.push("results", Outgoing(results))
        self._send_feedback(replica, member)
        if member.participant is not None:
            view = session.group_view(member.participant)
            if view is not None:
                peer.push("group", Outgoing(view))
        else:
            grouped = session.group_counts(role)
            if grouped is not None:
                peer.push("group_counts", Outgoing(grouped))
        self._attach(replica, member)
        if role != "participant" and replica.presence not in (None, counts):
            # A share that finished while this one was counting was not sent here.
            joined, connected = replica.presence
            peer.push("presence", Outgoing(p.Presence(seq=session.seq, joined=joined,
                                                      connected=connected)))

    @staticmethod
    def _returning(session: Session, resume: p.Resume | None) -> str | None:
        """The participant id a resume token proves, if it proves one."""
        if resume is None or not resume.token:
            return None
        participant, _, secret = resume.token.partition(".")
        known = session.participants.get(participant)
        if known is None or not hmac.compare_digest(digest(secret), known.token_hash):
            return None
        return participant

    def _attach(self, replica: Replica, member: Member) -> None:
        if replica.detach is not None:
            replica.detach.cancel()
            replica.detach = None
        replica.members[member.id] = member
        replica.version += 1
        self.metrics.series(self.metrics.connections, member.role).inc()
        if member.participant is not None:
            replica.phones.setdefault(member.participant, []).append(member)
        if member.role == "facilitator":
            replica.hosts += 1
        self._mark(replica, PRESENCE)

    def detach(self, member: Member) -> None:
        """Its socket closed: forget the member; drop the replica once nobody has used it for a
        while."""
        replica = self.replicas.get(member.session)
        if replica is None or replica.members.pop(member.id, None) is None:
            return
        replica.version += 1
        self.metrics.series(self.metrics.connections, member.role).dec()
        if member.role == "facilitator":
            replica.hosts -= 1
        if member.participant is not None:
            phones = replica.phones.get(member.participant, [])
            if member in phones:
                phones.remove(member)
            if not phones:
                replica.phones.pop(member.participant, None)
        self._mark(replica, PRESENCE)
        if not replica.members:
            replica.detach = asyncio.get_running_loop().call_later(
                DETACH_AFTER, self._drop, member.session
            )

    def _drop(self, session_id: str) -> None:
        replica = self.replicas.get(session_id)
        if replica is not None and not replica.members:
            if replica.preparing is not None:
                replica.preparing.cancel()
            del self.replicas[session_id]
            self.metrics.sessions.set(len(self.replicas))
            self._spawn(self.backend.unsubscribe(session_id))

    def error(self, member: Member | None, error: Refused, ref: str | None = None) -> p.Error:
        """The ``error`` message refusing what ``member`` (None: not joined yet) sent, with the
        ``seq`` of its session."""
        replica = self.replicas.get(member.session) if member is not None else None
        if replica is not None:
            return replica.session.error(error, ref)
        return p.Error(seq=0, code=error.code, message=error.message, ref=ref)

    def message(self, member: Member, message: p.ClientMessage, then: Handled) -> bool:
        """Carry out one message from an attached member, or raise Refused.

        True when it is done. False when it goes on (an append waits for its batch to be
        durable; themes are being grouped): ``then`` is told once it is, later and exactly once,
        with what refused or failed it (None: done). An answer's append is handed to the backend
        from here, with no coroutine: with the memory backend it is logged, folded and
        acknowledged before this returns, and with SQLite or Redis it waits as a callback."""
        replica = self.replicas.get(member.session)
        if replica is None:
            raise Refused("not-joined", "Say hello first.")
        session = replica.session
        origin = member.origin
        match message:
            case p.Answer() | p.Pass():
                if member.role != "participant" or member.participant is None:
                    raise Refused("forbidden", "Only participants answer.")
                session.check_answer(message)
                flag = None
                if isinstance(message, p.Answer) and isinstance(message.value, p.TextValue):
                    flag = self.lexicon.flag(message.value.text, session.info.language)
                self._sender = member
                try:
                    return self._append_then(session.info.id, Submitted(
                        at=self.clock.now_ms(), origin=origin, participant=member.participant,
                        message=message, flag=flag,
                    ), then)
                finally:
                    self._sender = None
            case p.Leave():
                if member.role != "participant" or member.participant is None:
                    raise Refused("forbidden", "Only participants leave.")
                return self._later(self._leave(session.info.id, member, origin), then)
            case p.Ready():
                if member.role != "participant" or member.participant is None:
                    raise Refused("forbidden", "Only participants say they are ready.")
                session.check_ready(message)
                return self._append_then(session.info.id, Readied(
                    at=self.clock.now_ms(), origin=origin, participant=member.participant,
                    step=message.step, ready=message.ready,
                ), then)
            case p.Tick():
                if member.role != "participant" or member.participant is None:
                    raise Refused("forbidden", "Only participants tick a checklist.")
                session.check_tick(member.participant, message)
                return self._append_then(session.info.id, Ticked(
                    at=self.clock.now_ms(), origin=origin, participant=member.participant,
                    step=message.step, item=message.item, ticked=message.ticked,
                ), then)
            case p.Hello():
                raise Refused("already-joined", "This connection has already joined.")
            case p.Ping():
                member.peer.send(Outgoing(p.Pong(t=message.t, server=self.clock.now_ms())))
                return True
            case p.GroupThemes() | p.SplitTheme():
                if member.role != "facilitator":
                    raise Refused("forbidden", "Only the facilitator can do this.")
                if self.grouper is None:
                    raise Refused("themes-unavailable", "Themes need the themes extra on the "
                                  "server: pip install 'attune-server[themes]'.")
                session.book(message.step)
                if isinstance(message, p.SplitTheme):
                    return self._later(self._split(replica, message, origin), then)
                return self._later(self._group(replica, message.step, origin), then)
            case _:
                if member.role != "facilitator":
                    raise Refused("forbidden", "Only the facilitator can do this.")
                if member.moderator and isinstance(message, p.End):
                    raise Refused("not-for-moderators", "A moderator link cannot end the "
                                  "session; the facilitator can.")
                return self._append_then(session.info.id, Commanded(
                    at=self.clock.now_ms(), origin=origin, command=message
                ), then)

    async def _leave(self, session_id: str, member: Member, origin: str) -> None:
        assert member.participant is not None
        await self.append(session_id, Left(
            at=self.clock.now_ms(), origin=origin, participant=member.participant
        ))
        member.peer.close(CLOSE_NORMAL)

    def _later(self, work: Coroutine[Any, Any, None], then: Handled) -> bool:
        """Carry on with ``work`` in a task (a rare message that waits more than once) and
        tell ``then`` how it ended."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)

        def ended(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            then(None if task.cancelled() else task.exception())

        task.add_done_callback(ended)
        return False

    def _append_then(self, session_id: str, entry: AnyEntry, then: Handled) -> bool:
        """Append for a client's message: True if the entry is durable (memory: folded too),
        False if ``then`` will hear how its wait for the backend ended."""
        raw = entry_encoder.encode(entry)
        if isinstance(entry, Submitted):
            self._appending[raw] = entry
        try:
            offset = self.backend.append_then(session_id, raw,
                                              partial(self._appended, session_id, raw, then))
        except BaseException as exc:
            self._appending.pop(raw, None)
            if isinstance(exc, SessionGone):
                raise self._gone_refusal(session_id) from None
            raise
        if offset:
            if self._appending:  # folded (and popped) already, unless this node is not subscribed
                self._appending.pop(raw, None)
            return True
        return False

    def _appended(self, session_id: str, raw: bytes, then: Handled, offset: int,
                  error: BaseException | None) -> None:
        """The backend's answer to an append that waited (``Backend.append_then``)."""
        self._appending.pop(raw, None)
        if isinstance(error, SessionGone):
            error = self._gone_refusal(session_id)
        then(error)

    def _gone_refusal(self, session_id: str) -> Refused:
        """The session was deleted or expired meanwhile: its clients here are closed with 4004
        and the sender is refused."""
        self.gone(session_id)
        return Refused("unknown-session", "This session no longer exists.")

    async def append(self, session_id: str, entry: AnyEntry) -> int:
        """Append to the session's log and wait until it is durable; if the session was deleted
        or expired meanwhile, its clients here are closed with 4004 and the sender is refused."""
        try:
            return await self.backend.append(session_id, entry_encoder.encode(entry))
        except SessionGone:
            raise self._gone_refusal(session_id) from None

    async def delegate(self, replica: Replica, token_hash: str) -> None:
        """Make (or, with an empty hash, revoke) the moderator link, and wait until it holds
        here, so the link works the moment it is handed out."""
        offset = await self.append(replica.session.info.id, Delegated(at=self.clock.now_ms(),
                                                                      token_hash=token_hash))
        await self._folded(replica, offset)

    async def delete(self, session_id: str) -> None:
        """Delete a session and its answers now; every node closes its clients of it."""
        await self.backend.delete(session_id)
        self.gone(session_id)

    def gone(self, session_id: str) -> None:
        """Backend callback: the session was deleted (here or on another node) or expired."""
        replica = self.replicas.get(session_id)
        if replica is None:
            return
        for member in list(replica.members.values()):
            member.peer.close(CLOSE_SESSION_GONE)
            self.detach(member)
        if replica.preparing is not None:
            replica.preparing.cancel()
        del self.replicas[session_id]
        self.metrics.sessions.set(len(self.replicas))
        self._spawn(self.backend.unsubscribe(session_id))

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except (BackendUnavailable, OSError, msgspec.DecodeError):
                log.warning("background backend work failed", exc_info=True)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

