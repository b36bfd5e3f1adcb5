"""``python -m bench.heartbeat``: what the phones' 5 s heartbeat costs the server.

Every open page sends ``{"type": "ping", "t": ...}`` every 5 s and the server answers ``pong``
with its clock (``web/js/live.js``): that is how a phone on a dead network learns it within 10 s,
and how every device keeps the server clock for timers. At 10,000 idle phones that is 2,000
pings a second, all day, whether or not anything happens in the room. This measures it on the
real server over real sockets, against the same room with the heartbeat off:

    python -m bench.heartbeat                          # 10,000 phones, 20 s per window
    python -m bench.heartbeat --phones 2000 --seconds 10

Two windows on one server, one after the other, with the same phones connected:

- ``quiet``: nobody sends anything. The server still keeps every socket alive itself: one
  WebSocket ping per connection after 10-20 s of silence (``transport/connection.py``), which
  the load answers with a pong frame.
- ``heartbeat``: each phone pings every ``--interval`` seconds, at its own phase, so the pings
  arrive evenly as they do from a real room. A heard connection gets no WebSocket ping, so this
  window replaces the server's own keepalive with the pages'.

The figures are the server process's CPU (``/proc/<pid>/task/*/schedstat``) per second of each
window, the extra CPU per ping and pong, and the pong round trip (from the load's send to the
kernel's receive timestamp of the answer). The load generator runs on the same machine and
shares its cores; its own CPU is reported so a reader can see what it took.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench import system
from bench.targets import ServerProcess, create_session
from bench.wsclient import Client, Probe

HELLO_TIMEOUT = 30.0
SOURCES = 64
TICK = 0.01
"""Seconds between the load's sending passes: each sends the pings that fell due since the last."""


