"""The backend contract (``attune.backends.base``), one suite run over every backend.

Each test takes the ``store`` fixture and asks it for nodes: backend instances as separate server
processes would hold them. The memory and SQLite backends serve one process, so their nodes share
one instance (every node's recorder hears every delivery); the Redis backend gives each node its
own instance and connections to one real Redis server (or Cluster). To add a backend, add a
parameter to ``store`` that builds it; the tests below must pass unchanged. Tests further down
check what only one backend can show: for SQLite, a reopened file and a blocked writer; for
Redis, key expiry, key removal, hash tags, and outages of the server itself.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from attune.backends import Backend, CodeTaken, VersionConflict
from attune.backends.memory import MemoryBackend
from attune.backends.redis import RedisBackend, code_key, info_key, log_key, session_keys
from attune.backends.sqlite import DataFolderBusy, SQLiteBackend
from attune.core.errors import BackendUnavailable, SessionGone
from tests.support.redis_cluster import RedisClusterProcesses, quietly
from tests.support.redis_server import RedisProcess
from tests.support.redis_server import _binary as redis_binary
from tests.support.servers import free_port
from tests.support.waiting import until


class Recorder:
    """What one node was delivered: entries by session and offset, in arrival order."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[int, bytes]] = defaultdict(dict)
        self.order: dict[str, list[int]] = defaultdict(list)
        self.gone: list[str] = []

    def went(self, session_id: str) -> None:
        self.gone.append(session_id)

    def __call__(self, session_id: str, offset: int, entry: bytes) -> None:
        self.entries[session_id][offset] = entry
        self.order[session_id].append(offset)


class Store:
    """Builds nodes of one backend kind; ``redis`` is a client to inspect Redis directly."""

    def __init__(self, build: Callable[[float, float], Backend], shared: bool,
                 inspect: redis.Redis | redis.RedisCluster | None = None, url: str = "") -> None:
        self.build = build
        self.url = url
        self.shared = shared
        self.redis = inspect
        self.backends: list[Backend] = []
        self.recorders: list[Recorder] = []

    async def node(self, retention_s: float = 3600,
                   inactive_s: float = 3600) -> tuple[Backend, Recorder]:
        recorder = Recorder()
        self.recorders.append(recorder)
        if self.shared and self.backends:
            return self.backends[0], recorder
        backend = self.build(retention_s, inactive_s)
        if self.shared:
            def fan_out(session_id: str, offset: int, entry: bytes) -> None:
                for each in self.recorders:
                    each(session_id, offset, entry)

            def gone(session_id: str) -> None:
                for each in self.recorders:
                    each.went(session_id)
            await backend.start(fan_out, gone)
        else:
            await backend.start(recorder, recorder.went)
        self.backends.append(backend)
        return backend, recorder

    async def close(self) -> None:
        for backend in self.backends:
            await backend.close()


