"""``python -m bench.themes``: what live themes cost, on this machine (docs/themes.md reports it).

    python -m bench.themes                      # embedding cost, 100 and 1,000 answers, on/off
    python -m bench.themes --sizes --single 0     # the fan-out bursts alone

Three measurements:

- **embedding cost per answer**: the worker's model, in this process, one answer at a time (as
  answers arrive) and in batches (as a grouping of answers not yet seen embeds them);
- **reveal to themes**: a real ``attune serve`` in its own process, N participants answer a
  free-text step with ``themes: true``, the facilitator reveals it and waits for the results that
  carry themes (they come through the results push, coalesced every 100 ms), and for the
  projector to have them; the phones hang up after answering (see below): *warm* when the
  facilitator was connected while people answered (answers embedded as they arrived), *cold*
  when it connects only afterwards (everything embedded at grouping time);
- **fan-out during a burst**: two rooms at once, each a real ``attune serve`` (one with the themes
  worker, one ``--no-themes``) pinned to the server CPU, with ``--burst`` participants held by
  ``bench.loadgen``'s load processes on the other CPU (``TextWorker``: they answer in free text and
  note each event's kernel arrival time, as ``bench.wsclient`` does for step events). A burst: all
  participants answer a fresh free-text step at once, with answers never seen before, while two
  facilitators flip ``reveal`` and ``show_join`` so that an event goes out every ``--every`` ms for
  ``--window`` s; the latency of every event at every participant is known. Bursts take turns
  between the two rooms (on-off, off-on, ...), so the shared machine's load, which drifts over
  seconds, falls on both alike; each pair of consecutive bursts gives a ratio of p99s. The worker
  is let finish between bursts, and its CPU time in and after each window is reported.

Reveal to themes uses script clients (``attune.client``) in this process; the server is always a
separate process, as in production. Bounded: every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import msgspec
import yaml

from attune.client import Client, Created, create_session
from attune.core import protocol as p
from bench import system
from bench.loadgen import Load, Worker
from bench.wsclient import Client as LoadClient
from bench.wsclient import Probe

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "themes" / "noor.yaml"
STEP = 0


def texts(n: int) -> list[str]:
    """``n`` distinct short answers: the labelled set, then pairs of answers of one theme (some
    2,300 in all, taken round the themes so any prefix mixes them)."""
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))["answers"]
    by_theme = [[t for answers in langs.values() for t in answers] for langs in data.values()]
    found = [t for theme in by_theme for t in theme]
    pairs = [[f"{a} {b}" for i, a in enumerate(theme) for b in theme[i + 1:]]
             for theme in by_theme]
    for row in zip(*pairs, strict=False):
        found.extend(row)
    if n > len(found):
        raise ValueError(f"at most {len(found)} distinct answers")
    return found[:n]


TAILS = ("", " Maybe.", " I think.", " Peut-être.", " 也许。", " Or so it seems.", " Je crois.",
         " 我觉得。", " Probably.", " Sans doute.", " 大概吧。", " I guess.", " On dirait.",
         " 可能是这样。", " Who knows.", " Qui sait.")
"""Endings that make the labelled answers into more distinct ones: the worker keeps every vector
it made, so a text seen in an earlier burst would cost it nothing."""


def burst_texts(n: int, bursts: int) -> list[list[str]]:
    """``bursts`` lists of ``n`` answers, no text twice across all of them."""
    base = texts(2000)
    if n * bursts > len(base) * len(TAILS):
        raise ValueError(f"at most {len(base) * len(TAILS)} distinct answers")
    every = [base[j % len(base)] + TAILS[j // len(base)] for j in range(n * bursts)]
    return [every[k * n:(k + 1) * n] for k in range(bursts)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- embedding cost ---------------------------------------------------------------------------


def embedding_cost(n: int) -> dict[str, float]:
    from attune.themes import worker

    worker.init()
    sample = texts(n + 1000)
    started = time.perf_counter()
    one = []
    for text in sample[:n]:
        t0 = time.perf_counter()
        worker.embed([text])
        one.append((time.perf_counter() - t0) * 1000)
    batch = sample[n:]
    t0 = time.perf_counter()
    worker.embed(batch)
    batched = (time.perf_counter() - t0) * 1000 / len(batch)
    t0 = time.perf_counter()
    worker.group(sample[:1000], 8, 3)
    group_1000 = (time.perf_counter() - t0) * 1000
    return {
        "one_at_a_time_ms_median": round(statistics.median(one), 2),
        "one_at_a_time_ms_p95": round(pct(one, 0.95), 2),
        "batched_ms_per_answer": round(batched, 3),
        "group_1000_embedded_ms": round(group_1000, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


# --- a real server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``attune serve`` in its own process, with or without the themes worker, pinned to
    ``cpus`` when given (its themes worker inherits the pinning: the strict case, where every
    cycle the worker takes is one the server could have had)."""

    def __init__(self, themes: bool, min_responses: int, scenario: dict[str, Any],
                 cpus: list[int] | None = None, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.themes = themes
        self.min_responses = min_responses
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = tempfile.TemporaryDirectory()
        (Path(self.folder.name) / "scenario.yaml").write_text(yaml.safe_dump(scenario), "utf-8")
        command = [*system.pin_prefix(cpus), sys.executable, "-m", "attune.cli", "serve",
                   "--port", str(self.port), "--backend", "memory://",
                   "--scenarios", self.folder.name, "--min-responses", str(min_responses)]
        if not themes:
            command.append("--no-themes")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})

    @property
    def pid(self) -> int:
        return self.process.pid

    async def listening(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("attune serve did not start") from None
                await asyncio.sleep(0.2)

    async def ready(self) -> None:
        await self.listening()
        if self.themes:
            await self.warm_up()

    async def warm_up(self) -> None:
        """Group a throwaway session's answers once, so the worker has loaded its model (seconds
        on a loaded machine) before anything is measured."""
        created = await create_session(self.base, "themes-story")
        host = await Client.facilitator(created)
        people = await join(created, 6)
        await host.command(p.Start())
        await asyncio.gather(*(person.expect(p.StepEvent, timeout=60) for person in people))
        await asyncio.gather(*(person.answer(STEP, p.TextValue(text=text))
                               for person, text in zip(people, texts(6), strict=True)))
        await host.command(p.GroupThemes(step=STEP))
        await host.expect(p.Results, themed, timeout=300)
        await asyncio.gather(*(c.close() for c in [*people, host]))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.folder.cleanup()


def story_scenario() -> dict[str, Any]:
    """The themes test scenario, its free-text step grouped on reveal."""
    scenario: dict[str, Any] = yaml.safe_load(
        (ROOT / "tests/data/themes/story.yaml").read_text("utf-8"))
    scenario["steps"][0]["max_length"] = 1000
    return scenario


async def join(created: Created, n: int) -> list[Client]:
    people: list[Client] = []
    for start in range(0, n, 100):
        people += await asyncio.gather(*(Client.participant(created.code, base=created.base)
                                         for _ in range(start, min(n, start + 100))))
    return people


def themed(results: p.Results) -> bool:
    return isinstance(results.answers, p.TextAggregate) and results.answers.themes is not None


async def reveal_to_themes(n: int, warm: bool) -> dict[str, Any]:
    server = Server(themes=True, min_responses=3, scenario=story_scenario())
    try:
        await server.ready()
        created = await create_session(server.base, "themes-story")
        host = await Client.facilitator(created)
        people = await join(created, n)
        await host.command(p.Start())
        await asyncio.gather(*(person.expect(p.StepEvent, timeout=60) for person in people))
        if not warm:  # nobody on this node to embed for while the answers arrive
            await host.close()
            await asyncio.sleep(0.5)
        answers = texts(n)
        await asyncio.gather(*(person.answer(STEP, p.TextValue(text=text))
                               for person, text in zip(people, answers, strict=True)))
        # The phones hang up (their answers stay): otherwise this one process would spend the
        # measured time decoding a thousand copies of the revealed cards, which real phones do
        # each on their own. A projector stays, as in a room.
        await asyncio.gather(*(person.close() for person in people))
        screen = await Client.screen(created.code, base=created.base)
        if warm:  # let the embedding of the arrivals finish, as it would while people read
            await asyncio.sleep(2.0 + n * 0.01)
        else:
            host = await Client.facilitator(created)
        t0 = time.perf_counter()
        await host.command(p.Reveal())
        results = await host.expect(p.Results, themed, timeout=120)
        elapsed = (time.perf_counter() - t0) * 1000
        assert isinstance(results.answers, p.TextAggregate) and results.answers.themes
        await screen.expect(p.Results, themed, timeout=120)
        on_screen = (time.perf_counter() - t0) * 1000
        await asyncio.gather(*(c.close() for c in [screen, host]))
        return {"answers": n, "warm": warm, "ms": round(elapsed, 1),
                "on_screen_ms": round(on_screen, 1),
                "themes": len(results.answers.themes.themes)}
    finally:
        server.stop()


# --- fan-out during a burst, on the multi-process load generator --------------------------------


class TextWorker(Worker):
    """A load process whose participants answer in free text and note when each toggled event
    (``TOGGLES``) arrives (kernel time, as ``Worker`` notes step events)."""

    def __init__(self, pipe: Connection, number: int) -> None:
        super().__init__(pipe, number)
        self.reveals: dict[int, array[float]] = {}

    def on_message(self, client: LoadClient, probe: Probe, kernel: float) -> None:
        if probe.type in TOGGLES:
            self.reveals.setdefault(probe.seq, array("d")).append(kernel)
        else:
            super().on_message(client, probe, kernel)

    async def answer_texts(self, step: int, texts: list[str], timeout: float) -> dict[str, Any]:
        """Every reading client answers ``step`` at once, each with its own text; wait for the
        acks (as ``Worker.answer`` does for scale answers)."""
        self.acks, self.ack_times, self.errors = 0, array("d"), Counter()
        clients = self.live()
        first = time.time() * 1000
        for client, text in zip(clients, texts, strict=False):
            client.send(answer_frame(step, f"{self.number}-{client.index}-{step}", text))
        sent = min(len(clients), len(texts))
        deadline = time.monotonic() + timeout
        while self.acks + sum(self.errors.values()) < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        return {"sent": sent, "acked": self.acks, "errors": dict(self.errors),
                "first_send": first, "acks": self.ack_times.tobytes()}

    async def take_reveals(self) -> dict[int, bytes]:
        taken, self.reveals = self.reveals, {}
        return {seq: times.tobytes() for seq, times in taken.items()}


answer_encoder = msgspec.json.Encoder()


def answer_frame(step: int, submission: str, text: str) -> bytes:
    return answer_encoder.encode(p.Answer(step=step, submission=submission,
                                          value=p.TextValue(text=text)))


TOGGLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "reveal": ({"type": "reveal"}, {"type": "hide_results"}),
    "join": ({"type": "show_join", "shown": True}, {"type": "show_join", "shown": False})}
