"""Load generator processes: each holds a share of the participants' sockets and obeys commands.

The orchestrator starts ``Load(workers=W)``; each worker is a separate process (pinned to the load
core where the machine allows) running one event loop with its ``Client``s. Commands travel over a
pipe as ``(id, name, kwargs)`` and each reply is ``(id, result)``; latencies come back as packed
``array('d')`` bytes so ten thousand of them cost one small message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import time
import traceback
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from bench import system
from bench.wsclient import Client, Probe

HELLO_TIMEOUT = 30.0
SOURCES = 64


class Round:
    __slots__ = ("app", "kernel")

    def __init__(self) -> None:
        self.kernel = array("d")
        self.app = array("d")


class Worker:
    """The process side: owns the clients and records what they receive."""

    def __init__(self, pipe: Connection, number: int) -> None:
        self.pipe = pipe
        self.number = number
        self.sources = [f"127.{10 + number}.0.{i}" for i in range(1, SOURCES + 1)]
        """Each worker connects from its own loopback addresses, so its ports never collide
        with another worker's, and no address holds more than a few hundred sockets (the server
        limits sockets per address, as behind a school's NAT)."""
        self.clients: list[Client] = []
        self.rounds: dict[int, Round] = {}
        self.acks = 0
        self.ack_times = array("d")
        self.errors: Counter[str] = Counter()
        self.closes: Counter[int] = Counter()
        self.replays = 0
        self.snapshots = 0
        self.healthy_only = False
        """Measure only the clients that never play slow, so a scenario compares the same
        participants before and after the slow ones stop reading."""
        self.done = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    # --- Observer ------------------------------------------------------------------------------

    def on_open(self, client: Client) -> None:
        pass

    def on_step(self, client: Client, seq: int, started_at: float, kernel: float,
                app: float) -> None:
        if self.healthy_only and client.slow:
            return
        record = self.rounds.get(seq)
        if record is None:
            record = self.rounds[seq] = Round()
        record.kernel.append(kernel - started_at)
        record.app.append(app - started_at)

    def on_message(self, client: Client, probe: Probe, kernel: float) -> None:
        if probe.type == "ack":
            self.acks += 1
            self.ack_times.append(kernel)
        elif probe.type == "error":
            self.errors[probe.code] += 1
        elif probe.type == "welcome":
            if probe.replay:
                self.replays += 1
            else:
                self.snapshots += 1

    def on_close(self, client: Client, code: int | None) -> None:
        self.closes[code if code is not None else 1006] += 1

    # --- commands ------------------------------------------------------------------------------

    def source(self, client: Client) -> str:
        return self.sources[client.index % len(self.sources)]

    def live(self) -> list[Client]:
        return [c for c in self.clients if c.open and not c.paused
                and not (self.healthy_only and c.slow)]

    async def measure_healthy(self, only: bool) -> int:
        self.healthy_only = only
        return len(self.live())

    async def connect(self, host: str, port: int, kind: str, path: str, n: int,
                      hello: str | None, slow_every: int, concurrency: int) -> dict[str, Any]:
        gate = asyncio.Semaphore(concurrency)
        failures: Counter[str] = Counter()
        start = time.perf_counter()

        async def one(i: int) -> None:
            client = Client(self.loop, self, kind, index=len(self.clients) + i,
                            slow=slow_every > 0 and i % slow_every == 0)
            async with gate:
                try:
                    await asyncio.wait_for(client.connect(host, port, path,
                                                          self.source(client)), HELLO_TIMEOUT)
                    if hello is not None:
                        client.send(hello.encode())
                        await asyncio.wait_for(client.welcomed, HELLO_TIMEOUT)
                except (OSError, TimeoutError) as exc:
                    failures[type(exc).__name__ + ": " + str(exc)[:60]] += 1
                    client.abort()
                    return
            self.clients.append(client)

        await asyncio.gather(*(one(i) for i in range(n)))
        return {"connected": n - sum(failures.values()), "failed": dict(failures),
                "seconds": time.perf_counter() - start}

    async def wait_round(self, seq: int, timeout: float) -> dict[str, Any]:
        """Wait until every reading client has seen event ``seq``; return the latencies."""
        expected = len(self.live())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.rounds.get(seq)
            if record is not None and len(record.kernel) >= expected:
                break
            await asyncio.sleep(0.002)
        record = self.rounds.pop(seq, None) or Round()
        for old in [s for s in self.rounds if s < seq]:
            del self.rounds[old]
        return {"expected": expected, "kernel": record.kernel.tobytes(),
                "app": record.app.tobytes()}

    async def answer(self, step: int, timeout: float) -> dict[str, Any]:
        """Every reading client answers ``step`` at once; wait for the acks."""
        self.acks, self.ack_times, self.errors = 0, array("d"), Counter()
        clients = self.live()
        first = time.time() * 1000
        for client in clients:
            client.send(b'{"type":"answer","step":%d,"submission":"%d-%d-%d","value":'
                        b'{"kind":"scale","value":%d}}'
                        % (step, self.number, client.index, step, 1 + client.index % 5))
        last = time.time() * 1000
        deadline = time.monotonic() + timeout
        while self.acks + sum(self.errors.values()) < len(clients) \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        return {"sent": len(clients), "acked": self.acks, "errors": dict(self.errors),
                "first_send": first, "last_send": last,
                "acks": self.ack_times.tobytes()}

    async def pause_slow(self) -> int:
        slow = [c for c in self.clients if c.slow and c.open]
        for client in slow:
            client.pause()
        return len(slow)

    async def resume_all(self) -> dict[str, Any]:
        self.closes = Counter()
        for client in self.clients:
            client.resume()
        await asyncio.sleep(0.5)
        return {"closes": {str(k): v for k, v in self.closes.items()},
                "open": sum(c.open for c in self.clients)}

    async def storm(self, at: float, host: str, port: int, path: str, code: str,
                    timeout: float, dead: bool = False) -> dict[str, Any]:
        """At wall time ``at`` (ms), drop every connection and resume them all at once
        (``dead``: every client, its server having died under it; else the open ones)."""
        olds = list(self.clients) if dead else [c for c in self.clients if c.open]
        await asyncio.sleep(max(0.0, (at - time.time() * 1000) / 1000))
        for client in olds:
            client.abort()
        self.replays = self.snapshots = 0
        failures: Counter[str] = Counter()
        times = array("d")

        async def one(old: Client) -> Client | None:
            client = Client(self.loop, self, old.kind, index=old.index, slow=old.slow)
            client.token, client.epoch, client.seq = old.token, old.epoch, old.seq
            try:
                await asyncio.wait_for(client.connect(host, port, path, self.source(client)),
                                       timeout)
                client.send(json.dumps({
                    "type": "hello", "role": "participant", "code": code,
                    "resume": {"token": old.token, "epoch": old.epoch, "last_seq": old.seq},
                }).encode())
                times.append(await asyncio.wait_for(client.welcomed, timeout) - at)
            except (OSError, TimeoutError) as exc:
                failures[type(exc).__name__] += 1
                client.abort()
                return None
            return client

        fresh = await asyncio.gather(*(one(c) for c in olds))
        self.clients = [c for c in fresh if c is not None]
        return {"attempted": len(olds), "resumed": len(self.clients), "failed": dict(failures),
                "replays": self.replays, "snapshots": self.snapshots, "times": times.tobytes()}

    async def close_all(self) -> int:
        n = len(self.clients)
        for client in self.clients:
            client.abort()
        self.clients = []
        self.rounds.clear()
        return n

    async def quit(self) -> None:
        await self.close_all()
        self.done.set()

    # --- the command loop ----------------------------------------------------------------------

    def _command(self) -> None:
        try:
            ident, name, kwargs = self.pipe.recv()
        except EOFError:
            self.done.set()
            return
        handler: Callable[..., Awaitable[Any]] = getattr(self, name)

        async def run() -> None:
            try:
                result: Any = (True, await handler(**kwargs))
            except Exception:
                result = (False, traceback.format_exc())
            self.pipe.send((ident, result))

        self.loop.create_task(run())

    async def serve(self) -> None:
        self.loop.add_reader(self.pipe.fileno(), self._command)
        await self.done.wait()


