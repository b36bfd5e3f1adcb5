"""One client connection as the node sees it: who it is, and a bounded outbox.

Events must all arrive, in order, so they queue. State pushes (aggregates, presence) only need to
be current, so each kind holds one slot that a newer push overwrites: a phone on a bad network gets
the latest aggregate, not a backlog of stale ones. When even the event queue fills up, the client
is hopeless and is closed with ``CLOSE_TOO_SLOW`` so it can reconnect and resume.

While nothing is queued and the socket takes data, a frame skips the outbox and is written to the
transport at once: a broadcast's frame is built once (``Outgoing``) and the same bytes go to every
ready socket, which is what makes fan-out to 10,000 phones cost what the network costs.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable

from server import protocol as p
from server.errors import CLOSE_TOO_SLOW
from server.transport import AttuneWebSocketProtocol, frame

MAX_QUEUED = 256
"""Events waiting for one slow client before it is dropped; far more than a session emits in the
time a healthy client needs to read them."""

_ids = itertools.count(1)

Send = Callable[[str], Awaitable[None]]
Close = Callable[[int], Awaitable[None]]


class Outgoing:
    """One encoded message for any number of sockets; its frame and text are made once."""

    __slots__ = ("_frame", "_text", "payload")

    def __init__(self, message: p.Message) -> None:
        self.payload = p.encoder.encode(message)
        self._frame: bytes | None = None
        self._text: str | None = None

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = frame(self.payload)
        return self._frame

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.payload.decode()
        return self._text


class Connection:
    """A socket's identity and outbox. The endpoint supplies ``send`` and ``close`` (through
    ASGI) and, when served by ``AttuneWebSocketProtocol``, the transport for direct writes."""

    def __init__(
        self, send: Send, close: Close, transport: AttuneWebSocketProtocol | None = None
    ) -> None:
        self.id = str(next(_ids))
        self.role: p.Role | None = None
        self.session: str | None = None
        self.participant: str | None = None
        self._send = send
        self._close = close
        self._events: deque[Outgoing] = deque()
        self._states: dict[str, Outgoing] = {}
        self._wake = asyncio.Event()
        self._writing = False
        self.closing: int | None = None
        self.owner = asyncio.current_task()
        """The task reading this socket; cancelled when the client is too slow to be closed
        politely (its writer is stuck waiting for the socket to drain)."""
        self.transport = transport
        self.direct = False
        """True while frames may go straight to the transport (see ``writable_changed``)."""
        if transport is not None:
            transport.listener = self
            self.writable_changed()
        self.writer = asyncio.create_task(self._write())

    def writable_changed(self) -> None:
        self.direct = (
            self.transport is not None and self.closing is None and not self._writing
            and not self._events and not self._states and self.transport.ready()
        )

    def send(self, message: Outgoing) -> None:
        """Send a message that must arrive (events, replies), in order."""
        if self.direct:
            self.transport.write(message.frame)  # type: ignore[union-attr]
            return
        if self.closing is not None:
            return
        if len(self._events) >= MAX_QUEUED:
            self.close(CLOSE_TOO_SLOW)
            return
        self.direct = False
        self._events.append(message)
        self._wake.set()

    def push(self, kind: str, message: Outgoing) -> None:
        """Send the latest state of a kind; an unsent older one is replaced."""
        if self.direct:
            self.transport.write(message.frame)  # type: ignore[union-attr]
            return
        if self.closing is not None:
            return
        self.direct = False
        self._states[kind] = message
        self._wake.set()

    def close(self, code: int) -> None:
        """Close after sending what is queued (the client should learn why), unless the client
        is too slow to take it."""
        if self.closing is None:
            self.closing = code
            self.direct = False
            self._states.clear()
            if code == CLOSE_TOO_SLOW:
                self._events.clear()
                self.writer.cancel()
                if self.owner is not None:
                    self.owner.cancel()
            self._wake.set()

    async def _write(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                self._writing = True
                while self._events:
                    await self._send(self._events.popleft().text)
                while self._states and self.closing is None and not self._events:
                    kind = next(iter(self._states))
                    await self._send(self._states.pop(kind).text)
                self._writing = False
                if self.closing is not None:
                    await self._close(self.closing)
                    return
                self.writable_changed()
        except Exception:
            # The socket went away under us; the endpoint's receive loop notices and cleans up.
            return