"""Two independent states a facilitator can flip, each making one event per flip: a connection
may send 20 messages a second (``transport/ws.py``), so two connections, each flipping its own,
make events twice as often, and each one's events stay in the order it sent them."""


class Control:
    """A facilitator's socket, in this process, flipping one of ``TOGGLES`` and noting each of
    its events' seq. Connected, it is also what makes the node embed answers (only where a
    facilitator is connected)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.seqs: list[int] = []
        """Seq of each of this kind's events, in order: the i-th is the i-th flip sent."""
        self.sent: list[float] = []
        self.errors: Counter[str] = Counter()
        self.client: LoadClient | None = None

    def on_open(self, client: LoadClient) -> None:
        pass

    def on_step(self, client: LoadClient, seq: int, started_at: float, kernel: float,
                app: float) -> None:
        pass

    def on_message(self, client: LoadClient, probe: Probe, kernel: float) -> None:
        if probe.type == self.kind:
            self.seqs.append(probe.seq)
        elif probe.type == "error":
            self.errors[probe.code] += 1

    def on_close(self, client: LoadClient, code: int | None) -> None:
        pass

    async def open(self, server: Server, created: Created) -> None:
        self.client = LoadClient(asyncio.get_running_loop(), self, "attune")
        await self.client.connect("127.0.0.1", server.port, "/ws")
        self.send({"type": "hello", "role": "facilitator", "session": created.session,
                   "token": created.token})
        await asyncio.wait_for(self.client.welcomed, 30)

    def send(self, message: dict[str, Any]) -> None:
        assert self.client is not None
        self.client.send(json.dumps(message).encode())

    async def step(self, index: int) -> None:
        assert self.client is not None
        seq = self.client.seq
        self.send({"type": "goto", "step": index} if index else {"type": "start"})
        deadline = time.monotonic() + 30
        while self.client.seq <= seq:
            if time.monotonic() > deadline:
                raise TimeoutError(f"step {index} did not start")
            await asyncio.sleep(0.005)

    async def flip(self, start: float, period: float, count: int) -> None:
        """``count`` flips, one every ``period`` s from ``start`` (perf_counter), on a fixed
        rhythm: a busy server gets as many as a quiet one, each with its own queueing delay."""
        self.seqs, self.sent, self.errors = [], [], Counter()
        on, off = TOGGLES[self.kind]
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i * period - time.perf_counter()))
            self.sent.append(time.time() * 1000)
            self.send(on if i % 2 == 0 else off)

    def state(self) -> None:
        """Back to off between bursts (an even number of flips leaves it there anyway)."""
        self.send(TOGGLES[self.kind][1])