def _main(pipe: Connection, number: int, cpus: list[int] | None, kind: type[Worker]) -> None:
    system.raise_open_files()
    if cpus:
        system.pin(os.getpid(), cpus)

    async def run() -> None:
        await kind(pipe, number).serve()

    asyncio.run(run())


class Handle:
    """The orchestrator's end of one worker (``kind``: a ``Worker`` subclass with more commands,
    importable by module and name so a spawned process finds it)."""

    def __init__(self, number: int, cpus: list[int] | None, kind: type[Worker] = Worker) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_main, args=(child, number, cpus, kind),
                                       daemon=True)
        self.process.start()
        child.close()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.ids = 0
        self.listening = False

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def _reply(self) -> None:
        try:
            ident, (ok, result) = self.pipe.recv()
        except EOFError:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(RuntimeError("load worker died"))
            asyncio.get_running_loop().remove_reader(self.pipe.fileno())
            return
        future = self.pending.pop(ident)
        if ok:
            future.set_result(result)
        else:
            future.set_exception(RuntimeError(f"load worker failed:\n{result}"))

    async def call(self, name: str, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        if not self.listening:
            loop.add_reader(self.pipe.fileno(), self._reply)
            self.listening = True
        self.ids += 1
        future: asyncio.Future[Any] = loop.create_future()
        self.pending[self.ids] = future
        self.pipe.send((self.ids, name, kwargs))
        return await future

    def stop(self) -> None:
        if self.listening:
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().remove_reader(self.pipe.fileno())
        with contextlib.suppress(OSError):
            self.pipe.send((0, "quit", {}))
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


class Load:
    """All load workers; calls go to every worker at once."""

    def __init__(self, workers: int, cpus: list[int] | None, kind: type[Worker] = Worker) -> None:
        self.handles = [Handle(i, cpus, kind) for i in range(workers)]

    @property
    def pids(self) -> list[int]:
        return [h.pid for h in self.handles]

    async def each(self, name: str, shares: list[dict[str, Any]] | None = None,
                   **kwargs: Any) -> list[Any]:
        calls = [h.call(name, **{**kwargs, **(shares[i] if shares else {})})
                 for i, h in enumerate(self.handles)]
        return list(await asyncio.gather(*calls))

    def split(self, n: int) -> list[int]:
        w = len(self.handles)
        return [n // w + (1 if i < n % w else 0) for i in range(w)]

    def stop(self) -> None:
        for handle in self.handles:
            handle.stop()
