"""Several real ``attune serve`` processes sharing sessions through one real Redis.

Nodes are started as a deployment would start them (``python -m attune.cli serve``), clients
connect to different nodes, and the faults are real: SIGKILL for a node, a stopped and restarted
Redis (with AOF, as deployed). The reverse-proxy test runs the nginx config shipped in
``deploy/`` in front of two nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import msgspec
import pytest
from redis.crc import key_slot

from attune import node as node_module
from attune.backends import redis as redis_backend
from attune.client import Client, Created, create_session
from attune.core import protocol as p
from attune.core.emotions import VOCABULARY
from tests.support.paths import DATA, ROOT
from tests.support.redis_cluster import RedisClusterProcesses
from tests.support.redis_server import RedisProcess
from tests.support.servers import free_port
from tests.support.spawn import Served, http_status, status
from tests.support.waiting import until

pytestmark = pytest.mark.cluster

WORDS = sorted(VOCABULARY)[:3]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(name: str, backend: str, *extra: str) -> Served:
        node = Served(tmp_path / f"{name}.log", "--backend", backend, "--scenarios", str(DATA),
                      "--min-responses", "1", *extra)
        node.start()
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """Redis with AOF on, as deployed, of this test's own so that it can be restarted."""
    server = RedisProcess(tmp_path / "redis", appendonly=True)
    server.start()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def clients() -> AsyncIterator[list[Client]]:
    opened: list[Client] = []
    try:
        yield opened
    finally:
        for client in opened:
            with contextlib.suppress(Exception):
                await client.close()


def events(client: Client) -> list[tuple[int, str, int | None]]:
    """The sequenced events a client saw, as (seq, type, step) that every role shares."""
    return [
        (m.seq, type(m).__name__, m.step.index if isinstance(m, p.StepEvent) else None)
        for m in client.seen
        if isinstance(m, p.StepEvent | p.ResponsesEvent | p.RevealEvent | p.EndedEvent)
    ]


async def all_reach(everyone: list[Client], index: int) -> None:
    for client in everyone:
        if client.step is None or client.step.index != index:
            await client.expect(p.StepEvent, lambda e: e.step.index == index, timeout=10)


async def counted(host: Client, step: int, count: int) -> p.Results:
    if host.results is not None and host.results.step == step and host.results.count == count:
        return host.results
    return await host.expect(p.Results, lambda r: r.step == step and r.count == count,
                             timeout=10)


async def exported(base: str, created: Created) -> dict[str, object]:
    code, body = await status(f"{base}/api/sessions/{created.session}/export",
                              {"authorization": f"Bearer {created.token}"})
    assert code == 200, body
    result: dict[str, object] = msgspec.json.decode(body)
    return result


async def test_a_session_spans_nodes_and_survives_a_killed_node_and_a_redis_restart(
    spawn: Callable[..., Served], durable_redis: RedisProcess,
) -> None:
    a, b, c = (spawn(name, durable_redis.url) for name in "abc")
    await asyncio.gather(a.ready(), b.ready(), c.ready())
    created = await create_session(a.base, "every-kind")
    async with clients() as opened:
        host = await Client.facilitator(created)
        screen = await Client.screen(created.code, base=b.base)
        people = [await Client.participant(created.code, base=node.base)
                  for node in (a, b, c) for _ in range(2)]
        opened += [host, screen, *people]
        everyone = [host, screen, *people]

        await host.command(p.Start())
        await all_reach(everyone, 0)
        await host.command(p.Next())
        await all_reach(everyone, 1)
        for i, person in enumerate(people):
            await person.answer(1, p.CheckinValue(word=WORDS[i % len(WORDS)]))
        await counted(host, 1, len(people))

        # Mid-step on the scale step, every participant answers and is acknowledged; then the
        # node two of them were connected to is killed without warning.
        await host.command(p.Next())
        await all_reach(everyone, 2)
        for i, person in enumerate(people):
            await person.answer(2, p.ScaleValue(value=1 + i % 5))
        await counted(host, 2, len(people))
        c.kill()
        orphans = people[4:]
        for orphan, refuge in zip(orphans, (a, b), strict=True):
            with pytest.raises(ConnectionError):
                await orphan.expect(p.StepEvent, timeout=5)
            orphan.ws_url = refuge.base.replace("http", "ws", 1) + "/ws"
            welcome = await orphan.resume()
            assert welcome.token is None, "resumed as a new participant"
            assert welcome.replay and welcome.seq == host.seq
        # Their acknowledged answers survived; a changed answer replaces theirs, not adds.
        await orphans[0].answer(2, p.ScaleValue(value=5))
        await asyncio.sleep(0.3)
        assert (await counted(host, 2, len(people))).count == len(people)

        # Redis goes away: every node says it is not ready, then recovers by itself.
        durable_redis.stop()
        for node in (a, b):
            await until(functools.partial(_not_ready, node), f"{node.name} is not ready", 5)
        durable_redis.start()
        for node in (a, b):
            await node.ready(timeout=10)

        await host.command(p.Next())
        await all_reach(everyone, 3)
        for i, person in enumerate(people):
            await person.answer(3, p.ChoiceValue(options=["abc"[i % 3]]))
        await counted(host, 3, len(people))
        await host.command(p.End())
        for client in everyone:
            await client.expect(p.EndedEvent, timeout=10)

        # Everyone saw the same events in the same order.
        timeline = events(host)
        assert timeline[-1][0] == host.seq
        for client in everyone:
            assert events(client) == timeline, client.role

    # The answers are all there, and a restarted node rebuilds the same session from the log.
    c.start()
    await c.ready()
    reports = [await exported(node.base, created) for node in (a, b, c)]
    assert reports[0] == reports[1] == reports[2]
    steps = reports[0]["steps"]
    assert isinstance(steps, list)
    assert {s["index"]: s["count"] for s in steps} == {1: 6, 2: 6, 3: 6, 4: 0}


