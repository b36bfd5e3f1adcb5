"""The embedded backend: everything in this process's memory, for one process only.

It is the default (no Redis, no Docker) and it behaves like the shared backend: it stores encoded
bytes, never live objects, and delivers each appended entry to the subscriber as Redis would, just
without the network. Sessions vanish when the process stops.
"""

from __future__ import annotations

import secrets
import time

from attune.backends.base import Backend, CodeTaken, Deliver, Gone, VersionConflict


class _Stored:
    __slots__ = ("code", "ended_at", "info", "log", "presence")

    def __init__(self, code: str, info: bytes) -> None:
        self.code = code
        self.info = info
        self.log: list[bytes] = []
        self.ended_at: float | None = None
        self.presence = 0


class MemoryBackend(Backend):
    def __init__(self, retention_s: float) -> None:
        self.node_id = secrets.token_hex(4)
        self.retention_s = retention_s
        self._sessions: dict[str, _Stored] = {}
        self._codes: dict[str, str] = {}
        self._subscribed: set[str] = set()
        self._deliver: Deliver | None = None
        self._gone: Gone | None = None
        self._library: dict[str, tuple[int, bytes]] = {}

    async def start(self, deliver: Deliver, gone: Gone | None = None) -> None:
        self._deliver = deliver
        self._gone = gone

    async def close(self) -> None:
        self._deliver = None

    async def ready(self) -> bool:
        return True

    async def create(self, session_id: str, code: str, info: bytes) -> None:
        self._expire()
        if code in self._codes:
            raise CodeTaken(code)
        self._sessions[session_id] = _Stored(code, info)
        self._codes[code] = session_id

    async def lookup(self, code: str) -> str | None:
        return self._codes.get(code)

    async def info(self, session_id: str) -> bytes | None:
        self._expire()
        stored = self._sessions.get(session_id)
        return stored.info if stored else None

    async def append(self, session_id: str, entry: bytes) -> int:
        stored = self._sessions[session_id]
        stored.log.append(entry)
        offset = len(stored.log)
        if self._deliver is not None and session_id in self._subscribed:
            self._deliver(session_id, offset, entry)
        return offset

    async def read(self, session_id: str, after: int) -> list[tuple[int, bytes]]:
        stored = self._sessions.get(session_id)
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
        stored = self._sessions.pop(session_id, None)
        if stored is not None and self._codes.get(stored.code) == session_id:
            del self._codes[stored.code]
        if stored is not None and session_id in self._subscribed and self._gone is not None:
            self._gone(session_id)

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

    def _expire(self) -> None:
        """Drop sessions ended longer than the retention period ago (checked lazily)."""
        cutoff = time.monotonic() - self.retention_s
        for session_id, stored in list(self._sessions.items()):
            if stored.ended_at is not None and stored.ended_at < cutoff:
                del self._sessions[session_id]
