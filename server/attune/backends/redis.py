"""The shared backend: sessions live in Redis (or Valkey), so any node can serve any session.

Keys of session ``S`` share the hash tag ``{S}``, so on a Redis Cluster a whole session lives on
one shard and every script below touches one slot::

    attune:{S}:info      HASH    record (the encoded SessionInfo) and code (its join code)
    attune:{S}:log       LIST    the entries; RPUSH returns the new length, which is the offset
    attune:{S}:presence  HASH    node id -> participants connected to that node
    attune:{S}:alive     ZSET    node id -> when that node's presence expires (ms, Redis clock)
    attune:code:{CODE}   STRING  the id of the open session holding the join code
    attune:{library}:scenarios HASH  saved scenario id -> its bytes
    attune:{library}:versions  HASH  saved scenario id -> its version

The library's two hashes share one hash tag, so the compare-and-set scripts touch one slot.

The log is the source of truth: every node folds it in order to rebuild the same replica (see
``attune.core.session``), so it is a plain LIST, never trimmed while the session lives, rather
than a capped Stream. ``append`` batches: the entries of a session queued while the previous
batch was out go in one Lua script call that checks the session exists, RPUSHes them all and
PUBLISHes them as one message on the channel ``attune:{S}:log`` (``<first offset> <length>...\\n``
then the entries): the offsets are exact and consecutive, the write and the fan-out are atomic,
and a batch costs one publish however many nodes and sockets listen. ``delete`` publishes
``gone`` on the same channel.

Pub/sub is at most once, so a listener task remembers the last offset it delivered per subscribed
session; after a reconnect, and once a second anyway, it compares with the list's length and
delivers what it missed from the list itself. Every call is bounded by ``timeout`` and turns any
Redis failure into ``BackendUnavailable``; the listener reconnects by itself with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError

from attune.backends.base import (
    INACTIVE_S,
    Appended,
    Backend,
    CodeTaken,
    Deliver,
    Gone,
    VersionConflict,
)
from attune.core.errors import BackendUnavailable, SessionGone

T = TypeVar("T")

log = logging.getLogger("attune.backend.redis")

TIMEOUT = 2.0
"""Seconds any one Redis call may take before the backend reports itself unavailable."""
SYNC_INTERVAL = 1.0
"""Seconds between checks that every subscribed session's log was delivered up to its end."""
PING_INTERVAL = 2.0
"""Seconds between pings on the pub/sub connection, so a silent dead link is noticed."""
PRESENCE_TTL_MS = 15_000
"""A node's presence counts vanish this long after its last heartbeat (a SIGKILLed node's too)."""
HEARTBEAT_INTERVAL = 5.0
PROVISIONAL_MS = 60_000
"""A session record stays this short-lived until its join code is claimed, so a node dying in
between leaves nothing behind."""
APPEND_BATCH = 1000
"""Entries of one session in one script call at most (each is an argument of its RPUSH)."""
READ_PAGE = 2000
"""Entries per LRANGE when reading a log, so each call stays small and bounded."""
BACKOFF = (0.05, 1.0)
"""First and longest wait between reconnection attempts of the listener."""

# KEYS: info; ARGV: record, code, provisional lifetime (ms).
CREATE = """
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'code', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
"""