def family(pid: int) -> list[int]:
    """A process's descendants (the themes worker and multiprocessing's helpers), from
    ``/proc/<pid>/task/*/children``."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *family(child)]
    return found


def helpers_cpu(pid: int) -> float:
    return sum(system.cpu_seconds(child) for child in family(pid))


def running(pid: int) -> bool:
    """The process is runnable (state R in ``/proc/<pid>/stat``): it has work, even if the
    scheduler gives it no CPU (a ``SCHED_IDLE`` worker on a loaded machine)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "R"
    except OSError:
        return False


async def settled(pid: int, timeout: float = 60) -> float:
    """Wait until the server's helper processes have nothing left to do (none runnable, no CPU
    used for a while: the worker has embedded what it was sent); returns their CPU seconds
    meanwhile."""
    start = last = helpers_cpu(pid)
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        now = helpers_cpu(pid)
        busy = now - last >= 0.005 or any(running(child) for child in family(pid))
        quiet = 0 if busy else quiet + 1
        last = now
    return last - start


def burst_scenario(steps: int) -> dict[str, Any]:
    """``steps`` free-text steps, one per burst (an answer is to the current step). They do not
    group on reveal: the toggles measure the fan-out while the worker embeds, not a grouping."""
    return {
        "id": "themes-burst", "title": "Burst", "summary": "Free-text steps for bench.themes.",
        "audience": ["workshop"], "duration_minutes": 10, "languages": ["en"],
        "steps": [{"kind": "perspective", "prompt": f"Why might Noor have said that? ({i + 1})",
                   "max_length": 1000} for i in range(steps)],
    }


