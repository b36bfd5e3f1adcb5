"""``python -m bench.inproc``: the Python side of an answer, without sockets or a second process.

The real application (``create_app``, memory backend, themes as configured) with each
participant's ``Connection`` on an in-memory transport: an answer's frame goes into
``data_received`` and its ack comes out of ``write``, so what is timed is exactly the Python work
between the two (frame, decode, rules, log, fold, ack), with no system call and no other process
to wait for. The Python floor's protocol (``bench.peers.Floor``) is timed the same way. This is
the figure to profile against (``--profile`` prints cProfile's top functions); the end-to-end
CPU per answer, kernel included, is ``python -m bench --scenarios ingest``.

    python -m bench.inproc --participants 5000 --rounds 3

Each round's answers arrive in a shuffled order (seeded by the round, the same for both servers),
as a room's phones answer: in join order every answer's objects lie next to the last one's in
memory, which hides the cache misses a real burst pays, and at 10,000 participants hid half of
Attune's cost against the floor (docs/benchmarks.md, "Where an answer's memory goes").
``--join-order`` sends them in the order the phones joined instead, the older figure.

Under ``valgrind --tool=callgrind --instr-atstart=no``, ``--callgrind`` counts instructions
only while the answer frames go in (``callgrind_control -i on/off`` around that loop, Attune's
or, with ``--floor``, the Python floor's): the load-independent figure, total instructions over
participants x rounds (docs/benchmarks.md, "The whole process's share of an answer").

    valgrind --tool=callgrind --instr-atstart=no python -m bench.inproc --participants 1000 \
        --rounds 2 --callgrind

With ``--cache-sim=yes`` the same run counts data-cache misses (``D1mr``, ``DLmr``, ``DLmw``) per
answer, the figure for what an answer's memory costs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import subprocess
import time
from typing import Any

import uvloop

from attune.app import create_app
from attune.cli import tune_collector
from attune.config import Settings
from attune.transport.connection import Connection
from bench import peers
from bench.targets import FIRST_SCALE, scenario_yaml
from bench.wsclient import frame

HANDSHAKE = (b"GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


class Transport:
    """Enough of an asyncio transport for a connection that is never slow: counts writes."""

    def __init__(self, number: int) -> None:
        self.peer = (f"127.{number // 60000 % 250}.{number // 250 % 240}.{1 + number % 250}", 1)
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False


def instrument(on: bool) -> None:
    """Ask callgrind (``--callgrind``) to count from now on, or to stop."""
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                   check=True, stdout=subprocess.DEVNULL)


def answer(step: int, i: int) -> bytes:
    return frame(b'{"type":"answer","step":%d,"submission":"%d-%d","value":'
                 b'{"kind":"scale","value":%d}}' % (step, i, step, 1 + i % 5))


def arrival(sockets: list[Any], r: int, shuffled: bool) -> list[Any]:
    """The order round ``r``'s answers arrive in: the sockets shuffled by a seed of the round
    (the same for both servers, so they see the same order), or as the phones joined. The
    frames are zipped in their own order, so each arrives as fresh bytes do, in the order the
    memory holding them was allocated."""
    if shuffled:
        random.Random(r).shuffle(sockets)
    return sockets


def floor(n: int, rounds: int, callgrind: bool = False, shuffled: bool = True) -> list[float]:
    peers.Floor.sockets = set()
    peers.Floor.payload = peers.Payload(400)
    sockets = []
    for i in range(n):
        protocol, transport = peers.Floor(), Transport(i)
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(HANDSHAKE)
        sockets.append(protocol)
    costs = []
    for r in range(rounds):
        frames = [answer(FIRST_SCALE + r, i) for i in range(n)]
        order = arrival(list(sockets), r, shuffled)
        if callgrind:
            instrument(True)
        started = time.process_time()
        for protocol, data in zip(order, frames, strict=True):
            protocol.data_received(data)
        if callgrind:
            instrument(False)
        costs.append((time.process_time() - started) / n * 1e6)
    return costs


async def _post(app: Any, path: str, body: bytes) -> Any:
    """One HTTP request straight into the ASGI app."""
    sent: list[dict[str, Any]] = []
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"content-type", b"application/json"),
                                              (b"host", b"bench")],
             "scheme": "http", "server": ("bench", 80), "client": ("127.0.0.1", 1),
             "root_path": "", "http_version": "1.1", "app": app, "state": {}}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return json.loads(b"".join(m.get("body", b"") for m in sent
                               if m["type"] == "http.response.body"))


async def attune(n: int, rounds: int, profile: bool, callgrind: bool = False,
                 shuffled: bool = True) -> list[float]:
    app = create_app(Settings(port=0, backend="memory://"))
    costs = []
    async with app.router.lifespan_context(app):
        endpoint = app.state.endpoint
        created = await _post(app, "/api/sessions",
                              json.dumps({"scenario_yaml": scenario_yaml()}).encode())

        def connect(i: int) -> tuple[Connection, Transport]:
            conn, transport = Connection(endpoint, set()), Transport(i)
            conn.connection_made(transport)  # type: ignore[arg-type]
            conn.data_received(HANDSHAKE)
            return conn, transport

        host, _ = connect(n)
        host.data_received(frame(json.dumps({"type": "hello", "role": "facilitator",
                                             "session": created["session"],
                                             "token": created["token"]}).encode()))
        await asyncio.sleep(0.05)
        host.data_received(frame(b'{"type":"start"}'))
        hello = frame(json.dumps({"type": "hello", "role": "participant",
                                  "code": created["code"]}).encode())
        phones = []
        for i in range(n):
            conn, transport = connect(i)
            conn.data_received(hello)
            phones.append((conn, transport))
            if i % 100 == 0:
                await asyncio.sleep(0)
        await asyncio.sleep(0.5)
        for r in range(rounds):
            step = FIRST_SCALE + r
            host.data_received(frame(b'{"type":"goto","step":%d}' % step))
            await asyncio.sleep(0.2)
            frames = [answer(step, i) for i in range(n)]
            order = arrival([conn for conn, _ in phones], r, shuffled)
            before = sum(t.writes for _, t in phones)
            spy = cProfile.Profile() if profile and r == rounds - 1 else None
            started = time.process_time()
            if spy is not None:
                spy.enable()
            if callgrind:
                instrument(True)
            for conn, data in zip(order, frames, strict=True):
                conn.data_received(data)
            if callgrind:
                instrument(False)  # the memory backend acknowledged every answer in the loop
            turns = 0
            while sum(t.writes for _, t in phones) - before < n and turns < 1000:
                await asyncio.sleep(0)  # answers handled in tasks (or waiting) finish here
                turns += 1
            if spy is not None:
                spy.disable()
            costs.append((time.process_time() - started) / n * 1e6)
            acks = sum(t.writes for _, t in phones) - before
            if acks != n:
                raise RuntimeError(f"{acks} acks for {n} answers")
            await asyncio.sleep(0.2)
            if spy is not None:
                pstats.Stats(spy).sort_stats("tottime").print_stats(20)
        for conn, _ in phones:
            conn.connection_lost(None)
    return costs


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the last round")
    parser.add_argument("--callgrind", action="store_true",
                        help="under callgrind: count only the answer loops (one server)")
    parser.add_argument("--join-order", action="store_true",
                        help="answers in the order the phones joined, not shuffled")
    parser.add_argument("--floor", action="store_true",
                        help="with --callgrind: the Python floor's loop instead of Attune's")
    args = parser.parse_args(argv)
    shuffled = not args.join_order
    tune_collector()  # as `attune serve` does
    if args.callgrind:
        server = "floor" if args.floor else "attune"
        costs = (floor(args.participants, args.rounds, True, shuffled) if args.floor else
                 uvloop.run(attune(args.participants, args.rounds, False, True, shuffled)))
        print(f"{server} counted; instructions per answer = callgrind's total / "
              f"{args.participants * args.rounds}")
        return {server: costs}
    results = {"floor": floor(args.participants, args.rounds, shuffled=shuffled),
               "attune": uvloop.run(attune(args.participants, args.rounds, args.profile,
                                           shuffled=shuffled))}
    for name, costs in results.items():
        print(f"{name:7} Python us/answer, rounds: " + ", ".join(f"{c:.2f}" for c in costs))
    best = min(results["attune"]) / min(results["floor"])
    print(f"attune / floor (best rounds): {best:.2f}")
    return results


if __name__ == "__main__":
    main()
