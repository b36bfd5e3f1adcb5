"""The embedded durable backend, the default: sessions in one SQLite file, for one process.

One file (WAL journal) under the data folder holds every session record and every log entry::

    sessions  id, code, record (the encoded SessionInfo), touched_at, ended_at (wall clock, s)
    log       (session, offset) -> entry          WITHOUT ROWID, so a log is one range scan
    library   id -> version, data                 the saved scenarios (never expire)

A partial unique index on ``sessions(code) WHERE ended_at IS NULL`` makes "one open session per
code" a rule of the file itself.

SQLite calls block, so none runs on the event loop. One writer thread owns the connection and
takes calls from a queue: it waits for the first, takes every call queued behind it (up to
``BATCH``), runs them all in one transaction and commits once, then hands the results back to
the loop in one callback. Under a burst of answers every caller waits for one commit, as the
Redis backend's callers wait for one pipelined round trip; a batch of answers alone is a single
multi-row ``INSERT``, its own transaction (see ``_Writer.write_appended`` for why the number of
statements per batch matters more than their size). A call is answered only after its
transaction committed, so an acknowledged answer is in the file. With ``synchronous=NORMAL`` (the
default; in WAL mode a commit is a write to the journal, fsynced at checkpoints) it survives any
crash of the process, ``kill -9`` included; a crash of the machine itself (power, kernel) may
lose the last commits but never corrupts the file. ``?synchronous=full`` in the URL fsyncs every
commit, so nothing acknowledged is lost even then, at the cost of a disk flush per batch (a few
milliseconds on every broadcast; see docs/benchmarks.md).

The thread is the only writer, so it keeps each session's last offset in memory and never reads
it back; a lock on ``<file>.lock`` keeps a second process from opening the same file (sessions
would split between them: several processes need Redis). Delivery is local, as in the memory
backend: after a commit the loop hands each new entry of a subscribed session to ``deliver``.
Presence is this process's own count and is not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from filelock import FileLock, Timeout

from attune.backends.base import (
    INACTIVE_S,
    Appended,
    Backend,
    CodeTaken,
    Deliver,
    Gone,
    VersionConflict,
    settle,
)
from attune.core.errors import AttuneError, BackendUnavailable, SessionGone

log = logging.getLogger("attune.backend.sqlite")

FILE_NAME = "attune.sqlite3"
"""The file ``sqlite://`` (no path) means, inside the data folder."""
BATCH = 1000
"""Calls gathered into one transaction, at most (a loop iteration's calls are never split)."""
SWEEP_INTERVAL = 1.0
"""Seconds between looks for expired sessions."""
SCHEMA_VERSION = 1
INSERT_ROWS = 1024
"""Log rows inserted by one statement at most (3 parameters each, far below SQLite's limit of
32,766): a whole batch of ``BATCH`` calls."""
INSERTS = {size: "INSERT INTO log (session, offset, entry) SELECT * FROM (VALUES "
           + ", ".join(["(?, ?, ?)"] * size) + ") WHERE column2 > 0"
           for size in (1 << i for i in range(INSERT_ROWS.bit_length()))}
"""One statement per power of two up to ``INSERT_ROWS``, its unused rows padded with zeros that
the WHERE drops (an offset is never 0): any number of rows is one statement, and the sqlite3
module's statement cache keeps all eleven prepared.

Every parameter is a type the sqlite3 module binds without its adaptation protocol: ``int``,
``str`` or ``bytearray``. A ``bytes`` or a ``None`` parameter is first offered to the adapters,
and that look-up raises and clears an ``AttributeError`` inside the module each time (CPython
3.11, ``_need_adapt`` lists ``bytearray`` but not ``bytes``): about 1-2 us per parameter, more
than the row's insert itself (docs/benchmarks.md). A ``bytearray`` is stored as the same BLOB
and read back as ``bytes``."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    record BLOB NOT NULL,
    touched_at REAL NOT NULL,
    ended_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS open_codes ON sessions (code) WHERE ended_at IS NULL;
CREATE TABLE IF NOT EXISTS log (
    session TEXT NOT NULL,
    offset INTEGER NOT NULL,
    entry BLOB NOT NULL,
    PRIMARY KEY (session, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS library (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    data BLOB NOT NULL
);
"""