ROOMS: dict[str, tuple[bool, dict[str, str]]] = {
    "on": (True, {}),
    "ungated": (True, {"ATTUNE_THEMES_QUIET_MS": "0"}),
    "off": (False, {}),
}
"""The kinds of room ``--rooms`` chooses from: the themes worker as shipped; the worker without
its wait for a quiet event loop (``worker.QUIET`` 0: only ``SCHED_IDLE`` keeps it out of the
server's way, as in the lead's quiet run of 1 December); no worker (``--no-themes``), the
reference."""


class Room:
    """One server (one of ``ROOMS``) with ``--burst`` participants connected from the load
    processes and the two facilitators, ready for bursts: each on a fresh free-text step, with
    answers never seen before."""

    def __init__(self, args: argparse.Namespace, kind: str, server_cpus: list[int] | None,
                 load_cpus: list[int] | None) -> None:
        self.args = args
        self.kind = kind
        self.themes, env = ROOMS[kind]
        # A threshold above n: the reveals carry no aggregate, so what is measured is the
        # fan-out of events while answers pour in, not the size of results pushes.
        self.server = Server(themes=self.themes, min_responses=args.burst + 1,
                             scenario=burst_scenario(args.bursts + 1), cpus=server_cpus, env=env)
        self.load = Load(args.workers, load_cpus, TextWorker)
        self.controls = [Control(kind) for kind in TOGGLES]
        self.split = self.load.split(args.burst)
        self.answers = burst_texts(args.burst, args.bursts + 1)

    async def open(self) -> None:
        await self.server.listening()
        created = await create_session(self.server.base, "themes-burst")
        for control in self.controls:
            await control.open(self.server, created)
        await self.controls[0].step(0)
        hello = json.dumps({"type": "hello", "role": "participant", "code": created.code})
        replies = await self.load.each(
            "connect", shares=[{"n": k} for k in self.split], host="127.0.0.1",
            port=self.server.port, kind="attune", path="/ws", hello=hello, slow_every=0,
            concurrency=64)
        connected = sum(r["connected"] for r in replies)
        if connected < self.args.burst:
            raise RuntimeError(f"only {connected} of {self.args.burst} connected: {replies}")
        # Step 0 is a warm-up burst: the model is loaded and has embedded once (seconds on a
        # loaded machine) before anything is measured.
        await self.load.each("answer_texts", shares=portions(self.answers[0], self.split),
                             step=0, timeout=60)
        await settled(self.server.pid, 120)
        if self.args.worker_anywhere:  # as on a host where the server is not alone on a core
            for child in family(self.server.pid):
                os.sched_setaffinity(child, system.cpus())

    def close(self) -> None:
        for control in self.controls:
            if control.client is not None:
                control.client.abort()
        self.load.stop()
        self.server.stop()

    async def burst(self, step: int) -> dict[str, Any]:
        """From the burst's first answer, for ``--window`` s, the facilitators flip their
        toggles so that an event goes out every ``--every`` ms; every participant's load
        process notes each event's kernel arrival time. Then the worker is let finish."""
        args, load, controls, server = self.args, self.load, self.controls, self.server
        await controls[0].step(step)
        await asyncio.sleep(0.3)
        await load.each("take_reveals")
        helpers = helpers_cpu(server.pid)
        cpu = system.cpu_seconds(server.pid)
        period = args.every / 1000 * len(controls)
        count = int(args.window / period) // 2 * 2  # even: each toggle ends where it began
        start = time.perf_counter()
        flips = [asyncio.create_task(c.flip(start + i * args.every / 1000, period, count))
                 for i, c in enumerate(controls)]
        replies = await load.each("answer_texts", shares=portions(self.answers[step], self.split),
                                  step=step, timeout=60)
        await asyncio.gather(*flips)
        deadline = time.monotonic() + 60
        while any(len(c.seqs) < len(c.sent) for c in controls) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)  # the controls' copies are among the last written
        helpers = helpers_cpu(server.pid) - helpers
        cpu = system.cpu_seconds(server.pid) - cpu
        first = min(r["first_send"] for r in replies)
        acks = [a - first for a in floats([r["acks"] for r in replies])]
        arrivals: dict[int, list[float]] = {}
        for reply in await load.each("take_reveals"):
            for seq, blob in reply.items():
                arrivals.setdefault(seq, []).extend(floats([blob]))
        latencies: list[float] = []
        for control in controls:
            if len(control.seqs) != len(control.sent) or control.errors:
                raise RuntimeError(f"{control.kind}: {len(control.sent)} flips sent, "
                                   f"{len(control.seqs)} events, errors {dict(control.errors)}")
            for at, seq in zip(control.sent, control.seqs, strict=True):
                latencies += [t - at for t in arrivals.get(seq, [])]
        events = sum(len(c.sent) for c in controls)
        after = await settled(server.pid)
        return {
            "room": self.kind, "themes": self.themes, "step": step,
            "acked": sum(r["acked"] for r in replies),
            "errors": {k: v for r in replies for k, v in r["errors"].items()},
            "answers_s": round(max(acks) / 1000, 3), "events": events,
            "deliveries": len(latencies), "missing": events * args.burst - len(latencies),
            "fanout_p50_ms": round(pct(latencies, 0.5), 2),
            "fanout_p99_ms": round(pct(latencies, 0.99), 2),
            "ack_p99_ms": round(pct(acks, 0.99), 2),
            "server_cpu_s": round(cpu, 3),
            "worker_cpu_s": round(helpers, 3),
            "worker_cpu_after_s": round(after, 3),
            "load": round(os.getloadavg()[0], 2),
            "latencies": latencies,
        }


