"""``python -m bench.groups``: what forming groups costs, per member, against one step's fan-out.

Forming is one facilitator command, but unlike a step it gives every participant a message of
their own (their group, their role), so its cost grows with the room twice: the fold (shuffle by
keyed hash, cut into groups, assign roles) and one private ``group`` message per member, joined
from parts the room shares (``core/group_frames.py``) and written with the shared event. Two
measurements:

    python -m bench.groups --sizes 1000,10000          # the pure cost, per member, no sockets
    python -m bench.groups --sizes 1000 --sockets 10000

``--sockets N`` is the real thing: an Attune server in its own process (pinned to the server CPU,
as ``python -m bench`` does), N phones on real WebSockets held by the load generator's processes,
all tap "I'm ready", and the facilitator forms triads; the time runs from the command to the
last phone's ``group`` message, against one step event's fan-out to the same phones in the same
run. ``python -m bench`` runs it as its ``groups`` section at its largest size.

The target (issue #15) is that 10,000 participants form triads within the fan-out time of one
step; docs/benchmarks.md ("Forming groups over sockets") has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import re
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from attune.client import create_session
from attune.core import groups as g
from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.session import Commanded, Joined, Readied, Session, SessionInfo, digest
from attune.node import PREPARE_AFTER
from bench import system
from bench.loadgen import Handle, Load, Worker
from bench.run import Watcher
from bench.targets import ServerProcess
from bench.wsclient import Client, Probe

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "listening-triads.yaml"
RESULTS = Path(__file__).resolve().parent / "results"
GROUPS = 1
STILLNESS = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
"""Seconds between a straggler's change to the ready set and the command, in the stillness
phase: from how long a room must be still a forming is worked out ahead."""


def room(n: int) -> Session:
    """A session on its groups step with ``n`` joined participants who all said they are ready."""
    session = Session(SessionInfo(
        id="bench", code="BENCH1", epoch="e", secret="s" * 32, token_hash=digest("t"),
        language="en", min_responses=3, created_at=0, scenario=sc.load(SCENARIO),
    ))
    for i in range(n):
        session.apply(Joined(at=1, participant=f"{i:024x}", token_hash=""))
    session.apply(Commanded(at=2, command=p.Start()))
    session.apply(Commanded(at=3, command=p.Next()))
    for i in range(n):
        session.apply(Readied(at=4, participant=f"{i:024x}", step=GROUPS, ready=True))
    return session


def measure(n: int, repeat: int = 3) -> dict[str, Any]:
    """Median CPU of forming ``n`` into triads: the fold, and every member's private view as
    the node gets it (``Session.group_frames``), without the framing and the write; then the
    same forming worked out ahead (``Session.prepare_forming``, what the node does once the
    room is still), and what the command itself costs once it was."""
    folds, views, prepares, adopts = [], [], [], []
    size = 0
    for _ in range(repeat):
        session = room(n)
        gc.collect()  # a collection of the room just built is not forming's
        start = time.process_time()
        session.apply(Commanded(at=5, command=p.GroupsForm()))
        folded = time.process_time()
        frames = session.group_frames()
        for who in session.participants:
            frame = frames.of(who)
            assert frame is not None
            size = len(frame)
        done = time.process_time()
        folds.append(folded - start)
        views.append(done - folded)
        ahead = room(n)
        gc.collect()
        start = time.process_time()
        prepared = ahead.prepare_forming()
        assert prepared is not None
        for who in ahead.participants:  # each view joined, as the node joins it ahead
            assert b"".join(prepared.parts(who))
        worked = time.process_time()
        gc.collect()
        adopting = time.process_time()
        outcomes = ahead.apply(Commanded(at=5, command=p.GroupsForm()))
        adopted = time.process_time()
        assert any(getattr(o, "prepared", None) is prepared for o in outcomes)
        prepares.append(worked - start)
        adopts.append(adopted - adopting)
    fold, view = sorted(folds)[repeat // 2], sorted(views)[repeat // 2]
    prepare, adopt = sorted(prepares)[repeat // 2], sorted(adopts)[repeat // 2]
    return {
        "participants": n, "groups": len(session.groups[GROUPS].live_groups()),
        "fold_ms": round(fold * 1000, 2), "views_ms": round(view * 1000, 2),
        "us_per_member": round((fold + view) / n * 1e6, 2), "view_bytes": size,
        "ahead_ms": round(prepare * 1000, 2), "adopt_ms": round(adopt * 1000, 2),
        "adopt_us_per_member": round(adopt / n * 1e6, 3),
    }


# --- over real sockets: the load generator's phones, the server in its own process ----------


class GroupsWorker(Worker):
    """A load worker that also says "I'm ready" and notes when each phone gets its ``group``."""

    def __init__(self, pipe: Connection, number: int) -> None:
        super().__init__(pipe, number)
        self.group_times: dict[int, float] = {}
        """Client index to the kernel time of its first ``group`` message since ``arm``."""
        self.step_times: dict[int, list[float]] = {}
        """Step event seq to the kernel times at which each phone got it."""

    def on_step(self, client: Client, seq: int, started_at: float, kernel: float,
                app: float) -> None:
        self.step_times.setdefault(seq, []).append(kernel)

    def on_message(self, client: Client, probe: Probe, kernel: float) -> None:
        if probe.type == "group":
            self.group_times.setdefault(client.index, kernel)
        else:
            super().on_message(client, probe, kernel)

    async def arm(self) -> int:
        self.group_times = {}
        return len(self.live())

    async def ready(self, step: int) -> int:
        frame = b'{"type":"ready","step":%d}' % step
        clients = self.live()
        for client in clients:
            client.send(frame)
        return len(clients)

    async def toggle(self, step: int, count: int) -> int:
        """``count`` phones step out and back in: a change to the ready set, as a straggler's
        taps."""
        clients = self.live()[:count]
        for client in clients:
            client.send(b'{"type":"ready","step":%d,"ready":false}' % step)
            client.send(b'{"type":"ready","step":%d}' % step)
        return len(clients)

    async def wait_groups(self, timeout: float) -> dict[str, Any]:
        """Wait until every phone has had a ``group`` message since ``arm``: the last's time."""
        expected = len(self.live())
        deadline = time.monotonic() + timeout
        while len(self.group_times) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        times = list(self.group_times.values())
        return {"expected": expected, "got": len(times), "last": max(times, default=0.0)}

    async def wait_step(self, seq: int, timeout: float) -> dict[str, Any]:
        expected = len(self.live())
        deadline = time.monotonic() + timeout
        while len(self.step_times.get(seq, ())) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        times = self.step_times.pop(seq, [])
        return {"expected": expected, "got": len(times), "last": max(times, default=0.0)}