class Phones:
    """One load process's share of the phones: connects them, then runs the windows it is told."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.sources = [f"127.{20 + number}.0.{i}" for i in range(1, SOURCES + 1)]
        """Each process connects from its own loopback addresses (the server limits sockets per
        address, as behind a school's NAT)."""
        self.clients: list[Client] = []
        self.sent_at: list[float] = []
        self.round_trips: list[float] = []
        self.pongs = 0
        self.closed = 0

    def on_open(self, client: Client) -> None:
        return

    def on_step(self, client: Client, seq: int, started_at: float, kernel: float,
                app: float) -> None:
        return

    def on_message(self, client: Client, probe: Probe, kernel: float) -> None:
        if probe.type == "pong" and client.index < len(self.sent_at):
            self.pongs += 1
            self.round_trips.append(kernel - self.sent_at[client.index])  # both in ms

    def on_close(self, client: Client, code: int | None) -> None:
        self.closed += 1

    async def connect(self, port: int, code: str, n: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        hello = json.dumps({"type": "hello", "role": "participant", "code": code}).encode()
        gate = asyncio.Semaphore(64)
        failed = 0

        async def one(i: int) -> None:
            nonlocal failed
            client = Client(loop, self, "attune", index=i)
            async with gate:
                try:
                    await asyncio.wait_for(client.connect("127.0.0.1", port, "/ws",
                                                          self.sources[i % SOURCES]),
                                           HELLO_TIMEOUT)
                    client.send(hello)
                    await asyncio.wait_for(client.welcomed, HELLO_TIMEOUT)
                except (OSError, TimeoutError):
                    failed += 1
                    client.abort()
                    return
            self.clients.append(client)

        await asyncio.gather(*(one(i) for i in range(n)))
        self.clients.sort(key=lambda c: c.index)
        for position, client in enumerate(self.clients):
            client.index = position
        self.sent_at = [0.0] * len(self.clients)
        return {"connected": len(self.clients), "failed": failed}

    async def window(self, kind: str, seconds: float, interval: float) -> dict[str, Any]:
        """Run one window; in ``heartbeat`` every phone pings once per ``interval``, phone ``i``
        at ``i / n`` of the interval, as a room's phones do (each page started at its own time)."""
        self.round_trips = []
        self.pongs = 0
        sent = 0
        start = time.monotonic()
        if kind == "heartbeat" and self.clients:
            n = len(self.clients)
            due = 0
            while (elapsed := time.monotonic() - start) < seconds:
                target = int(elapsed / interval * n)
                while due < target:
                    client = self.clients[due % n]
                    now = time.time() * 1000
                    self.sent_at[client.index] = now
                    client.send(b'{"type":"ping","t":%d}' % int(now))
                    due += 1
                await asyncio.sleep(TICK)
            sent = due
        else:
            await asyncio.sleep(seconds)
        await asyncio.sleep(min(2.0, interval))  # the last pongs on their way
        return {"sent": sent, "pongs": self.pongs, "round_trips": self.round_trips,
                "closed": self.closed}

    def close(self) -> None:
        for client in self.clients:
            client.abort()


def _process(pipe: Connection, number: int) -> None:
    """A load process: obeys ``(name, kwargs)`` commands from the pipe until ``quit``."""
    system.raise_open_files()

    async def run() -> None:
        phones = Phones(number)
        while True:
            name, kwargs = await asyncio.to_thread(pipe.recv)
            if name == "quit":
                phones.close()
                return
            pipe.send(await getattr(phones, name)(**kwargs))

    asyncio.run(run())


class Load:
    """The load processes, each with its share of the phones; a call goes to all of them."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        for number in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(target=_process, args=(theirs, number), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    async def call(self, name: str, shares: list[dict[str, Any]] | None = None,
                   **kwargs: Any) -> list[Any]:
        for i, pipe in enumerate(self.pipes):
            pipe.send((name, {**kwargs, **(shares[i] if shares else {})}))
        return [await asyncio.to_thread(pipe.recv) for pipe in self.pipes]

    def cpu(self) -> float:
        return sum(system.cpu_seconds(p.pid) for p in self.processes if p.pid is not None)

    def stop(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("quit", {}))
            except OSError:
                continue
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.kill()


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(phones: int, seconds: float, interval: float, workers: int,
                  out: Path) -> dict[str, Any]:
    log = out / "logs" / "heartbeat.log"
    server = ServerProcess("attune", ["--backend", "memory://"], None, log)
    server.start()
    load = Load(workers)
    try:
        created = await asyncio.to_thread(create_session, server.api)
        share = [phones // workers + (1 if i < phones % workers else 0) for i in range(workers)]
        started = time.perf_counter()
        joined = await load.call("connect", shares=[{"n": k} for k in share],
                                 port=server.port, code=created["code"])
        connect_seconds = time.perf_counter() - started
        connected = sum(r["connected"] for r in joined)
        await asyncio.sleep(2.0)
        windows: dict[str, Any] = {}
        for kind in ("quiet", "heartbeat"):
            load_before = os.getloadavg()[0]
            cpu0, wait0, load0 = server.cpu(), system.wait_seconds(server.pid), load.cpu()
            replies = await load.call("window", kind=kind, seconds=seconds, interval=interval)
            # Per second of the window itself: the few pongs of the drain after it count in its
            # CPU, the drain's idle seconds do not dilute it.
            cpu = server.cpu() - cpu0
            trips = [t for r in replies for t in r["round_trips"]]
            sent = sum(r["sent"] for r in replies)
            windows[kind] = {
                "seconds": seconds,
                "server_cores": round(cpu / seconds, 4),
                "server_cpu_s": round(cpu, 3),
                "server_waited_s": round(system.wait_seconds(server.pid) - wait0, 3),
                "load_cores": round((load.cpu() - load0) / seconds, 4),
                "pings_sent": sent,
                "pongs": sum(r["pongs"] for r in replies),
                "pings_per_s": round(sent / seconds, 1),
                "round_trip_ms": {
                    "p50": _ms(_quantile(trips, 0.5)), "p99": _ms(_quantile(trips, 0.99)),
                    "max": _ms(max(trips) if trips else None),
                    "mean": _ms(statistics.fmean(trips) if trips else None),
                },
                "closed": sum(r["closed"] for r in replies),
                "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            }
        quiet, beat = windows["quiet"], windows["heartbeat"]
        extra = beat["server_cpu_s"] / beat["seconds"] - quiet["server_cpu_s"] / quiet["seconds"]
        per_second = beat["pongs"] / beat["seconds"] if beat["pongs"] else 0
        return {
            "phones": phones, "connected": connected, "connect_seconds": round(connect_seconds, 1),
            "interval_s": interval, "workers": workers, "windows": windows,
            "extra_server_cores": round(extra, 4),
            "extra_us_per_ping": round(extra / per_second * 1e6, 1) if per_second else None,
            "server_us_per_ping_all_in": round(
                beat["server_cpu_s"] / beat["pongs"] * 1e6, 1) if beat["pongs"] else None,
            "cpu_model": system.cpu_model(), "cpus": len(system.cpus()),
        }
    finally:
        load.stop()
        server.stop()


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m bench.heartbeat", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each window")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a phone's "
                        "pings (web/js/live.js PING_EVERY)")
    parser.add_argument("--workers", type=int, default=2, help="load processes")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    system.raise_open_files()
    out: Path = args.out
    result = asyncio.run(measure(args.phones, args.seconds, args.interval, args.workers, out))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"heartbeat-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    quiet, beat = result["windows"]["quiet"], result["windows"]["heartbeat"]
    print(f"{result['connected']} phones connected in {result['connect_seconds']} s")
    for name, window in (("quiet", quiet), ("heartbeat", beat)):
        trips = window["round_trip_ms"]
        print(f"{name:>9}: server {window['server_cores'] * 100:.1f}% of a core, load "
              f"{window['load_cores'] * 100:.1f}%, {window['pings_per_s']} pings/s, "
              f"{window['pongs']} pongs, round trip p50 {trips['p50']} ms p99 {trips['p99']} ms, "
              f"load average {window['load_average']}")
    print(f"heartbeat costs {result['extra_server_cores'] * 100:.1f}% of a core more: "
          f"{result['extra_us_per_ping']} us per ping and pong "
          f"({result['server_us_per_ping_all_in']} us counting all the server did); {path}")
    return path


if __name__ == "__main__":
    main()