class DataFolderBusy(AttuneError):
    """Another process holds the lock of this SQLite file."""


def path_from_url(url: str, data: Path) -> tuple[Path, str]:
    """The file and the ``synchronous`` mode a ``sqlite://`` URL names.

    ``sqlite://`` is ``<data>/attune.sqlite3``; ``sqlite:///abs/file.db`` and
    ``sqlite://relative/file.db`` name a file; ``?synchronous=full`` adds durability
    against a crash of the machine at the cost of an fsync per commit.
    """
    parts = urlsplit(url)
    named = unquote(parts.netloc + parts.path)
    synchronous = parse_qs(parts.query).get("synchronous", ["normal"])[0].upper()
    if synchronous not in ("FULL", "NORMAL", "EXTRA"):
        raise ValueError(f"synchronous must be full, normal or extra, not {synchronous.lower()!r}")
    return (Path(named) if named else data / FILE_NAME), synchronous


class _Known:
    """What the writer thread knows of a live session, so an append reads nothing back."""

    __slots__ = ("ended_at", "last", "stored_touch", "touched_at")

    def __init__(self, last: int, touched_at: float, ended_at: float | None) -> None:
        self.last = last
        self.touched_at = touched_at
        self.stored_touch = touched_at
        """The ``touched_at`` the file holds: written again only every ``touch_every``."""
        self.ended_at = ended_at


Work = Callable[..., Any]
"""A ``_Writer`` method (or a function of the writer), called with the writer and its arguments."""
Then = Callable[[Any, BaseException | None], None]
"""Told a call's result, or why it failed, on the loop once its batch committed (or failed)."""
_Call = tuple[Work, tuple[Any, ...], Then]
_Result = tuple[Then, Any, BaseException | None]