def new_session() -> tuple[str, str, bytes]:
    session_id = secrets.token_hex(8)
    return session_id, secrets.token_hex(3).upper(), b"record of " + session_id.encode()


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterProcesses]:
    cluster = RedisClusterProcesses(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis),
                        pytest.param("redis-cluster", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "memory":
        built = Store(MemoryBackend, shared=True, inspect=None)
    elif request.param == "sqlite":
        built = Store(lambda retention, inactive: SQLiteBackend(
            tmp_path / "attune.sqlite3", retention, inactive), shared=True, inspect=None)
    elif request.param == "redis":
        server: RedisProcess = request.getfixturevalue("redis_server")
        inspect = redis.Redis(port=server.port)
        built = Store(lambda retention, inactive: RedisBackend(server.url, retention, inactive),
                      shared=False, inspect=inspect, url=server.url)
    else:
        cluster: RedisClusterProcesses = request.getfixturevalue("redis_cluster")
        built = Store(lambda retention, inactive: RedisBackend(cluster.url, retention, inactive),
                      shared=False,
                      inspect=redis.RedisCluster(host="127.0.0.1", port=cluster.ports[0]),
                      url=cluster.url)
    try:
        yield built
    finally:
        await built.close()
        if built.redis is not None:
            built.redis.close()


# --- the contract, for every backend ----------------------------------------------------------


async def test_offsets_start_at_one_and_are_consecutive(store: Store) -> None:
    backend, _ = await store.node()
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    offsets = [await backend.append(session_id, f"e{i}".encode()) for i in range(5)]
    assert offsets == [1, 2, 3, 4, 5]
    assert await backend.read(session_id, 0) == [(i + 1, f"e{i}".encode()) for i in range(5)]
    assert await backend.read(session_id, 3) == [(4, b"e3"), (5, b"e4")]
    assert await backend.read(session_id, 5) == []


async def test_append_then_answers_each_append_once_in_the_order_of_the_calls(
    store: Store,
) -> None:
    """A burst of appends handed over at once, as the transport hands over answers: each offset
    comes back from ``append_then`` or is told to its callback, exactly once and never before the
    call returned, in the order of the calls; an append to a gone session fails with
    ``SessionGone``, raised or told."""
    backend, _ = await store.node()
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    told: dict[int, list[tuple[int, BaseException | None]]] = defaultdict(list)
    early: list[int] = []
    calling = -1

    def then_for(i: int) -> Callable[[int, BaseException | None], None]:
        def then(offset: int, error: BaseException | None) -> None:
            if calling == i:
                early.append(i)
            told[i].append((offset, error))
        return then

    returned = {}
    for i in range(50):
        calling = i
        returned[i] = backend.append_then(session_id, f"e{i}".encode(), then_for(i))
    calling = -1
    await eventually(lambda: all(returned[i] or told[i] for i in range(50)))
    assert early == []
    assert all(len(told[i]) == (0 if returned[i] else 1) for i in range(50))
    assert [returned[i] or told[i][0][0] for i in range(50)] == list(range(1, 51))
    assert all(error is None for calls in told.values() for _, error in calls)
    assert await backend.read(session_id, 0) == [(i + 1, f"e{i}".encode()) for i in range(50)]

    await backend.delete(session_id)
    late: list[tuple[int, BaseException | None]] = []
    try:
        assert backend.append_then(session_id, b"late", lambda *told: late.append(told)) == 0
    except SessionGone:
        pass
    else:
        await eventually(lambda: bool(late))
        assert len(late) == 1 and late[0][0] == 0 and isinstance(late[0][1], SessionGone)
    assert await backend.read(session_id, 0) == []


async def test_concurrent_appends_from_several_nodes_get_unique_consecutive_offsets(
    store: Store,
) -> None:
    nodes = [(await store.node())[0] for _ in range(3)]
    session_id, code, info = new_session()
    await nodes[0].create(session_id, code, info)
    sent = [(n, i) for i in range(40) for n in range(3)]
    offsets = await asyncio.gather(*(
        nodes[n].append(session_id, f"{n}:{i}".encode()) for n, i in sent
    ))
    assert sorted(offsets) == list(range(1, len(sent) + 1))
    log = await nodes[1].read(session_id, 0)
    assert [offset for offset, _ in log] == list(range(1, len(sent) + 1))
    # Each append's offset names exactly the entry it wrote, and each node's own entries keep
    # the order in which that node sent them.
    by_offset = dict(log)
    for (n, i), offset in zip(sent, offsets, strict=True):
        assert by_offset[offset] == f"{n}:{i}".encode()


async def test_every_subscribed_node_is_delivered_every_entry(store: Store) -> None:
    nodes = [await store.node() for _ in range(3)]
    session_id, code, info = new_session()
    await nodes[0][0].create(session_id, code, info)
    for backend, _ in nodes:
        await backend.subscribe(session_id)
    for i in range(20):
        await nodes[i % 3][0].append(session_id, f"e{i}".encode())
    expected = {i + 1: f"e{i}".encode() for i in range(20)}
    for _, recorder in nodes:
        await eventually(lambda r=recorder: r.entries[session_id] == expected)  # type: ignore[misc]
        assert recorder.order[session_id] == sorted(recorder.order[session_id])


async def test_read_fills_what_came_before_subscribing(store: Store) -> None:
    (writer, _), (reader, recorder) = await store.node(), await store.node()
    session_id, code, info = new_session()
    await writer.create(session_id, code, info)
    for i in range(3):
        await writer.append(session_id, f"early{i}".encode())
    await reader.subscribe(session_id)
    caught_up = dict(await reader.read(session_id, 0))
    await writer.append(session_id, b"late")
    await eventually(lambda: 4 in recorder.entries[session_id])
    caught_up.update(recorder.entries[session_id])
    assert caught_up == {1: b"early0", 2: b"early1", 3: b"early2", 4: b"late"}


async def test_unsubscribed_sessions_are_not_delivered(store: Store) -> None:
    backend, recorder = await store.node()
    watched, quiet = new_session(), new_session()
    for session_id, code, info in (watched, quiet):
        await backend.create(session_id, code, info)
    await backend.subscribe(watched[0])
    await backend.append(quiet[0], b"not for us")
    await backend.append(watched[0], b"for us")
    await eventually(lambda: recorder.entries[watched[0]] == {1: b"for us"})
    await backend.unsubscribe(watched[0])
    await backend.append(watched[0], b"after")
    await asyncio.sleep(0.1)
    assert quiet[0] not in recorder.entries
    assert recorder.entries[watched[0]] == {1: b"for us"}


async def test_lookup_and_info(store: Store) -> None:
    (one, _), (other, _) = await store.node(), await store.node()
    session_id, code, info = new_session()
    await one.create(session_id, code, info)
    assert await other.lookup(code) == session_id
    assert await other.info(session_id) == info
    assert await other.lookup("NOPE99") is None
    assert await other.info(secrets.token_hex(8)) is None
    assert await other.read(secrets.token_hex(8), 0) == []


async def test_a_taken_code_is_refused_and_nothing_is_stored(store: Store) -> None:
    (one, _), (other, _) = await store.node(), await store.node()
    first, code, info = new_session()
    second = secrets.token_hex(8)
    await one.create(first, code, info)
    with pytest.raises(CodeTaken):
        await other.create(second, code, b"second record")
    assert await other.info(second) is None
    assert await one.lookup(code) == first


async def test_end_frees_the_code_and_keeps_the_answers(store: Store) -> None:
    backend, _ = await store.node()
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    await backend.append(session_id, b"answer")
    await backend.end(session_id)
    await backend.end(session_id)
    assert await backend.lookup(code) is None
    assert await backend.info(session_id) == info
    assert await backend.read(session_id, 0) == [(1, b"answer")]
    successor = secrets.token_hex(8)
    await backend.create(successor, code, b"successor")
    assert await backend.lookup(code) == successor


async def test_ended_sessions_expire_after_the_retention_period(store: Store) -> None:
    backend, _ = await store.node(retention_s=0.05)
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    await backend.append(session_id, b"answer")
    await backend.end(session_id)

    async def expired() -> bool:
        return await backend.info(session_id) is None

    await until(expired, "the ended session expired", 5)
    assert await backend.read(session_id, 0) == []
    if store.redis is not None:
        assert list(store.redis.scan_iter(match=f"*{session_id}*")) == [], "no trace left"


async def test_delete_removes_the_session_its_code_and_every_entry(store: Store) -> None:
    (one, _), (other, _) = await store.node(), await store.node()
    session_id, code, info = new_session()
    await one.create(session_id, code, info)
    await one.set_presence(session_id, 2)
    for i in range(3):
        await one.append(session_id, f"answer{i}".encode())
    await other.delete(session_id)
    await other.delete(session_id)
    assert await one.info(session_id) is None
    assert await one.read(session_id, 0) == []
    assert await one.lookup(code) is None
    assert await one.presence(session_id) == 0
    await one.create(secrets.token_hex(8), code, b"reuses the code")
    if store.redis is not None:
        assert list(store.redis.scan_iter(match=f"*{session_id}*")) == []


async def test_presence_counts_this_node(store: Store) -> None:
    backend, _ = await store.node()
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    assert await backend.presence(session_id) == 0
    await backend.set_presence(session_id, 3)
    assert await backend.presence(session_id) == 3
    await backend.set_presence(session_id, 1)
    assert await backend.presence(session_id) == 1
    await backend.set_presence(session_id, 0)
    assert await backend.presence(session_id) == 0


async def test_ready(store: Store) -> None:
    backend, _ = await store.node()
    await until(backend.ready, "the backend is ready", 5)


async def test_a_deleted_session_refuses_appends_and_its_subscribers_hear_it(
    store: Store,
) -> None:
    (deleter, _), (watcher, recorder) = await store.node(), await store.node()
    session_id, code, info = new_session()
    await deleter.create(session_id, code, info)
    await watcher.subscribe(session_id)
    await deleter.append(session_id, b"answer")
    await deleter.delete(session_id)
    await eventually(lambda: session_id in recorder.gone)
    for backend in (deleter, watcher):
        with pytest.raises(SessionGone):
            await backend.append(session_id, b"late answer")
    assert await watcher.read(session_id, 0) == []
    assert await watcher.info(session_id) is None


async def test_an_expired_session_is_gone_like_a_deleted_one(store: Store) -> None:
    backend, recorder = await store.node(retention_s=0.05)
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    await backend.subscribe(session_id)
    await backend.append(session_id, b"answer")
    await backend.end(session_id)
    # Nobody asks for it: the subscribed node still hears that it went.
    await eventually(lambda: session_id in recorder.gone)
    with pytest.raises(SessionGone):
        await backend.append(session_id, b"late answer")
    assert await backend.info(session_id) is None
    assert await backend.read(session_id, 0) == []


async def test_sessions_never_ended_expire_after_the_inactivity_period(store: Store) -> None:
    backend, recorder = await store.node(inactive_s=1.0)
    active, idle = new_session(), new_session()
    for session_id, code, info in (active, idle):
        await backend.create(session_id, code, info)
        await backend.subscribe(session_id)
    # Appends are activity: the active session outlives the period three times over.
    for i in range(6):
        await backend.append(active[0], f"answer{i}".encode())
        await asyncio.sleep(0.5)
    assert await backend.info(active[0]) == active[2]
    assert await backend.lookup(active[1]) == active[0]
    assert len(await backend.read(active[0], 0)) == 6
    await eventually(lambda: idle[0] in recorder.gone)
    assert await backend.info(idle[0]) is None
    assert await backend.lookup(idle[1]) is None
    with pytest.raises(SessionGone):
        await backend.append(idle[0], b"too late")
    # Its code is free again.
    await backend.create(secrets.token_hex(8), idle[1], b"successor")
    await eventually(lambda: active[0] in recorder.gone, timeout=5)
    assert await backend.read(active[0], 0) == []


# --- what only SQLite can show ----------------------------------------------------------------


async def test_a_reopened_sqlite_file_has_every_session_code_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "attune.sqlite3"
    first = SQLiteBackend(path, 3600)
    await first.start(Recorder())
    session_id, code, info = new_session()
    ended, ended_code, ended_info = new_session()
    await first.create(session_id, code, info)
    await first.create(ended, ended_code, ended_info)
    await first.end(ended)
    offsets = await asyncio.gather(*(first.append(session_id, f"e{i}".encode())
                                     for i in range(50)))
    assert sorted(offsets) == list(range(1, 51))
    await first.close()
    again = SQLiteBackend(path, 3600)
    recorder = Recorder()
    await again.start(recorder)
    try:
        assert await again.lookup(code) == session_id
        assert await again.info(session_id) == info
        assert await again.read(session_id, 0) == [(i + 1, f"e{i}".encode()) for i in range(50)]
        assert await again.lookup(ended_code) is None
        assert await again.info(ended) == ended_info
        await again.subscribe(session_id)
        assert await again.append(session_id, b"after the restart") == 51
        assert recorder.entries[session_id] == {51: b"after the restart"}
    finally:
        await again.close()


async def test_a_second_process_cannot_open_the_same_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "attune.sqlite3"
    first, second = SQLiteBackend(path, 3600), SQLiteBackend(path, 3600)
    await first.start(Recorder())
    try:
        with pytest.raises(DataFolderBusy, match="another Attune process"):
            await second.start(Recorder())
    finally:
        await first.close()
    await second.start(Recorder())
    await second.close()


async def test_the_lock_is_held_by_a_process_and_freed_when_it_is_killed(tmp_path: Path) -> None:
    """The system's lock, not a marker file: a holder killed with SIGKILL leaves its lock file
    behind, and it stands in nobody's way."""
    path = tmp_path / "attune.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from attune.backends.sqlite import lock; held = lock(Path(sys.argv[1])); print('held', "
         "flush=True); time.sleep(60)", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert Path(f"{path}.lock").read_text() == f"{holder.pid}\n", "names its holder"
        with pytest.raises(DataFolderBusy, match="another Attune process is using"):
            await SQLiteBackend(path, 3600).start(Recorder())
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    assert Path(f"{path}.lock").exists()
    backend = SQLiteBackend(path, 3600)
    await backend.start(Recorder())
    try:
        assert Path(f"{path}.lock").read_text() == f"{os.getpid()}\n"
    finally:
        await backend.close()


async def test_a_blocked_sqlite_file_never_stalls_the_loop(tmp_path: Path) -> None:
    """Another program holding the file (a backup tool, say) delays commits, not the loop."""
    path = tmp_path / "attune.sqlite3"
    backend = SQLiteBackend(path, 3600)
    await backend.start(Recorder())
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        answer = asyncio.create_task(backend.append(session_id, b"answer"))
        for _ in range(3):
            await asyncio.sleep(0)  # other coroutines run while the commit waits for the file
            assert not answer.done(), "the event loop stalled while SQLite waited"
        await asyncio.sleep(0.6)  # time for the commit to be tried (and held back)
        assert not answer.done(), "acknowledged before it could be committed"
        blocker.execute("COMMIT")
        assert await asyncio.wait_for(answer, 10) == 1
    finally:
        blocker.close()
        await backend.close()


# --- what only Redis can show -----------------------------------------------------------------


@pytest.fixture
async def redis_store(redis_server: RedisProcess) -> AsyncIterator[Store]:
    inspect = redis.Redis(port=redis_server.port)
    built = Store(lambda retention, inactive: RedisBackend(redis_server.url, retention, inactive),
                  shared=False, inspect=inspect, url=redis_server.url)
    try:
        yield built
    finally:
        await built.close()
        inspect.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A Redis server of this test's own, to stop, pause and restart (with AOF on)."""
    server = RedisProcess(tmp_path / "redis", appendonly=True)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.process.send_signal(signal.SIGCONT)
        server.stop()


@pytest.mark.redis
def test_every_key_of_a_session_shares_its_hash_tag() -> None:
    session_id = "0123456789abcdef"
    for key in [*session_keys(session_id), info_key(session_id), log_key(session_id)]:
        assert key.split("{", 1)[1].split("}", 1)[0] == session_id


@pytest.mark.redis
async def test_end_sets_the_retention_period_on_every_key(redis_store: Store) -> None:
    backend, _ = await redis_store.node(retention_s=600)
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    await backend.set_presence(session_id, 1)
    await backend.append(session_id, b"answer")
    assert redis_store.redis is not None
    # Open, the record lives for the inactivity period (an hour here), renewed by each append.
    assert 3590 < redis_store.redis.ttl(info_key(session_id)) <= 3600
    await backend.end(session_id)
    keys = list(redis_store.redis.scan_iter(match=f"*{session_id}*"))
    assert {k.decode() for k in keys} == set(session_keys(session_id))
    # The record and the answers are kept for the retention period; presence is short-lived
    # anyway, and no key is left without a deadline.
    for key in keys:
        assert 0 < redis_store.redis.ttl(key) <= 600, key
    for key in (info_key(session_id), log_key(session_id)):
        assert 590 < redis_store.redis.ttl(key) <= 600, key
    assert redis_store.redis.exists(code_key(code)) == 0
    # Entries appended after the end expire with the rest, and a second end keeps the deadline.
    redis_store.redis.pexpire(info_key(session_id), 300_000)
    await backend.end(session_id)
    assert 290 < redis_store.redis.ttl(info_key(session_id)) <= 300


@pytest.mark.redis
async def test_a_log_created_after_the_end_expires_with_the_session(redis_store: Store) -> None:
    backend, _ = await redis_store.node(retention_s=600)
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    await backend.end(session_id)
    await backend.append(session_id, b"a command after the end")
    assert redis_store.redis is not None
    assert 590 < redis_store.redis.ttl(log_key(session_id)) <= 600


@pytest.mark.redis
async def test_appending_to_a_deleted_session_never_recreates_its_log(redis_store: Store) -> None:
    backend, _ = await redis_store.node()
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    await backend.delete(session_id)
    with pytest.raises(SessionGone):
        await backend.append(session_id, b"late answer")
    assert redis_store.redis is not None
    assert list(redis_store.redis.scan_iter(match=f"*{session_id}*")) == []


@pytest.mark.redis
async def test_other_nodes_hear_that_a_session_was_deleted(redis_store: Store) -> None:
    deleter, _ = await redis_store.node()
    gone: list[str] = []
    watcher = RedisBackend(redis_store.url, 3600)
    await watcher.start(Recorder(), gone.append)
    try:
        session_id, code, info = new_session()
        await deleter.create(session_id, code, info)
        await eventually(lambda: watcher._pubsub is not None)
        await watcher.subscribe(session_id)
        await deleter.delete(session_id)
        await eventually(lambda: gone == [session_id])
    finally:
        await watcher.close()


@pytest.mark.redis
async def test_a_stale_code_whose_session_is_gone_can_be_reused(redis_store: Store) -> None:
    backend, _ = await redis_store.node()
    assert redis_store.redis is not None
    redis_store.redis.set(code_key("STALE1"), "a-session-that-never-was")
    session_id = secrets.token_hex(8)
    await backend.create(session_id, "STALE1", b"record")
    assert await backend.lookup("STALE1") == session_id
    assert 3590 < redis_store.redis.ttl(info_key(session_id)) <= 3600


@pytest.mark.redis
async def test_the_code_key_of_an_inactive_session_lives_while_it_is_active_then_goes(
        redis_store: Store) -> None:
    """The code key is in another slot than its session, so it has its own lifetime, renewed
    by appends; once the session expired for inactivity it goes too instead of staying forever."""
    (one, recorder), (two, _) = await redis_store.node(inactive_s=1.0), \
        await redis_store.node(inactive_s=1.0)
    assert redis_store.redis is not None
    session_id, code, info = new_session()
    await one.create(session_id, code, info)
    await one.subscribe(session_id)
    assert 0 < redis_store.redis.pttl(code_key(code)) <= 1200
    # Both nodes append, for three times the period: the code keeps resolving on either.
    for i in range(12):
        await (one, two)[i % 2].append(session_id, f"answer{i}".encode())
        await asyncio.sleep(0.25)
        assert await two.lookup(code) == session_id
    await eventually(lambda: session_id in recorder.gone)
    assert await one.lookup(code) is None
    # Gone from Redis within three renewal intervals (0.1 s each here) of the session.
    inspect = redis_store.redis
    assert inspect is not None
    await eventually(lambda: not inspect.exists(code_key(code)), timeout=2)


@pytest.mark.redis
async def test_presence_sums_live_nodes_and_forgets_dead_ones(redis_store: Store) -> None:
    (one, _), (two, _) = await redis_store.node(), await redis_store.node()
    assert isinstance(two, RedisBackend)
    session_id, code, info = new_session()
    await one.create(session_id, code, info)
    await one.set_presence(session_id, 3)
    two.presence_ttl_ms = 200
    await two.set_presence(session_id, 2)
    assert await one.presence(session_id) == 5
    # The second node dies without a word: its heartbeat stops and its count lapses.
    await two.close()

    async def lapsed() -> bool:
        return await one.presence(session_id) == 3

    await until(lapsed, "the dead node's count lapsed", 5)


@pytest.mark.redis
async def test_entries_that_pubsub_missed_are_delivered_from_the_log(redis_store: Store) -> None:
    backend, recorder = await redis_store.node()
    session_id, code, info = new_session()
    await backend.create(session_id, code, info)
    await eventually(lambda: isinstance(backend, RedisBackend) and backend._pubsub is not None)
    await backend.subscribe(session_id)
    await backend.append(session_id, b"published")
    assert redis_store.redis is not None
    # Written behind the backend's back: no publish, as if the message was lost in flight.
    redis_store.redis.rpush(log_key(session_id), b"unpublished")
    await eventually(lambda: recorder.entries[session_id] == {1: b"published",
                                                              2: b"unpublished"}, timeout=4)


@pytest.mark.redis
async def test_a_paused_redis_makes_calls_fail_fast_and_never_stalls_the_loop(
    own_redis: RedisProcess,
) -> None:
    backend = RedisBackend(own_redis.url, 3600, timeout=0.5)
    await backend.start(Recorder())
    try:
        session_id, code, info = new_session()
        await backend.create(session_id, code, info)
        assert own_redis.process is not None
        own_redis.process.send_signal(signal.SIGSTOP)
        answer = asyncio.create_task(backend.append(session_id, b"answer"))
        for _ in range(3):
            await asyncio.sleep(0)  # other coroutines run while the call waits on Redis
            assert not answer.done(), "the event loop stalled while Redis hung"
        # It fails by the backend's own bound (0.5 s), not by hanging until this one.
        with pytest.raises(BackendUnavailable):
            await asyncio.wait_for(answer, 10)
        assert await asyncio.wait_for(backend.ready(), 10) is False
        own_redis.process.send_signal(signal.SIGCONT)
        await until(backend.ready, "the backend is ready again", 5)
        assert await backend.append(session_id, b"answer") >= 1
    finally:
        await backend.close()


@pytest.mark.redis
async def test_a_restarted_redis_keeps_the_log_and_delivery_resumes(
    own_redis: RedisProcess,
) -> None:
    writer, reader = RedisBackend(own_redis.url, 3600), RedisBackend(own_redis.url, 3600)
    recorder = Recorder()
    await writer.start(Recorder())
    await reader.start(recorder)
    try:
        session_id, code, info = new_session()
        await writer.create(session_id, code, info)
        await eventually(lambda: reader._pubsub is not None)
        await reader.subscribe(session_id)
        await writer.append(session_id, b"before")
        await eventually(lambda: 1 in recorder.entries[session_id])
        own_redis.stop()
        with pytest.raises(BackendUnavailable):
            await writer.append(session_id, b"while down")
        assert await reader.ready() is False
        own_redis.start()
        deadline = time.monotonic() + 5
        while not (await reader.ready() and await writer.ready()):
            assert time.monotonic() < deadline, "did not reconnect by itself"
            await asyncio.sleep(0.05)
        assert await writer.append(session_id, b"after") == 2
        await eventually(lambda: recorder.entries[session_id] == {1: b"before", 2: b"after"})
        assert await reader.lookup(code) == session_id
    finally:
        await writer.close()
        await reader.close()


@pytest.mark.redis
def test_valkey_urls_are_accepted() -> None:
    backend = RedisBackend("valkey://127.0.0.1:1/0", 60)
    assert isinstance(backend._redis, redis.asyncio.Redis), "a single server, not a cluster"
    assert backend._redis.connection_pool.connection_kwargs["port"] == 1


@pytest.mark.redis
async def test_sentinel_finds_the_master_and_follows_a_failover(tmp_path: Path) -> None:
    master, replica = RedisProcess(tmp_path / "master"), RedisProcess(tmp_path / "replica")
    sentinel_port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor attune 127.0.0.1 {master.port} 1\n"
        "sentinel down-after-milliseconds attune 300\n"
        "sentinel failover-timeout attune 2000\n"
    )
    processes: list[subprocess.Popen[bytes]] = []
    backend = RedisBackend(f"redis://127.0.0.1:{sentinel_port}/0?sentinel=attune", 3600,
                           timeout=0.5)
    inspect_replica = redis.Redis(port=replica.port)
    recorder = Recorder()
    try:
        master.start()
        with redis.Redis(port=master.port) as inspect_master:
            inspect_master.config_set("repl-diskless-sync-delay", 0)
        processes.append(subprocess.Popen(
            [redis_binary(), "--port", str(replica.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", str(tmp_path), "--replicaof", "127.0.0.1", str(master.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        await eventually(lambda: quietly(lambda: inspect_replica.info("replication")
                                          ["master_link_status"] == "up"), timeout=10)
        # Started once the replica is attached, Sentinel sees it at its first look at the
        # master (otherwise only at the next, ten seconds later).
        processes.append(subprocess.Popen([redis_binary(), str(conf), "--sentinel"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with redis.Redis(port=sentinel_port) as inspect_sentinel:
            await eventually(lambda: quietly(lambda: bool(inspect_sentinel.execute_command(
                "SENTINEL", "REPLICAS", "attune"))), timeout=10)
        await backend.start(recorder)
        await eventually(lambda: backend._pubsub is not None, timeout=10)
        session_id, code, info = new_session()
        await backend.create(session_id, code, info)
        await backend.subscribe(session_id)
        assert await backend.append(session_id, b"before") == 1
        await eventually(lambda: inspect_replica.llen(log_key(session_id)) == 1)
        # The master dies; Sentinel promotes the replica and the backend follows by itself.
        assert master.process is not None
        master.process.send_signal(signal.SIGKILL)
        master.process.wait()
        master.process = None
        offset = None
        deadline = time.monotonic() + 15
        while offset is None:
            assert time.monotonic() < deadline, "no failover"
            try:
                offset = await backend.append(session_id, b"after")
            except BackendUnavailable:
                await asyncio.sleep(0.1)
        assert offset == 2
        await eventually(lambda: recorder.entries[session_id].get(2) == b"after", timeout=5)
        assert await backend.read(session_id, 0) == [(1, b"before"), (2, b"after")]
    finally:
        await backend.close()
        inspect_replica.close()
        for process in processes:
            process.terminate()
            process.wait(10)
        master.stop()


# --- the scenario library, for every backend ----------------------------------------------------


def scenario_id() -> str:
    """Ids unique per test: the Redis legs share one server, and the library has no namespace."""
    return f"test-{secrets.token_hex(6)}"


async def test_a_saved_scenario_is_read_back_by_every_node(store: Store) -> None:
    (writer, _), (reader, _) = await store.node(), await store.node()
    sid = scenario_id()
    assert await reader.library_get(sid) is None
    assert await writer.library_put(sid, b"first", 0) == 1
    assert await reader.library_get(sid) == (1, b"first")
    assert (await reader.library_list())[sid] == (1, b"first")
    assert await reader.library_put(sid, b"second", 1) == 2
    assert await writer.library_get(sid) == (2, b"second")


async def test_a_stale_version_is_a_conflict_and_changes_nothing(store: Store) -> None:
    backend, _ = await store.node()
    sid = scenario_id()
    await backend.library_put(sid, b"v1", 0)
    await backend.library_put(sid, b"v2", 1)
    for stale in (0, 1, 3):
        with pytest.raises(VersionConflict) as caught:
            await backend.library_put(sid, b"lost?", stale)
        assert caught.value.current == 2
    with pytest.raises(VersionConflict):
        await backend.library_delete(sid, 1)
    assert await backend.library_get(sid) == (2, b"v2")


async def test_of_two_concurrent_saves_exactly_one_wins(store: Store) -> None:
    nodes = [(await store.node())[0] for _ in range(2)]
    sid = scenario_id()
    await nodes[0].library_put(sid, b"base", 0)
    results = await asyncio.gather(
        *(node.library_put(sid, f"from {n}".encode(), 1) for n, node in enumerate(nodes) for _ in
          range(5)),
        return_exceptions=True)
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, VersionConflict)]
    assert won == [2]
    assert len(lost) == len(results) - 1
    assert all(conflict.current == 2 for conflict in lost)
    version, data = await nodes[1].library_get(sid) or (0, b"")
    assert version == 2 and data in (b"from 0", b"from 1")


async def test_creating_an_id_that_exists_is_a_conflict(store: Store) -> None:
    backend, _ = await store.node()
    sid = scenario_id()
    await backend.library_put(sid, b"mine", 0)
    with pytest.raises(VersionConflict) as caught:
        await backend.library_put(sid, b"theirs", 0)
    assert caught.value.current == 1
    assert await backend.library_get(sid) == (1, b"mine")


async def test_delete_removes_at_the_expected_version_only(store: Store) -> None:
    (one, _), (other, _) = await store.node(), await store.node()
    sid = scenario_id()
    await one.library_put(sid, b"x", 0)
    await one.library_delete(sid, 1)
    assert await other.library_get(sid) is None
    assert sid not in await other.library_list()
    with pytest.raises(VersionConflict) as caught:
        await other.library_delete(sid, 1)
    assert caught.value.current == 0
    assert await other.library_put(sid, b"again", 0) == 1


async def test_saved_scenarios_keep_any_bytes(store: Store) -> None:
    backend, _ = await store.node()
    sid = scenario_id()
    data = bytes(range(256)) * 400 + "<script>好</script>".encode()
    await backend.library_put(sid, data, 0)
    assert await backend.library_get(sid) == (1, data)