async def _not_ready(node: Served) -> bool:
    return (await status(node.base + "/readyz"))[0] == 503


async def test_answers_from_every_node_land_in_one_aggregate(
    spawn: Callable[..., Served], redis_server: RedisProcess,
) -> None:
    nodes = [spawn(name, redis_server.url) for name in "xyz"]
    await asyncio.gather(*(node.ready() for node in nodes))
    created = await create_session(nodes[1].base, "every-kind")
    async with clients() as opened:
        host = await Client.facilitator(msgspec.structs.replace(created, base=nodes[2].base))
        people = [await Client.participant(created.code, base=node.base)
                  for node in nodes for _ in range(4)]
        opened += [host, *people]
        await host.command(p.Start())
        await host.command(p.Goto(step=2))
        await all_reach([host, *people], 2)
        # All at once, from every node: no answer may be lost to a race between nodes.
        await asyncio.gather(*(
            person.answer(2, p.ScaleValue(value=1 + i % 5)) for i, person in enumerate(people)
        ))
        results = await counted(host, 2, len(people))
        assert results.answers is not None


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisClusterProcesses]:
    cluster = RedisClusterProcesses(tmp_path / "redis-cluster")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


async def test_nodes_share_sessions_through_a_redis_cluster(
    spawn: Callable[..., Served], redis_cluster: RedisClusterProcesses,
) -> None:
    nodes = [spawn(name, redis_cluster.url) for name in ("shard1", "shard2")]
    await asyncio.gather(*(node.ready() for node in nodes))
    # Sessions on at least two different shards (a session's keys all hash on its id).
    sessions: list[Created] = []
    while len({min(key_slot(s.session.encode()) // (16384 // 3), 2) for s in sessions}) < 2:
        sessions.append(await create_session(nodes[len(sessions) % 2].base, "every-kind"))
    async with clients() as opened:
        for created in sessions:
            host = await Client.facilitator(created)
            people = [await Client.participant(created.code, base=node.base)
                      for node in nodes for _ in range(2)]
            opened += [host, *people]
            await host.command(p.Start())
            await host.command(p.Next())
            await all_reach([host, *people], 1)
            for person in people:
                await person.answer(1, p.CheckinValue(word=WORDS[2]))
            await counted(host, 1, len(people))


async def test_several_workers_share_sessions_through_redis(
    spawn: Callable[..., Served], redis_server: RedisProcess,
) -> None:
    node = spawn("workers", redis_server.url, "--workers", "2")
    await node.ready()
    created = await create_session(node.base, "every-kind")
    async with clients() as opened:
        host = await Client.facilitator(created)
        people = [await Client.participant(created.code, base=node.base) for _ in range(6)]
        opened += [host, *people]
        await host.command(p.Start())
        await host.command(p.Next())
        await all_reach([host, *people], 1)
        for person in people:
            await person.answer(1, p.CheckinValue(word=WORDS[0]))
        await counted(host, 1, len(people))


def test_several_workers_with_the_memory_backend_are_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "attune.cli", "serve", "--workers", "2", "--backend", "memory://",
         "--port", str(free_port())],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )
    assert done.returncode != 0
    assert "--workers above 1 needs a shared backend" in done.stderr
    assert "redis://" in done.stderr


# --- the reverse proxy from deploy/ ----------------------------------------------------------


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if found is None:
        pytest.fail("nginx is not installed: the reverse-proxy test runs the real nginx config "
                    "from deploy/. Install it with `apt-get install nginx` "
                    "(tests/system-deps.sh does).")
    return found


def nginx_config(folder: Path, listen: int, upstreams: list[int]) -> Path:
    """deploy/nginx/attune.conf with loopback ports, wrapped in a minimal nginx.conf."""
    site = (ROOT / "deploy" / "nginx" / "attune.conf").read_text()
    servers = iter(upstreams)
    site, replaced = re.subn(r"server attune\d:8000",
                             lambda _: f"server 127.0.0.1:{next(servers)}", site)
    assert replaced == len(upstreams), "deploy/nginx/attune.conf no longer lists two replicas"
    site, replaced = re.subn(r"listen 8080;", f"listen 127.0.0.1:{listen};", site)
    assert replaced == 1
    (folder / "attune.conf").write_text(site)
    main = folder / "nginx.conf"
    temp = "\n".join(f"    {kind}_temp_path {folder}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main.write_text(f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
{temp}
    include {folder}/attune.conf;
}}
""")
    return main


async def test_a_session_works_through_the_shipped_nginx_config(
    spawn: Callable[..., Served], redis_server: RedisProcess, tmp_path: Path,
) -> None:
    binary = nginx_binary()
    nodes = [spawn(name, redis_server.url) for name in ("attune1", "attune2")]
    folder = tmp_path / "nginx"
    folder.mkdir()
    listen = free_port()
    config = nginx_config(folder, listen, [node.port for node in nodes])
    checked = subprocess.run([binary, "-t", "-p", str(folder), "-c", str(config),
                              "-e", str(folder / "error.log")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    proxy = subprocess.Popen([binary, "-p", str(folder), "-c", str(config),
                              "-e", str(folder / "error.log")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await asyncio.gather(*(node.ready() for node in nodes))
        base = f"http://127.0.0.1:{listen}"
        await until(lambda: http_status(base + "/readyz")[0] == 200, "nginx forwards", 10)
        created = await create_session(base, "every-kind")
        async with clients() as opened:
            host = await Client.facilitator(created)
            people = [await Client.participant(created.code, base=base) for _ in range(4)]
            opened += [host, *people]
            await host.command(p.Start())
            await host.command(p.Next())
            await all_reach([host, *people], 1)
            for person in people:
                await person.answer(1, p.CheckinValue(word=WORDS[1]))
            await counted(host, 1, len(people))
            # Affinity: the sockets carry the code (/ws?s=CODE), so the whole session is on one
            # node, the facilitator's socket included.
            per_node = [await _connections(n) for n in nodes]
            assert sorted(per_node) == [0, len(people) + 1], per_node
            # Other sessions hash elsewhere: within a few, one lands on the other node.
            home = per_node.index(len(people) + 1)
            for _ in range(24):
                other = await create_session(base, "every-kind")
                opened.append(await Client.participant(other.code, base=base))
                if await _connections(nodes[1 - home]) > 0:
                    break
            else:
                raise AssertionError("24 sessions all hashed to one node")
    finally:
        proxy.terminate()
        proxy.wait(10)


async def _connections(node: Served) -> float:
    metrics = (await status(node.base + "/metrics"))[1]
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.decode().splitlines()
               if line.startswith("attune_connections{"))


async def test_deleting_a_session_closes_its_clients_on_every_node(
    spawn: Callable[..., Served], redis_server: RedisProcess,
) -> None:
    nodes = [spawn(name, redis_server.url) for name in ("del-a", "del-b")]
    await asyncio.gather(*(node.ready() for node in nodes))
    created = await create_session(nodes[0].base, "every-kind")
    async with clients() as opened:
        here = await Client.participant(created.code, base=nodes[0].base)
        there = await Client.participant(created.code, base=nodes[1].base)
        opened += [here, there]
        request = urllib.request.Request(
            f"{nodes[0].base}/api/sessions/{created.session}", method="DELETE",
            headers={"authorization": f"Bearer {created.token}"},
        )
        response = await asyncio.to_thread(urllib.request.urlopen, request, timeout=5)
        assert response.status == 204
        for client in (here, there):
            with pytest.raises(ConnectionError):
                await client.expect(p.StepEvent, timeout=10)
            assert client.closed == 4004
        with pytest.raises(Exception, match="unknown-session"):
            await Client.participant(created.code, base=nodes[1].base)


async def test_the_headcount_spans_nodes_and_forgets_a_killed_one(
    spawn: Callable[..., Served], redis_server: RedisProcess,
) -> None:
    a, b = (spawn(name, redis_server.url) for name in "ab")
    await asyncio.gather(a.ready(), b.ready())
    created = await create_session(a.base, "every-kind")
    async with clients() as opened:
        opened += [await Client.participant(created.code, base=node.base)
                   for node in (a, b) for _ in range(2)]
        host = await Client.facilitator(created)
        opened.append(host)
        assert host.welcome is not None and host.welcome.joined == 4
        # Each node publishes its connected count within a push interval of a change, so a view
        # opened in that instant on another node may start one interval behind, then catches up.
        if host.welcome.connected != 4:
            await host.expect(p.Presence, lambda m: (m.joined, m.connected) == (4, 4), timeout=10)
        screen = await Client.screen(created.code, base=b.base)
        opened.append(screen)
        assert screen.welcome is not None
        assert (screen.welcome.joined, screen.welcome.connected) == (4, 4)
        killed_at = time.monotonic()
        b.kill()
        # Node b's count expires with its heartbeat; everyone who joined there is still joined.
        # docs/redis.md promises 10 to 20 s: a lapse of 15 s after the last write (made at most
        # one heartbeat before the kill), then the next recount.
        await host.expect(p.Presence, lambda m: (m.joined, m.connected) == (4, 2), timeout=40)
        lapsed = time.monotonic() - killed_at
        lapse = redis_backend.PRESENCE_TTL_MS / 1000
        at_most = lapse + node_module.PRESENCE_REFRESH
        at_least = lapse - redis_backend.HEARTBEAT_INTERVAL
        assert at_most == 20 and at_least == 10, "docs/redis.md states 10 to 20 s: update it"
        assert at_least - 0.5 <= lapsed <= at_most + 1.5, f"the count lapsed in {lapsed:.1f} s"
        late = await Client.screen(created.code, base=a.base)
        opened.append(late)
        assert late.welcome is not None and (late.welcome.joined, late.welcome.connected) == (4, 2)


async def test_nodes_derive_the_same_groups(
    spawn: Callable[..., Served], redis_server: RedisProcess,
) -> None:
    """A groups step over three nodes: each node folds the same ready entries and forming
    command, so a participant resumed on another node finds the same group and role there."""
    nodes = [spawn(name, redis_server.url) for name in "xyz"]
    await asyncio.gather(*(node.ready() for node in nodes))
    created = await create_session(nodes[0].base, "triads")
    async with clients() as opened:
        host = await Client.facilitator(msgspec.structs.replace(created, base=nodes[2].base))
        people = [await Client.participant(created.code, base=node.base)
                  for node in nodes for _ in range(3)]
        opened += [host, *people]
        await host.command(p.Start())
        await host.command(p.Goto(step=1))
        await all_reach([host, *people], 1)
        await asyncio.gather(*(person.ready(1) for person in people))
        await host.expect(p.GroupCounts, lambda c: c.ready == len(people), timeout=10)
        await host.command(p.GroupsForm())
        views = [await person.expect(p.GroupView, lambda v: v.status == "grouped", timeout=10)
                 for person in people]
        counts = await host.expect(p.GroupCounts, lambda c: c.grouped == len(people), timeout=10)
        by_number: dict[int, list[p.GroupView]] = {}
        for view in views:
            by_number.setdefault(view.number, []).append(view)
        assert sorted(len(group) for group in by_number.values()) == sorted(
            size for size in counts.sizes if size)
        for group in by_number.values():
            assert all(view.others == len(group) - 1 for view in group)
            assert len({view.role.id for view in group if view.role}) == len(group)
        # The same participant on another node: the same group and role, derived there.
        for i, person in enumerate(people):
            person.ws_url = nodes[(i + 1) % 3].base.replace("http", "ws", 1) + "/ws"
            await person.resume()
            again = await person.expect(p.GroupView, timeout=10)
            assert (again.number, again.role) == (views[i].number, views[i].role)
        await host.command(p.GroupsNext())
        observers = []
        for person, view in zip(people, views, strict=True):
            turned = await person.expect(p.GroupView, lambda v: v.round == 1, timeout=10)
            assert turned.number == view.number
            assert turned.role is not None and turned.role.name == view.next_role
            if turned.role.id == "observer":
                observers.append(person)
        # Observers on every node tick; every node folds the same totals from the log.
        for person in observers:
            assert (await person.tick(1, 0)).ticked == [0]
        screen = await Client.screen(created.code, base=nodes[1].base)
        opened.append(screen)
        await host.command(p.GroupsEnd())
        totals = [await client.expect(p.GroupCounts, lambda c: bool(c.checklist), timeout=10)
                  for client in (host, screen)]
        assert totals[0].checklist == totals[1].checklist
        (observer,) = totals[0].checklist
        assert observer.groups == 3 and [i.groups for i in observer.items] == [len(observers)]