def _worker_main(pipe: Connection, number: int, cpus: list[int] | None) -> None:
    system.raise_open_files()
    if cpus:
        system.pin(os.getpid(), cpus)

    async def run() -> None:
        await GroupsWorker(pipe, number).serve()

    asyncio.run(run())


class GroupsHandle(Handle):
    """``bench.loadgen.Handle`` with a ``GroupsWorker`` in the child process."""

    def __init__(self, number: int, cpus: list[int] | None) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, number, cpus),
                                       daemon=True)
        self.process.start()
        child.close()
        self.pending = {}
        self.ids = 0
        self.listening = False


class GroupsLoad(Load):
    def __init__(self, workers: int, cpus: list[int] | None) -> None:
        self.handles = [GroupsHandle(i, cpus) for i in range(workers)]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def sockets(n: int, workers: int = 4, repeat: int = 3, pin: bool = True,
                  say: Callable[[str], None] = print,
                  stillness: tuple[float, ...] = STILLNESS) -> dict[str, Any]:
    """``n`` phones on real sockets, all ready; the facilitator forms triads ``repeat`` times.

    Figures, each from the moment the command leaves the facilitator's socket to the kernel
    timestamp at which the last phone's socket received its message (the load generator's
    clock, see ``bench/wsclient.py``), and the server's CPU over the same span:

    - ``step_ms``: one step event to everyone (re-entering the first step), the reference;
    - ``form_ms``: forming groups, until the last phone has its private ``group`` message.
    """
    server_cpus, load_cpus = system.plan_cpus(pin)
    system.raise_open_files()
    if load_cpus:
        system.pin(0, load_cpus)
    log = RESULTS / "logs" / f"groups-{n}.log"
    server = ServerProcess("attune", [], server_cpus, log)
    server.start()
    load = GroupsLoad(workers, load_cpus)
    # The facilitator is the load generator's lean client too (no keepalive pings that a server
    # busy with 10,000 sockets on a loaded machine could miss), as in bench/run.py.
    host = Client(asyncio.get_running_loop(), Watcher(), "attune")
    timeout = 30 + n / 200

    async def command(body: dict[str, Any]) -> None:
        host.send(json.dumps(body).encode())

    async def at_seq(seq: int) -> None:
        deadline = time.monotonic() + timeout
        while host.seq < seq and time.monotonic() < deadline:
            await asyncio.sleep(0.002)

    try:
        created = await create_session(server.api, "listening-triads")
        await host.connect("127.0.0.1", server.port, "/ws")
        await command({"type": "hello", "role": "facilitator", "session": created.session,
                       "token": created.token})
        await asyncio.wait_for(host.welcomed, 10)
        await command({"type": "start"})
        await at_seq(1)
        hello = json.dumps({"type": "hello", "role": "participant", "code": created.code})
        shares = [{"n": k} for k in load.split(n)]
        started = time.perf_counter()
        replies = await load.each("connect", shares=shares, host="127.0.0.1", port=server.port,
                                  kind="attune", path="/ws", hello=hello, slow_every=0,
                                  concurrency=64)
        connected = sum(r["connected"] for r in replies)
        say(f"  groups: {connected} phones connected in {time.perf_counter() - started:.1f} s")

        def collector(since: float, until: float) -> float:
            """The server's cyclic-collector time between two wall times (ms), as a pause
            inside a measurement would show in its figure."""
            return sum(ms for _, ms in server.collections(since / 1000, until / 1000))

        async def broadcast(body: dict[str, Any]) -> tuple[float, float, int, float]:
            seq = host.seq + 1
            cpu, sent = server.cpu(), time.time() * 1000
            await command(body)
            got = await load.each("wait_step", seq=seq, timeout=timeout)
            await at_seq(seq)
            last = max(r["last"] for r in got)
            return (last - sent, server.cpu() - cpu, sum(r["got"] for r in got),
                    collector(sent, last))

        async def grouped(body: dict[str, Any] | None) -> tuple[float, float, int, float]:
            await load.each("arm")
            seq = host.seq + 1
            cpu, sent = server.cpu(), time.time() * 1000
            if body is None:
                await load.each("ready", step=GROUPS)
            else:
                await command(body)
            got = await load.each("wait_groups", timeout=timeout)
            if body is not None:
                await at_seq(seq)  # the facilitator has the event too: the next seq is known
            last = max(r["last"] for r in got)
            return (last - sent, server.cpu() - cpu, sum(r["got"] for r in got),
                    collector(sent, last))

        async def still() -> float:
            """Leave the room still long enough for the server to work the next forming out
            ahead (``attune.node.PREPARE_AFTER`` and ``PREPARE_SHARE``, about 0.25 s at
            10,000): the server's CPU meanwhile (ms)."""
            cpu = server.cpu()
            await asyncio.sleep(PREPARE_AFTER + 0.5 + n / 10_000)
            return (server.cpu() - cpu) * 1000

        async def fanouts_ahead() -> float:
            """The server's count of fan-outs written from frames joined ahead."""
            def read() -> float:
                with urllib.request.urlopen(f"{server.api}/metrics", timeout=10) as response:
                    text = response.read().decode()
                found = re.search(r'attune_group_fanouts_total\{frames="ahead"\} (\S+)', text)
                return float(found.group(1)) if found else 0.0
            return await asyncio.to_thread(read)

        steps = [await broadcast({"type": "goto", "step": 0}) for _ in range(repeat)]
        await load.each("arm")
        await command({"type": "next"})  # the groups step: a step event and a group view each
        await load.each("wait_groups", timeout=timeout)
        ready = await grouped(None)  # every phone's "I'm ready", answered by its own view
        forms, prepares = [], []
        for _ in range(repeat):  # each after the room was still: worked out ahead
            prepares.append(await still())
            forms.append(await grouped({"type": "groups_form"}))
        # Each at once after another forming: nothing worked out ahead.
        unprepared = [await grouped({"type": "groups_form"}) for _ in range(repeat)]
        ahead_count = await fanouts_ahead()
        still_runs: list[dict[str, Any]] = []
        for wait in stillness:  # a straggler steps out and back in, then the room is still
            await load.each("toggle", step=GROUPS,
                             shares=[{"count": 1 if i == 0 else 0} for i in range(workers)])
            await asyncio.sleep(wait)
            formed = await grouped({"type": "groups_form"})
            count = await fanouts_ahead()
            still_runs.append({"still_s": wait, "ahead": count > ahead_count,
                               "form_ms": round(formed[0], 1)})
            ahead_count = count
            await still()
        steps += [await broadcast({"type": "goto", "step": 0}) for _ in range(repeat)]
        step_ms, step_cpu = _median([s[0] for s in steps]), _median([s[1] for s in steps])
        form_ms, form_cpu = _median([f[0] for f in forms]), _median([f[1] for f in forms])
        cold_ms, cold_cpu = (_median([f[0] for f in unprepared]),
                             _median([f[1] for f in unprepared]))
        return {
            "participants": n, "connected": connected,
            "groups": len(g.sizes(connected, 3, "join")) if connected >= 2 else 0,
            "received": min(f[2] for f in forms + unprepared),
            "step_ms": round(step_ms, 1), "form_ms": round(form_ms, 1),
            "form_over_step": round(form_ms / step_ms, 2) if step_ms else None,
            "unprepared_form_ms": round(cold_ms, 1),
            "unprepared_over_step": round(cold_ms / step_ms, 2) if step_ms else None,
            "ready_ms": round(ready[0], 1),
            "step_cpu_us_per_phone": round(step_cpu / connected * 1e6, 2),
            "form_cpu_us_per_phone": round(form_cpu / connected * 1e6, 2),
            "unprepared_cpu_us_per_phone": round(cold_cpu / connected * 1e6, 2),
            "still_cpu_ms_runs": [round(c, 1) for c in prepares],
            "stillness": still_runs,
            "form_ms_runs": [round(f[0], 1) for f in forms],
            "form_cpu_ms_runs": [round(f[1] * 1000, 1) for f in forms],
            "step_cpu_ms_runs": [round(s[1] * 1000, 1) for s in steps],
            "unprepared_ms_runs": [round(f[0], 1) for f in unprepared],
            "step_ms_runs": [round(s[0], 1) for s in steps],
            "form_collector_ms_runs": [round(f[3], 1) for f in forms],
            "step_collector_ms_runs": [round(s[3], 1) for s in steps],
            "load_average": system.load_average(),
        }
    finally:
        host.abort()
        with contextlib.suppress(Exception):
            await load.each("close_all")
        load.stop()
        server.stop()