def portions(answers: list[str], split: list[int]) -> list[dict[str, Any]]:
    """Each load process's share of the answers, as ``Load.each`` shares."""
    starts = [sum(split[:i]) for i in range(len(split))]
    return [{"texts": answers[s:s + k]} for s, k in zip(starts, split, strict=True)]


def floats(blobs: list[bytes]) -> list[float]:
    out = array("d")
    for blob in blobs:
        out.frombytes(blob)
    return out.tolist()


def spread(values: list[float]) -> dict[str, Any]:
    return {"median": round(statistics.median(values), 3),
            "range": [round(min(values), 3), round(max(values), 3)]}


GOAL = 1.10
"""Fan-out p99 with themes at most this many times that without (issue #16)."""
RESAMPLES = 2000


async def bursts(args: argparse.Namespace) -> dict[str, Any]:
    """``--repeat`` times: one room of each of ``--rooms`` at once, and ``--bursts`` bursts in
    each, taking turns (the order rotating from one step to the next: on-off, off-on, ...), so
    the shared machine's load, which drifts over seconds, falls on every room alike. Fresh
    servers for every repeat."""
    server_cpus, load_cpus = system.plan_cpus(not args.no_pin)
    done: list[dict[str, Any]] = []
    for repeat in range(args.repeat):
        rooms = {kind: Room(args, kind, server_cpus, load_cpus) for kind in args.rooms}
        try:
            for room in rooms.values():
                await room.open()
            for step in range(1, args.bursts + 1):
                turn = step % len(args.rooms)
                for kind in args.rooms[turn:] + args.rooms[:turn]:
                    result = await rooms[kind].burst(step)
                    result["repeat"] = repeat + 1
                    done.append(result)
                    print({k: v for k, v in result.items() if k != "latencies"}, flush=True)
        finally:
            for room in rooms.values():
                room.close()
    return summary(done, args.rooms) | {"pinned": {"server": server_cpus, "load": load_cpus}}