# KEYS: info, log; ARGV: channel, inactivity (ms), then one or more entries. Refuses (0) when the
# session is gone, so a deleted or expired session's log is never recreated with offsets that
# restart at 1. An open session's record and log live for the inactivity period after its latest
# entry; an ended one's log expires with its record. All the entries go into the list with one
# RPUSH and out with one PUBLISH: "<first offset> <length of each entry>...\n<the entries>".
# Returns the offset of the last entry.
APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = redis.call('RPUSH', KEYS[2], unpack(ARGV, 3))
if redis.call('HEXISTS', KEYS[1], 'ended') == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
else
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 and redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
end
local head = {last - (#ARGV - 2) + 1}
for i = 3, #ARGV do head[#head + 1] = #ARGV[i] end
redis.call('PUBLISH', ARGV[1], table.concat(head, ' ') .. '\\n' .. table.concat(ARGV, '', 3))
return last
"""

# KEYS: info, log, presence, alive; ARGV: retention (ms). The first end marks the record and sets
# every deadline; a later one changes nothing.
END = """
local code = redis.call('HGET', KEYS[1], 'code')
if code and redis.call('HSETNX', KEYS[1], 'ended', '1') == 1 then
  for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[1]) end
end
return code
"""

# KEYS: info, log, presence, alive; ARGV: channel.
DELETE = """
local code = redis.call('HGET', KEYS[1], 'code')
redis.call('DEL', unpack(KEYS))
redis.call('PUBLISH', ARGV[1], 'gone')
return code
"""

# KEYS: code key; ARGV: expected holder ('' for none), new holder ('' deletes), its lifetime
# (ms). Compare and set.
SWAP_CODE = """
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
"""

# KEYS: info, presence, alive; ARGV: node, count, ttl (ms).
SET_PRESENCE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local now = redis.call('TIME')
local deadline = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + ARGV[3]
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[3], deadline, ARGV[1])
else
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = ARGV[3] * 2 end
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return 1
"""

# KEYS: scenarios, versions; ARGV: id, expected version, data ('' with delete '1' removes).
# Returns the new version, or minus one minus the current version when it is not the expected one.
LIBRARY_SET = """
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if current ~= tonumber(ARGV[2]) or (ARGV[4] == '1' and current == 0) then
  return -1 - current
end
if ARGV[4] == '1' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], current + 1)
return current + 1
"""
# KEYS: scenarios, versions. Both hashes read at once, so data and version always match.
LIBRARY_ALL = """
return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
"""

# KEYS: scenarios, versions; ARGV: id. Version and data (false when absent).
LIBRARY_GET = """
return {redis.call('HGET', KEYS[2], ARGV[1]), redis.call('HGET', KEYS[1], ARGV[1])}
"""
LIBRARY_KEYS = ["attune:{library}:scenarios", "attune:{library}:versions"]

# KEYS: presence, alive. Counts of nodes whose heartbeat is current; drops the others.
PRESENCE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ms)) do
  redis.call('HDEL', KEYS[1], node)
  redis.call('ZREM', KEYS[2], node)
end
local total = 0
for _, count in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(count) end
return total
"""


def info_key(session_id: str) -> str:
    return f"attune:{{{session_id}}}:info"


def log_key(session_id: str) -> str:
    """Also the name of the session's pub/sub channel."""
    return f"attune:{{{session_id}}}:log"


def session_keys(session_id: str) -> list[str]:
    """Every key a session owns, all in one hash slot (its code key aside)."""
    tag = f"attune:{{{session_id}}}"
    return [f"{tag}:info", f"{tag}:log", f"{tag}:presence", f"{tag}:alive"]


def code_key(code: str) -> str:
    return f"attune:code:{{{code}}}"


def code_refresh_s(inactive_s: float) -> float:
    """Seconds between renewals of an active session's code key by a node that appends to it.

    The code key lives in another slot than the session, so no script can expire both together:
    the key gets the inactivity period plus two of these, and every node appending to a session
    renews it at most once per interval. So the key outlives its session's last append by at
    least the inactivity period (the session's own lifetime) and, once the session expired for
    inactivity, is gone within three intervals (three minutes at the default seven days).
    """
    return min(60.0, inactive_s / 10)


def _redis_url(url: str) -> str:
    """redis-py knows redis:// and rediss://; Valkey users may write valkey:// and valkeys://."""
    scheme, sep, rest = url.partition("://")
    return {"valkey": "redis", "valkeys": "rediss"}.get(scheme, scheme) + sep + rest