class _Writer:
    """The writer thread's state: its connection and what it knows of each session.

    Every method runs on the writer thread, inside the batch's transaction.
    """

    def __init__(self, connection: sqlite3.Connection, retention_s: float,
                 inactive_s: float) -> None:
        self.db = connection
        self.retention_s = retention_s
        self.inactive_s = inactive_s
        self.known: dict[str, _Known] = {}
        self.touch_every = min(60.0, inactive_s / 10)
        """Seconds between writes of a session's last activity: the inactivity period is
        days, so the file needs it to the minute, not a second write on every commit."""
        self.now = time.time()
        self.appended: list[tuple[str, int, bytes]] = []
        """Entries appended by this batch, delivered once it commits."""
        self.written = 0
        """How many of ``appended`` are in the file's log table yet (see ``write_appended``)."""
        self.gone: list[str] = []
        """Sessions removed by this batch (deleted or expired)."""
        self.touched: set[str] = set()

    def execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run one statement inside the batch's transaction; the entries this batch appended
        so far are written first, so what it reads (a log, a session's last offset) or
        removes includes them."""
        self.transaction()
        if self.written < len(self.appended):
            self.write_appended()
        return self.db.execute(sql, parameters)

    def transaction(self) -> None:
        """Open the batch's transaction, unless it is open (see ``write_appended``)."""
        if not self.db.in_transaction:
            self.db.execute("BEGIN")

    def write_appended(self) -> None:
        """Insert the entries appended since the last write: one statement per 1,024.

        An append only adds its entry to ``appended``; rows are inserted when a later
        statement of the batch could see them, and before the commit. Each statement is one
        ``sqlite3_step``, the sqlite3 module lets go of the GIL around every step (an
        ``executemany`` steps once per row), and the writer thread then waits for the event
        loop to give it back, up to the interpreter's switch interval (5 ms) when the loop is
        busy. A batch of answers alone is one statement and no ``BEGIN`` or ``COMMIT`` at all
        (one statement is its own transaction): one hand-over instead of one per answer, so
        a burst's answers wait for their commit for less time, and fewer of them are in flight
        at once (each in-flight answer holds a dozen objects that the cyclic collector scans).
        """
        rows, start = self.appended, self.written
        while start < len(rows):
            chunk = rows[start:start + INSERT_ROWS]
            size = 1 << (len(chunk) - 1).bit_length()
            parameters: list[str | int | bytearray] = []
            for session_id, offset, entry in chunk:
                parameters += (session_id, offset, bytearray(entry))
            parameters.extend([0] * (3 * (size - len(chunk))))
            self.db.execute(INSERTS[size], parameters)
            start += len(chunk)
        self.written = start

    def expired(self, touched_at: float, ended_at: float | None) -> bool:
        if ended_at is not None:
            return ended_at + self.retention_s < self.now
        return touched_at + self.inactive_s < self.now

    def live(self, session_id: str) -> _Known | None:
        known = self.known.get(session_id)
        if known is None:
            row = self.execute(
                "SELECT touched_at, ended_at, "
                "(SELECT coalesce(max(offset), 0) FROM log WHERE session = ?1) "
                "FROM sessions WHERE id = ?1", (session_id,)).fetchone()
            if row is None:
                return None
            known = self.known[session_id] = _Known(row[2], row[0], row[1])
        if self.expired(known.touched_at, known.ended_at):
            self.remove(session_id)
            return None
        return known

    def remove(self, session_id: str) -> None:
        self.execute("DELETE FROM log WHERE session = ?", (session_id,))
        removed = self.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount
        self.known.pop(session_id, None)
        self.touched.discard(session_id)
        if removed:
            self.gone.append(session_id)

    # --- the calls ---------------------------------------------------------------------------

    def create(self, session_id: str, code: str, info: bytes) -> None:
        holder = self.execute(
            "SELECT id FROM sessions WHERE code = ? AND ended_at IS NULL", (code,)).fetchone()
        if holder is not None and self.live(holder[0]) is not None:
            raise CodeTaken(code)
        self.execute("INSERT INTO sessions (id, code, record, touched_at) VALUES (?, ?, ?, ?)",
                     (session_id, code, info, self.now))
        self.known[session_id] = _Known(0, self.now, None)

    def lookup(self, code: str) -> str | None:
        row = self.execute(
            "SELECT id FROM sessions WHERE code = ? AND ended_at IS NULL", (code,)).fetchone()
        return str(row[0]) if row is not None and self.live(row[0]) is not None else None

    def info(self, session_id: str) -> bytes | None:
        if self.live(session_id) is None:
            return None
        row = self.execute("SELECT record FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return bytes(row[0])

    def append(self, session_id: str, entry: bytes) -> int:
        known = self.known.get(session_id)
        # An open session active within the inactivity period is live: under a burst that is
        # every append, so it skips ``live``'s checks.
        if known is None or known.ended_at is not None \
                or known.touched_at + self.inactive_s < self.now:
            known = self.live(session_id)
            if known is None:
                raise SessionGone(session_id)
        known.last += 1
        known.touched_at = self.now
        if self.now - known.stored_touch >= self.touch_every:
            self.touched.add(session_id)
        self.appended.append((session_id, known.last, entry))
        return known.last

    def read(self, session_id: str, after: int) -> list[tuple[int, bytes]]:
        if self.live(session_id) is None:
            return []
        return [(int(offset), bytes(entry)) for offset, entry in self.execute(
            "SELECT offset, entry FROM log WHERE session = ? AND offset > ? ORDER BY offset",
            (session_id, after))]

    def end(self, session_id: str) -> None:
        known = self.live(session_id)
        if known is not None and known.ended_at is None:
            known.ended_at = self.now
            self.execute("UPDATE sessions SET ended_at = ? WHERE id = ?",
                         (self.now, session_id))

    def delete(self, session_id: str) -> None:
        self.remove(session_id)

    def library_version(self, scenario_id: str) -> int:
        row = self.execute("SELECT version FROM library WHERE id = ?",
                           (scenario_id,)).fetchone()
        return int(row[0]) if row is not None else 0

    def library_put(self, scenario_id: str, data: bytes, expected: int) -> int:
        current = self.library_version(scenario_id)
        if current != expected:
            raise VersionConflict(scenario_id, current)
        self.execute("INSERT OR REPLACE INTO library (id, version, data) VALUES (?, ?, ?)",
                     (scenario_id, current + 1, data))
        return current + 1

    def library_delete(self, scenario_id: str, expected: int) -> None:
        current = self.library_version(scenario_id)
        if current != expected or current == 0:
            raise VersionConflict(scenario_id, current)
        self.execute("DELETE FROM library WHERE id = ?", (scenario_id,))

    def sweep(self) -> None:
        """Remove every expired session (with its log)."""
        rows = self.execute(
            "SELECT id FROM sessions WHERE (ended_at IS NULL AND touched_at < ?) "
            "OR ended_at < ?", (self.now - self.inactive_s, self.now - self.retention_s))
        for (session_id,) in rows.fetchall():
            known = self.known.get(session_id)
            # The file's last activity may lag this thread's by up to ``touch_every``.
            if known is None or self.expired(known.touched_at, known.ended_at):
                self.remove(session_id)

    def finish(self) -> None:
        """Before the commit: the entries not yet written, and the activity this batch saw,
        once per session. Only entries in one statement need no transaction."""
        if self.touched or len(self.appended) - self.written > INSERT_ROWS:
            self.transaction()
        self.write_appended()
        self.db.executemany("UPDATE sessions SET touched_at = ? WHERE id = ?",
                            [(self.now, session_id) for session_id in self.touched])
        for session_id in self.touched:
            self.known[session_id].stored_touch = self.now

    def begin(self) -> None:
        self.now = time.time()
        self.appended, self.gone, self.touched = [], [], set()
        self.written = 0


class SQLiteBackend(Backend):
    """Sessions in one SQLite file, for one process (see the module docstring)."""

    def __init__(self, path: Path, retention_s: float, inactive_s: float = INACTIVE_S, *,
                 synchronous: str = "NORMAL") -> None:
        self.node_id = secrets.token_hex(4)
        self.path = path
        self.retention_s = retention_s
        self.inactive_s = inactive_s
        self.synchronous = synchronous
        self._calls: queue.SimpleQueue[list[_Call] | None] = queue.SimpleQueue()
        self._pending: list[_Call] = []
        """Calls made since the loop last handed calls to the thread (once per iteration)."""
        self._thread: threading.Thread | None = None
        self._lock: FileLock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deliver: Deliver | None = None
        self._gone: Gone | None = None
        self._subscribed: set[str] = set()
        self._presence: dict[str, int] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False
        self._thread_running = False
        """True while the writer thread takes calls; set and read under ``_handing``, so that
        no call is queued after the thread's last look at the queue."""
        self._handing = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, deliver: Deliver, gone: Gone | None = None) -> None:
        """Take the file's lock, open it and start the writer thread.

        Raises DataFolderBusy if another process has the file open.
        """
        self._deliver = deliver
        self._gone = gone
        self._loop = asyncio.get_running_loop()
        self._lock = lock(self.path)
        opened: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(target=self._run, args=(opened,),
                                        name="attune-sqlite", daemon=True)
        self._thread.start()
        try:
            await opened
        except BaseException:
            self._release()
            raise
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def close(self) -> None:
        """Finish the calls already queued, then close the file and free its lock."""
        self._deliver = None
        self._gone = None
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        self._closed = True
        thread = self._thread
        if thread is not None:
            self._hand_over()
            self._calls.put(None)
            await asyncio.to_thread(thread.join)
            self._thread = None
        self._release()

    async def ready(self) -> bool:
        try:
            await self._call(lambda w: w.execute("SELECT 1").fetchone())
        except BackendUnavailable:
            return False
        return True

    # --- sessions ----------------------------------------------------------------------------

    async def create(self, session_id: str, code: str, info: bytes) -> None:
        await self._call(_Writer.create, session_id, code, info)

    async def lookup(self, code: str) -> str | None:
        found: str | None = await self._call(_Writer.lookup, code)
        return found

    async def info(self, session_id: str) -> bytes | None:
        record: bytes | None = await self._call(_Writer.info, session_id)
        return record

    def append_then(self, session_id: str, entry: bytes, then: Appended) -> int:
        """Queued for the writer thread; ``then`` hears the offset once the batch committed."""
        self._queue(_Writer.append, (session_id, entry), then)
        return 0

    async def read(self, session_id: str, after: int) -> list[tuple[int, bytes]]:
        entries: list[tuple[int, bytes]] = await self._call(_Writer.read, session_id, after)
        return entries

    async def end(self, session_id: str) -> None:
        await self._call(_Writer.end, session_id)

    async def delete(self, session_id: str) -> None:
        self._presence.pop(session_id, None)
        await self._call(_Writer.delete, session_id)

    # --- the scenario library ----------------------------------------------------------------

    async def library_list(self) -> dict[str, tuple[int, bytes]]:
        rows: list[tuple[str, int, bytes]] = await self._call(
            lambda w: w.execute("SELECT id, version, data FROM library").fetchall())
        return {str(i): (int(version), bytes(data)) for i, version, data in rows}

    async def library_get(self, scenario_id: str) -> tuple[int, bytes] | None:
        row: tuple[int, bytes] | None = await self._call(lambda w: w.execute(
            "SELECT version, data FROM library WHERE id = ?", (scenario_id,)).fetchone())
        return (int(row[0]), bytes(row[1])) if row is not None else None

    async def library_put(self, scenario_id: str, data: bytes, expected: int) -> int:
        version: int = await self._call(_Writer.library_put, scenario_id, data, expected)
        return version

    async def library_delete(self, scenario_id: str, expected: int) -> None:
        await self._call(_Writer.library_delete, scenario_id, expected)

    # --- presence and delivery (this process only) -------------------------------------------

    async def set_presence(self, session_id: str, connected: int) -> None:
        if connected > 0:
            self._presence[session_id] = connected
        else:
            self._presence.pop(session_id, None)

    async def presence(self, session_id: str) -> int:
        return self._presence.get(session_id, 0)

    async def subscribe(self, session_id: str) -> None:
        self._subscribed.add(session_id)

    async def unsubscribe(self, session_id: str) -> None:
        self._subscribed.discard(session_id)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            try:
                await self._call(_Writer.sweep)
            except BackendUnavailable as exc:
                log.warning("could not look for expired sessions: %s", exc)

    # --- the writer thread -------------------------------------------------------------------

    def _call(self, work: Work, *args: Any) -> asyncio.Future[Any]:
        """Queue ``work(writer, *args)`` for the writer thread; the future has its result once
        the batch committed."""
        assert self._loop is not None
        future: asyncio.Future[Any] = self._loop.create_future()
        self._queue(work, args, partial(settle, future))
        return future

    def _queue(self, work: Work, args: tuple[Any, ...], then: Then) -> None:
        """Queue ``work(writer, *args)`` for the writer thread; ``then`` is told its result on
        the loop once the batch committed. Under a burst this runs once per answer: one tuple
        per call, no future or coroutine."""
        if self._closed or not self._thread_running:
            raise BackendUnavailable(f"the SQLite file {self.path} is not open")
        assert self._loop is not None
        if not self._pending:
            self._loop.call_soon(self._hand_over)
        self._pending.append((work, args, then))

    def _hand_over(self) -> None:
        """Every call of this loop iteration to the thread at once: one wake-up, and one
        transaction for all the answers a single read of the sockets brought."""
        calls, self._pending = self._pending, []
        if not calls:
            return
        with self._handing:
            if self._thread_running:
                self._calls.put(calls)
                return
        self._settle([(then, 0, BackendUnavailable("the SQLite file was closed"))
                      for _, _, then in calls], [], [])

    def _run(self, opened: asyncio.Future[None]) -> None:
        try:
            connection = self._open()
        except Exception as exc:
            self._to_loop(settle, opened, None, BackendUnavailable(
                f"cannot open the SQLite file {self.path}: {exc}"))
            return
        writer = _Writer(connection, self.retention_s, self.inactive_s)
        with self._handing:
            self._thread_running = True
        self._to_loop(settle, opened, None, None)
        try:
            while True:
                first = self._calls.get()
                if first is None:
                    return
                batch = first
                stop = False
                while len(batch) < BATCH:
                    try:
                        more = self._calls.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.extend(more)
                self._run_batch(writer, batch)
                if stop:
                    return
        finally:
            with self._handing:
                self._thread_running = False
            connection.close()
            self._drain()

    def _run_batch(self, writer: _Writer, batch: list[_Call]) -> None:
        writer.begin()
        results: list[_Result] = []
        try:
            for work, args, then in batch:
                try:
                    results.append((then, work(writer, *args), None))
                except (CodeTaken, SessionGone, VersionConflict) as refusal:
                    results.append((then, 0, refusal))
            writer.finish()
            if writer.db.in_transaction:
                writer.db.execute("COMMIT")
        except Exception as exc:
            # A failed statement (disk full, I/O error) or a bug: nothing of the batch stays.
            log.error("a SQLite transaction of %d calls failed: %s", len(batch), exc)
            if writer.db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    writer.db.execute("ROLLBACK")
            # What the thread remembered may include the rolled-back writes: read it again.
            writer.known.clear()
            failure = BackendUnavailable(f"SQLite: {exc}")
            self._to_loop(self._settle, [(then, 0, failure) for _, _, then in batch], [], [])
            return
        self._to_loop(self._settle, results, writer.appended, writer.gone)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            connection.close()
            raise RuntimeError(f"written by a newer Attune (schema {version}); upgrade Attune")
        connection.executescript(SCHEMA)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return connection

    def _drain(self) -> None:
        """After the thread stops: nobody may be left waiting."""
        stranded: list[_Result] = []
        while True:
            try:
                call = self._calls.get_nowait()
            except queue.Empty:
                break
            for _, _, then in call or []:
                stranded.append((then, 0, BackendUnavailable("the SQLite file was closed")))
        if stranded:
            self._to_loop(self._settle, stranded, [], [])

    def _to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(callback, *args)

    def _settle(self, results: list[_Result], appended: list[tuple[str, int, bytes]],
                gone: list[str]) -> None:
        """On the loop, after a commit: deliver the new entries, tell of removed sessions, then
        answer the callers."""
        deliver = self._deliver
        if deliver is not None:
            for session_id, offset, entry in appended:
                if session_id in self._subscribed:
                    try:
                        deliver(session_id, offset, entry)
                    except Exception:
                        log.exception("delivering entry %d of session %s failed", offset,
                                      session_id)
        for session_id in gone:
            self._presence.pop(session_id, None)
            if session_id in self._subscribed and self._gone is not None:
                try:
                    self._gone(session_id)
                except Exception:
                    log.exception("handling the removal of session %s failed", session_id)
        for then, value, error in results:
            try:
                then(value, error)
            except Exception:
                log.exception("answering a SQLite call failed")

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def lock(path: Path) -> FileLock:
    """Hold ``<path>.lock`` until ``release()``; raises DataFolderBusy if another process holds it.

    The lock is the operating system's (``flock`` on Unix, ``msvcrt.locking`` on Windows, through
    the ``filelock`` library), so the system frees it when the process dies, ``kill -9``
    included, and a stale lock file never stands in the way. A file system without such locks
    is refused rather than quietly trusted with a lock file that a crash would leave behind.
    The holder's pid is written into the file, for whoever wonders which process it is.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    held = FileLock(f"{path}.lock", timeout=0, thread_local=False, fallback_to_soft=False,
                    on_acquired=_write_pid)
    try:
        held.acquire()
    except Timeout:
        raise DataFolderBusy(
            f"another Attune process is using {path}; stop it, or give this one another data "
            "folder (--data) or backend") from None
    except OSError as exc:
        raise OSError(exc.errno, f"cannot lock {path}.lock ({exc.strerror}): put the data "
                      "folder on a local file system") from exc
    return held


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())


def backup(path: Path, destination: Path) -> None:
    """A consistent copy of a live file (SQLite's online backup: the server goes on writing;
    the copy is the file as of one committed transaction). Never copy the file with ``cp``
    while a server runs: the newest commits are in ``-wal`` beside it."""
    if not path.is_file():
        raise FileNotFoundError(f"no Attune data file at {path}")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(destination)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()