def summary(done: list[dict[str, Any]], kinds: list[str]) -> dict[str, Any]:
    """What the goal means, and whether it is met: **the p99 of every delivery of every burst of
    a room, pooled**, against the same for the room without themes, over bursts that took turns
    in one run. A burst's own p99 is the slowest 1% of its 40,000 deliveries, and a median of
    those says how a typical burst went, which hides exactly the few bursts a tail is made of;
    pooled, the slowest 1% of all of them is what a facilitator running many bursts would see.

    The spread: each room's per-burst p99s (quartiles and range), the ratio per step (bursts
    adjacent in time), and a 90% interval of the pooled ratio from resampling whole steps (both
    rooms' bursts of a step together, so what the load did to both stays paired). The verdict is
    *met* when the pooled ratio is at most ``GOAL``, and *settled* when the interval lies on one
    side of it (else more bursts, or a quieter machine, are needed to tell)."""
    import numpy as np

    steps = sorted({(b["repeat"], b["step"]) for b in done})
    by = {(b["room"], b["repeat"], b["step"]): b for b in done}
    edges = np.geomspace(0.05, 120_000, 4000)  # ms; 0.4% wide, finer than a p99's noise
    histogram = {kind: np.stack([np.histogram(by[(kind, *st)]["latencies"], edges)[0]
                                 for st in steps]) for kind in kinds}
    pooled = {kind: [x for b in done if b["room"] == kind for x in b["latencies"]]
              for kind in kinds}
    out: dict[str, Any] = {"bursts": [{k: v for k, v in b.items() if k != "latencies"}
                                      for b in done],
                           "goal": f"pooled fan-out p99 with themes / without <= {GOAL}",
                           "load": spread([b["load"] for b in done])}
    rng = np.random.default_rng(16)
    picks = rng.multinomial(len(steps), [1 / len(steps)] * len(steps), size=RESAMPLES)
    for kind in kinds:
        mine = [by[(kind, *st)] for st in steps]
        out[kind] = {
            "fanout_p99_ms_pooled": round(pct(pooled[kind], 0.99), 2),
            "fanout_p50_ms_pooled": round(pct(pooled[kind], 0.5), 2),
            "fanout_p99_ms_per_burst": quartiles([b["fanout_p99_ms"] for b in mine]),
            "ack_p99_ms_per_burst": quartiles([b["ack_p99_ms"] for b in mine]),
            "server_cpu_s_per_burst": spread([b["server_cpu_s"] for b in mine]),
            "worker_cpu_s_per_burst": spread([b["worker_cpu_s"] for b in mine]),
            "worker_cpu_after_s_per_burst": spread([b["worker_cpu_after_s"] for b in mine]),
        }
    for kind in kinds:
        if kind == "off" or "off" not in kinds:
            continue
        mine = [by[(kind, *st)] for st in steps]
        ratio = out[kind]["fanout_p99_ms_pooled"] / out["off"]["fanout_p99_ms_pooled"]
        low, high = np.quantile(p99s(picks @ histogram[kind], edges)
                                / p99s(picks @ histogram["off"], edges), [0.05, 0.95])
        out[kind] |= {
            "pooled_p99_ratio": round(ratio, 3),
            "pooled_p99_ratio_90pct": [round(float(low), 3), round(float(high), 3)],
            "p99_ratio_per_step": quartiles([a["fanout_p99_ms"] / b["fanout_p99_ms"] for a, b in
                                             zip(mine, [by[("off", *st)] for st in steps],
                                                 strict=True)]),
            "met": bool(ratio <= GOAL),
            "settled": bool(high <= GOAL or low > GOAL),
        }
    return out


