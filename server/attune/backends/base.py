"""The backend contract: session records, the per-session log, and delivery of new entries.

A session is a fixed record (``SessionInfo``, encoded) plus an append-only log of encoded entries
numbered 1, 2, 3... Nodes never change session state in place: they append, and every node that
serves the session folds the log in order (see ``attune.core.session``). So a backend needs no
aggregation logic and offers no read-modify-write; it must only keep the log ordered and durable
and tell subscribers about new entries.

Beside sessions a backend keeps the scenario library: scenarios facilitators saved, by id, each
with a version number. Writes compare and set on that version, so two people saving the same
scenario at once cannot silently overwrite each other: the second is told, and keeps their copy.

Every method may raise ``BackendUnavailable`` when a shared store does not answer in time.

What every backend keeps, and the contract suite (``tests/backends/test_contract.py``) checks:

- **Deleted and expired sessions are the same to callers.** ``info`` returns None, ``read``
  returns ``[]``, ``lookup`` no longer finds the code (a new session may take it), and
  ``append`` raises ``SessionGone`` without storing anything (a gone session's log is never
  recreated with offsets that restart at 1). The store keeps nothing of a gone session, its
  code included, for more than a few minutes. A subscribed node is told through ``gone``: at
  once for a deletion on this node, and within a few seconds for a deletion on another node or
  an expiry.
- **Expiry.** An ended session expires ``retention_s`` after its end; a session never ended
  expires ``inactive_s`` after its last append (or its creation). Nothing else removes data.
- **Durability** is the store's: an acknowledged append survives what the store survives (memory:
  nothing; SQLite: a crash of the process, and of the machine with ``?synchronous=full``; Redis:
  what its AOF policy keeps).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import partial
from typing import Any

from attune.core.errors import AttuneError

INACTIVE_S = 7 * 24 * 3600.0
"""Default inactivity period after which a session that was never ended expires."""

Deliver = Callable[[str, int, bytes], None]
"""Called with (session id, offset, entry) for each new entry of a subscribed session."""
Gone = Callable[[str], None]
"""Called with a session id when a subscribed session no longer exists (deleted or expired)."""
Appended = Callable[[int, BaseException | None], None]
"""Told how an append that had to wait ended: ``(offset, None)`` once the entry is durable, or
``(0, error)`` when it was not stored."""


class CodeTaken(AttuneError):
    """Another open session already uses this join code; pick another."""


class VersionConflict(AttuneError):
    """A saved scenario is not at the version the writer last read: someone else saved or
    deleted it in between. ``current`` is its version now (0: it does not exist)."""

    def __init__(self, scenario_id: str, current: int) -> None:
        super().__init__(f"scenario {scenario_id!r} is at version {current}")
        self.scenario_id = scenario_id
        self.current = current


class Backend(ABC):
    """Where sessions live. Implementations: ``MemoryBackend``, ``SQLiteBackend`` and
    ``RedisBackend``; each is built with ``(…, retention_s, inactive_s)``."""

    node_id: str
    """Unique per process; part of every connection's origin."""

    @abstractmethod
    async def start(self, deliver: Deliver, gone: Gone | None = None) -> None:
        """Connect, and from now on call ``deliver`` for new entries of subscribed sessions and
        ``gone`` (when given) for subscribed sessions deleted by any node or expired."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; no delivery after this returns."""

    @abstractmethod
    async def ready(self) -> bool:
        """True when the store answers now (for ``/readyz``)."""

    @abstractmethod
    async def create(self, session_id: str, code: str, info: bytes) -> None:
        """Store a new session record and claim its join code, atomically.

        Raises CodeTaken if an open session holds ``code``; nothing is stored then.
        """

    @abstractmethod
    async def lookup(self, code: str) -> str | None:
        """The id of the open session holding ``code``, or None."""

    @abstractmethod
    async def info(self, session_id: str) -> bytes | None:
        """The session record as created, or None if unknown, expired or deleted."""

    @abstractmethod
    def append_then(self, session_id: str, entry: bytes, then: Appended) -> int:
        """Append one entry to the session's log; its offset once it is durable.

        Offsets start at 1 and increase by exactly 1, in one total order per session that every
        reader sees. Once the offset is known the entry is as durable as the store, and it will
        be delivered to every subscribed node (at least once, possibly before the offset is
        known). It counts as activity: the inactivity period starts again.

        Returns the offset when the entry is durable at once (memory: there is nothing to wait
        for); ``then`` is not called then. Otherwise returns 0 and calls ``then`` exactly once,
        later, on the event loop: ``then(offset, None)``, or ``then(0, error)`` when nothing was
        stored (SQLite and Redis, once the batch the entry went out in has committed). A plain
        call and a callback, not a coroutine: under a burst thousands of answers wait at once,
        and each then holds no coroutine, future or task (docs/benchmarks.md).

        Fails with SessionGone if the session was deleted or has expired (raised, or given to
        ``then``); nothing is stored then, and a subscribed node hears ``gone`` for it.
        """

    async def append(self, session_id: str, entry: bytes) -> int:
        """``append_then``, awaited: for the callers that wait anyway (joins, commands)."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        offset = self.append_then(session_id, entry, partial(settle, future))
        return offset or await future

    @abstractmethod
    async def read(self, session_id: str, after: int) -> list[tuple[int, bytes]]:
        """Entries with offset greater than ``after``, in order (to catch up or fill a gap)."""

    @abstractmethod
    async def subscribe(self, session_id: str) -> None:
        """Start delivering this session's new entries to this node. Entries appended before
        may or may not be delivered: read them. Deliveries may repeat; offsets tell."""

    @abstractmethod
    async def unsubscribe(self, session_id: str) -> None:
        """Stop delivering this session's entries to this node."""

    @abstractmethod
    async def end(self, session_id: str) -> None:
        """The session ended: free its join code and let its data expire after the retention
        period. Idempotent."""

    @abstractmethod
    async def delete(self, session_id: str) -> None:
        """Remove the session, its code and every entry (every answer) now. Idempotent."""

    @abstractmethod
    async def set_presence(self, session_id: str, connected: int) -> None:
        """Record how many participants are connected to this node for this session."""

    @abstractmethod
    async def presence(self, session_id: str) -> int:
        """Participants connected to this session over all live nodes."""

    # --- the scenario library ------------------------------------------------------------

    @abstractmethod
    async def library_list(self) -> dict[str, tuple[int, bytes]]:
        """Every saved scenario: id -> (version, the bytes last saved)."""

    @abstractmethod
    async def library_get(self, scenario_id: str) -> tuple[int, bytes] | None:
        """One saved scenario's (version, bytes), or None if there is none by this id."""

    @abstractmethod
    async def library_put(self, scenario_id: str, data: bytes, expected: int) -> int:
        """Save ``data`` under ``scenario_id`` if it is now at version ``expected`` (0: only if
        no scenario has this id), and return the new version, ``expected + 1``.

        Compare and set, atomically over every node: of two writers that read the same version,
        exactly one succeeds; the other gets VersionConflict and nothing of theirs is stored.
        Saved scenarios never expire.
        """

    @abstractmethod
    async def library_delete(self, scenario_id: str, expected: int) -> None:
        """Remove a saved scenario if it is now at version ``expected``; VersionConflict (with
        ``current`` 0 when it is already gone) otherwise. Running sessions keep their copy."""


def settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    """Give a waiting caller's future its result (or error), unless it stopped waiting."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