def connect(url: str, timeout: float) -> tuple[Redis | RedisCluster, list[Redis]]:
    """A client whose every connection and call is bounded by ``timeout``, without retries,
    and the clients of the Sentinels it asks (to close with it).

    ``redis://[:password@]host:port/db`` reaches one server; with ``?sentinel=NAME`` the hosts
    (comma-separated, port 26379 by default) are Sentinels, asked for the current master of
    ``NAME`` on every new connection, so a failover is followed by reconnecting; with
    ``?cluster=yes`` the host is any node of a Redis Cluster, which tells the client the rest.
    """
    url = _redis_url(url)
    bounds: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
    }
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if query.pop("cluster", ["no"])[0].lower() in ("yes", "true", "1"):
        plain = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        return RedisCluster.from_url(plain, **bounds), []
    service = query.get("sentinel")
    if not service:
        return Redis.from_pool(BlockingConnectionPool.from_url(
            url, max_connections=64, timeout=timeout, **bounds)), []
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = (unquote(part) for part in userinfo.partition(":"))
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "26379")
        sentinels.append((name, int(port)))
    sentinel = Sentinel(sentinels, sentinel_kwargs=dict(bounds), **bounds)  # type: ignore[no-untyped-call]
    master: Redis = sentinel.master_for(
        service[0], db=int(parts.path.strip("/") or 0), username=username or None,
        password=password or None, ssl=parts.scheme == "rediss",
    )
    return master, list(sentinel.sentinels)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _raw(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


_Append = tuple[bytes, Appended]
"""A queued append: the entry, and the caller waiting for its offset."""


def published(data: bytes) -> list[tuple[int, bytes]]:
    """The (offset, entry) pairs of one message the append script published."""
    head, _, body = data.partition(b"\n")
    first, *lengths = head.split(b" ")
    offset = int(first)
    if not lengths:  # the single-entry form "<offset>\n<entry>"
        return [(offset, body)]
    entries, at = [], 0
    for i, length in enumerate(map(int, lengths)):
        entries.append((offset + i, body[at:at + length]))
        at += length
    return entries


class _Subscription:
    __slots__ = ("gone", "last")

    def __init__(self) -> None:
        self.last = 0
        """Highest offset delivered (or known to be read by the node) for this session."""
        self.gone = False


class RedisBackend(Backend):
    """Sessions in Redis or Valkey: one server, the master behind Sentinel, or a Cluster.

    ``url``: ``redis://[[user]:password@]host:port/db`` (``rediss://`` for TLS); with
    ``?sentinel=NAME`` the hosts are Sentinels, with ``?cluster=yes`` a Cluster node (see
    ``connect``).
    """

    def __init__(self, url: str, retention_s: float, inactive_s: float = INACTIVE_S, *,
                 timeout: float = TIMEOUT) -> None:
        self.node_id = secrets.token_hex(4)
        self.retention_ms = max(1, int(retention_s * 1000))
        self.inactive_ms = max(1, int(inactive_s * 1000))
        self.code_refresh_s = code_refresh_s(inactive_s)
        self.code_ms = self.inactive_ms + int(2000 * self.code_refresh_s)
        """The code key's lifetime, renewed while the session is active (``code_refresh_s``)."""
        self.timeout = timeout
        self.presence_ttl_ms = PRESENCE_TTL_MS
        self._redis, self._sentinels = connect(url, timeout)
        self._create = self._redis.register_script(CREATE)
        self._append = self._redis.register_script(APPEND)
        self._end = self._redis.register_script(END)
        self._delete = self._redis.register_script(DELETE)
        self._swap_code = self._redis.register_script(SWAP_CODE)
        self._set_presence = self._redis.register_script(SET_PRESENCE)
        self._presence = self._redis.register_script(PRESENCE)
        self._library_set = self._redis.register_script(LIBRARY_SET)
        self._library_all = self._redis.register_script(LIBRARY_ALL)
        self._library_get = self._redis.register_script(LIBRARY_GET)
        self._deliver: Deliver | None = None
        self._gone: Gone | None = None
        self._subs: dict[str, _Subscription] = {}
        self._present: dict[str, int] = {}
        """This node's non-zero presence counts, re-sent with every heartbeat."""
        self._pubsub: PubSub | None = None
        """The listener's connection while it is subscribed and reading; None otherwise."""
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._resync = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        """Kept from ``start`` for the appends: ``get_running_loop()`` makes a ``getpid`` call
        every time."""
        self._appends: dict[str, list[_Append]] = {}
        """Appends waiting for the next batch, per session, in order."""
        self._flushing = False
        self._flusher: asyncio.Task[None] | None = None
        self._singles: set[asyncio.Task[None]] = set()
        self._code_renewals: dict[str, float] = {}
        """Session id -> when (monotonic) this node next renews its code key's lifetime."""
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        """The background loops check it as well as cancellation, so that ``close`` stops them
        even if a cancellation is lost inside a client call."""

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, deliver: Deliver, gone: Gone | None = None) -> None:
        """Start the listener; ``gone`` (optional) hears of sessions deleted by any node."""
        self._deliver = deliver
        self._gone = gone
        self._loop = asyncio.get_running_loop()
        self._running = True
        self._tasks = [asyncio.create_task(work()) for work in
                       (self._listen, self._sync_forever, self._heartbeat)]

    async def close(self) -> None:
        self._deliver = None
        self._gone = None
        self._running = False
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        self._tasks = []
        if self._singles:
            await asyncio.wait(list(self._singles), timeout=self.timeout)
        for client in (self._redis, *self._sentinels):
            with contextlib.suppress(BackendUnavailable):
                await self._call(client.aclose())

    async def ready(self) -> bool:
        """True when Redis answers a PING and the listener is subscribed."""
        try:
            await self._call(self._redis.ping())
        except BackendUnavailable:
            return False
        return self._pubsub is not None

    # --- sessions ----------------------------------------------------------------------------

    async def create(self, session_id: str, code: str, info: bytes) -> None:
        # The record first (short-lived), then the code: a code whose session has no record is
        # then always stale (deleted, expired, or its node died mid-create) and may be reused.
        await self._call(self._create(keys=[info_key(session_id)],
                                      args=[info, code, PROVISIONAL_MS]))
        claimed = await self._call(self._redis.set(code_key(code), session_id, nx=True,
                                                   px=self.code_ms))
        if not claimed:
            # Taken, unless it was freed meanwhile or its holder is gone: then take it over, if
            # nobody else did in between.
            found = await self._call(self._redis.get(code_key(code)))
            holder = _text(found) if found is not None else ""
            taken = bool(holder) and bool(await self._call(self._redis.exists(info_key(holder))))
            if taken or not await self._call(self._swap_code(
                    keys=[code_key(code)], args=[holder, session_id, self.code_ms])):
                await self._call(self._redis.delete(info_key(session_id)))
                raise CodeTaken(code)
        await self._call(self._redis.pexpire(info_key(session_id), self.inactive_ms))
        self._code_renewals[session_id] = time.monotonic() + self.code_refresh_s

    async def lookup(self, code: str) -> str | None:
        """The code's holder, if its record still exists: a session that expired for inactivity
        leaves its code key behind for up to three ``code_refresh_s`` (another slot, so no
        script can expire both), and ``create`` takes such a stale code over."""
        found = await self._call(self._redis.get(code_key(code)))
        if found is None:
            return None
        holder = _text(found)
        return holder if await self._call(self._redis.exists(info_key(holder))) else None

    async def info(self, session_id: str) -> bytes | None:
        record = await self._call(self._redis.hget(info_key(session_id), "record"))
        return _raw(record) if record is not None else None

    def append_then(self, session_id: str, entry: bytes, then: Appended) -> int:
        """Appends wait in a batch: everything queued while a batch is out goes in the next, as
        one script call per session (one RPUSH, one PUBLISH for all its entries) and, on a single
        server, one pipeline for all the sessions. Under a burst of answers every caller waits
        for one round trip, and Redis does its work once per batch, not once per answer. The
        offset comes back once the entry is in Redis; nothing is acknowledged before."""
        self._appends.setdefault(session_id, []).append((entry, then))
        if not self._flushing:
            self._flushing = True
            self._flusher = asyncio.create_task(self._flush_appends())
        return 0

    def _appended(self, session_id: str, appends: list[_Append], last: int) -> None:
        """A batch of the session's appends is in Redis (``last``: its last offset; 0: the
        session is gone and nothing was stored): each learns its offset."""
        if not last:
            self._code_renewals.pop(session_id, None)
            self._mark_gone(session_id)
            _fail_all(appends, SessionGone(session_id))
            return
        if self._code_renewals.get(session_id, 0.0) <= time.monotonic():
            self._renew_code(session_id)
        first = last - len(appends) + 1
        for i, (_, then) in enumerate(appends):
            _tell(then, first + i, None)

    def _renew_code(self, session_id: str) -> None:
        """The session is active: keep its code key alive a while longer (``code_refresh_s``),
        in the background, once per interval however many answers arrive."""
        self._code_renewals[session_id] = time.monotonic() + self.code_refresh_s

        async def renew() -> None:
            try:
                code = await self._call(self._redis.hget(info_key(session_id), "code"))
                if code is None:
                    self._code_renewals.pop(session_id, None)
                    return
                await self._call(self._redis.pexpire(code_key(_text(code)), self.code_ms))
            except BackendUnavailable:
                self._code_renewals[session_id] = 0.0  # the next append tries again

        self._singles.add(task := asyncio.create_task(renew()))
        task.add_done_callback(self._singles.discard)

    async def _flush_appends(self) -> None:
        try:
            while self._appends:
                queued, self._appends = self._appends, {}
                batch = [(session_id, appends[i:i + APPEND_BATCH])
                         for session_id, appends in queued.items()
                         for i in range(0, len(appends), APPEND_BATCH)]
                try:
                    results = await self._call(self._append_all(batch))
                except Exception as exc:
                    # Whatever went wrong, nobody may be left waiting for an offset.
                    for _, appends in batch:
                        _fail_all(appends, BackendUnavailable(f"Redis: {exc}"))
                    continue
                for (session_id, appends), result in zip(batch, results, strict=True):
                    if isinstance(result, NoScriptError):
                        # A pipeline does not load scripts: the single call does, once.
                        self._spawn_single(session_id, appends)
                    elif isinstance(result, Exception):
                        _fail_all(appends, BackendUnavailable(f"Redis: {result}"))
                    else:
                        self._appended(session_id, appends, int(result))
        finally:
            self._flushing = False

    def _append_args(self, session_id: str, appends: list[_Append]) -> list[Any]:
        return [log_key(session_id), self.inactive_ms, *(entry for entry, _ in appends)]

    async def _append_all(self, batch: list[tuple[str, list[_Append]]]) -> list[Any]:
        if isinstance(self._redis, RedisCluster):
            # A Cluster refuses scripts in pipelines: one call per session, all at once (each
            # goes to its session's shard).
            calls = [self._append(keys=[info_key(s), log_key(s)],
                                  args=self._append_args(s, appends)) for s, appends in batch]
            return list(await asyncio.gather(*calls, return_exceptions=True))
        pipe = self._redis.pipeline(transaction=False)
        for session_id, appends in batch:
            pipe.evalsha(self._append.sha, 2, info_key(session_id), log_key(session_id),
                         *self._append_args(session_id, appends))
        return list(await pipe.execute(raise_on_error=False))

    def _spawn_single(self, session_id: str, appends: list[_Append]) -> None:
        async def single() -> None:
            try:
                last = int(await self._call(self._append(
                    keys=[info_key(session_id), log_key(session_id)],
                    args=self._append_args(session_id, appends))))
            except BackendUnavailable as exc:
                _fail_all(appends, exc)
            else:
                self._appended(session_id, appends, last)

        self._singles.add(task := asyncio.create_task(single()))
        task.add_done_callback(self._singles.discard)

    async def read(self, session_id: str, after: int) -> list[tuple[int, bytes]]:
        entries: list[tuple[int, bytes]] = []
        while True:
            start = after + len(entries)
            page = await self._call(self._redis.lrange(
                log_key(session_id), start, start + READ_PAGE - 1))
            entries.extend(enumerate(map(_raw, page), start=start + 1))
            if len(page) < READ_PAGE:
                return entries

    async def end(self, session_id: str) -> None:
        self._code_renewals.pop(session_id, None)
        code = await self._call(self._end(keys=session_keys(session_id),
                                          args=[self.retention_ms]))
        if code is not None:
            await self._call(self._swap_code(keys=[code_key(_text(code))],
                                             args=[session_id, "", 0]))

    async def delete(self, session_id: str) -> None:
        code = await self._call(self._delete(keys=session_keys(session_id),
                                             args=[log_key(session_id)]))
        self._present.pop(session_id, None)
        self._code_renewals.pop(session_id, None)
        if code is not None:
            await self._call(self._swap_code(keys=[code_key(_text(code))],
                                             args=[session_id, "", 0]))

    # --- presence ----------------------------------------------------------------------------

    async def set_presence(self, session_id: str, connected: int) -> None:
        if connected > 0:
            self._present[session_id] = connected
        else:
            self._present.pop(session_id, None)
        await self._call(self._set_presence(
            keys=[info_key(session_id), *session_keys(session_id)[2:]],
            args=[self.node_id, connected, self.presence_ttl_ms],
        ))

    async def presence(self, session_id: str) -> int:
        return int(await self._call(self._presence(keys=session_keys(session_id)[2:])))

    async def _heartbeat(self) -> None:
        """Keep this node's presence counts alive; they lapse if the process dies."""
        while self._running:
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            for session_id, connected in list(self._present.items()):
                try:
                    await self.set_presence(session_id, connected)
                except BackendUnavailable:
                    break

    # --- delivery ----------------------------------------------------------------------------

    async def subscribe(self, session_id: str) -> None:
        """Never fails: if Redis is away, the listener subscribes when it is back, and resyncs."""
        if session_id in self._subs:
            return
        subscription = self._subs[session_id] = _Subscription()
        pubsub = self._pubsub
        if pubsub is None:
            return
        channel = log_key(session_id)
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations[channel] = confirmed
        try:
            await self._call(pubsub.subscribe(channel))
            # Wait for Redis to confirm, so that what the node reads next joins up with what
            # pub/sub delivers from now on.
            await self._call(asyncio.shield(confirmed))
            length = await self._call(self._redis.llen(log_key(session_id)))
            subscription.last = max(subscription.last, int(length))
        except BackendUnavailable:
            pass
        finally:
            self._confirmations.pop(channel, None)

    async def unsubscribe(self, session_id: str) -> None:
        if self._subs.pop(session_id, None) is None:
            return
        pubsub = self._pubsub
        if pubsub is not None:
            with contextlib.suppress(BackendUnavailable):
                await self._call(pubsub.unsubscribe(log_key(session_id)))

    async def _listen(self) -> None:
        """Read pub/sub for as long as the backend runs, reconnecting with backoff."""
        delay = BACKOFF[0]
        control = f"attune:node:{self.node_id}"
        while self._running:
            if isinstance(self._redis, RedisCluster):
                # The cluster client learns the slot map on its first command; pub/sub needs it.
                try:
                    await self._call(self._redis.initialize())
                except BackendUnavailable:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, BACKOFF[1])
                    continue
            pubsub = self._redis.pubsub()
            try:
                subscribed = {log_key(s) for s in self._subs}
                await self._call(pubsub.subscribe(control, *subscribed))
                self._pubsub = pubsub
                late = {log_key(s) for s in self._subs} - subscribed
                if late:
                    await self._call(pubsub.subscribe(*late))
                self._resync.set()
                delay = BACKOFF[0]
                await self._read(pubsub)
            except BackendUnavailable as exc:
                if self._pubsub is not None:
                    log.warning("lost the Redis pub/sub connection: %s", exc)
            except Exception:
                # Never let the listener die: a node without it would silently go stale.
                log.exception("the Redis pub/sub listener failed; restarting it")
            finally:
                self._pubsub = None
                with contextlib.suppress(BackendUnavailable):
                    await self._call(pubsub.aclose())  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF[1])

    async def _read(self, pubsub: PubSub) -> None:
        heard = pinged = time.monotonic()
        while self._running:
            message = await self._call(pubsub.get_message(timeout=PING_INTERVAL / 2))
            now = time.monotonic()
            if message is not None:
                heard = now
                self._on_message(message)
            elif now - heard > PING_INTERVAL + self.timeout:
                raise BackendUnavailable("no answer on the pub/sub connection")
            if now - pinged > PING_INTERVAL:
                pinged = now
                await self._call(pubsub.ping())

    def _on_message(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if message.get("channel") is None:
            return
        channel = message["channel"].decode()
        if kind == "subscribe":
            confirmed = self._confirmations.get(channel)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            return
        if kind != "message":
            return
        session_id = channel.split("{", 1)[-1].split("}", 1)[0]
        data: bytes = message["data"]
        if data == b"gone":
            self._mark_gone(session_id)
            return
        self._hand_over(session_id, published(data))

    def _hand_over(self, session_id: str, entries: Iterable[tuple[int, bytes]]) -> None:
        subscription = self._subs.get(session_id)
        if subscription is None or self._deliver is None:
            return
        for offset, entry in entries:
            subscription.last = max(subscription.last, offset)
            try:
                self._deliver(session_id, offset, entry)
            except Exception:
                log.exception("delivering entry %d of session %s failed", offset, session_id)

    def _mark_gone(self, session_id: str) -> None:
        subscription = self._subs.get(session_id)
        if subscription is None or subscription.gone:
            return
        subscription.gone = True
        if self._gone is not None:
            try:
                self._gone(session_id)
            except Exception:
                log.exception("handling the deletion of session %s failed", session_id)

    async def _sync_forever(self) -> None:
        while self._running:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SYNC_INTERVAL):
                    await self._resync.wait()
            self._resync.clear()
            if self._pubsub is None:
                continue
            try:
                await self.sync()
            except BackendUnavailable as exc:
                log.warning("could not check subscribed logs: %s", exc)

    async def sync(self) -> None:
        """Deliver whatever pub/sub missed: entries past the last offset delivered per session."""
        sessions = list(self._subs)
        if not sessions:
            return
        # What had been delivered when the lengths were asked for: entries pub/sub delivers
        # while the answer is on its way are past the length read, not missing from the log.
        delivered = {s: self._subs[s].last for s in sessions}
        async with self._redis.pipeline(transaction=False) as pipe:
            for session_id in sessions:
                pipe.llen(log_key(session_id))
                pipe.exists(info_key(session_id))
            replies = await self._call(pipe.execute())
        for session_id, length, exists in zip(sessions, replies[::2], replies[1::2], strict=True):
            subscription = self._subs.get(session_id)
            if subscription is None:
                continue
            if not exists:
                self._mark_gone(session_id)
            elif length > subscription.last:
                self._hand_over(session_id, await self.read(session_id, subscription.last))
            elif length < delivered[session_id]:
                log.error("the log of session %s went back from %d to %d entries: Redis lost "
                          "acknowledged writes", session_id, delivered[session_id], length)
                subscription.last = length

    # --- the scenario library ----------------------------------------------------------------

    async def library_list(self) -> dict[str, tuple[int, bytes]]:
        data, numbers = await self._call(self._library_all(keys=LIBRARY_KEYS))
        versions = dict(zip(map(_text, numbers[::2]), numbers[1::2], strict=True))
        return {_text(key): (int(versions[_text(key)]), _raw(value))
                for key, value in zip(data[::2], data[1::2], strict=True)
                if _text(key) in versions}

    async def library_get(self, scenario_id: str) -> tuple[int, bytes] | None:
        version, data = await self._call(self._library_get(keys=LIBRARY_KEYS,
                                                           args=[scenario_id]))
        if version is None or data is None:
            return None
        return int(version), _raw(data)

    async def library_put(self, scenario_id: str, data: bytes, expected: int) -> int:
        result = int(await self._call(self._library_set(
            keys=LIBRARY_KEYS, args=[scenario_id, expected, data, "0"])))
        if result < 0:
            raise VersionConflict(scenario_id, -1 - result)
        return result

    async def library_delete(self, scenario_id: str, expected: int) -> None:
        result = int(await self._call(self._library_set(
            keys=LIBRARY_KEYS, args=[scenario_id, expected, "", "1"])))
        if result < 0:
            raise VersionConflict(scenario_id, -1 - result)

    # --- plumbing ----------------------------------------------------------------------------

    async def _call(self, work: Awaitable[T]) -> T:
        """Await one Redis call within ``timeout``; any failure means the store is unavailable."""
        try:
            async with asyncio.timeout(self.timeout):
                return await work
        except (RedisError, OSError, TimeoutError) as exc:
            raise BackendUnavailable(f"Redis: {exc or type(exc).__name__}") from exc


def _fail_all(appends: list[_Append], error: Exception) -> None:
    for _, then in appends:
        _tell(then, 0, error)


def _tell(then: Appended, offset: int, error: BaseException | None) -> None:
    """One waiting append's outcome; a failing callback must not strand the others."""
    try:
        then(offset, error)
    except Exception:
        log.exception("answering an append failed")
