"""One client connection as the node sees it: who it is, and a bounded outbox.

Events must all arrive, in order, so they queue. State pushes (aggregates, presence) only need to
be current, so each kind holds one slot that a newer push overwrites: a phone on a bad network gets
the latest aggregate, not a backlog of stale ones. When even the event queue fills up, the client
is hopeless and is closed with ``CLOSE_TOO_SLOW`` so it can reconnect and resume.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable

from server import protocol as p
from server.errors import CLOSE_TOO_SLOW

MAX_QUEUED = 256
"""Events waiting for one slow client before it is dropped; far more than a session emits in the
time a healthy client needs to read them."""

_ids = itertools.count(1)

Send = Callable[[str], Awaitable[None]]
Close = Callable[[int], Awaitable[None]]


class Connection:
    """A socket's identity and outbox. The transport supplies ``send`` and ``close``."""

    def __init__(self, send: Send, close: Close) -> None:
        self.id = str(next(_ids))
        self.role: p.Role | None = None
        self.session: str | None = None
        self.participant: str | None = None
        self._send = send
        self._close = close
        self._events: deque[str] = deque()
        self._states: dict[str, str] = {}
        self._wake = asyncio.Event()
        self.closing: int | None = None
        self.owner = asyncio.current_task()
        """The task reading this socket; cancelled when the client is too slow to be closed
        politely (its writer is stuck waiting for the socket to drain)."""
        self.writer = asyncio.create_task(self._write())

    def send(self, frame: str) -> None:
        """Queue a frame that must arrive (events, replies)."""
        if self.closing is not None:
            return
        if len(self._events) >= MAX_QUEUED:
            self.close(CLOSE_TOO_SLOW)
            return
        self._events.append(frame)
        self._wake.set()

    def push(self, kind: str, frame: str) -> None:
        """Set the latest frame of a state kind; an unsent older one is replaced."""
        if self.closing is not None:
            return
        self._states[kind] = frame
        self._wake.set()

    def close(self, code: int) -> None:
        """Close after sending what is queued (the client should learn why), unless the client
        is too slow to take it."""
        if self.closing is None:
            self.closing = code
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
                while self._events:
                    await self._send(self._events.popleft())
                while self._states and self.closing is None and not self._events:
                    kind = next(iter(self._states))
                    await self._send(self._states.pop(kind))
                if self.closing is not None:
                    await self._close(self.closing)
                    return
        except Exception:
            # The socket went away under us; the endpoint's receive loop notices and cleans up.
            return
