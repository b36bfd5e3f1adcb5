"""The throwaway backend: everything in this process's memory, for one process only.

For tests and runs whose sessions may be lost (``--backend memory://``). It behaves like the
stored backends: it keeps encoded bytes, never live objects, delivers each appended entry to the
subscriber as Redis would, just without the network, and expires sessions by the same rules.
Sessions vanish when the process stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time

from attune.backends.base import (
    INACTIVE_S,
    Appended,
    Backend,
    CodeTaken,
    Deliver,
    Gone,
    VersionConflict,
)
from attune.core.errors import SessionGone

SWEEP_INTERVAL = 1.0
"""Seconds between looks at every session for expiry (also done by ``create``); the session a
call names is checked on every call."""


class _Stored:
    __slots__ = ("code", "ended_at", "info", "log", "presence", "touched_at")

    def __init__(self, code: str, info: bytes, now: float) -> None:
        self.code = code
        self.info = info
        self.log: list[bytes] = []
        self.ended_at: float | None = None
        self.touched_at = now
        self.presence = 0


class MemoryBackend(Backend):
    def __init__(self, retention_s: float, inactive_s: float = INACTIVE_S) -> None:
        self.node_id = secrets.token_hex(4)
        self.retention_s = retention_s
        self.inactive_s = inactive_s
        self._sessions: dict[str, _Stored] = {}
        self._codes: dict[str, str] = {}
        self._subscribed: set[str] = set()
        self._deliver: Deliver | None = None
        self._gone: Gone | None = None
        self._swept = 0.0
        self._sweeper: asyncio.Task[None] | None = None
        self._library: dict[str, tuple[int, bytes]] = {}

    async def start(self, deliver: Deliver, gone: Gone | None = None) -> None:
        self._deliver = deliver
        self._gone = gone
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def close(self) -> None:
        self._deliver = None
        self._gone = None
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def ready(self) -> bool:
        return True

    async def create(self, session_id: str, code: str, info: bytes) -> None:
        self._sweep()
        if code in self._codes:
            raise CodeTaken(code)
        self._sessions[session_id] = _Stored(code, info, time.monotonic())
        self._codes[code] = session_id

    async def lookup(self, code: str) -> str | None:
        session_id = self._codes.get(code)
        return session_id if session_id is not None and self._live(session_id) else None

    async def info(self, session_id: str) -> bytes | None:
        stored = self._live(session_id)
        return stored.info if stored else None

    def append_then(self, session_id: str, entry: bytes, then: Appended) -> int:
        """At once: the entry is delivered and its offset returned before this returns."""
        now = time.monotonic()
        stored = self._sessions.get(session_id)
        # ``_expired`` inlined for a session that has not ended (every append is one)
        if stored is None or now - self._swept >= SWEEP_INTERVAL or stored.ended_at is not None \
                or stored.touched_at + self.inactive_s < now:
            stored = self._live(session_id, now)
        if stored is None:
            raise SessionGone(session_id)
        stored.log.append(entry)
        stored.touched_at = now
        offset = len(stored.log)
        if self._deliver is not None and session_id in self._subscribed:
            self._deliver(session_id, offset, entry)
        return offset

    async def read(self, session_id: str, after: int) -> list[tuple[int, bytes]]:
        stored = self._live(session_id)
        if stored is None:
            return []
        return list(enumerate(stored.log[after:], start=after + 1))

    async def subscribe(self, session_id: str) -> None:
        self._subscribed.add(session_id)

    async def unsubscribe(self, session_id: str) -> None:
        self._subscribed.discard(session_id)

    async def end(self, session_id: str) -> None:
        stored = self._sessions.get(session_id)
        if stored is not None and stored.ended_at is None:
            stored.ended_at = time.monotonic()
            self._codes.pop(stored.code, None)

    async def delete(self, session_id: str) -> None:
        self._forget(session_id)

    async def set_presence(self, session_id: str, connected: int) -> None:
        stored = self._sessions.get(session_id)
        if stored is not None:
            stored.presence = connected

    async def presence(self, session_id: str) -> int:
        stored = self._sessions.get(session_id)
        return stored.presence if stored else 0

    async def library_list(self) -> dict[str, tuple[int, bytes]]:
        return dict(self._library)

    async def library_get(self, scenario_id: str) -> tuple[int, bytes] | None:
        return self._library.get(scenario_id)

    async def library_put(self, scenario_id: str, data: bytes, expected: int) -> int:
        current = self._library.get(scenario_id, (0, b""))[0]
        if current != expected:
            raise VersionConflict(scenario_id, current)
        self._library[scenario_id] = (current + 1, bytes(data))
        return current + 1

    async def library_delete(self, scenario_id: str, expected: int) -> None:
        current = self._library.get(scenario_id, (0, b""))[0]
        if current != expected or current == 0:
            raise VersionConflict(scenario_id, current)
        del self._library[scenario_id]

    def _forget(self, session_id: str) -> None:
        """Remove a session and its code; a subscribed node hears ``gone``."""
        stored = self._sessions.pop(session_id, None)
        if stored is None:
            return
        if self._codes.get(stored.code) == session_id:
            del self._codes[stored.code]
        if session_id in self._subscribed and self._gone is not None:
            self._gone(session_id)

    def _expired(self, stored: _Stored, now: float) -> bool:
        """Ended longer than the retention period ago, or never ended and without an append for
        the inactivity period."""
        if stored.ended_at is not None:
            return stored.ended_at + self.retention_s < now
        return stored.touched_at + self.inactive_s < now

    def _live(self, session_id: str, now: float | None = None) -> _Stored | None:
        """The session if it exists and has not expired (an expired one is dropped now)."""
        now = time.monotonic() if now is None else now
        self._sweep(now)
        stored = self._sessions.get(session_id)
        if stored is not None and self._expired(stored, now):
            self._forget(session_id)
            return None
        return stored

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            self._sweep()

    def _sweep(self, now: float | None = None) -> None:
        """Drop every expired session, at most once a second, so that codes are freed and
        subscribed nodes hear ``gone`` even when nobody asks for the session."""
        now = time.monotonic() if now is None else now
        if now - self._swept < SWEEP_INTERVAL:
            return
        self._swept = now
        for session_id, stored in list(self._sessions.items()):
            if self._expired(stored, now):
                self._forget(session_id)