def table(result: dict[str, Any]) -> str:
    """One line for the benchmark's summary."""
    return (f"groups: {result['connected']} phones into {result['groups']} triads: forming "
            f"{result['form_ms']} ms to the last phone ({result['form_cpu_us_per_phone']} us "
            f"server CPU per phone), one step {result['step_ms']} ms "
            f"({result['step_cpu_us_per_phone']} us); forming / step "
            f"{result['form_over_step']}x, {result['unprepared_over_step']}x when the "
            f"command comes before the room was still")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.groups", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated room sizes")
    parser.add_argument("--sockets", type=int, default=0,
                        help="also form this many phones on real sockets (a server process and "
                        "the load generator's)")
    parser.add_argument("--workers", type=int, default=4, help="load generator processes")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and load")
    parser.add_argument("--stillness", default=",".join(str(w) for w in STILLNESS),
                        help="seconds from a change to the ready set to a forming, one forming "
                        "each (comma-separated; empty: none)")
    args = parser.parse_args(argv)
    stillness = tuple(float(w) for w in args.stillness.split(",") if w)
    results: dict[str, Any] = {"pure": [measure(int(n)) for n in args.sizes.split(",")]}
    if args.sockets:
        results["sockets"] = asyncio.run(sockets(args.sockets, args.workers, pin=not args.no_pin,
                                                 say=lambda line: print(line, file=sys.stderr),
                                                 stillness=stillness))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