def p99s(counts: Any, edges: Any) -> Any:
    """The p99 of each row of histogram counts (the upper edge of the bin it falls in)."""
    import numpy as np

    cumulative = np.cumsum(counts, axis=1)
    rank = np.ceil(0.99 * cumulative[:, -1:])
    return edges[1:][np.argmax(cumulative >= rank, axis=1)]


def quartiles(values: list[float]) -> dict[str, Any]:
    q1, median, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return {"median": round(median, 3), "quartiles": [round(q1, 3), round(q3, 3)],
            "range": [round(min(values), 3), round(max(values), 3)]}


def verdict(burst: dict[str, Any]) -> str:
    """The run's answer, in words, for the end of its output."""
    lines = [f"goal: {burst['goal']}; load average {burst['load']}"]
    for kind, room in burst.items():
        if isinstance(room, dict) and "pooled_p99_ratio" in room:
            lines.append(
                f"{kind}: pooled p99 {room['fanout_p99_ms_pooled']} ms vs off "
                f"{burst['off']['fanout_p99_ms_pooled']} ms = {room['pooled_p99_ratio']}x "
                f"(90% interval {room['pooled_p99_ratio_90pct']}; per step median "
                f"{room['p99_ratio_per_step']['median']}): "
                f"{'MET' if room['met'] else 'NOT MET'}"
                f"{'' if room['settled'] else ' (not settled: the interval spans the goal)'}")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(),
                                           "load": os.getloadavg()}, "started": time.time()}
    if args.single:
        print("embedding cost ...", flush=True)
        results["embedding"] = embedding_cost(args.single)
        print(results["embedding"], flush=True)
    results["reveal"] = []
    for n in args.sizes:
        for warm in (True, False):
            print(f"reveal to themes, {n} answers, {'warm' if warm else 'cold'} ...", flush=True)
            results["reveal"].append(await reveal_to_themes(n, warm))
            print(results["reveal"][-1], flush=True)
    if args.repeat:
        results["burst"] = await bursts(args)
    results["machine"]["load_after"] = os.getloadavg()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.themes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000],
                        help="answers for reveal to themes (none: skip)")
    parser.add_argument("--single", type=int, default=200,
                        help="answers embedded one by one (0: skip the embedding cost)")
    parser.add_argument("--burst", type=int, default=1000, help="answers in a burst")
    parser.add_argument("--bursts", type=int, default=10,
                        help="bursts in each room (themes on, off) per repeat")
    parser.add_argument("--every", type=float, default=50, help="ms between toggled events")
    parser.add_argument("--window", type=float, default=2.0,
                        help="seconds of toggles from each burst's first answer")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--repeat", type=int, default=2,
                        help="pairs of fresh rooms, on and off (0: skip the bursts)")
    parser.add_argument("--rooms", nargs="+", choices=list(ROOMS), default=["on", "off"],
                        help="the rooms that take turns (ungated: the worker without its wait "
                             "for a quiet event loop)")
    parser.add_argument("--worker-anywhere", action="store_true",
                        help="let the themes worker run on every CPU, not only the server's")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the server and the load to separate CPUs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"themes-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in results.items() if k != "burst"}, indent=2))
    if "burst" in results:
        print(json.dumps({k: v for k, v in results["burst"].items() if k != "bursts"}, indent=2))
        print(verdict(results["burst"]))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
