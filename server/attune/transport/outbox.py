"""Sans-I/O: what one socket owes its client, in the order it must be written.

Events (``step``, ``reveal``, replies ...) must all arrive, in order, so they queue while the
socket cannot take more. State pushes (aggregates, presence) only need to be current, so each
kind holds one slot that a newer push overwrites: a phone on a bad network gets the latest
aggregate, not a backlog of stale ones. When even the event queue fills up the client is hopeless
and must be dropped (``queue`` says so) so that it can reconnect and resume.

While the outbox is ``ready`` (open, the socket takes data, nothing queued) a message is written
at once: a broadcast's frame is built once (``Outgoing``) and the same bytes go to every ready
socket, which is what makes fan-out to 10,000 phones cost what the network costs.

Nothing here reads a clock or touches a socket: ``attune.transport.connection`` feeds it what the
transport says (``opened``, ``pause``, ``resume``, ``end``) and writes what ``due`` yields, and
``tests/test_outbox.py`` checks the rules with no event loop, as ``websockets`` tests its
protocol.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterator

from attune.core import protocol as p

MAX_QUEUED = 256
"""Events waiting for one slow client before it is dropped; far more than a session emits in the
time a healthy client needs to read them."""


_HEADS = tuple(bytes((0x81, n)) for n in range(126))
"""The two bytes before a payload under 126 bytes (an ack, a presence count: most messages)."""
_MEDIUM = struct.Struct("!BBH")
"""FIN and text opcode, 126, then a 16-bit length: the head of frames of 126 to 65,535 bytes."""


def header(n: int) -> bytes:
    """The head of an unmasked final text frame of ``n`` bytes (RFC 6455 section 5.2)."""
    if n < 126:
        return _HEADS[n]
    if n < 65536:
        return _MEDIUM.pack(0x81, 126, n)
    return bytes((0x81, 127)) + n.to_bytes(8, "big")


def frame(payload: bytes) -> bytes:
    """An unmasked final text frame around ``payload``."""
    return header(len(payload)) + payload


class Outgoing:
    """One encoded message for any number of sockets, framed once. The frame is a plain
    attribute, built at once: the fan-out loop reads it once per socket."""

    __slots__ = ("frame",)

    def __init__(self, message: p.Message) -> None:
        payload = p.encoder.encode(message)
        n = len(payload)
        # An answer's ack is framed here: the common small frame without a call to ``frame``.
        self.frame = _HEADS[n] + payload if n < 126 else frame(payload)

    @classmethod
    def then(cls, first: Outgoing, payload: bytes, rest: bytes = b"") -> Outgoing:
        """A shared message and one client's own encoded message after it, as one write: a
        groups event and that phone's group view, so a fan-out that gives each client a private
        message too still costs one write per socket. The own message may come in two parts
        (``payload`` then ``rest``, as group views do: a part per group and a part per role),
        framed as one message and joined with the rest in a single copy."""
        both = cls.__new__(cls)
        both.frame = b"".join((first.frame, header(len(payload) + len(rest)), payload, rest))
        return both


class Outbox:
    """The queue of events, the latest-state slots and the drop rule of one socket.

    Its life: waiting for the handshake, then ``opened``; ``close`` once the server starts
    closing (what is queued still goes, states no longer matter); ``end`` once nothing more may
    be written (the client closed or the socket is gone). The queues exist only while something
    waits: an idle phone's outbox is this object alone.
    """

    __slots__ = ("closing", "events", "limit", "open", "paused", "ready", "states")

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_QUEUED if limit is None else limit
        """Events that may wait before the client counts as hopeless."""
        self.ready = False
        """A message may be written at once: open, not closing, not paused, nothing queued.
        The fan-out fast path reads this and nothing else."""
        self.open = False
        self.paused = False
        self.closing = False
        self.events: deque[Outgoing] | None = None
        self.states: dict[str, Outgoing] | None = None

    # --- what the transport says -----------------------------------------------------------

    def opened(self) -> None:
        """The handshake is answered: messages may flow."""
        self.open = True
        self.ready = not self.paused and not self.closing

    def pause(self) -> None:
        """The socket's buffers are full; what is sent from now on waits here."""
        self.paused = True
        self.ready = False

    def resume(self) -> None:
        """The socket takes data again; write what ``due`` yields."""
        self.paused = False

    def end(self) -> None:
        """Nothing more can be written: drop what waits."""
        self.open = self.ready = False
        self.events = self.states = None

    def close(self, hopeless: bool = False) -> None:
        """The server closes the socket. Queued events still go first (the last of them may say
        why), unless the client is ``hopeless``; states are dropped either way."""
        self.closing = True
        self.ready = False
        self.states = None
        if hopeless:
            self.events = None

    # --- what the server sends -------------------------------------------------------------

    def queue(self, event: Outgoing) -> bool:
        """Keep an event until the socket takes data (the caller writes it at once when
        ``ready``). Returns False when the client has fallen too far behind: drop it. Ignored
        once closing or ended, and before the handshake."""
        if self.closing or not self.open:
            return True
        events = self.events
        if events is None:
            events = self.events = deque()
        elif len(events) >= self.limit:
            return False
        events.append(event)
        self.ready = False
        return True

    def keep(self, kind: str, state: Outgoing) -> None:
        """Keep the latest state of ``kind`` until the socket takes data; an older one unsent
        is replaced."""
        if self.closing or not self.open:
            return
        if self.states is None:
            self.states = {}
        self.states[kind] = state
        self.ready = False

    def due(self) -> Iterator[Outgoing]:
        """What to write now: queued events in order, then each kind's latest state (not while
        closing). Stops as soon as the socket pauses, which writing may cause; once all is
        written the outbox is ``ready`` again."""
        if not self.open:
            return
        events = self.events
        while events and not self.paused:
            yield events.popleft()
        states = self.states
        while states and not self.paused and not self.events and not self.closing:
            yield states.pop(next(iter(states)))
        if self.open and not self.paused and not self.closing:
            self.ready = True
